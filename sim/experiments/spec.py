"""Sweep specifications: read and checked, like a scenario, by a pydantic model.

A sweep is a scenario plus a list of *cells* (each a set of values for dotted scenario paths, the
paths ``--set`` accepts) and a number of replications per cell. It is written either as a
``sweep:`` block inside a scenario or as a separate file naming its scenario (relative to itself).

Why the checks are this fussy: a sweep can take hours, so a typo must be caught before the first
run, and caught *where the user wrote it*: every problem is ``file:line:col: path: message``. The
structure — known keys, types, ranges, one kind of values per parameter, the sampler's options —
is :class:`SweepModel` (pydantic, strict, unknown keys refused); what spans several fields (a
parameter's kind against the sampler, paths that may not be swept or are given twice) is
:func:`cross_check`, reported at the same positions. Whether each value fits the scenario is
checked by applying it to the scenario and validating the result (sim.experiments.design), so a
sweep can never hold a value the scenario file itself could not.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import (
    ValidationError,
)

from sim.errors import InputError, PathPart, Problem, dotted
from sim.experiments.spec_schema import AT_KEY, KINDS, SPEC_KEYS, SweepModel
from sim.scenario.load import validate_document
from sim.scenario.paths import canonical_path, split_path
from sim.scenario.yamlsafe import locate, locate_key, read_yaml

NOT_SWEEPABLE: dict[str, str] = {
    "seed": "runs are seeded from the sweep's root seed and run index; set `seed:` in the sweep "
    "and use `replications:` for more draws",
    "replications": "use the sweep's `replications:`",
    "focal": "the focal states define the output columns and must be the same in every cell",
    "sweep": "a sweep cannot vary its own specification",
}

_NOT_A_SWEEP = (
    "expected a sweep file (a mapping with `scenario:`) or a scenario with a `sweep:` block"
)


# ------------------------------------------------------------------------------------------------
# The checked spec
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """One swept scenario path and how its values are given."""

    name: str  # the dotted path as written (also the output column name)
    parts: tuple[PathPart, ...]
    kind: str  # values | range | linspace | bounds
    values: tuple[Any, ...] | None = None  # grid kinds
    bounds: tuple[float, float] | None = None  # sampled kinds


@dataclass
class SweepSpec:
    """A checked sweep specification, still unexpanded, with where each part came from."""

    source: str  # the sweep file (or the scenario holding the sweep: block)
    node: yaml.Node | None  # root node of that file, for error positions
    prefix: tuple[PathPart, ...]  # ("sweep",) for an embedded block, () for a sweep file
    raw: dict[str, Any]  # the spec mapping as written (for the manifest)
    scenario_source: str
    scenario_doc: dict[str, Any]  # the scenario document, without any sweep: block
    scenario_node: yaml.Node | None
    parameters: list[Parameter]
    cases: list[dict[str, Any]]
    sampler: str = "grid"
    n: int | None = None
    second_order: bool = True
    levels: int = 4
    replications: int = 1
    steps: int | None = None  # None: the scenario's params.steps
    record_every: int | None = None  # None: final state only
    ties: dict[str, str] | None = None  # keep every run's ties: {when, level} (None: no)
    seed: int = 0
    name: str = ""
    warnings: list[Problem] = field(default_factory=list)

    def position(self, path: Sequence[PathPart], key: bool = False) -> tuple[int, int] | None:
        """1-based line and column of a spec path (of its key, with ``key=True``)."""
        full = (*self.prefix, *path)
        return (locate_key(self.node, full) if key else None) or locate(self.node, full)

    def problem(self, path: Sequence[PathPart], message: str, key: bool = False) -> Problem:
        """A problem at ``path`` of the spec. Parameter keys are dotted scenario paths; they are
        shown split (``parameters.sanctions.0.level.values``), as the user reads them."""
        pos = self.position(path, key)
        shown: list[PathPart] = []
        for part in (*self.prefix, *path):
            try:
                shown += split_path(part) if isinstance(part, str) and "." in part else [part]
            except ValueError:
                shown.append(part)
        return Problem(self.source, tuple(shown), message, *(pos or (None, None)))


# ------------------------------------------------------------------------------------------------
# Reading a spec
# ------------------------------------------------------------------------------------------------


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep file or a scenario with a ``sweep:`` block; raise InputError on any mistake.

    Args:
        path: the sweep file (``scenario: FILE`` and the sweep's keys) or a scenario file with a
            ``sweep:`` block.

    Returns:
        The checked, unexpanded spec (sim.experiments.design expands it into cells).
    """
    data, node, source = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(source, _NOT_A_SWEEP, line=1 if data is not None else None)
    if "states" in data:  # a scenario holding its own sweep
        if "sweep" not in data:
            raise InputError.single(
                source, "this scenario has no `sweep:` block (nothing to sweep)", line=1
            )
        raw = data["sweep"]
        prefix: tuple[PathPart, ...] = ("sweep",)
        scen_doc = {k: v for k, v in data.items() if k != "sweep"}
        scen_source, scen_node = source, node
    elif "scenario" in data:
        raw = {k: v for k, v in data.items() if k != "scenario"}
        prefix = ()
        scen_doc, scen_node, scen_source = _scenario_of(data, node, source)
    else:
        raise InputError.single(source, _NOT_A_SWEEP, line=1)
    if not isinstance(raw, dict):
        pos = locate(node, prefix)
        raise InputError(
            [Problem(source, prefix, "the sweep must be a mapping of settings", *(pos or ()))]
        )
    # The scenario itself must be valid before we vary it (errors point into the scenario file).
    base = validate_document(scen_doc, scen_source, scen_node)
    spec = SweepSpec(
        source=source,
        node=node,
        prefix=prefix,
        raw=raw,
        scenario_source=scen_source,
        scenario_doc=scen_doc,
        scenario_node=scen_node,
        parameters=[],
        cases=[],
        replications=base.replications,
        seed=base.seed,
        name=str(raw.get("name") or base.name),
    )
    model = _validate(spec)
    _fill(spec, model)
    bad = cross_check(spec, model)
    if bad:
        raise InputError(bad)
    return spec


def _scenario_of(
    data: dict[str, Any], node: yaml.Node | None, source: str
) -> tuple[Any, yaml.Node | None, str]:
    """The scenario a sweep file names (relative to the sweep file); a missing or unreadable one
    is a mistake in the sweep file, reported at its ``scenario:``."""
    ref = data["scenario"]
    pos = locate(node, ("scenario",))
    if not isinstance(ref, str) or not ref.strip():
        raise InputError(
            [Problem(source, ("scenario",), "expected a path to a scenario file", *(pos or ()))]
        )
    scen_path = Path(ref).expanduser()
    if not scen_path.is_absolute():
        scen_path = Path(source).parent / scen_path
    try:
        doc, scen_node, scen_source = read_yaml(scen_path)
    except InputError as exc:
        if all(p.line is None for p in exc.problems):
            raise InputError(
                [
                    Problem(source, ("scenario",), f"{p.source}: {p.message}", *(pos or ()))
                    for p in exc.problems
                ]
            ) from None
        raise
    if isinstance(doc, dict):
        doc = {k: v for k, v in doc.items() if k != "sweep"}
    return doc, scen_node, scen_source


def _validate(spec: SweepSpec) -> SweepModel:
    """The spec's structure through :class:`SweepModel`; every problem at its line."""
    try:
        return SweepModel.model_validate(spec.raw)
    except ValidationError as exc:
        raise InputError(_problems(spec, exc)) from None


def _problems(spec: SweepSpec, exc: ValidationError) -> list[Problem]:
    out = []
    for err in exc.errors(include_url=False):
        loc = tuple(
            p
            for p in err["loc"]
            if not (isinstance(p, str) and (p.startswith("function-") or p == "[key]"))
        )
        msg, kind, key = err["msg"], err["type"], False
        if kind == "extra_forbidden":
            expected = SPEC_KEYS if len(loc) == 1 else _expected(loc)
            msg, key = f"unknown field (expected one of: {', '.join(expected)})", True
        elif kind == AT_KEY:
            key = True
        elif kind == "at_every":
            loc = (*loc, "every")
        elif kind == "value_error":
            msg = msg.removeprefix("Value error, ")
            if msg.startswith("@"):  # "@field:message": at that field, "@:message": the key
                where, _, msg = msg[1:].partition(":")
                if where == "~":  # at the value itself
                    key = False
                else:
                    loc, key = ((*loc, where), False) if where else (loc, True)
            else:
                key = True
        elif kind == "missing":
            msg = f"missing `{loc[-1]}`"
            loc, key = loc[:-1], False
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            what = loc[-1] if loc else ""
            fields = {"range": "start, stop, step", "linspace": "start, stop, num"}.get(str(what))
            msg = (
                f"expected a mapping {{{fields}}}"
                if fields
                else "expected a mapping with one of: values, range, linspace, bounds"
            )
        out.append(spec.problem(loc, msg, key))
    return out


def _expected(loc: tuple[PathPart, ...]) -> tuple[str, ...]:
    last = loc[-2] if len(loc) >= 2 else ""
    return {"range": ("start", "stop", "step"), "linspace": ("start", "stop", "num")}.get(
        str(last), KINDS
    )


def _fill(spec: SweepSpec, m: SweepModel) -> None:
    """The validated values into the spec (the scenario's where the sweep gives none)."""
    spec.sampler = m.sampler
    spec.n = m.n
    spec.second_order = m.second_order
    spec.levels = m.levels
    spec.steps = m.steps
    spec.record_every = m.record
    spec.ties = m.ties
    if m.replications is not None:
        spec.replications = m.replications
    if m.seed is not None:
        spec.seed = m.seed
    for name, p in m.parameters.items():
        kind = p.kind
        values = None
        if kind == "values":
            values = tuple(p.values)
        elif kind in ("range", "linspace"):
            values = getattr(p, kind).values()
        bounds = (float(p.bounds[0]), float(p.bounds[1])) if p.bounds is not None else None
        try:
            parts = split_path(str(name))
        except ValueError:
            parts = (str(name),)
        spec.parameters.append(Parameter(str(name), parts, kind, values, bounds))
    spec.cases = [dict(c) for c in m.cases]


# ------------------------------------------------------------------------------------------------
# Checks across fields
# ------------------------------------------------------------------------------------------------


def cross_check(spec: SweepSpec, m: SweepModel) -> list[Problem]:
    """Checks spanning fields: the sampler's options, each parameter's kind against the sampler,
    paths that cannot be swept or address one value twice, an empty sweep."""
    bad: list[Problem] = []

    def err(path: Sequence[PathPart], msg: str, key: bool = False) -> None:
        bad.append(spec.problem(path, msg, key))

    raw, sampler = spec.raw, spec.sampler
    if sampler == "grid":
        for k in ("n", "second_order", "levels"):
            if k in raw:
                msg = f"`{k}` only applies to sampled designs (sampler: lhs, sobol, morris)"
                err((k,), msg, True)
    else:
        if "n" not in raw:
            what = {
                "lhs": "number of points",
                "sobol": "base sample size N (runs per cell "
                "times N·(2D+2), or N·(D+2) without second order)",
                "morris": "number of trajectories",
            }[sampler]
            err(("sampler",), f"sampler {sampler} needs `n` ({what})")
        if "second_order" in raw and sampler != "sobol":
            err(("second_order",), "`second_order` only applies to sampler sobol", key=True)
        if "levels" in raw and sampler != "morris":
            err(("levels",), "`levels` only applies to sampler morris", key=True)
        if sampler == "morris" and spec.n is not None and spec.n < 2:
            err(("n",), "Morris needs at least 2 trajectories (for the spread sigma)")
        if sampler == "sobol" and spec.n is not None and spec.n & (spec.n - 1):
            lower = 1 << (spec.n.bit_length() - 1)
            spec.warnings.append(
                spec.problem(
                    ("n",),
                    f"warning: Sobol' base size {spec.n} is not a power of two; the sequence "
                    f"loses its balance properties (use {lower} or {lower * 2})",
                )
            )
    good: list[Parameter] = []
    for p in spec.parameters:
        where: tuple[PathPart, ...] = ("parameters", p.name)
        problem = _path_problem(spec, p.name)
        if problem:
            err(where, problem, key=True)
        elif sampler != "grid" and p.kind != "bounds":
            err(
                (*where, p.kind),
                f"sampler {sampler} draws values itself: give `bounds: [low, high]` "
                f"instead of `{p.kind}`",
                key=True,
            )
        elif sampler == "grid" and p.kind == "bounds":
            err(
                (*where, "bounds"),
                "bounds need a sampler (sampler: lhs, sobol or morris); for a grid give "
                "values, range or linspace",
                key=True,
            )
        else:
            good.append(p)
    swept = {p.name for p in spec.parameters}
    for i, case in enumerate(spec.cases):
        for key in case:
            problem = _path_problem(spec, key, case=True)
            if key in swept and not problem:
                problem = "also swept under `parameters` (give it in one place)"
            if problem:
                err(("cases", i, key), problem, key=True)
    _same_values(spec, err)
    if spec.cases and sampler != "grid":
        err(
            ("cases",),
            f"cases cannot be combined with sampler {sampler} (a sampled design "
            "must stay intact for its analysis); write one sweep per case",
            key=True,
        )
    if not spec.parameters and not spec.cases:
        err((), "nothing to sweep: give `parameters` (and/or `cases`)")
    elif sampler != "grid" and not spec.parameters:
        err(("parameters",), f"sampler {sampler} needs at least one parameter with bounds")
    spec.parameters = good
    return bad


def _path_problem(spec: SweepSpec, name: str, case: bool = False) -> str | None:
    """Why ``name`` cannot be swept (None: it may be, as far as the sweep can tell)."""
    try:
        parts = split_path(name)
    except ValueError:
        hint = "" if case else " (expected e.g. sanctions.0.level)"
        return f"bad parameter path {name!r}{hint}"
    head = str(parts[0])
    if head in NOT_SWEEPABLE:
        return f"cannot be varied: {NOT_SWEEPABLE[head]}"
    steps = not case and head == "params" and len(parts) > 1 and parts[1] == "steps"
    if steps and spec.raw.get("steps"):
        return "params.steps is swept here and also fixed by `steps:`; drop one"
    return None


def _same_values(spec: SweepSpec, err: Any) -> None:
    """Refuse two paths that address one value (``sanctions.4.level`` and ``sanctions.US maximum
    pressure.level``), or one inside the other: the later would silently overwrite the earlier,
    and cells differing only there would be the same scenario, their difference seed noise."""
    doc = spec.scenario_doc if isinstance(spec.scenario_doc, dict) else {}

    def canon(name: str) -> tuple[PathPart, ...] | None:
        try:
            return canonical_path(doc, split_path(name))
        except (KeyError, ValueError):
            return None  # an unknown path is reported where its values are checked

    def clash(a: tuple[PathPart, ...], b: tuple[PathPart, ...]) -> bool:
        n = min(len(a), len(b))
        return a[:n] == b[:n]

    def describe(a: tuple[PathPart, ...], b: tuple[PathPart, ...]) -> str:
        if a == b:
            return f"both address {dotted(a)}"
        return f"one lies inside the other ({dotted(a)}, {dotted(b)})"

    seen: list[tuple[str, tuple[PathPart, ...]]] = []
    for p in spec.parameters:
        c = canon(p.name)
        if c is None:
            continue
        for other, oc in seen:
            if clash(c, oc):
                err(
                    ("parameters", p.name),
                    f"sets the same value as parameter {other} ({describe(oc, c)}): give it once",
                    key=True,
                )
                break
        else:
            seen.append((p.name, c))
    for i, case in enumerate(spec.cases):
        mine: list[tuple[str, tuple[PathPart, ...]]] = []
        for key in case:
            c = canon(key)
            if c is None:
                continue
            hit = next(((o, oc) for o, oc in [*seen, *mine] if clash(c, oc)), None)
            if hit is not None:
                err(
                    ("cases", i, key),
                    f"sets the same value as {hit[0]} ({describe(hit[1], c)}): give it once",
                    key=True,
                )
            else:
                mine.append((key, c))
