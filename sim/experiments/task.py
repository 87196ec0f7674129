"""The one unit of work the engine hands to a worker, and the worker's side of it.

A run is an experiment of one cell per condition (the scenario with those factors switched off);
a sweep is an experiment of many cells. Either way the work is runs of cells: a :class:`Task` holds
the validated scenarios of its cells (sent as objects, never dumped to text and validated again)
and, per cell, the run indices and their seeds. A worker compiles each scenario once per process
(cached by scenario hash), runs the cell's runs in lock-step batches (sim.model.lockstep) and
returns their records, or, when the task says how, packs them into the bytes of a result file
itself (sweeps: in parallel, so the coordinating process only writes).
"""

from __future__ import annotations

import multiprocessing
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sim._version import __version__
from sim.errors import RunFailed
from sim.model.lockstep import simulate_many
from sim.model.recording import RunRecord
from sim.model.seeds import replication_seed
from sim.model.world import World, compile_world
from sim.scenario.schema import Scenario

CACHE_SIZE = 32
"""Compiled worlds kept per worker process: a sweep's cells, a run's conditions."""


@dataclass(frozen=True)
class Cell:
    """One scenario to run: the validated object and its hash (the worker's cache key)."""

    key: str
    scenario: Scenario
    label: str  # how a failure names it: "condition -security", "cell 3: a=0.1"


@dataclass(frozen=True)
class Group:
    """Runs of one cell in a task, each with the spawn key of its seed."""

    cell: int  # position in Task.cells
    runs: tuple[int, ...]  # run indices in the experiment, ascending
    seeds: tuple[int, ...]  # spawn keys under the root seed (sim.model.seeds)


@dataclass(frozen=True)
class Done:
    """A finished run."""

    run: int
    seed: int  # spawn key
    group: Group
    record: RunRecord


@dataclass(frozen=True)
class Task:
    """Runs of one or more cells, self-contained so any executor on any machine can run it.

    ``pack`` turns the finished runs into what the task returns (None: the runs themselves); it
    runs in the worker.
    """

    cells: tuple[Cell, ...]
    groups: tuple[Group, ...]
    root: int  # root seed
    replications: int  # runs per cell (names a failed run's replication: run % replications)
    steps: int | None = None  # None: each scenario's params.steps
    record_every: int | None = None  # None: each scenario's params.record_every
    pack: Callable[[Task, list[Done]], Any] | None = None
    version: str = __version__


@dataclass
class Packed:
    """What a task that packs returns: its result and the time it took (for reports)."""

    value: Any
    runs: int
    seconds: float


_WORLDS: OrderedDict[str, World] = OrderedDict()


def world_of(cell: Cell) -> World:
    """The cell's scenario compiled, once per process (kept by scenario hash)."""
    hit = _WORLDS.get(cell.key)
    if hit is not None:
        _WORLDS.move_to_end(cell.key)
        return hit
    world = _WORLDS[cell.key] = compile_world(cell.scenario)
    if len(_WORLDS) > CACHE_SIZE:
        _WORLDS.popitem(last=False)
    return world


def run_task(task: Task) -> list[Done] | Packed:
    """Worker entry point: run every group of the task in lock-step and return the runs (or
    what ``task.pack`` makes of them). A failed run raises RunFailed naming it."""
    if multiprocessing.parent_process() is not None:  # a worker (Dask's too): not the caller
        from sim.experiments.lifeline import one_blas_thread

        one_blas_thread()
    if task.version != __version__:
        raise RunFailed(
            f"worker runs hedgesim {__version__}, the experiment was planned with {task.version}"
        )
    t0 = time.perf_counter()
    done: list[Done] = []
    for g in task.groups:
        cell = task.cells[g.cell]
        seeds = [replication_seed(task.root, k) for k in g.seeds]
        try:
            records = simulate_many(
                world_of(cell), cell.scenario, seeds, task.steps, task.record_every
            )
        except Exception as exc:
            raise failure(exc, g.runs, task.replications, cell.label) from None
        done += [Done(r, k, g, rec) for r, k, rec in zip(g.runs, g.seeds, records, strict=True)]
    if task.pack is None:
        return done
    return Packed(task.pack(task, done), len(done), time.perf_counter() - t0)


def failure(exc: Exception, runs: Sequence[int], replications: int, label: str) -> RunFailed:
    """Name the failed run (the batch knows which when the model says so), its cell and cause."""
    at = getattr(exc, "replication", None)
    bad = list(runs) if at is None else [runs[at]]
    first, last = bad[0], bad[-1]
    if first == last:
        which = f"run {first} ({label}; replication {first % replications})"
    else:
        which = (
            f"one of runs {first}–{last} ({label}; replications "
            f"{first % replications}–{last % replications})"
        )
    return RunFailed(f"{which} failed: {type(exc).__name__}: {exc}")
