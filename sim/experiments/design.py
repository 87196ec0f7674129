"""Expanding a sweep spec into its design: the cells, each a validated scenario.

A grid is the product of its parameters' values (cases outermost, the last parameter varying
fastest); a sampled design draws its points from SALib (Saltelli/Sobol', Morris) or
``scipy.stats.qmc`` (Latin hypercube) — not hand-written — seeded from the sweep's root seed, so a
design is reproducible. Every value of every parameter is first checked alone against the
scenario (precise positions for the common mistakes), then every cell is resolved and validated
(combinations invalid together), before the first run: a sweep that starts does not fail on
input hours later.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.errors import InputError, PathPart, Problem, dotted
from sim.experiments.spec import Parameter, SweepSpec
from sim.experiments.spec_schema import MAX_CELLS, MAX_RUNS
from sim.scenario.load import scenario_hash, validate_document
from sim.scenario.paths import apply_overrides, resolve_document, split_path
from sim.scenario.schema import Scenario

DESIGN_STREAM = 2**40
"""Spawn key of the sampler's random stream: never equal to a run's key ``(run_index,)``."""
SCENARIOS_KEPT = 256
"""Validated cell scenarios a design keeps in memory (a design may have millions of cells)."""


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
    _scenarios: OrderedDict[int, Scenario] = field(default_factory=OrderedDict, repr=False)

    @property
    def n_cells(self) -> int:
        return len(self.cells)

    @property
    def n_runs(self) -> int:
        return len(self.cells) * self.spec.replications

    @property
    def root_seed(self) -> int:
        return self.spec.seed

    @property
    def reported_states(self) -> list[str]:
        """The states whose outcomes the tables report: the focal ones, or all without any."""
        return list(self.base.focal) or list(self.base.states)

    def scenario(self, cell: int) -> Scenario:
        """Cell ``cell``'s scenario, validated (it was once, when the design was built; the last
        ``SCENARIOS_KEPT`` are kept, others are resolved again — in this process only, never in
        a worker)."""
        hit = self._scenarios.get(cell)
        if hit is not None:
            self._scenarios.move_to_end(cell)
            return hit
        pairs = [(split_path(k), v) for k, v in self.cells[cell].items()]
        doc = resolve_document(self.base_doc, pairs)
        sc = validate_document(doc, self.spec.scenario_source, self.spec.scenario_node)
        self.keep(cell, sc)
        return sc

    def keep(self, cell: int, sc: Scenario) -> None:
        self._scenarios[cell] = sc
        if len(self._scenarios) > SCENARIOS_KEPT:
            self._scenarios.popitem(last=False)


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
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "int64"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "float64"
    return "string"


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
    if spec.ties is not None and spec.ties["when"] == "yearly" and base.start is None:
        raise InputError(
            [
                spec.problem(
                    ("ties",),
                    "ties: yearly needs a scenario with a calendar (`start: YYYY-MM`); use "
                    "`ties: final` for the last step only",
                )
            ]
        )

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
    spec: SweepSpec,
    res: _Resolver,
    cells: list[tuple[int, dict[str, Any]]],
    kept: OrderedDict[int, Scenario] | None = None,
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
        if kept is not None and len(kept) < SCENARIOS_KEPT:  # what the first tasks will need
            kept[ci] = out
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
    kept: OrderedDict[int, Scenario] = OrderedDict()
    hashes, bad = _resolve(spec, res, list(enumerate(cells)), kept)
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
    return Design(spec, base_doc, base, columns, dtypes, cells, hashes, problem, kept)
