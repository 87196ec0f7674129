"""``sim.run``: a scenario's replications under its conditions, as a :class:`RunResult`.

A run is an experiment of one cell per condition — the baseline and each counterfactual (the
scenario with factors switched off) — every condition on the same seeds (common random numbers):
replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))`` whatever the workers. The engine
(sim.experiments.engine) runs the cells' replications in lock-step chunks; the result holds the
tables of docs/DATA.md as DataFrames, the per-state outcomes (``summary.csv``), the report and
the verdicts, and saves itself as a run directory (``hedgesim run`` is this plus ``save``).

Why one module past 500 lines: :func:`run_cells`, which an ensemble's parameter sets run through
too, sits here beside :func:`run` rather than in a module of its own, because the import floors
(tests/test_architecture.py) leave no level between the task module and ``sim.run``; the
ensemble (sim.experiments.ensemble) is handed :func:`run_scenarios` instead of importing it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim.experiments import memory
from sim.experiments.conditions import Condition, ablate, conditions, prepare
from sim.experiments.engine import MAX_CHUNK, Engine, Execution, default_workers, plan_chunks
from sim.experiments.outcomes import Verdict, outcome_rows, summary_text, verdict
from sim.experiments.stats import wilson
from sim.experiments.task import Cell, Done, Group, Task, run_task
from sim.model.recording import RunRecord
from sim.model.seeds import replication_seed, seed_value
from sim.model.world import World, compile_world
from sim.plots.figures import Options, run_jobs, write_figures
from sim.results.read import load_run
from sim.results.store import RunDir, open_run_dir, write_run
from sim.results.tables import run_tables, world_info
from sim.scenario.calendar import year_end_steps
from sim.scenario.load import scenario_hash
from sim.scenario.paths import Override
from sim.scenario.schema import Scenario

if TYPE_CHECKING:  # statsmodels is imported only when an ensemble runs
    from sim.experiments.ensemble import EnsembleResult

SEEDING = "replication r uses numpy SeedSequence(seed, spawn_key=(r,))"
TABLES = ("system", "states", "ties", "tie_history")


# ------------------------------------------------------------------------------------------------
# The result
# ------------------------------------------------------------------------------------------------


@dataclass
class RunResult:
    """What a run found: its tables, outcomes, report and verdicts.

    Attributes:
        meta: the run's record (``run.json``): scenario, its hash and resolved content, seeds,
            conditions, the world's ids, names, powers and rivalry, versions once saved.
        outcomes: one row per condition and focal state (``summary.csv``): status shares with
            Wilson intervals, window shares, shares at each rival threshold, the share allied with
            a stronger state, the mean alignment index.
        scenario: the validated scenario (None for a result loaded from disk).
        system, states, ties, tie_history: the tables of docs/DATA.md as DataFrames (ids and
            statuses categorical); ``tie_history`` is None without a calendar.
        plot: figures of this result (``r.plot.timeline("IRN")``).
    """

    meta: dict[str, Any]
    outcomes: pd.DataFrame
    scenario: Scenario | None = None
    _tables: dict[str, pa.Table] = field(default_factory=dict, repr=False)
    _frames: dict[str, pd.DataFrame | None] = field(default_factory=dict, repr=False)
    directory: Path | None = None  # where it was loaded from or saved to
    figures: list[Path] = field(default_factory=list)  # the figures it last wrote

    # -- tables -----------------------------------------------------------------------------
    def _frame(self, name: str) -> pd.DataFrame | None:
        if name not in self._frames:
            table = self._tables.get(name)
            if table is None and self.directory is not None and name == "tie_history":
                self._frames[name] = _read_tie_history(self.directory, self.meta)
            else:
                self._frames[name] = None if table is None else table.to_pandas()
        return self._frames[name]

    @property
    def system(self) -> pd.DataFrame:
        """Per condition, replication and recorded step: the system columns (docs/DATA.md)."""
        return self._frame("system")  # type: ignore[return-value]

    @property
    def states(self) -> pd.DataFrame:
        """Per condition, replication, recorded step and state: status, tie counts, indices."""
        return self._frame("states")  # type: ignore[return-value]

    @property
    def ties(self) -> pd.DataFrame:
        """Per condition and replication: every tie at the last step (a < b)."""
        return self._frame("ties")  # type: ignore[return-value]

    @property
    def tie_history(self) -> pd.DataFrame | None:
        """Every tie at the last step of each calendar year (None without a calendar)."""
        return self._frame("tie_history")

    @property
    def world(self) -> dict[str, Any]:
        """The world as plots draw it: ids, names, power, rivalry, focal states."""
        return self.meta["world"]

    @property
    def conditions(self) -> list[str]:
        """The condition labels: ``baseline``, then the counterfactuals (``-security``...)."""
        return [c["label"] for c in self.meta["conditions"]]

    # -- reading it ---------------------------------------------------------------------------
    @cached_property
    def window_steps(self) -> int:
        """The recorded steps in the verdict window (the last ``params.verdict_window`` steps)."""
        window = self.meta["scenario_resolved"]["params"]["verdict_window"]
        s = self.system
        steps = s.loc[s["replication"] == 0, "step"].unique()
        return int((steps > steps.max() - window).sum())

    def summary(self) -> str:
        """The report ``hedgesim run`` prints and writes as ``summary.txt``: per focal state its
        status shares, partners, alliance with stronger states and verdict, and with
        counterfactuals their differences to the baseline."""
        return summary_text(self.outcomes, self.ties, self.meta, self.window_steps)

    def verdict(self, state: str | None = None, condition: str = "baseline") -> Verdict:
        """Does non-alignment emerge for ``state`` (default: the first focal state) under
        ``condition``? ``str(verdict)`` is the line the report prints; ``verdict.allied_stronger``
        the share of runs ending allied with a stronger state."""
        rows = self.outcomes[self.outcomes["condition"].astype(str) == condition]
        if rows.empty:
            raise ValueError(f"no condition {condition!r} in this run: {self.conditions}")
        if state is not None:
            rows = rows[rows["state"].astype(str) == state]
            if rows.empty:
                raise ValueError(f"{state!r} is not a focal state of this run")
        return verdict(rows.iloc[0], self.window_steps)

    def share(
        self, state: str, outcome: str = "allied_stronger", condition: str = "baseline"
    ) -> float:
        """The share of runs in which ``state`` ends in ``outcome`` (a status, or
        ``allied_stronger``) under ``condition``."""
        rows = self.outcomes[
            (self.outcomes["condition"].astype(str) == condition)
            & (self.outcomes["state"].astype(str) == state)
        ]
        if rows.empty:
            raise ValueError(f"no outcome of {state!r} under {condition!r}")
        col = "allied_with_stronger" if outcome == "allied_stronger" else f"share_{outcome}"
        return float(rows.iloc[0][col])

    def shares(self, outcome: str = "allied_stronger", state: str | None = None) -> pd.DataFrame:
        """Per condition and focal state: ``n`` runs, ``k`` of them ending in ``outcome`` (a
        status, or ``allied_stronger``: allied with a stronger state), ``share`` with its 95%
        Wilson interval ``lo``-``hi``.

        ``outcome``: ``allied_stronger`` or a status; ``state``: one focal state (default all).
        """
        o = self.outcomes
        if state is not None:
            o = o[o["state"].astype(str) == state]
        if outcome == "allied_stronger":
            k = (o["allied_with_stronger"] * o["n"]).round().astype(int)
        elif f"k_{outcome}" in o.columns:
            k = o[f"k_{outcome}"].astype(int)
        else:
            raise ValueError(f"unknown outcome {outcome!r}")
        ci = [wilson(int(a), int(b)) for a, b in zip(k, o["n"], strict=True)]
        return pd.DataFrame(
            {
                "condition": o["condition"].astype(str).to_numpy(),
                "state": o["state"].astype(str).to_numpy(),
                "n": o["n"].astype(int).to_numpy(),
                "k": k.to_numpy(),
                "share": (k / o["n"]).to_numpy(),
                "lo": [c[0] for c in ci],
                "hi": [c[1] for c in ci],
            }
        )

    @property
    def plot(self) -> RunPlots:
        """Figures of this result: ``timeline``, ``network``, ``partners``, ``counterfactuals``."""
        return RunPlots(self)

    # -- writing it ---------------------------------------------------------------------------
    def save(
        self,
        out: str | Path,
        *,
        fmt: str = "parquet",
        force: bool = False,
        figures: bool = True,
    ) -> Path:
        """Write this result as a run directory (the layout of docs/DATA.md).

        Args:
            out: the directory; an identical run there is replaced, anything else needs
                ``force`` (which replaces only what hedgesim wrote: sim.results.store).
            fmt: ``parquet`` or ``csv`` for the tables.
            force: replace another run's results there.
            figures: also draw every figure the run supports into ``out/figures``.

        Returns:
            The directory.
        """
        rd = open_run_dir(out, self.meta["identity"], force, fmt=fmt, figures=figures)
        try:
            self._write(rd, fmt, figures)
        finally:
            rd.release()
        return rd.out

    def _write(self, rd: RunDir, fmt: str, figures: bool) -> list[Path]:
        tables = self._tables or {
            name: pa.Table.from_pandas(df, preserve_index=False)
            for name in TABLES
            if (df := self._frame(name)) is not None
        }
        outcomes = pa.Table.from_pandas(self.outcomes, preserve_index=False)
        write_run(rd, tables, outcomes, self.summary(), self.meta, fmt)
        self.directory = rd.out
        if not figures:
            return []
        jobs = run_jobs(rd.out, self.meta, self.states, self.ties, self.outcomes, Options())
        self.figures = write_figures(jobs, rd.out, locked=True)
        return self.figures

    @classmethod
    def load(cls, directory: str | Path) -> RunResult:
        """A run directory written by ``hedgesim run`` or :meth:`save`, every table checked."""
        t = load_run(directory)
        frames: dict[str, pd.DataFrame | None] = {
            "system": t.system,
            "states": t.states,
            "ties": t.ties,
        }
        return cls(t.meta, t.summary, None, {}, frames, Path(directory))


def _read_tie_history(directory: Path, meta: Mapping[str, Any]) -> pd.DataFrame | None:
    path = directory / f"tie_history.{meta.get('format', 'parquet')}"
    if not path.is_file():
        return None
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


@dataclass(frozen=True)
class RunPlots:
    """``RunResult.plot``: each figure of sim.plots drawn from this result's tables."""

    result: RunResult

    def _name(self, state: str) -> str:
        w = self.result.world
        return dict(zip(w["ids"], w["names"], strict=True)).get(state, state)

    def timeline(self, state: str, condition: str = "baseline", **kw: Any) -> Any:
        """The state's status shares and tie counts over time (sim.plots.plot_timeline)."""
        from sim.plots import plot_timeline

        kw.setdefault("name", self._name(state))
        return plot_timeline(self.result.states, state, condition=condition, **kw)

    def network(self, condition: str = "baseline", **kw: Any) -> Any:
        """Ties at the end, as shares of runs (sim.plots.plot_network)."""
        from sim.plots import plot_network

        kw.setdefault("n_replications", self.result.meta["replications"])
        return plot_network(self.result.ties, self.result.world, condition=condition, **kw)

    def partners(self, condition: str = "baseline", **kw: Any) -> Any:
        """The partner matrix: allied above the diagonal, friends below (plot_partners)."""
        from sim.plots import plot_partners

        kw.setdefault("n_replications", self.result.meta["replications"])
        return plot_partners(self.result.ties, self.result.world, condition=condition, **kw)

    def counterfactuals(self, state: str, **kw: Any) -> Any:
        """The state's shares under each condition against the baseline (forest plot)."""
        from sim.plots import plot_counterfactuals

        kw.setdefault("name", self._name(state))
        return plot_counterfactuals(self.result.outcomes, state, **kw)


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------


def run(
    scenario: str | Path | Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
    ablate: Sequence[str] = (),
    record_every: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
    out: str | Path | None = None,
    fmt: str = "parquet",
    force: bool = False,
    figures: bool = True,
    ensemble: int | None = None,
    estimates: str | Path = "estimated",
    defaults: str | Path | None = None,
) -> RunResult | EnsembleResult:
    """Run a scenario's replications, and its counterfactuals, on the same seeds.

    Args:
        scenario: a scenario file, or a validated Scenario.
        replications: replications per condition (default: the scenario's ``replications``).
        seed: the root seed (default: the scenario's ``seed``).
        steps: steps per replication (default: the scenario's ``params.steps``).
        overrides: scenario values by dotted path, typed: ``{"distrust.IRN.RUS": 0.2,
            "sanctions.US maximum pressure.level": 0.5}`` (what ``--set`` does).
        ablate: counterfactuals, as ``--ablate`` takes them: ``"a,b"`` one condition per
            factor, ``"a+b"`` both off together, a scenario ``counterfactuals:`` name, ``"all"``,
            ``"factor@ID"`` for one state only.
        record_every: record every K steps (default: the scenario's ``params.record_every``).
        workers: worker processes (default: every core; 1 runs in this process). Results are
            identical for any number.
        executor: any ``concurrent.futures.Executor`` to run on instead (Dask's, a pool).
        progress: show a progress bar on a terminal.
        out: also write the run directory there: claimed before any work (a bad directory fails
            at once), written when the run is done (as :meth:`RunResult.save`).
        fmt: the tables' format when written: ``parquet`` or ``csv``.
        force: with ``out``, replace another run's results there (only what hedgesim wrote).
        figures: with ``out``, draw every figure the run supports.
        ensemble: K parameter sets drawn from ``estimates``, ``replications`` (default 20) runs
            of each under every condition: returns an EnsembleResult
            (sim.experiments.ensemble), written to ``out`` if given.
        estimates: the estimates file the ensemble draws from (``"estimated"``: the shipped
            validation/estimates/defaults.yaml).
        defaults: ``"estimated"`` (or an estimates file): every estimated constant the scenario
            leaves at the schema's default takes the estimates' median instead
            (sim.experiments.posterior); None keeps the schema's defaults.

    Returns:
        The RunResult (an EnsembleResult with ``ensemble``). Raises InputError (exit 2) for bad
        input, RunFailed (exit 3) naming the run whose numbers failed.

    Example:
        >>> import sim
        >>> r = sim.run("scenarios/toy_triangle.yaml", replications=10)  # doctest: +SKIP
        >>> print(r.summary())  # doctest: +SKIP
    """
    if ensemble is not None:
        from sim.experiments.ensemble import ensemble as run_ensemble

        res = run_ensemble(
            run_scenarios,
            scenario,
            ensemble,
            replications=replications,
            seed=seed,
            steps=steps,
            overrides=overrides,
            ablate_=ablate,
            estimates=estimates,
            record_every=record_every,
            workers=workers,
            executor=executor,
            progress=progress,
        )
        if out is not None:
            res.save(out)
        return res
    sc, texts = prepare(
        scenario, replications=replications, seed=seed, steps=steps, overrides=overrides
    )
    estimated: dict[str, Any] = {}
    if defaults is not None:
        from sim.experiments.posterior import load_estimates, unset, with_constants

        est = load_estimates(defaults)
        values = {p: est.median()[p] for p in unset(sc, list(est.parameters))}
        sc = with_constants(sc, values)
        estimated = {"source": est.source, "values": values}
    conds = conditions(sc, ablate)
    world = compile_world(sc)
    every = record_every or sc.params.record_every
    digest = scenario_hash(sc)
    identity = hashlib.sha256(
        json.dumps([digest, [(c.label, c.factors) for c in conds], every]).encode()
    ).hexdigest()[:16]
    history = len(year_end_steps(world.start, world.step, sc.params.steps))
    runs = sc.replications * len(conds)
    need = memory.estimate_bytes(world.n, sc.params.steps, every, runs, history)
    where = "argument --replications/-r" if replications else str(scenario)
    if isinstance(scenario, Scenario) and not replications:
        where = f"scenario {sc.name}"
    memory.check_memory(
        need,
        memory.available_bytes(),
        f"{where}: {sc.replications:,} replications × {len(conds)} "
        f"condition(s) of {sc.params.steps:,} steps",
    )
    rd = open_run_dir(out, identity, force, fmt=fmt, figures=figures) if out is not None else None
    try:
        how = Execution(workers=workers, executor=executor)
        t0 = time.perf_counter()
        records = run_conditions(sc, conds, record_every=every, execution=how, progress=progress)
        elapsed = time.perf_counter() - t0
        meta = {
            "identity": identity,
            "scenario": sc.name,
            "scenario_file": None if isinstance(scenario, Scenario) else str(scenario),
            "scenario_hash": digest,
            "scenario_resolved": sc.model_dump(mode="json"),
            "overrides": texts,
            "estimated_defaults": estimated or None,
            "seed": sc.seed,
            "replications": sc.replications,
            "steps": sc.params.steps,
            "record_every": every,
            "seeding": SEEDING,
            "replication_seeds": [
                seed_value(replication_seed(sc.seed, r)) for r in range(sc.replications)
            ],
            "conditions": [{"label": c.label, "switched_off": list(c.factors)} for c in conds],
            "workers": workers or default_workers(),
            "elapsed_seconds": round(elapsed, 3),
            "world": world_info(world),
        }
        result = _result(sc, world, records, meta)
        if rd is not None:
            result._write(rd, fmt, figures)
    finally:
        if rd is not None:
            rd.release()
    return result


def _result(
    sc: Scenario, world: World, records: Mapping[str, list[RunRecord]], meta: dict[str, Any]
) -> RunResult:
    focal = world.focal or list(range(world.n))
    rows = [
        row
        for label, recs in records.items()
        for row in outcome_rows(world.ids, world.names, label, recs, focal)
    ]
    outcomes = pa.Table.from_pylist(rows).to_pandas()
    return RunResult(meta, outcomes, sc, run_tables(world.ids, records))


def run_conditions(
    sc: Scenario,
    conds: Sequence[Condition],
    *,
    record_every: int | None = None,
    execution: Execution | None = None,
    progress: bool = False,
) -> dict[str, list[RunRecord]]:
    """Every condition's replications through the engine: the records of each condition, in
    the order of the replications whatever the workers (what :func:`run` measures).

    Args:
        sc: the scenario (its ``replications``, ``seed`` and ``params.steps``).
        conds: the conditions (sim.experiments.conditions.conditions).
        record_every: record every K steps (default: the scenario's).
        execution: workers, executor, chunk (results do not depend on them).
        progress: show a progress bar on a terminal.
    """
    record_every = record_every or sc.params.record_every
    cells = []
    for c in conds:
        variant = ablate(sc, c.factors)
        cells.append(Cell(scenario_hash(variant), variant, f"condition {c.label}"))
    recs = run_cells(
        cells,
        replications=sc.replications,
        seed=sc.seed,
        steps=sc.params.steps,
        record_every=record_every,
        execution=execution,
        progress=progress,
        name=sc.name,
    )
    return {c.label: r for c, r in zip(conds, recs, strict=True)}


def run_scenarios(
    scenarios: Sequence[tuple[Scenario, str]],
    *,
    replications: int,
    seed: int,
    steps: int,
    record_every: int,
    execution: Execution | None = None,
    progress: bool = False,
    name: str = "",
) -> list[list[RunRecord]]:
    """:func:`run_cells` for (scenario, label) pairs: what sim.experiments.ensemble is given to
    run its parameter sets' conditions (it cannot import this module: sim.run imports it)."""
    cells = [Cell(scenario_hash(sc), sc, label) for sc, label in scenarios]
    return run_cells(
        cells,
        replications=replications,
        seed=seed,
        steps=steps,
        record_every=record_every,
        execution=execution,
        progress=progress,
        name=name,
    )


def run_cells(
    cells: Sequence[Cell],
    *,
    replications: int,
    seed: int,
    steps: int,
    record_every: int,
    execution: Execution | None = None,
    progress: bool = False,
    name: str = "",
) -> list[list[RunRecord]]:
    """Every cell's ``replications`` through the engine, on the same seeds (replication ``r`` of
    every cell uses ``SeedSequence(seed, spawn_key=(r,))``): the records of each cell in the
    order of the replications whatever the workers. What :func:`run_conditions` runs for a
    run's conditions, and :func:`run_scenarios` for an ensemble's sets and conditions."""
    how = execution or Execution()
    reps = replications
    out: list[list[RunRecord | None]] = [[None] * reps for _ in cells]
    with Engine(how) as engine:
        pending = np.arange(len(cells) * reps)
        chunks = plan_chunks(pending, how.chunk or MAX_CHUNK, reps, guided=engine.slots)

        def tasks() -> Any:
            for runs in chunks:
                groups, used = [], {}
                for run_idx in runs.tolist():
                    ci = run_idx // reps
                    if ci not in used:
                        used[ci] = len(used)
                        groups.append((used[ci], []))
                    groups[used[ci]][1].append(run_idx)
                yield Task(
                    cells=tuple(cells[ci] for ci in used),
                    groups=tuple(
                        Group(pos, tuple(rs), tuple(r % reps for r in rs)) for pos, rs in groups
                    ),
                    root=seed,
                    replications=reps,
                    steps=steps,
                    record_every=record_every,
                )

        bar = _bar(len(cells) * reps, name, progress)

        def take(done: list[Done]) -> None:
            for d in done:
                out[d.run // reps][d.run % reps] = d.record
            bar.update(len(done))

        try:
            engine.run(tasks(), run_task, take)
        finally:
            bar.close()
    return [[r for r in v if r is not None] for v in out]


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _bar(total: int, name: str, enabled: bool) -> Any:
    """tqdm on stderr, only when wanted and stderr is a terminal (logs stay clean)."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    tqdm.monitor_interval = 0  # no monitor thread
    return tqdm(total=total, unit="run", desc=name, file=sys.stderr)
