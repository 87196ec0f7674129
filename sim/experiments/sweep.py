"""``sim.sweep``: every cell of a design, many times, streamed to disk, resumable.

What this does better than Mesa's ``batch_run``, NetLogo's BehaviorSpace and EMA Workbench:

* **Deterministic runs.** Run ``i`` (cells numbered in design order, replications inside a cell)
  is seeded by ``SeedSequence(root, spawn_key=(i,))`` and identified by a hash of its resolved
  scenario, its seed and the model version, so results are the same whatever the backend, worker
  count, chunk size or resume history.
* **Streaming, flat memory.** Runs go to workers in chunks (sim.experiments.engine, the engine
  ``hedgesim run`` uses too); at most a bounded window of chunks is in flight; each finished chunk
  is encoded by its worker and written at once (atomically) as its own ``part-*`` file.
* **Crash-safe resume.** Only the coordinating process writes, one file per chunk, the ``steps``
  part before the ``runs`` part (the runs part is the commit). ``kill -9`` at any moment loses at
  most the chunks in flight; re-running the same command skips every run on disk.
* **Any executor.** A local process pool, Dask, or any ``concurrent.futures.Executor``.

Layout of an output directory: docs/DATA.md ("hedgesim sweep output directory"). Why one module,
over 500 lines: a sweep is one procedure — plan the chunks, pack them in the workers, write them,
resume — and its result; everything it imports sits on the floors below it (docs/ARCHITECTURE.md),
and a second module would only add a floor.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from sim._version import __version__
from sim.errors import InputError, RunFailed, WorkerDied
from sim.experiments.analysis import (
    SENSITIVITY_SAMPLERS,
    Analysis,
    cell_shares,
    check_status,
    format_report,
    outcome_columns,
    sensitivity,
)
from sim.experiments.design import Design, build_design
from sim.experiments.engine import MAX_CHUNK, Engine, Execution, plan_chunks
from sim.experiments.manifest import manifest_of, now, resume_state
from sim.experiments.spec import load_spec
from sim.experiments.task import Cell, Done, Group, Packed, Task, run_task
from sim.model.seeds import replication_seed, seed_value
from sim.results.atomic import encode_table, sealed, write_json, write_table
from sim.results.outdir import claim, survey
from sim.results.read import load_sweep, load_sweep_ties
from sim.results.records import read_manifest
from sim.results.store import MANIFEST, SweepStore
from sim.results.tables import Layout, SweepRun, run_id, sweep_tables, sweep_ties_table

FORMATS = ("parquet", "csv")
FINAL_ONLY = 2**62
"""``record_every`` that records nothing but the initial and the final state."""


@dataclass
class SweepReport:
    """What one invocation did."""

    out: Path
    n_runs: int
    already: int
    ran: int
    seconds: float
    parts: int
    warnings: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # entries hedgesim did not write (--force)
    notes: list[str] = field(default_factory=list)  # what resuming found, ignored or repaired


# ------------------------------------------------------------------------------------------------
# Chunks: planned here, run and packed by workers
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartPacker:
    """Turns a chunk's finished runs into the bytes of its part files, in the worker."""

    layout: Layout
    fmt: str
    with_steps: bool
    values: Mapping[int, Mapping[str, Any]]  # design cell -> its swept values
    ties: Mapping[str, str] | None = None  # {when, level}: also pack a ties part
    ids: tuple[str, ...] = ()  # every state, in scenario order (the ties' a and b)

    def __call__(
        self, task: Task, done: list[Done]
    ) -> tuple[int, bytes, bytes | None, bytes | None]:
        from sim.experiments.task import world_of

        runs = []
        for d in done:
            cell = task.cells[d.group.cell]
            index = world_of(cell).index
            design_cell = d.run // task.replications
            seed = seed_value(replication_seed(task.root, d.seed))
            runs.append(
                SweepRun(
                    run_id(cell.key, seed, task.version),
                    d.run,
                    design_cell,
                    d.run % task.replications,
                    seed,
                    self.values[design_cell],
                    d.record,
                    tuple(index[s] for s in self.layout.states),
                )
            )
        runs_table, steps_table = sweep_tables(self.layout, runs, self.with_steps)
        ties = None
        if self.ties is not None:
            table = sweep_ties_table(self.ids, runs, self.ties["when"], self.ties["level"])
            ties = encode_table(table, self.fmt)
        return (
            done[0].run,
            encode_table(runs_table, self.fmt),
            None if steps_table is None else encode_table(steps_table, self.fmt),
            ties,
        )


def plan_tasks(
    design: Design, pending: np.ndarray, chunk: int | None, slots: int, fmt: str
) -> Iterator[Task]:
    """The pending runs as tasks: chunks of whole cells where they fit (plan_chunks), each with
    its cells' validated scenarios and a packer for its part files."""
    reps = design.spec.replications
    layout = Layout(
        tuple(design.columns),
        tuple(design.dtypes[c] for c in design.columns),
        tuple(design.reported_states),
    )
    with_steps = design.spec.record_every is not None
    for runs in plan_chunks(pending, chunk or MAX_CHUNK, reps, guided=None if chunk else slots):
        cells = sorted({int(r) // reps for r in runs})
        pos = {c: k for k, c in enumerate(cells)}
        groups: dict[int, list[int]] = {c: [] for c in cells}
        for r in runs.tolist():
            groups[r // reps].append(r)
        yield Task(
            cells=tuple(
                Cell(design.cell_hashes[c], design.scenario(c), _label(design, c)) for c in cells
            ),
            groups=tuple(Group(pos[c], tuple(rs), tuple(rs)) for c, rs in groups.items()),
            root=design.root_seed,
            replications=reps,
            steps=None,
            record_every=design.spec.record_every or FINAL_ONLY,
            pack=PartPacker(
                layout,
                fmt,
                with_steps,
                {c: design.cells[c] for c in cells},
                design.spec.ties,
                tuple(design.base.states),
            ),
            version=__version__,
        )


def _label(design: Design, cell: int) -> str:
    where = ", ".join(f"{k}={v!r}" for k, v in design.cells[cell].items())
    return f"cell {cell}: {where}"


# ------------------------------------------------------------------------------------------------
# Running a design
# ------------------------------------------------------------------------------------------------


def execute(
    design: Design,
    out: str | Path,
    how: Execution | None = None,
    *,
    fmt: str = "parquet",
    force: bool = False,
    repair: bool = False,
    progress: bool = True,
    command: Sequence[str] | None = None,
) -> SweepReport:
    """Run every run of ``design`` not yet in ``out``.

    Args:
        design: the expanded sweep (sim.experiments.design.build_design).
        out: its directory; resumed when it holds this sweep.
        how: workers, backend, executor, chunk and window (results never depend on them).
        fmt: part files as ``parquet`` or ``csv``.
        force: replace what hedgesim wrote there for another sweep (other files are kept).
        repair: drop damaged parts and run their runs again (else they are refused).
        progress: show a progress bar on a terminal.
        command: the command line to record (default ``sys.argv``).

    Returns:
        What this invocation did. InputError if ``out`` holds another sweep or a damaged part
        (before any run); RunFailed (exit 3) if a run fails and WorkerDied (exit 1) if a worker
        dies — finished chunks stay on disk: re-run to resume.
    """
    how = how or Execution()
    if fmt not in FORMATS:
        raise InputError.single("--format", f"unknown format {fmt!r} (expected parquet or csv)")
    how.check()
    t0 = time.perf_counter()
    store = SweepStore(out)
    store.lock()
    wrote = False
    try:
        manifest, kept, notes, done = _open(store, design, fmt, force, repair, how, command)
        wrote = True
        write_json(store.manifest_path, sealed(manifest))
        invocation = manifest["invocations"][-1]
        pending = np.flatnonzero(~done)
        parts = 0
        with Engine(how) as engine:  # workers start before any thread (the bar, Arrow)
            bar = _progress(design.n_runs, int(done.sum()), progress)

            def take(result: Packed) -> None:
                nonlocal parts
                first, runs, steps, ties = result.value
                store.write(first, runs, steps, fmt, ties)
                parts += 1
                bar.update(result.runs)

            try:
                tasks = plan_tasks(design, pending, how.chunk, engine.slots, fmt)
                engine.run(tasks, run_task, take)
            except (RunFailed, WorkerDied) as exc:
                raise type(exc)(
                    f"{exc}\n{parts} chunks were written by this invocation; fix the cause "
                    "and re-run the same command to resume"
                ) from None
            finally:
                bar.close()
        invocation["finished"] = now()
        invocation["runs_after"] = int(done.sum()) + len(pending)
        manifest["complete"] = True
        write_json(store.manifest_path, sealed(manifest))
        return SweepReport(
            store.root,
            design.n_runs,
            int(done.sum()),
            len(pending),
            time.perf_counter() - t0,
            parts,
            kept=kept,
            notes=notes,
        )
    finally:
        store.unlock(wrote)


def _open(
    store: SweepStore,
    design: Design,
    fmt: str,
    force: bool,
    repair: bool,
    how: Execution,
    command: Sequence[str] | None,
) -> tuple[dict[str, Any], list[str], list[str], np.ndarray]:
    """The directory as found (refusing what must not be touched), the manifest to write (with
    the history of earlier invocations and this one), and the runs already done."""
    found = survey(store.root)
    if found.kind in ("run", "mixed"):
        raise InputError.plain(
            str(store.root),
            "holds a hedgesim run (run.json); hedgesim sweep never replaces a run's results: "
            "choose another --out",
        )
    if MANIFEST in found.foreign:
        raise InputError.plain(
            str(store.manifest_path),
            f"not a hedgesim sweep manifest ({found.why[MANIFEST]}); hedgesim will not replace "
            "it: move it or choose another --out (if it is this sweep's damaged manifest, delete "
            "it and resume with --repair)",
        )
    manifest = manifest_of(design, fmt)
    old, kept, notes, done = resume_state(store, found, manifest, force, repair)
    if old is not None:
        manifest["created"] = old.get("created", manifest["created"])
        manifest["command"] = old.get("command")
        history = old.get("invocations")
        manifest["invocations"] = list(history) if isinstance(history, list) else []
    argv = list(command) if command is not None else sys.argv
    if manifest["command"] is None:
        manifest["command"] = argv
    manifest["invocations"].append(
        {
            "command": argv,
            "started": now(),
            "backend": "executor" if how.executor is not None else how.backend,
            "workers": how.workers,
            "chunk": how.chunk,
            "runs_before": int(done.sum()),
        }
    )
    return manifest, kept, notes, done


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, initial: int, enabled: bool) -> Any:
    """tqdm on stderr, only when wanted and stderr is a terminal (logs stay clean)."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.05,
    )


def sweep(
    spec: str | Path,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    executor: Executor | None = None,
    chunk: int | None = None,
    window: int | None = None,
    fmt: str = "parquet",
    force: bool = False,
    repair: bool = False,
    progress: bool = False,
    command: Sequence[str] | None = None,
) -> SweepResult:
    """Run a sweep into ``out`` (resuming it if it is there already) and return its results.

    Args:
        spec: a sweep file, or a scenario with a ``sweep:`` block (docs/SWEEPS.md).
        out: the sweep's directory.
        workers: worker processes (default: every core; 1 runs in this process).
        backend: ``local`` (a process pool) or ``dask`` (``hedgesim[dask]``).
        scheduler: a Dask scheduler address or scheduler file (default: a local cluster).
        executor: any ``concurrent.futures.Executor`` to run on (overrides ``backend``).
        chunk: runs per task and per part file (default: guided, at most 64).
        window: tasks in flight at most.
        fmt: part files as ``parquet`` or ``csv``.
        force: replace what hedgesim wrote in ``out`` for another sweep.
        repair: drop damaged parts and run their runs again.
        progress: show a progress bar on a terminal.
        command: the command line recorded in the manifest.

    Returns:
        The SweepResult (its tables are read from ``out`` when first used); ``.report`` says what
        this invocation ran. Raises InputError for a bad spec or directory, RunFailed if a run
        fails (finished chunks stay: run again to resume).
    """
    loaded = load_spec(spec)
    design = build_design(loaded)
    how = Execution(workers, backend, scheduler, executor, chunk, window)
    report = execute(
        design, out, how, fmt=fmt, force=force, repair=repair, progress=progress, command=command
    )
    report.warnings = [str(w) for w in loaded.warnings]
    return SweepResult(Path(out), report)


# ------------------------------------------------------------------------------------------------
# The result
# ------------------------------------------------------------------------------------------------


@dataclass
class SweepResult:
    """A sweep on disk: its runs, its steps, its design, and its analyses.

    Attributes:
        directory: the sweep's directory.
        report: what the invocation that made this result ran (None when loaded).
        runs: one row per run (its cell, seed, swept values and each reported state's final
            outcome: docs/DATA.md), read when first used.
        steps: the same outcomes at every recorded step (None when only the final state was).
        manifest: the sweep's manifest.json.
        warnings: what the loader found and ignored.
    """

    directory: Path
    report: SweepReport | None = None

    @cached_property
    def _tables(self) -> Any:
        return load_sweep(self.directory)

    @property
    def runs(self) -> pd.DataFrame:
        return self._tables.runs

    @property
    def steps(self) -> pd.DataFrame | None:
        return self._tables.steps

    @property
    def manifest(self) -> dict[str, Any]:
        return self._tables.manifest

    @cached_property
    def ties(self) -> pd.DataFrame:
        """Every kept tie of every run (a sweep with ``ties:``): ``run_index``, ``step``, ``a``,
        ``b``, ``level`` (docs/DATA.md); read when first used."""
        return load_sweep_ties(self.directory)

    @property
    def warnings(self) -> list[str]:
        return list(self._tables.warnings)

    @property
    def design(self) -> pd.DataFrame:
        """One row per cell, one column per swept path."""
        d = self.manifest["design"]
        df = pd.DataFrame(d["cells"], columns=d["columns"])
        df.index.name = "cell"
        return df

    def shares(
        self,
        status: str = "allied_stronger",
        states: Sequence[str] | None = None,
        confidence: float = 0.95,
    ) -> pd.DataFrame:
        """Per cell and state: runs ``n``, ``k`` of them ending in ``status`` (a final status,
        or ``allied_stronger``), ``share`` with its Wilson interval ``lo``-``hi``."""
        return cell_shares(self.runs, self.manifest, status, states, confidence)

    def sensitivity(
        self,
        status: str = "allied_stronger",
        states: Sequence[str] | None = None,
        confidence: float = 0.95,
        resamples: int = 500,
    ) -> pd.DataFrame | None:
        """Sobol' (S1, ST) or Morris (mu*, sigma) indices of each state's share of ``status``
        over the design, with bootstrap intervals; None for grid and LHS designs."""
        shares = self.shares(status, states, confidence)
        return sensitivity(shares, self.manifest, confidence, resamples)

    def analysis(
        self,
        status: str = "allied_stronger",
        states: Sequence[str] | None = None,
        confidence: float = 0.95,
        resamples: int = 500,
    ) -> Analysis:
        """Shares and (Sobol', Morris) indices, reading only the columns they need."""
        return analyze(self.directory, status, states, confidence, resamples)

    def summary(self, status: str = "allied_stronger", max_rows: int = 60) -> str:
        """The report ``hedgesim analyze`` prints."""
        return format_report(self.analysis(status), max_rows=max_rows)

    @property
    def plot(self) -> SweepPlots:
        """Figures: ``phase(x, y, state)``, ``sensitivity(state)``."""
        return SweepPlots(self)

    def export(self, fmt: str = "csv", out: str | Path | None = None) -> list[Path]:
        """Write the runs (and steps) as single files ``runs.<fmt>`` / ``steps.<fmt>``."""
        return export_sweep(self.directory, fmt, out)

    @classmethod
    def load(cls, directory: str | Path) -> SweepResult:
        """A sweep directory, finished or not; every part is checked when the tables are read."""
        read_manifest(directory)  # a damaged manifest is refused at once
        return cls(Path(directory))


@dataclass(frozen=True)
class SweepPlots:
    """``SweepResult.plot``: the figures of sim.plots drawn from a sweep's tables."""

    result: SweepResult

    def phase(self, x: str, y: str, state: str, **kw: Any) -> Any:
        """The state's share over two swept parameters (sim.plots.plot_phase)."""
        from sim.plots import plot_phase

        return plot_phase(self.result.runs, x, y, state=state, **kw)

    def sensitivity(self, state: str, status: str = "allied_stronger", **kw: Any) -> Any:
        """The state's Sobol' or Morris indices as bars (sim.plots.plot_sensitivity)."""
        from sim.plots import plot_sensitivity

        return plot_sensitivity(self.result.sensitivity(status, [state]), state=state, **kw)


def analyze(
    directory: str | Path,
    status: str = "non_aligned",
    states: Sequence[str] | None = None,
    confidence: float = 0.95,
    resamples: int = 500,
) -> Analysis:
    """Load a sweep directory and compute per-cell shares and, where the design allows,
    sensitivity indices (loading only the columns needed)."""
    check_status(status)
    if not 0 < confidence < 1:
        raise InputError.single("--confidence", f"must be between 0 and 1, got {confidence}")
    manifest = read_manifest(directory)
    data = load_sweep(directory, columns=outcome_columns(manifest, states, status))
    shares = cell_shares(data.runs, manifest, status, states, confidence)
    sens = None
    if manifest["design"]["sampler"] in SENSITIVITY_SAMPLERS:
        sens = sensitivity(shares, manifest, confidence, resamples)
    return Analysis(manifest, shares, sens, len(data.runs), list(data.warnings))


def export_sweep(
    directory: str | Path,
    fmt: str = "csv",
    out: str | Path | None = None,
    warn: Any = lambda w: None,
) -> list[Path]:
    """Write the runs (and steps) tables as single files ``runs.<fmt>`` / ``steps.<fmt>``.

    Into the sweep's directory by default (recorded in its manifest), or into ``out``; a file of
    that name which hedgesim did not write is never replaced.
    """
    if fmt not in FORMATS:
        raise InputError.single("--format", f"unknown format {fmt!r}")
    data = load_sweep(directory)
    for w in data.warnings:
        warn(w)
    dest = Path(out) if out is not None else Path(directory)
    frames = [(n, df) for n, df in (("runs", data.runs), ("steps", data.steps)) if df is not None]
    written = []
    with claim(dest, [f"{name}.{fmt}" for name, _ in frames], "export"):
        for name, df in frames:
            table = pa.Table.from_pandas(df, preserve_index=False)
            written.append(write_table(dest / name, table, fmt))
    return written
