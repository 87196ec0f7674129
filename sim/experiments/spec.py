"""Sweep specifications: read, check and expand into a design of cells.

A sweep is a scenario plus a list of *cells* (each a set of values for dotted scenario paths, the
paths ``--set`` accepts) and a number of replications per cell. It is written either as a
``sweep:`` block inside a scenario or as a separate file naming its scenario (relative to itself).

Why the checks are this fussy: a sweep can take hours, so a typo must be caught before the first
run, and caught *where the user wrote it*. A parameter path is checked by applying each of its
values (or both bounds) to the scenario document and validating the result with the scenario's own
validator, so a sweep can never hold a value the scenario file itself could not; whatever goes
wrong is reported at the sweep file's line of that parameter, as ``file:line:col: path: message``.

Sampled designs come from SALib (Saltelli/Sobol', Morris) and ``scipy.stats.qmc`` (Latin hypercube)
— not hand-written — seeded from the sweep's root seed, so a design is reproducible.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.errors import InputError, PathPart, Problem, dotted
from sim.scenario.load import (
    apply_overrides,
    canonical_path,
    item_index,
    scenario_hash,
    set_path,
    split_path,
    validate_document,
)
from sim.scenario.schema import Scenario
from sim.scenario.yamlsafe import locate, locate_key, read_yaml

SAMPLERS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")
"""``grid`` expands values/range/linspace (and cases); the others draw ``n`` points in bounds."""

SPEC_KEYS: tuple[str, ...] = (
    "name",
    "description",
    "parameters",
    "cases",
    "sampler",
    "n",
    "second_order",
    "levels",
    "replications",
    "steps",
    "record",
    "seed",
)
KINDS: tuple[str, ...] = ("values", "range", "linspace", "bounds")

NOT_SWEEPABLE: dict[str, str] = {
    "seed": "runs are seeded from the sweep's root seed and run index; set `seed:` in the sweep "
    "and use `replications:` for more draws",
    "replications": "use the sweep's `replications:`",
    "focal": "the focal states define the output columns and must be the same in every cell",
    "sweep": "a sweep cannot vary its own specification",
}

MAX_CELLS = 5_000_000
MAX_RUNS = 100_000_000
MAX_VALUES = 1_000_000
DESIGN_STREAM = 2**40
"""Spawn key of the sampler's random stream: never equal to a run's key ``(run_index,)``."""

_NOT_A_SWEEP = (
    "expected a sweep file (a mapping with `scenario:`) or a scenario with a `sweep:` block"
)


# ------------------------------------------------------------------------------------------------
# Data
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
    seed: int = 0
    name: str = ""
    warnings: list[Problem] = field(default_factory=list)

    def position(self, path: Sequence[PathPart], key: bool = False) -> tuple[int, int] | None:
        """1-based line and column of a spec path (of its key, with ``key=True``)."""
        full = (*self.prefix, *path)
        return (_key_position(self.node, full) if key else None) or locate(self.node, full)

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


@dataclass
class Design:
    """A sweep expanded: the resolved base document and one override set per cell."""

    spec: SweepSpec
    base_doc: dict[str, Any]  # scenario document with the sweep's steps and seed applied
    base: Scenario
    columns: list[str]  # swept paths, in order (parameters, then keys only cases use)
    dtypes: dict[str, str]  # column -> bool | int64 | float64 | string
    cells: list[dict[str, Any]]  # column -> value, only the paths that cell sets
    cell_hashes: list[str]  # scenario_hash of each cell's resolved scenario
    problem: dict[str, Any] | None = None  # SALib problem (lhs, sobol, morris)

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    @property
    def n_runs(self) -> int:
        return len(self.cells) * self.spec.replications

    @property
    def root_seed(self) -> int:
        return self.spec.seed

    def overrides(self, cell: int) -> list[tuple[tuple[PathPart, ...], Any]]:
        """The (path, value) pairs that turn the base document into cell ``cell``."""
        return [(split_path(k), v) for k, v in self.cells[cell].items()]

    def locate_run(self, run_index: int) -> tuple[int, int]:
        """Run index -> (cell, replication); runs are numbered cell-major."""
        return divmod(run_index, self.spec.replications)


# ------------------------------------------------------------------------------------------------
# Positions and small checks
# ------------------------------------------------------------------------------------------------


def _key_position(node: yaml.Node | None, path: Sequence[PathPart]) -> tuple[int, int] | None:
    """Position of the *key* of the last path element: the line a user thinks of as 'that entry'."""
    return locate_key(node, path)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _clean(v: float) -> float:
    """Round away float noise (0.30000000000000004 -> 0.3) so columns and hashes stay tidy."""
    return float(f"{v:.12g}")


# ------------------------------------------------------------------------------------------------
# Reading a spec
# ------------------------------------------------------------------------------------------------


def load_spec(path: str | Path) -> SweepSpec:
    """Read a sweep file or a scenario with a ``sweep:`` block; raise InputError on any mistake."""
    data, node, source = read_yaml(path)
    if not isinstance(data, dict):
        raise InputError.single(
            source,
            _NOT_A_SWEEP,
            line=1 if data is not None else None,
        )
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
        ref = data["scenario"]
        if not isinstance(ref, str) or not ref.strip():
            pos = locate(node, ("scenario",))
            raise InputError(
                [Problem(source, ("scenario",), "expected a path to a scenario file", *(pos or ()))]
            )
        scen_path = Path(ref).expanduser()
        if not scen_path.is_absolute():
            scen_path = Path(source).parent / scen_path
        try:
            scen_doc, scen_node, scen_source = read_yaml(scen_path)
        except InputError as exc:
            # A missing/unreadable scenario is a mistake in the sweep file: point at `scenario:`.
            if all(p.line is None for p in exc.problems):
                pos = locate(node, ("scenario",))
                raise InputError(
                    [
                        Problem(source, ("scenario",), f"{p.source}: {p.message}", *(pos or ()))
                        for p in exc.problems
                    ]
                ) from None
            raise
        if isinstance(scen_doc, dict):
            scen_doc = {k: v for k, v in scen_doc.items() if k != "sweep"}
    else:
        raise InputError.single(
            source,
            _NOT_A_SWEEP,
            line=1,
        )
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
    _parse(spec)
    return spec


def _parse(spec: SweepSpec) -> None:
    """Check the spec's structure and fill ``spec``; raise InputError listing every problem."""
    raw = spec.raw
    bad: list[Problem] = []

    def err(path: Sequence[PathPart], msg: str, key: bool = False) -> None:
        bad.append(spec.problem(path, msg, key))

    for k in raw:
        if k not in SPEC_KEYS:
            hint = ", ".join(SPEC_KEYS)
            err((k,), f"unknown field (expected one of: {hint})", key=True)

    sampler = raw.get("sampler", "grid")
    if sampler not in SAMPLERS:
        err(("sampler",), f"unknown sampler {sampler!r} (expected one of: {', '.join(SAMPLERS)})")
        sampler = "grid"
    spec.sampler = sampler

    def int_field(name: str, lo: int, hi: int) -> int | None:
        if name not in raw:
            return None
        v = raw[name]
        if not _is_int(v) or not lo <= v <= hi:
            err((name,), f"expected an integer from {lo:,} to {hi:,}, got {v!r}")
            return None
        return v

    spec.n = int_field("n", 1, MAX_CELLS)
    reps = int_field("replications", 1, 1_000_000)
    if reps is not None:
        spec.replications = reps
    spec.steps = int_field("steps", 1, 100_000)
    seed = int_field("seed", 0, 2**63 - 1)
    if seed is not None:
        spec.seed = seed
    levels = int_field("levels", 2, 1000)
    if levels is not None:
        spec.levels = levels
    if "second_order" in raw:
        if not isinstance(raw["second_order"], bool):
            err(("second_order",), f"expected true or false, got {raw['second_order']!r}")
        else:
            spec.second_order = raw["second_order"]
    if "name" in raw and not isinstance(raw["name"], str):
        err(("name",), "expected text")
    if "description" in raw and not isinstance(raw["description"], str):
        err(("description",), "expected text")
    if "record" in raw:
        rec = raw["record"]
        if rec in ("final", None):
            spec.record_every = None
        elif isinstance(rec, dict) and set(rec) == {"every"}:
            every = rec["every"]
            if not _is_int(every) or every < 1:
                err(("record", "every"), f"expected an integer ≥ 1, got {every!r}")
            else:
                spec.record_every = every
        else:
            err(("record",), "expected `final` or `{every: K}` (record every K steps)")

    if sampler == "grid":
        for k in ("n", "second_order", "levels"):
            if k in raw:
                err(
                    (k,),
                    f"`{k}` only applies to sampled designs (sampler: lhs, sobol, morris)",
                    key=True,
                )
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

    params = raw.get("parameters", {})
    if params is None:
        params = {}
    if not isinstance(params, dict):
        err(("parameters",), "expected a mapping of dotted scenario paths to value specs")
        params = {}
    for name, pspec in params.items():
        p = _parse_parameter(spec, str(name), pspec, err)
        if p is not None:
            spec.parameters.append(p)

    cases = raw.get("cases", [])
    if cases is None:
        cases = []
    if not isinstance(cases, list):
        err(("cases",), "expected a list of mappings (path: value)")
        cases = []
    swept = {p.name for p in spec.parameters} | set(map(str, params))
    for i, case in enumerate(cases):
        if not isinstance(case, dict) or not case:
            err(("cases", i), "expected a non-empty mapping of dotted scenario paths to values")
            continue
        clean: dict[str, Any] = {}
        for key, value in case.items():
            key = str(key)
            where = ("cases", i, key)
            try:
                split_path(key)
            except ValueError:
                err(where, f"bad parameter path {key!r}", key=True)
                continue
            if key in NOT_SWEEPABLE or key.split(".")[0] in NOT_SWEEPABLE:
                err(where, f"cannot be varied: {NOT_SWEEPABLE[key.split('.')[0]]}", key=True)
                continue
            if key in swept:
                err(where, "also swept under `parameters` (give it in one place)", key=True)
                continue
            clean[key] = value
        spec.cases.append(clean)
    _same_values(spec, err)
    if cases and sampler != "grid":
        err(
            ("cases",),
            f"cases cannot be combined with sampler {sampler} (a sampled design "
            "must stay intact for its analysis); write one sweep per case",
            key=True,
        )

    if (
        not spec.parameters
        and not spec.cases
        and not any(p.path[len(spec.prefix) :][:1] == ("parameters",) for p in bad)
    ):
        err((), "nothing to sweep: give `parameters` (and/or `cases`)")
    if sampler != "grid" and not params and not bad:
        err(("parameters",), f"sampler {sampler} needs at least one parameter with bounds")
    if bad:
        raise InputError(bad)


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


def _parse_parameter(spec: SweepSpec, name: str, pspec: Any, err: Any) -> Parameter | None:
    """Check one ``parameters:`` entry; report problems through ``err`` and return None if bad."""
    where: tuple[PathPart, ...] = ("parameters", name)
    try:
        parts = split_path(name)
    except ValueError:
        err(where, f"bad parameter path {name!r} (expected e.g. sanctions.0.level)", key=True)
        return None
    head = str(parts[0])
    if head in NOT_SWEEPABLE:
        err(where, f"cannot be varied: {NOT_SWEEPABLE[head]}", key=True)
        return None
    if head == "params" and len(parts) > 1 and parts[1] == "steps" and spec.raw.get("steps"):
        err(where, "params.steps is swept here and also fixed by `steps:`; drop one", key=True)
        return None
    if not isinstance(pspec, dict):
        err(where, "expected a mapping with one of: values, range, linspace, bounds")
        return None
    kinds = [k for k in pspec if k in KINDS]
    for k in pspec:
        if k not in KINDS:
            err((*where, k), f"unknown field (expected one of: {', '.join(KINDS)})", key=True)
    if len(kinds) != 1:
        msg = (
            "give exactly one of values, range, linspace, bounds"
            if kinds
            else "missing its values: give one of values, range, linspace, bounds"
        )
        err(where, msg, key=True)
        return None
    kind = kinds[0]
    body = pspec[kind]
    at = (*where, kind)
    sampled = spec.sampler != "grid"
    if sampled and kind != "bounds":
        err(
            at,
            f"sampler {spec.sampler} draws values itself: give `bounds: [low, high]` "
            f"instead of `{kind}`",
            key=True,
        )
        return None
    if not sampled and kind == "bounds":
        err(
            at,
            "bounds need a sampler (sampler: lhs, sobol or morris); for a grid give "
            "values, range or linspace",
            key=True,
        )
        return None

    if kind == "values":
        if not isinstance(body, list):
            err(at, f"expected a list of values, got {type(body).__name__}")
            return None
        if not body:
            err(at, "empty list: give at least one value")
            return None
        return Parameter(name, parts, kind, values=tuple(body))

    if kind == "bounds":
        if not isinstance(body, list) or len(body) != 2:
            err(at, "expected [low, high]")
            return None
        ok = True
        for i, v in enumerate(body):
            if not _is_number(v):
                err((*at, i), f"expected a finite number, got {v!r}")
                ok = False
        if not ok:
            return None
        lo, hi = float(body[0]), float(body[1])
        if not lo < hi:
            err(at, f"bounds reversed or empty: low {body[0]!r} must be below high {body[1]!r}")
            return None
        return Parameter(name, parts, kind, bounds=(lo, hi))

    fields = ("start", "stop", "step") if kind == "range" else ("start", "stop", "num")
    if not isinstance(body, dict):
        err(at, f"expected a mapping {{{', '.join(fields)}}}")
        return None
    ok = True
    for k in body:
        if k not in fields:
            err((*at, k), f"unknown field (expected: {', '.join(fields)})", key=True)
            ok = False
    for k in fields:
        if k not in body:
            err(at, f"missing `{k}`")
            ok = False
        elif k == "num":
            if not _is_int(body[k]) or body[k] < 1:
                err((*at, k), f"expected an integer ≥ 1, got {body[k]!r}")
                ok = False
        elif not _is_number(body[k]):
            err((*at, k), f"expected a finite number, got {body[k]!r}")
            ok = False
    if not ok:
        return None
    start, stop = body["start"], body["stop"]
    if kind == "range":
        step = body["step"]
        if step <= 0:
            err((*at, "step"), f"step must be > 0, got {step!r}")
            return None
        if stop < start:
            err((*at, "stop"), f"stop {stop!r} is below start {start!r}")
            return None
        count = math.floor((stop - start) / step + 1e-9) + 1  # stop included when on the grid
        if count > MAX_VALUES:
            err(at, f"{count:,} values (more than {MAX_VALUES:,}); use a larger step")
            return None
        if all(_is_int(x) for x in (start, stop, step)):
            vals: list[Any] = [start + k * step for k in range(count)]
        else:
            vals = [_clean(start + k * step) for k in range(count)]
        return Parameter(name, parts, kind, values=tuple(vals))
    num = body["num"]
    if num > MAX_VALUES:
        err((*at, "num"), f"more than {MAX_VALUES:,} values")
        return None
    arr = np.linspace(float(start), float(stop), num)
    if _is_int(start) and _is_int(stop) and np.all(arr == np.round(arr)):
        vals = [int(x) for x in arr]
    else:
        vals = [_clean(float(x)) for x in arr]
    return Parameter(name, parts, kind, values=tuple(vals))


# ------------------------------------------------------------------------------------------------
# Expanding a spec into cells
# ------------------------------------------------------------------------------------------------


def _design_rng(root: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(root, spawn_key=(DESIGN_STREAM,)))


def salib_problem(params: Sequence[Parameter]) -> dict[str, Any]:
    """The SALib ``problem`` dict for sampled parameters (names are the dotted paths)."""
    return {
        "num_vars": len(params),
        "names": [p.name for p in params],
        "bounds": [list(p.bounds or (0.0, 1.0)) for p in params],
    }


def sample_points(spec: SweepSpec) -> np.ndarray:
    """The (n_cells, D) matrix of a sampled design, in the sampler's own order (SALib needs it)."""
    params = spec.parameters
    n = spec.n or 1
    rng = _design_rng(spec.seed)
    if spec.sampler == "lhs":
        from scipy.stats import qmc

        unit = qmc.LatinHypercube(d=len(params), rng=rng).random(n)
        lo = [p.bounds[0] for p in params]  # type: ignore[index]
        hi = [p.bounds[1] for p in params]  # type: ignore[index]
        return qmc.scale(unit, lo, hi)
    problem = salib_problem(params)
    with warnings.catch_warnings():
        # We warn about non-power-of-two sizes ourselves, with the sweep file's line.
        warnings.simplefilter("ignore", UserWarning)
        if spec.sampler == "sobol":
            from SALib.sample import sobol

            return sobol.sample(problem, n, calc_second_order=spec.second_order, seed=rng)
        from SALib.sample import morris

        return morris.sample(problem, n, num_levels=spec.levels, seed=rng)


def design_size(spec: SweepSpec) -> int:
    """Number of cells the spec expands to, without expanding it."""
    if spec.sampler == "grid":
        per_case = math.prod(len(p.values or ()) for p in spec.parameters)
        return per_case * max(1, len(spec.cases))
    d, n = len(spec.parameters), spec.n or 1
    if spec.sampler == "sobol":
        return n * (2 * d + 2 if spec.second_order else d + 2)
    if spec.sampler == "morris":
        return n * (d + 1)
    return n


def _dtype(values: list[Any]) -> str:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return "bool"
    if present and all(_is_int(v) for v in present):
        return "int64"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float64"
    return "string"


def resolve_document(
    base: dict[str, Any], overrides: Sequence[tuple[Sequence[PathPart], Any]]
) -> dict[str, Any]:
    """``apply_overrides`` for the hot path: copies only the containers along each path.

    Same result as :func:`sim.scenario.load.apply_overrides` (which deep-copies the whole document, two
    thirds of the cost of resolving a cell) for overrides it has already accepted: ``set_path``
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


class _Resolver:
    """Applies overrides to the base document and validates, mapping problems into the spec."""

    def __init__(self, spec: SweepSpec, base_doc: dict[str, Any]) -> None:
        self.spec = spec
        self.base_doc = base_doc

    def check(
        self, overrides: list[tuple[tuple[PathPart, ...], Any]], checked: bool = False
    ) -> Scenario | list[Problem]:
        """The validated scenario, or the scenario problems it raised.

        ``checked``: every path was already accepted by ``apply_overrides`` (take the fast path).
        """
        try:
            if checked:
                doc = resolve_document(self.base_doc, overrides)
            else:
                doc = apply_overrides(self.base_doc, overrides)
            return validate_document(
                doc, self.spec.scenario_source, self.spec.scenario_node, [p for p, _ in overrides]
            )
        except InputError as exc:
            return exc.problems


def _describe(problem: Problem, param: tuple[PathPart, ...]) -> str:
    """A scenario problem as text for the sweep file: its path only when it is not the param's."""
    if tuple(problem.path) == tuple(param) or not problem.path:
        return problem.message
    return f"{dotted(problem.path)}: {problem.message}"


def _path_problem(q: Problem) -> bool:
    """Does this problem say the *path* is wrong (whatever the value)?"""
    return q.message == "unknown field" or any(
        s in q.message for s in ("no item", "no such list", "not a mapping or list")
    )


def _check_parameter(spec: SweepSpec, res: _Resolver, p: Parameter) -> list[Problem]:
    """Apply each value of one parameter alone to the base scenario and validate.

    A mistake every value shares (an unknown path, a value of the wrong kind) is reported once at
    the parameter; otherwise each failing value is reported at its own position in ``values:``.
    """
    at: tuple[PathPart, ...] = ("parameters", p.name)
    if p.kind == "values":
        probes = [((*at, "values", i), v) for i, v in enumerate(p.values or ())]
    elif p.kind == "bounds":
        lo, hi = p.bounds or (0.0, 0.0)
        probes = [((*at, "bounds", 0), lo), ((*at, "bounds", 1), hi)]
    else:
        probes = [(at, v) for v in p.values or ()]
    failed: list[tuple[tuple[PathPart, ...], Any, list[str], list[Problem]]] = []
    for where, value in probes:
        out = res.check([(p.parts, value)])
        if isinstance(out, list):
            failed.append((where, value, [_describe(q, p.parts) for q in out], out))
    if not failed:
        return []
    if any(_path_problem(q) for q in failed[0][3]) or (
        len(failed) == len(probes) > 1 and all(f[2] == failed[0][2] for f in failed)
    ):
        return [spec.problem(at, m, key=True) for m in failed[0][2]]
    if p.kind in ("range", "linspace"):
        where, value, msgs, _ = failed[0]
        more = f" (and {len(failed) - 1} more values)" if len(failed) > 1 else ""
        return [spec.problem(at, f"value {value!r}{more}: {m}", key=True) for m in msgs]
    return [spec.problem(where, m) for where, _, msgs, _ in failed for m in msgs]


def _prepare(spec: SweepSpec) -> tuple[dict[str, Any], Scenario, _Resolver]:
    """The base document with the sweep's seed and steps pinned, validated once; the design's
    size checked against the limits; each parameter value (or bound) checked alone."""
    base_doc = dict(spec.scenario_doc)
    pinned: list[tuple[tuple[PathPart, ...], Any]] = [(("seed",), spec.seed)]
    if spec.steps is not None:
        pinned.append((("params", "steps"), spec.steps))
    res = _Resolver(spec, base_doc)
    out = res.check(pinned)
    if isinstance(out, list):
        key = ("steps",) if spec.steps is not None else ("seed",)
        raise InputError([spec.problem(key, _describe(p, ())) for p in out])
    base_doc = apply_overrides(base_doc, pinned)
    base = out
    res = _Resolver(spec, base_doc)

    size = design_size(spec)
    if size > MAX_CELLS or size * spec.replications > MAX_RUNS:
        raise InputError(
            [
                spec.problem(
                    (),
                    f"design too large: {size:,} cells × {spec.replications:,} "
                    f"replications (limits {MAX_CELLS:,} cells, {MAX_RUNS:,} runs)",
                )
            ]
        )

    # Each parameter value (or bound) alone: precise positions for the common mistakes.
    bad: list[Problem] = []
    for p in spec.parameters:
        bad += _check_parameter(spec, res, p)
    for i, case in enumerate(spec.cases):
        ov = [(split_path(k), v) for k, v in case.items()]
        out = res.check(ov)
        if isinstance(out, list):
            for q in out:
                key = next(
                    (
                        k
                        for k, (pp, _) in zip(case, ov, strict=True)
                        if tuple(q.path[: len(pp)]) == pp
                    ),
                    None,
                )
                where = ("cases", i, key) if key else ("cases", i)
                bad.append(
                    spec.problem(
                        where, _describe(q, split_path(key) if key else ()), key=key is not None
                    )
                )
    if bad:
        raise InputError(bad)
    return base_doc, base, res


def _columns(spec: SweepSpec) -> list[str]:
    columns = [p.name for p in spec.parameters]
    for case in spec.cases:
        columns += [k for k in case if k not in columns]
    return columns


def grid_cell(spec: SweepSpec, index: int) -> dict[str, Any]:
    """Cell ``index`` of a grid design without expanding the others (cases outermost, then the
    parameters in order, the last one varying fastest — ``itertools.product``'s order)."""
    values = [p.values or () for p in spec.parameters]
    per_case = math.prod(len(v) for v in values)
    case, rest = divmod(index, per_case) if per_case else (index, 0)
    combo = []
    for v in reversed(values):
        rest, k = divmod(rest, len(v))
        combo.append(v[k])
    combo.reverse()
    names = [p.name for p in spec.parameters]
    return {**(spec.cases[case] if spec.cases else {}), **dict(zip(names, combo, strict=True))}


def _resolve(
    spec: SweepSpec, res: _Resolver, cells: list[tuple[int, dict[str, Any]]]
) -> tuple[list[str], list[Problem]]:
    """Resolve and validate cells (combinations invalid together); their scenario hashes."""
    hashes: list[str] = []
    bad: list[Problem] = []
    for ci, cell in cells:
        ov = [(split_path(k), v) for k, v in cell.items()]
        out = res.check(ov, checked=True)
        if isinstance(out, list):
            for q in out:
                owner = next(
                    (
                        k
                        for k, (pp, _) in zip(cell, ov, strict=True)
                        if tuple(q.path[: len(pp)]) == pp
                    ),
                    next(iter(cell)),
                )
                combo = ", ".join(f"{k}={v!r}" for k, v in cell.items())
                where: tuple[PathPart, ...] = ("parameters", owner)
                if owner not in {p.name for p in spec.parameters}:
                    case_i = next((j for j, c in enumerate(spec.cases) if owner in c), 0)
                    where = ("cases", case_i, owner)
                bad.append(
                    spec.problem(
                        where, f"cell {ci} ({combo}): {_describe(q, split_path(owner))}", key=True
                    )
                )
            if len(bad) >= 20:
                break
            continue
        hashes.append(scenario_hash(out))
    return hashes, bad


def check_design(spec: SweepSpec, sample: int = 64) -> tuple[int, Scenario]:
    """What ``--dry-run`` checks, in bounded time whatever the design's size: the base scenario
    once, the size, every parameter value alone, and ``sample`` cells spread over the design
    (the first and the last included). Returns the number of cells checked and the base
    scenario.

    ``build_design`` (a real sweep) resolves every cell; its cost grows with the cells, not
    this."""
    _, base, res = _prepare(spec)
    size = design_size(spec)
    if size <= sample:
        picks = list(range(size))
    else:
        picks = sorted({round(k * (size - 1) / (sample - 1)) for k in range(sample)})
    if spec.sampler == "grid":
        cells = [(i, grid_cell(spec, i)) for i in picks]
    else:
        X = sample_points(spec)
        names = [p.name for p in spec.parameters]
        cells = [(i, {k: float(v) for k, v in zip(names, X[i], strict=True)}) for i in picks]
    _, bad = _resolve(spec, res, cells)
    if bad:
        raise InputError(bad)
    return len(cells), base


def build_design(spec: SweepSpec) -> Design:
    """Expand the spec into cells and validate every resolved scenario; InputError if any fails.

    Cells that resolve to the same scenario (a value given twice, a value equal to the
    scenario's own) are added to ``spec.warnings``: their differences would be seed noise.
    """
    base_doc, base, res = _prepare(spec)
    problem = None
    if spec.sampler == "grid":
        combos = list(itertools.product(*[p.values or () for p in spec.parameters]))
        names = [p.name for p in spec.parameters]
        cells = [
            {**case, **dict(zip(names, combo, strict=True))}
            for case in (spec.cases or [{}])
            for combo in combos
        ]
    else:
        X = sample_points(spec)
        problem = salib_problem(spec.parameters)
        names = [p.name for p in spec.parameters]
        cells = [{k: float(v) for k, v in zip(names, row, strict=True)} for row in X]
    columns = _columns(spec)
    dtypes = {c: _dtype([cell.get(c) for cell in cells]) for c in columns}
    hashes, bad = _resolve(spec, res, list(enumerate(cells)))
    if bad:
        raise InputError(bad)
    first: dict[str, int] = {}
    same: list[tuple[int, int]] = []
    for i, h in enumerate(hashes):
        if h in first:
            same.append((first[h], i))
        first.setdefault(h, i)
    if same:
        shown = "; ".join(
            f"cells {a} and {b} ({', '.join(f'{k}={v!r}' for k, v in cells[b].items())})"
            for a, b in same[:3]
        )
        more = f" and {len(same) - 3} more" if len(same) > 3 else ""
        spec.warnings.append(
            spec.problem(
                (),
                f"warning: {len(same)} cell(s) resolve to the same scenario as another: {shown}"
                f"{more}; their differences are seed noise, not a parameter effect",
            )
        )
    return Design(spec, base_doc, base, columns, dtypes, cells, hashes, problem)
