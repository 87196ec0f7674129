"""Running replications: seeds, conditions (baseline and counterfactuals), local parallelism.

Reproducibility rule: replication ``r`` of a scenario with root seed ``S`` always uses
``SeedSequence(S, spawn_key=(r,))`` — the r-th child of ``SeedSequence(S).spawn(...)`` — whatever
the number of workers or the chunking, and every condition reuses the same seeds (common random
numbers), so a counterfactual differs from the baseline by the factor switched off, not by luck.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from sim.experiments.lifeline import POOL_PARENT, worker_init
from sim.model.lockstep import LockstepModel, batch_size
from sim.model.model import AlignmentModel, SimulationError
from sim.model.recording import RunRecord
from sim.model.world import World, compile_world
from sim.scenario.load import ablate
from sim.scenario.schema import Scenario


def seed_for(root: int, index: int) -> np.random.SeedSequence:
    """The seed of run ``index``: identical to ``SeedSequence(root).spawn(n)[index]``."""
    return np.random.SeedSequence(root, spawn_key=(index,))


def seed_value(seq: np.random.SeedSequence) -> int:
    """A 63-bit integer fingerprint of a run's random stream (recorded with every result)."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def simulate(
    world: World,
    scenario: Scenario,
    seed: np.random.SeedSequence,
    steps: int | None = None,
    record_every: int | None = None,
) -> RunRecord:
    """One replication: build the model, run it, return its record."""
    steps = scenario.params.steps if steps is None else steps
    model = AlignmentModel(
        world, scenario.mechanisms, scenario.params, rng=seed, record_every=record_every
    )
    model.run_for(steps)
    if model.recorder.steps[-1] != model.steps:
        model.record()
    return model.recorder.record(model)


def simulate_many(
    world: World,
    scenario: Scenario,
    seeds: Sequence[np.random.SeedSequence],
    steps: int | None = None,
    record_every: int | None = None,
) -> list[RunRecord]:
    """Replications of one scenario, one per seed, in order; each equals ``simulate`` alone.

    Seeds are run in lock-step batches of ``sim.model.lockstep.batch_size(N)`` (several times faster per
    run in small worlds); a batch of one is the plain model.
    """
    steps = scenario.params.steps if steps is None else steps
    size = batch_size(world.n)
    out: list[RunRecord] = []
    for start in range(0, len(seeds), size):
        batch = seeds[start : start + size]
        try:
            if len(batch) == 1:
                out.append(simulate(world, scenario, batch[0], steps, record_every))
                continue
            model = LockstepModel(
                world, scenario.mechanisms, scenario.params, seeds=batch, record_every=record_every
            )
            model.run_for(steps)
            if model.recorder.steps[-1] != model.steps:
                model.record()
            out += model.recorder.records(model)
        except SimulationError as exc:  # name the failed seed's position among all ``seeds``
            exc.replication = start + (exc.replication or 0)
            raise
    return out


@dataclass(frozen=True)
class Condition:
    """The baseline or a counterfactual: a label and the mechanisms it switches off."""

    label: str
    factors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Task:
    """A chunk of replications of one condition, small enough to pickle cheaply."""

    scenario_json: str
    condition: Condition
    indices: tuple[int, ...]
    steps: int
    record_every: int


@lru_cache(maxsize=8)
def _prepared(scenario_json: str, factors: tuple[str, ...]) -> tuple[World, Scenario]:
    sc = ablate(Scenario.model_validate_json(scenario_json), factors)
    return compile_world(sc), sc


def run_task(task: Task) -> list[tuple[str, int, RunRecord]]:
    """Worker entry point: run a chunk in lock-step (the world is compiled once per process)."""
    world, sc = _prepared(task.scenario_json, task.condition.factors)
    seeds = [seed_for(sc.seed, i) for i in task.indices]
    records = simulate_many(world, sc, seeds, task.steps, task.record_every)
    return [(task.condition.label, i, rec) for i, rec in zip(task.indices, records, strict=True)]


def chunks(n: int, size: int) -> Iterator[tuple[int, ...]]:
    for start in range(0, n, size):
        yield tuple(range(start, min(n, start + size)))


def process_pool(
    workers: int, initializer: Callable[[], None] | None = None
) -> ProcessPoolExecutor:
    """A process pool: fork when the parent is single-threaded, forkserver otherwise.

    Fork is fastest and works from any script or notebook, but can deadlock once the parent runs
    threads (pyarrow, dask); then forkserver forks workers from a clean server process that has
    imported the model once (scripts need the usual ``if __name__ == "__main__"`` guard then).
    """
    method = "fork" if threading.active_count() == 1 and hasattr(os, "fork") else "forkserver"
    ctx = mp.get_context(method)
    if method == "forkserver":
        os.environ[POOL_PARENT] = str(
            os.getpid()
        )  # the server dies with us (sim.experiments.lifeline)
        ctx.set_forkserver_preload(["sim.experiments.lifeline", "sim.experiments.runner"])
    # every worker dies with this process and leaves Ctrl-C to it (sim.experiments.lifeline)
    init = functools.partial(worker_init, os.getpid(), method == "fork", True, initializer)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init)


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def run_conditions(
    scenario: Scenario,
    conditions: Sequence[Condition],
    *,
    replications: int,
    steps: int,
    record_every: int = 1,
    workers: int = 1,
    chunk: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, list[RunRecord]]:
    """Run every condition's replications; results ordered by replication, whatever the workers."""
    blob = scenario.model_dump_json()
    if chunk is None:
        chunk = max(1, min(25, replications // max(1, 4 * workers) or 1))
    tasks = [
        Task(blob, c, idx, steps, record_every)
        for c in conditions
        for idx in chunks(replications, chunk)
    ]
    out: dict[str, list[RunRecord | None]] = {c.label: [None] * replications for c in conditions}

    def take(results: list[tuple[str, int, RunRecord]]) -> None:
        for label, i, rec in results:
            out[label][i] = rec
        if progress:
            progress(len(results))

    if executor is None and workers <= 1:
        for t in tasks:
            take(run_task(t))
    else:
        own = executor is None
        ex = executor or process_pool(workers)
        try:
            for res in ex.map(run_task, tasks):
                take(res)
        finally:
            if own:
                ex.shutdown(cancel_futures=True)
    return {k: [r for r in v if r is not None] for k, v in out.items()}
