"""Dotted paths into a scenario document, and overrides applied through them.

Why overrides act on the raw document: ``--set distrust.IRN.RUS=0.2``, ``sim.run(...,
overrides={"distrust.IRN.RUS": 0.2})`` and a sweep's parameter paths then address exactly what the
user sees in the file, and the changed document is validated like any other
(:func:`sim.scenario.load.validate_document`), so an override can never smuggle in a value the
file itself could not hold.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from typing import Any

from sim.errors import InputError, PathPart, dotted

OVERRIDE_SOURCE = "--set"

Override = tuple[tuple[PathPart, ...], Any]
"""A typed override: the path as parts and the value (a number, a string, a list...)."""


def split_path(path: str) -> tuple[PathPart, ...]:
    """``sanctions.0.level`` -> ``("sanctions", 0, "level")``.

    A list item is addressed by its position or, for named items (sanctions regimes, events), by
    its ``name``: ``sanctions.US maximum pressure.level`` stays right when regimes are reordered.
    """
    if not path or any(not part for part in path.split(".")):
        raise ValueError(f"bad parameter path {path!r}")
    return tuple(int(p) if p.isdigit() else p for p in path.split("."))


def item_index(items: list[Any], part: PathPart, where: Sequence[PathPart]) -> int:
    """Position of ``part`` in a list: an index in range, or the name of exactly one item.

    KeyError (its message names the path and what exists) when there is no such item.
    """
    if isinstance(part, int):
        if not 0 <= part < len(items):
            raise KeyError(f"{dotted(where)}: no item {part} in a list of {len(items)}")
        return part
    hits = [i for i, it in enumerate(items) if isinstance(it, dict) and it.get("name") == part]
    if len(hits) == 1:
        return hits[0]
    names = [it["name"] for it in items if isinstance(it, dict) and isinstance(it.get("name"), str)]
    if hits:
        raise KeyError(f"{dotted(where)}: no item {part!r}: {len(hits)} items have that name")
    shown = ", ".join(repr(n) for n in names[:12]) + (", ..." if len(names) > 12 else "")
    raise KeyError(
        f"{dotted(where)}: no item named {part!r} (names: {shown})"
        if names
        else f"{dotted(where)}: no item {part!r} (items are addressed by position, from 0)"
    )


def canonical_path(doc: Any, path: Sequence[PathPart]) -> tuple[PathPart, ...]:
    """``path`` with list items named by position (as validation reports them); KeyError if a
    named item does not exist. Parts past what ``doc`` holds are kept as they are."""
    out: list[PathPart] = []
    cur = doc
    for part in path:
        if isinstance(cur, list):
            part = item_index(cur, part, (*out, part))
            cur = cur[part]
        elif isinstance(cur, dict):
            cur = cur.get(part)
        else:
            cur = None
        out.append(part)
    return tuple(out)


def set_path(doc: dict[str, Any], path: Sequence[PathPart], value: Any) -> None:
    """Set ``path`` in a plain document, creating missing mappings (dyadic data is sparse)."""
    cur: Any = doc
    for i, part in enumerate(path[:-1]):
        if isinstance(cur, list):
            cur = cur[item_index(cur, part, path[: i + 1])]
        elif isinstance(cur, dict):
            if part not in cur or cur[part] is None:
                if isinstance(path[i + 1], int):
                    raise KeyError(f"{dotted(path[: i + 1])}: no such list")
                cur[part] = {}
            cur = cur[part]
        else:
            raise KeyError(f"{dotted(path[: i + 1])}: not a mapping or list")
    last = path[-1]
    if isinstance(cur, list):
        cur[item_index(cur, last, path)] = value
    elif isinstance(cur, dict):
        cur[last] = value
    else:
        raise KeyError(f"{dotted(path[:-1])}: not a mapping or list")


def apply_overrides(
    doc: dict[str, Any],
    overrides: Iterable[tuple[Sequence[PathPart], Any]],
    source: str = OVERRIDE_SOURCE,
) -> dict[str, Any]:
    """Return a copy of ``doc`` with each override applied (``source`` names them in errors)."""
    out = copy.deepcopy(doc)
    for path, value in overrides:
        try:
            set_path(out, path, value)
        except KeyError as exc:
            raise InputError.single(source, str(exc.args[0]), path) from None
    return out


def created_prefix(doc: Any, path: Sequence[PathPart]) -> tuple[PathPart, ...]:
    """The shortest prefix of ``path`` the document lacks (what an override creates there);
    the whole path when it exists."""
    cur = doc
    for i, part in enumerate(path):
        if isinstance(cur, list):
            try:
                cur = cur[item_index(cur, part, path[: i + 1])]
            except KeyError:
                return tuple(path[: i + 1])
        elif isinstance(cur, dict) and part in cur:
            cur = cur[part]
        else:
            return tuple(path[: i + 1])
    return tuple(path)


def resolve_document(
    base: dict[str, Any], overrides: Sequence[tuple[Sequence[PathPart], Any]]
) -> dict[str, Any]:
    """``apply_overrides`` for the hot path: copies only the containers along each path.

    Same result as :func:`apply_overrides` (which deep-copies the whole document, two thirds of
    the cost of resolving a cell) for overrides it has already accepted: ``set_path``
    then only writes into containers copied here or created by itself, so ``base`` is untouched.
    """
    out = dict(base)
    for path, value in overrides:
        cur: Any = out
        for part in path[:-1]:
            if isinstance(cur, dict) and isinstance(cur.get(part), dict | list):
                child = cur[part]
            elif isinstance(cur, list):
                try:
                    part = item_index(cur, part, ())
                except KeyError:
                    break
                child = cur[part]
                if not isinstance(child, dict | list):
                    break
            else:
                break
            child = dict(child) if isinstance(child, dict) else list(child)
            cur[part] = child
            cur = child
        set_path(out, path, value)
    return out
