"""Loading a scenario: YAML -> overrides -> schema -> dates -> cross-checks.

Every problem is reported where the user wrote it: ``file:line:col: field.path: message``, or,
for a value an override set, ``--set: field.path: message`` (the override's source). The result is
a validated :class:`~sim.scenario.schema.Scenario`, which the rest of hedgesim passes along as it
is (never dumped and validated again).
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from sim.errors import InputError, PathPart, Problem
from sim.scenario.dates import as_written, date_problems, resolve_dates
from sim.scenario.paths import (
    OVERRIDE_SOURCE,
    Override,
    apply_overrides,
    canonical_path,
    created_prefix,
    split_path,
)
from sim.scenario.schema import (
    DYADIC_FIELDS,
    FIELD_RANGES,
    MECHANISMS,
    PER_STATE,
    STATE_FIELDS,
    SYMMETRIC_FIELDS,
    Scenario,
)
from sim.scenario.yamlsafe import locate, parse_yaml, read_yaml

MAX_OVERRIDE_BYTES = 1_000_000


def pydantic_problems(exc: ValidationError) -> list[tuple[tuple[PathPart, ...], str]]:
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
            bad.append(_order(("sanctions", i), reg, "end", "start"))
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
        if ev.until is not None and ev.step is not None and ev.until <= ev.step:
            bad.append(_order(("events", i), ev, "until", "step"))
    for i, tr in enumerate(sc.treaties):
        for k, sid in enumerate(tr.members):
            known(("treaties", i, "members", k), sid)
        if len(set(tr.members)) != len(tr.members):
            bad.append((("treaties", i, "members"), "lists a state twice"))
        if tr.end is not None and tr.end <= tr.start:
            bad.append(_order(("treaties", i), tr, "end", "start"))
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


def _order(
    at: tuple[PathPart, ...], item: object, late: str, early: str
) -> tuple[tuple[PathPart, ...], str]:
    """``late`` is not after ``early``: the problem at the field the user wrote (a step field or
    its dated twin), naming both as written."""
    late_field, late_text = as_written(item, late)
    early_field, early_text = as_written(item, early)
    if late_field == late:
        return (*at, late), f"must be after {early_field} ({early_text})"
    return (*at, late_field), f"must be after {early_field} ({early_text}); this is {late_text}"


def _fail(
    problems: list[tuple[tuple[PathPart, ...], str]],
    source: str,
    node: yaml.Node | None,
    overridden: Sequence[Sequence[PathPart]],
    override_source: str = OVERRIDE_SOURCE,
) -> InputError:
    out = []
    for path, msg in problems:
        if any(tuple(path[: len(o)]) == tuple(o) for o in overridden):
            out.append(Problem(override_source, tuple(path), msg))
            continue
        pos = locate(node, path)
        out.append(Problem(source, tuple(path), msg, *(pos or (None, None))))
    return InputError(out)


def _canonical_or_same(doc: Any, path: Sequence[PathPart]) -> tuple[PathPart, ...]:
    try:
        return canonical_path(doc, path)
    except KeyError:
        return tuple(path)


def parse_override(text: str) -> Override:
    """``PATH=VALUE`` text (``--set``) as a typed override, the value read as YAML (``0.3``,
    ``true``, ``[IRN, RUS]``) with the limits of a scenario file: read once, typed from then on."""
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


def validate_document(
    doc: Any,
    source: str,
    node: yaml.Node | None = None,
    overridden: Sequence[Sequence[PathPart]] = (),
    override_source: str = OVERRIDE_SOURCE,
) -> Scenario:
    """Validate a plain document as a Scenario, reporting every problem with its position.

    Args:
        doc: the document (plain data, as YAML gives it).
        source: where it came from (a file name), for the messages.
        node: its YAML node tree, for line and column (None: no positions).
        overridden: paths an override set; a problem there is reported as the override's.
        override_source: how overrides are named in messages (``--set``).

    Returns:
        The validated scenario. Raises InputError listing every problem.
    """
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
        raise _fail(pydantic_problems(exc), source, node, overridden, override_source) from None
    bad = date_problems(sc)
    if bad:
        raise _fail(bad, source, node, overridden, override_source)
    resolve_dates(sc)  # dates become steps before the checks that compare steps
    bad = cross_check(sc)
    if bad:
        raise _fail(bad, source, node, overridden, override_source)
    return sc


def load_scenario(
    path: str | Path,
    overrides: Sequence[Override] = (),
    override_source: str = OVERRIDE_SOURCE,
) -> Scenario:
    """Read, override and validate a scenario file.

    Args:
        path: the scenario YAML file.
        overrides: typed ``(path parts, value)`` pairs applied to the document before validation
            (``sim.scenario.paths.parse_override`` turns ``--set PATH=VALUE`` text into one).
        override_source: how overrides are named in error messages.

    Returns:
        The validated scenario. Raises InputError (``file:line:col: path: message``).
    """
    doc, node, source = read_yaml(path)
    return scenario_from_document(doc, source, node, overrides, override_source)


def scenario_from_document(
    doc: Any,
    source: str,
    node: yaml.Node | None = None,
    overrides: Sequence[Override] = (),
    override_source: str = OVERRIDE_SOURCE,
) -> Scenario:
    """:func:`load_scenario` for a document already read."""
    created: list[tuple[PathPart, ...]] = []
    if overrides and isinstance(doc, dict):
        created = [created_prefix(doc, p) for p, _ in overrides]
        doc = apply_overrides(doc, overrides, override_source)
    # a problem inside what an override created (a new state's missing name) is the override's
    paths = [tuple(p) for p, _ in overrides] + created
    return validate_document(doc, source, node, paths, override_source)


def scenario_with(
    scenario: str | Path | Scenario,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
    override_source: str = OVERRIDE_SOURCE,
) -> Scenario:
    """A scenario file loaded, or a Scenario taken as it is, with typed ``overrides`` (a mapping
    ``"dotted.path" -> value`` or ``(path parts, value)`` pairs) applied and validated: a
    Scenario's overrides go through its document, as a file's do, so paths and checks agree."""
    pairs = override_pairs(overrides)
    if not isinstance(scenario, Scenario):
        return load_scenario(scenario, pairs, override_source)
    if not pairs:
        return scenario
    # Python mode, not JSON: JSON turns a power series' integer years into strings, which the
    # strict schema then rejects (every scenario with a power_series failed here)
    doc = scenario.model_dump()
    return scenario_from_document(doc, f"<scenario {scenario.name}>", None, pairs, override_source)


def override_pairs(overrides: Mapping[str, Any] | Sequence[Override] | None) -> list[Override]:
    """Overrides as ``(path parts, value)`` pairs (a mapping's keys are dotted paths)."""
    if isinstance(overrides, Mapping):
        return [(split_path(k), v) for k, v in overrides.items()]
    return list(overrides or [])


def loads_scenario(text: str, source: str = "<string>") -> Scenario:
    """Validate a scenario given as YAML text (tests, notebooks)."""
    doc, node = parse_yaml(text, source)
    return validate_document(doc, source, node)


def scenario_hash(sc: Scenario) -> str:
    """Stable content hash of a validated scenario (identifies results on disk)."""
    blob = json.dumps(sc.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]
