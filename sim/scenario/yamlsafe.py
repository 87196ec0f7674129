"""Reading YAML safely and finding where in the file a field path lives.

Why not plain ``yaml.safe_load``: it silently keeps the last of two duplicate keys (so a state
listed twice would vanish without a word), it follows alias chains that can expand exponentially
("billion laughs"), and it forgets positions. Here we compose the node tree once, refuse duplicate
keys and oversized expansions, construct with the safe constructor only, and keep the tree to map
a field path back to ``line:column``.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from sim.errors import InputError, PathPart, Problem

MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 1_000_000
MAX_DEPTH = 64


MERGE_TAG = "tag:yaml.org,2002:merge"
MAX_INT_DIGITS = 64


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate mapping keys (YAML 1.2 says keys must be unique) and
    integers too long to be a number anyone meant (Python refuses to convert beyond 4,300
    digits anyway). The standard merge key ``<<`` works as in any YAML reader: keys it merges
    may be overridden by the mapping's own keys; only the mapping's own keys must be unique."""

    def construct_yaml_int(self, node: yaml.ScalarNode) -> int:
        digits = sum(ch.isalnum() for ch in str(node.value))
        if digits > MAX_INT_DIGITS:
            raise yaml.constructor.ConstructorError(
                None, None, f"an integer of {digits} digits is too large", node.start_mark
            )
        return super().construct_yaml_int(node)

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, yaml.Node] = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "mapping keys must be plain values", key_node.start_mark
                ) from None
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"duplicate key {key!r} (first at line {seen[key].start_mark.line + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node
        return super().construct_mapping(node, deep=deep)


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)


def _check_size(root: yaml.Node, source: str) -> None:
    """Refuse documents whose alias expansion or nesting would exhaust memory or time."""
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        if depth > MAX_DEPTH:
            raise InputError.single(
                source, f"nested deeper than {MAX_DEPTH} levels", line=node.start_mark.line + 1
            )
        key = id(node)
        if key in sizes:
            return sizes[key]
        sizes[key] = 1  # guards against recursive aliases while we descend
        total = 1
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                total += size(k, depth + 1) + size(v, depth + 1)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                total += size(v, depth + 1)
        if total > MAX_NODES:
            raise InputError.single(
                source,
                f"document expands to more than {MAX_NODES:,} values (alias bomb?)",
                line=node.start_mark.line + 1,
            )
        sizes[key] = total
        return total

    size(root, 0)


def parse_yaml(text: str | bytes, source: str) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document into plain data plus its node tree, or raise InputError."""
    if isinstance(text, bytes):
        if len(text) > MAX_BYTES:
            raise InputError.single(source, f"file larger than {MAX_BYTES // 2**20} MiB")
        try:
            text = text.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InputError.single(
                source, f"not UTF-8 text (byte {exc.start}: {exc.reason})"
            ) from None
    if "\x00" in text:
        raise InputError.single(source, "binary data (NUL byte) is not YAML text")
    try:
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            if node is None:
                return None, None
            _check_size(node, source)
            data = loader.construct_document(node)
        finally:
            loader.dispose()
    except InputError:
        raise
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        msg = " ".join(str(x) for x in (exc.context, exc.problem) if x) or "invalid YAML"
        msg = msg.replace("\n", " ")
        if "could not determine a constructor" in msg:
            msg = "unsafe or unknown tag " + msg.split("tag", 1)[-1].strip() + " is not allowed"
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        raise InputError([Problem(source, (), msg, line, col)]) from None
    except yaml.YAMLError as exc:
        raise InputError.single(source, f"invalid YAML: {exc}".replace("\n", " ")) from None
    except RecursionError:
        raise InputError.single(source, "document nested too deeply") from None
    except (ValueError, OverflowError) as exc:  # a scalar no constructor can convert
        raise InputError.single(source, f"invalid value: {exc}") from None
    return data, node


def read_yaml(path: str | Path) -> tuple[Any, yaml.Node | None, str]:
    """Read and parse a YAML file; every OS-level failure becomes an InputError naming the file."""
    p = Path(path)
    source = str(path)
    try:
        if p.is_dir():
            raise InputError.single(source, "is a directory, expected a YAML file")
        with p.open("rb") as fh:
            raw = fh.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InputError.single(source, "no such file") from None
    except PermissionError:
        raise InputError.single(source, "permission denied") from None
    except OSError as exc:
        raise InputError.single(source, f"cannot read: {exc.strerror or exc}") from None
    data, node = parse_yaml(raw, source)
    return data, node, source


def walk(node: yaml.Node | None, path: Sequence[PathPart]) -> list[tuple[yaml.Node, yaml.Node]]:
    """``(key node, value node)`` for each part of ``path`` found in the tree, stopping at the
    first part that is missing (a sequence item's "key" is the item itself)."""
    found: list[tuple[yaml.Node, yaml.Node]] = []
    cur = node
    for part in path:
        step: tuple[yaml.Node, yaml.Node] | None = None
        if isinstance(cur, yaml.MappingNode):
            for k, v in cur.value:
                if isinstance(k, yaml.ScalarNode) and k.value == str(part):
                    step = (k, v)
                    break
        elif (
            isinstance(cur, yaml.SequenceNode)
            and isinstance(part, int)
            and 0 <= part < len(cur.value)
        ):
            step = (cur.value[part], cur.value[part])
        if step is None:
            break
        found.append(step)
        cur = step[1]
    return found


def _position(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def locate(node: yaml.Node | None, path: Sequence[PathPart]) -> tuple[int, int] | None:
    """1-based (line, column) of the deepest node along ``path`` that exists in the tree.

    A missing key points at its parent mapping; a value found points at the value (for an unknown
    key, the value on the key's line), which is where a user has to look to fix it.
    """
    if node is None:
        return None
    steps = walk(node, path)
    return _position(steps[-1][1] if steps else node)


def locate_key(node: yaml.Node | None, path: Sequence[PathPart]) -> tuple[int, int] | None:
    """Position of the *key* of the last path element (the line a user thinks of as "that
    entry"), or None when the path is not all there."""
    if node is None or not path:
        return None
    steps = walk(node, path)
    return _position(steps[-1][0]) if len(steps) == len(path) else None
