"""Replications of one scenario advanced in lock-step: the same dynamics, K runs per call.

Why: a run of a small world (the Iran scenario has 13 states) costs some 150 numpy calls per step
on 13×13 arrays, so its time is call overhead, not arithmetic. ``hedgesim run``, sweeps and the
pattern suite need many replications of the same scenario; stacking them along a leading axis
makes each call do the work of K runs for little more than the price of one.

Nothing here decides anything. ``LockstepModel`` is :class:`sim.model.dynamics.Dynamics` with
the arrays a run changes (ties, learned and historical distrust, treaty membership) given a
leading replication axis (none in a batch of one), each replication drawing its choices from its
own decision stream (sim.model.seeds), and a compact recorder instead of agents. Replication k of
a batch is therefore bit-for-bit the run ``AlignmentModel(scenario, rng=seeds[k])`` —
tests/test_lockstep.py checks it over scenarios, switches and random worlds.
:func:`simulate_many` is the entry point: it cuts the seeds into batches of ``batch_size(N)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager

import numpy as np

from sim.errors import SimulationError
from sim.model.dynamics import Dynamics
from sim.model.recording import Recorder, RunRecord
from sim.model.seeds import decision_stream, mesa_seed
from sim.model.world import World
from sim.scenario.schema import Mechanisms, Params, Scenario

MAX_BATCH_CELLS = 2**15
"""Cap on K × N × N, above which a batch is split. A step's ~20 arrays of K × N × N floats should
stay in the CPU's cache: the gain shrinks as batches grow past a few tens of thousands of cells
and turns into a loss (measured per run against runs alone: 50 states, 13 per batch 1.4× faster,
64 per batch 0.94×; 100 states, 3 per batch 1.1×, 8 per batch 0.99×). So a 13-state world runs
up to 193 replications per batch, 50 states 13, 100 states 3, and from 129 states on every run
goes alone."""


class LockstepModel(Dynamics):
    """K replications of one world, one seed each, stepped together (no agents)."""

    def __init__(
        self,
        world: World,
        mechanisms: Mechanisms,
        params: Params,
        *,
        seeds: Sequence[np.random.SeedSequence],
        record_every: int | None = None,
    ) -> None:
        if not seeds:
            raise ValueError("a lock-step batch needs at least one seed")
        self.replications = len(seeds)
        self._batched = len(seeds) > 1  # a batch of one keeps plain (N, N) arrays
        self._streams = [decision_stream(s) for s in seeds]
        self.decisions = self._streams[0]
        self._draws = np.empty((len(seeds), world.n, world.n))
        super().__init__(
            world,
            mechanisms,
            params,
            seeds=seeds,
            record_every=record_every,
            rng=mesa_seed(seeds[0]),
        )
        self.recorder = Recorder(self, self.every)
        self.record()

    def _own(self, a: np.ndarray) -> np.ndarray:
        if not self._batched:
            return a.copy()
        return np.repeat(a[None], self.replications, axis=0)

    def _uniforms(self) -> np.ndarray:
        if not self._batched:
            return super()._uniforms()
        for stream, out in zip(self._streams, self._draws, strict=True):
            stream.random(out=out)
        return self._draws

    def _treaty_uniforms(self) -> np.ndarray:
        if not self._batched:
            return super()._treaty_uniforms()
        draws = np.empty((self.replications, len(self.world.treaties), self.world.n))
        for stream, out in zip(self._streams, draws, strict=True):
            stream.random(out=out)
        return draws

    def record(self) -> None:
        super().record()
        self.recorder.collect(self)

    def records(self) -> list[RunRecord]:
        """One record per replication, in the order of the seeds."""
        return self.recorder.records(self)


_BLAS: list = []  # the process's threadpoolctl controller, made on first use


def one_blas_thread() -> AbstractContextManager:
    """numpy's BLAS limited to one thread while the block runs.

    Why: the products of a run are small (N <= a few hundred), and BLAS threads cost more to
    start and join than they save (the 194-state world, 300 steps: 196 steps/s with OpenBLAS's
    two threads on 2 cores, 251 with one; benchmarks/bench_world.py). Results do not depend on
    it: OpenBLAS splits a product between threads by blocks of its result, not of its sums
    (benchmarks/check_results.py is identical either way).
    """
    if not _BLAS:
        from threadpoolctl import ThreadpoolController

        _BLAS.append(ThreadpoolController())
    return _BLAS[0].limit(limits=1, user_api="blas")


def batch_size(n_states: int) -> int:
    """Largest number of replications of an ``n_states`` world run in one batch."""
    return max(1, MAX_BATCH_CELLS // (n_states * n_states))


def simulate_many(
    world: World,
    scenario: Scenario,
    seeds: Sequence[np.random.SeedSequence],
    steps: int | None = None,
    record_every: int | None = None,
) -> list[RunRecord]:
    """Replications of one scenario, one per seed, in order, in lock-step batches of
    ``batch_size(N)`` (several times faster per run in small worlds); each record equals the
    replication run alone.

    Args:
        world: the scenario compiled (``sim.model.world.compile_world``).
        scenario: the scenario (its mechanisms and params).
        seeds: one SeedSequence per replication (``sim.model.seeds.replication_seed``).
        steps: steps to run (default: the scenario's ``params.steps``).
        record_every: record every K steps (default: the scenario's); the last step always.

    Returns:
        One RunRecord per seed. A SimulationError names the failed seed's position in ``seeds``.
    """
    steps = scenario.params.steps if steps is None else steps
    size = batch_size(world.n)
    out: list[RunRecord] = []
    with one_blas_thread():
        for start in range(0, len(seeds), size):
            out += _batch(world, scenario, seeds, start, size, steps, record_every)
    return out


def _batch(
    world: World,
    scenario: Scenario,
    seeds: Sequence[np.random.SeedSequence],
    start: int,
    size: int,
    steps: int,
    record_every: int | None,
) -> list[RunRecord]:
    """The records of ``seeds[start : start + size]``, run in one lock-step batch."""
    batch = seeds[start : start + size]
    try:
        model = LockstepModel(
            world, scenario.mechanisms, scenario.params, seeds=batch, record_every=record_every
        )
        model.finish(steps)
    except SimulationError as exc:  # name the failed seed's position among all ``seeds``
        exc.replication = start + (exc.replication or 0)
        raise
    return model.records()
