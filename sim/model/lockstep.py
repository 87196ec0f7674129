"""Replications of one scenario advanced in lock-step: the same model code, K runs per call.

Why: a run of a small world (the Iran scenario has 13 states) costs ~75 numpy calls per step on
13×13 arrays, so its time is call overhead, not arithmetic. Sweeps and ``hedgesim run`` need many
replications of the same resolved scenario; stacking them along a leading axis makes each call
do the work of K runs for little more than the price of one.

Nothing here decides anything. ``LockstepModel`` *is* ``AlignmentModel`` (sim.model.model) with three
differences: the arrays a run changes (ties, learned and historical distrust, treaty membership)
get a leading replication axis, each replication draws its choices from its own stream — the one
it would have alone (``decision_stream``) — and there are no per-state agents (an agent views one
world).
Events, sanctions and every formula of sim.model.decision are shared code, written to broadcast over
that axis. Replication k of a batch is therefore bit-for-bit the run ``simulate(world, scenario,
seeds[k])`` — tests/test_lockstep.py checks it over scenarios, switches and random worlds.
``sim.experiments.runner.simulate_many`` is the entry point: it cuts the seeds into batches of
``batch_size(N)`` and runs a batch of one as the plain model.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.model.agents import State
from sim.model.model import AlignmentModel, decision_stream
from sim.model.world import World
from sim.scenario.schema import Mechanisms, Params

MAX_BATCH_CELLS = 2**15
"""Cap on K × N × N, above which a batch is split. A step's ~20 arrays of K × N × N floats should
stay in the CPU's cache: the gain shrinks as batches grow past a few tens of thousands of cells
and turns into a loss (measured per run against runs alone: 50 states, 13 per batch 1.4× faster,
64 per batch 0.94×; 100 states, 3 per batch 1.1×, 8 per batch 0.99×). So a 13-state world runs
up to 193 replications per batch, 50 states 13, 100 states 3, and from 129 states on every run
goes alone."""


class LockstepModel(AlignmentModel):
    """K replications of one world, one seed each, stepped together."""

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
        self._streams = [decision_stream(s) for s in seeds]
        self._draws = np.empty((len(seeds), world.n, world.n))
        super().__init__(world, mechanisms, params, rng=seeds[0], record_every=record_every)
        self.seeds = list(seeds)

    def _own(self, a: np.ndarray) -> np.ndarray:
        return np.repeat(a[None], self.replications, axis=0)

    def _make_agents(self) -> list[State]:
        return []

    def _uniforms(self) -> np.ndarray:
        for stream, out in zip(self._streams, self._draws, strict=True):
            stream.random(out=out)
        return self._draws

    def _treaty_uniforms(self) -> np.ndarray:
        draws = np.empty((self.replications, len(self.world.treaties), self.world.n))
        for stream, out in zip(self._streams, draws, strict=True):
            stream.random(out=out)
        return draws


def batch_size(n_states: int) -> int:
    """Largest number of replications of an ``n_states`` world run in one batch."""
    return max(1, MAX_BATCH_CELLS // (n_states * n_states))
