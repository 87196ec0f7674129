"""Loading a scenario: YAML -> overrides -> schema -> cross-checks -> ablations.

Why overrides act on the raw document: ``--set distrust.IRN.RUS=0.2`` and a sweep's parameter paths
then address exactly what the user sees in the file, and the changed document is validated like any
other, so an override can never smuggle in a value the file itself could not hold.
"""

from __future__ import annotations

import copy
import hashlib
import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import InputError, PathPart, Problem, dotted
from sim.scenario.schema import (
    DYADIC_FIELDS,
    FIELD_RANGES,
    MECHANISMS,
    STATE_FIELDS,
    SYMMETRIC_FIELDS,
    Scenario,
)
from sim.scenario.yamlsafe import locate, parse_yaml, read_yaml

OVERRIDE_SOURCE = "--set"
MAX_OVERRIDE_BYTES = 1_000_000


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


def get_path(doc: Any, path: Sequence[PathPart]) -> Any:
    """Value at ``path`` in a plain document; KeyError/IndexError when absent."""
    cur = doc
    for i, part in enumerate(path):
        if isinstance(cur, list):
            cur = cur[item_index(cur, part, path[: i + 1])]
        elif isinstance(cur, dict):
            cur = cur[part]
        else:
            raise KeyError(part)
    return cur


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


def parse_override(text: str) -> tuple[tuple[PathPart, ...], Any]:
    """``path=value`` with the value read as YAML (``0.3``, ``true``, ``[IRN, RUS]``)."""
    if "=" not in text:
        raise InputError.single(OVERRIDE_SOURCE, f"{text!r}: expected PATH=VALUE")
    key, raw = text.split("=", 1)
    try:
        path = split_path(key.strip())
    except ValueError as exc:
        raise InputError.single(OVERRIDE_SOURCE, str(exc)) from None
    if len(raw) > MAX_OVERRIDE_BYTES:
        raise InputError.single(
            OVERRIDE_SOURCE, f"value longer than {MAX_OVERRIDE_BYTES:,} characters", path
        )
    try:  # the same reader and limits as a scenario file (depth, alias bombs, tags, size)
        value = parse_yaml(raw, OVERRIDE_SOURCE)[0] if raw.strip() else None
    except InputError as exc:
        why = exc.problems[0].message
        raise InputError.single(OVERRIDE_SOURCE, f"value is not accepted: {why}", path) from None
    return path, value


def apply_overrides(
    doc: dict[str, Any], overrides: Iterable[tuple[Sequence[PathPart], Any]]
) -> dict[str, Any]:
    """Return a copy of ``doc`` with each override applied."""
    out = copy.deepcopy(doc)
    for path, value in overrides:
        try:
            set_path(out, path, value)
        except KeyError as exc:
            raise InputError.single(OVERRIDE_SOURCE, str(exc.args[0]), path) from None
    return out


def _pydantic_problems(exc: ValidationError) -> list[tuple[tuple[PathPart, ...], str]]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "literal_error" or err["type"].startswith("string_pattern"):
            msg = f"{msg} (got {err.get('input')!r})"
        out.append((loc, msg))
    return out


def cross_check(sc: Scenario) -> list[tuple[tuple[PathPart, ...], str]]:
    """Checks spanning fields: every id must be a state, no self-ties, ranges, consistency."""
    ids = set(sc.states)
    bad: list[tuple[tuple[PathPart, ...], str]] = []

    def known(path: tuple[PathPart, ...], sid: str) -> None:
        if sid not in ids:
            bad.append((path, f"unknown state id {sid!r} (known: {', '.join(sorted(ids))})"))

    def dyads(field: str, table: dict[str, dict[str, Any]], lo: float, hi: float) -> None:
        prefix = tuple(field.split("."))
        for a, row in table.items():
            known((*prefix, a), a)
            for b, v in row.items():
                path = (*prefix, a, b)
                known(path, b)
                if a == b:
                    bad.append((path, "a state cannot have a relation with itself"))
                if isinstance(v, (int, float)) and not (lo <= v <= hi):
                    bad.append((path, f"must be between {lo:g} and {hi:g}, got {v!r}"))
                symmetric = field in SYMMETRIC_FIELDS or field.startswith("landscape")
                if symmetric and a < b and a in table.get(b, {}) and table[b][a] != v:
                    bad.append(
                        (
                            path,
                            f"symmetric field given both ways with different values "
                            f"({v!r} vs {field}.{b}.{a} = {table[b][a]!r})",
                        )
                    )

    for field in DYADIC_FIELDS:
        dyads(field, getattr(sc, field), *FIELD_RANGES[field])
    for a, row in sc.ties.items():
        known(("ties", a), a)
        for b, level in row.items():
            known(("ties", a, b), b)
            if a == b:
                bad.append((("ties", a, b), "a state cannot have a tie with itself"))
            other = sc.ties.get(b, {}).get(a)
            if other is not None and other != level and a < b:
                bad.append((("ties", a, b), f"tie given both ways as {level!r} and {other!r}"))
    for i, reg in enumerate(sc.sanctions):
        for k, sid in enumerate(reg.senders):
            known(("sanctions", i, "senders", k), sid)
        for k, sid in enumerate(reg.targets):
            known(("sanctions", i, "targets", k), sid)
        both = set(reg.senders) & set(reg.targets)
        if both:
            bad.append((("sanctions", i), f"states both send and receive: {sorted(both)}"))
        for name in ("senders", "targets"):
            lst = getattr(reg, name)
            if len(set(lst)) != len(lst):
                bad.append((("sanctions", i, name), "lists a state twice"))
        if reg.end is not None and reg.end <= reg.start:
            bad.append((("sanctions", i, "end"), f"must be after start ({reg.start})"))
    for i, ev in enumerate(sc.events):
        lo, hi = FIELD_RANGES[ev.field]
        per_state = ev.field in STATE_FIELDS
        for a, row in ev.changes.items():
            known(("events", i, "changes", a), a)
            if per_state != (not isinstance(row, dict)):
                want = "a number per state (ID: value)" if per_state else "a mapping (ID: value)"
                bad.append((("events", i, "changes", a), f"field {ev.field} takes {want}"))
                continue
            cells = (
                [((*("events", i, "changes"), a), row)]
                if per_state
                else [(("events", i, "changes", a, b), v) for b, v in row.items()]
            )
            for path, v in cells:
                if not per_state:
                    known(path, path[-1])
                    if a == path[-1]:
                        bad.append((path, "a state cannot have a relation with itself"))
                if ev.mode == "set" and not lo <= v <= hi:
                    bad.append((path, f"must be between {lo:g} and {hi:g}, got {v!r}"))
                elif ev.mode == "add" and abs(v) > hi - lo:
                    bad.append((path, f"change larger than the field's range ({hi - lo:g})"))
        if ev.until is not None and ev.until <= ev.step:
            bad.append((("events", i, "until"), f"must be after step ({ev.step})"))
    for i, tr in enumerate(sc.treaties):
        for k, sid in enumerate(tr.members):
            known(("treaties", i, "members", k), sid)
        if len(set(tr.members)) != len(tr.members):
            bad.append((("treaties", i, "members"), "lists a state twice"))
        if tr.end is not None and tr.end <= tr.start:
            bad.append((("treaties", i, "end"), f"must be after start ({tr.start})"))
    names = [tr.name for tr in sc.treaties]
    for i, tr in enumerate(sc.treaties):
        if names.count(tr.name) > 1:
            bad.append((("treaties", i, "name"), f"two treaties are named {tr.name!r}"))
    for sid, spec in sc.states.items():
        if spec.power_series and sc.start is None:
            bad.append(
                (
                    ("states", sid, "power_series"),
                    "needs the scenario's start (e.g. start: 2005-01)",
                )
            )
    for name, group in sc.counterfactuals.items():
        if name in MECHANISMS or name in ("all", "baseline"):
            bad.append((("counterfactuals", name), "name clashes with a mechanism or keyword"))
        for k, m in enumerate(group):
            mech, _, sid = m.partition("@")
            if sid and mech in PER_STATE and sid in ids:
                continue
            if m not in MECHANISMS:
                bad.append(
                    (
                        ("counterfactuals", name, k),
                        f"unknown mechanism {m!r} (known: {', '.join(MECHANISMS)})",
                    )
                )
    for k, sid in enumerate(sc.focal):
        known(("focal", k), sid)
    if sc.landscape.propensity and sc.landscape.csv:
        bad.append((("landscape", "csv"), "give propensity or csv, not both"))
    dyads("landscape.propensity", sc.landscape.propensity, -math.inf, math.inf)
    return bad


def _fail(
    problems: list[tuple[tuple[PathPart, ...], str]],
    source: str,
    node: yaml.Node | None,
    overridden: Sequence[Sequence[PathPart]],
) -> InputError:
    out = []
    for path, msg in problems:
        if any(tuple(path[: len(o)]) == tuple(o) for o in overridden):
            out.append(Problem(OVERRIDE_SOURCE, tuple(path), msg))
            continue
        pos = locate(node, path)
        out.append(Problem(source, tuple(path), msg, *(pos or (None, None))))
    return InputError(out)


def _canonical_or_same(doc: Any, path: Sequence[PathPart]) -> tuple[PathPart, ...]:
    try:
        return canonical_path(doc, path)
    except KeyError:
        return tuple(path)


def validate_document(
    doc: Any,
    source: str,
    node: yaml.Node | None = None,
    overridden: Sequence[Sequence[PathPart]] = (),
) -> Scenario:
    """Validate a plain document as a Scenario, reporting every problem with its position."""
    if doc is None:
        raise InputError.single(source, "empty document, expected a scenario mapping")
    if not isinstance(doc, dict):
        raise InputError.single(
            source, f"expected a mapping at the top level, got {type(doc).__name__}", line=1
        )
    # problems are reported by position; name the overridden paths the same way to match them
    overridden = [_canonical_or_same(doc, o) for o in overridden]
    try:
        sc = Scenario.model_validate(doc)
    except ValidationError as exc:
        raise _fail(_pydantic_problems(exc), source, node, overridden) from None
    bad = cross_check(sc)
    if bad:
        raise _fail(bad, source, node, overridden)
    return sc


def load_scenario(path: str | Path, overrides: Sequence[str] = ()) -> Scenario:
    """Read, override and validate a scenario file."""
    doc, node, source = read_yaml(path)
    return scenario_from_document(doc, source, node, overrides)


def scenario_from_document(
    doc: Any, source: str, node: yaml.Node | None = None, overrides: Sequence[str] = ()
) -> Scenario:
    parsed = [parse_override(o) for o in overrides]
    created: list[tuple[PathPart, ...]] = []
    if parsed and isinstance(doc, dict):
        created = [_created(doc, p) for p, _ in parsed]
        doc = apply_overrides(doc, parsed)
    # a problem inside what an override created (a new state's missing name) is the override's
    return validate_document(doc, source, node, [p for p, _ in parsed] + created)


def _created(doc: Any, path: Sequence[PathPart]) -> tuple[PathPart, ...]:
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


def loads_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text (tests, notebooks)."""
    doc, node = parse_yaml(text, source)
    return validate_document(doc, source, node)


def resolve_ablation(sc: Scenario, spec: str) -> list[tuple[str, tuple[str, ...]]]:
    """Turn one ``--ablate`` value into counterfactual conditions.

    ``a,b`` gives one condition per factor (each switched off alone); ``a+b`` one condition with
    both off together; a name from the scenario's ``counterfactuals`` block stands for its group;
    ``all`` means every mechanism, one at a time, plus every named group. ``a@ID`` switches a
    factor off for one state only (its own sensitivity set to 0, see ``PER_STATE``), leaving
    everyone else's behaviour as it was.
    """
    out: list[tuple[str, tuple[str, ...]]] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item == "all":
            out += [(f"-{m}", (m,)) for m in MECHANISMS]
            out += [(f"-{n}", tuple(g)) for n, g in sc.counterfactuals.items()]
            continue
        factors: list[str] = []
        for part in (p.strip() for p in item.split("+")):
            mech, _, sid = part.partition("@")
            if sid:
                if mech not in PER_STATE:
                    raise InputError.single(
                        "--ablate",
                        f"{mech!r} has no per-state switch (per state: {', '.join(PER_STATE)})",
                    )
                if sid not in sc.states:
                    raise InputError.single("--ablate", f"unknown state id {sid!r} in {part!r}")
                factors.append(part)
            elif part in MECHANISMS:
                factors.append(part)
            elif part in sc.counterfactuals:
                factors += sc.counterfactuals[part]
            else:
                known = ", ".join([*MECHANISMS, *sc.counterfactuals])
                raise InputError.single(
                    "--ablate", f"unknown factor {part!r} (known: {known}, all)"
                )
        out.append((f"-{item}", tuple(dict.fromkeys(factors))))
    seen: dict[str, tuple[str, ...]] = {}
    for label, f in out:
        seen.setdefault(label, f)
    return list(seen.items())


PER_STATE: dict[str, tuple[str, ...]] = {
    "security": ("security",),
    "autonomy": ("autonomy",),
    "partner_hedging": ("hedging",),
    "historical_distrust": ("distrust",),
    "expanding_options": ("options",),
    "prioritizing_interests": ("interests",),
    "nonalignment_doctrine": ("doctrine",),
}
"""Mechanisms that a single state can switch off, and the preferences that do it."""


def ablate(sc: Scenario, factors: Iterable[str]) -> Scenario:
    """A copy of ``sc`` with the named mechanisms switched off (``mech@ID``: for one state)."""
    new = sc.model_copy(deep=True)
    for m in factors:
        mech, _, sid = m.partition("@")
        if sid:
            for pref in PER_STATE[mech]:
                setattr(new.states[sid].preferences, pref, 0.0)
                # an event must not switch the factor back on for that state
                for ev in new.events:
                    if ev.field == f"preferences.{pref}":
                        ev.changes.pop(sid, None)
            new.events = [ev for ev in new.events if ev.changes]
        else:
            getattr(new.mechanisms, mech).enabled = False
    return new


def scenario_hash(sc: Scenario) -> str:
    """Stable content hash of a validated scenario (identifies results on disk)."""
    blob = json.dumps(sc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
