"""The Mesa model: owns the world (ties, dyadic data, sanctions, events) and advances it.

Scheduling (docs/ODD.md, "Process overview"): each step, scheduled events apply; every state then
chooses simultaneously, for every partner, the tie level it wants (sim.decision); a tie takes the
lower of the two wishes (consent); experience updates distrust; outcomes are recorded. Simultaneous
choice is deliberate: no state gets a first-mover advantage from the activation order, and the
step is one vectorized computation.
"""

from __future__ import annotations

from collections.abc import Sequence

import mesa
import numpy as np

from sim.agents import State
from sim.decision import TAU, DecisionRule, Dyadic, consent
from sim.metrics import status
from sim.recording import Recorder
from sim.schema import Mechanisms, Params
from sim.world import Regime, World


class SimulationError(RuntimeError):
    """A step produced a value that is not a finite number (names the step and the pair)."""


class AlignmentModel(mesa.Model):
    """States forming friendships and alliances by mutual consent under pressure and distrust."""

    def __init__(
        self,
        world: World,
        mechanisms: Mechanisms,
        params: Params,
        *,
        rng: np.random.SeedSequence | int | None = None,
        record_every: int | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.world = world
        self.params = params
        self.mechanisms = mechanisms
        d = world.dyads
        self.dyadic = Dyadic(**{k: v.copy() for k, v in d.items()})
        self.history = d["distrust"].copy()  # historical distrust; memory * history is the floor
        self._floor_version = -1
        self.ties = world.ties.copy()
        self.rule = DecisionRule(world, mechanisms, params)
        self._version = 0  # bumped whenever dyadic data changes, to refresh static terms
        self._reverts: dict[int, list[tuple[str, np.ndarray, np.ndarray, np.ndarray]]] = {}
        self.rival = self.dyadic.rivalry >= params.rival_threshold
        for i in range(world.n):
            State(self, i)
        self.states: list[State] = sorted(self.agents, key=lambda a: a.index)
        self._apply_events(0)
        self.previous = self.ties
        self.turnover = 0
        self.recorder = Recorder(self, record_every or params.record_every)
        self.recorder.collect(self)

    # -- environment -------------------------------------------------------------------------
    def _apply_events(self, t: int) -> None:
        for field, rows, cols, old in self._reverts.pop(t, []):
            arr = getattr(self.dyadic, field).copy()
            arr[rows, cols] = old
            setattr(self.dyadic, field, arr)
            if field == "rivalry":
                self.rival = arr >= self.params.rival_threshold
            self._version += 1
        for ch in self.world.changes:
            if ch.step != t:
                continue
            # copy on write: recorded steps keep references to the arrays in force then
            arr = getattr(self.dyadic, ch.field).copy()
            setattr(self.dyadic, ch.field, arr)
            old = arr[ch.rows, ch.cols].copy()
            lo, hi = (-1.0, 1.0) if ch.field in ("interests", "affinity") else (0.0, 1.0)
            new = ch.values if ch.mode == "set" else old + ch.values
            arr[ch.rows, ch.cols] = np.clip(new, lo, hi)
            if ch.field == "distrust":  # a betrayal becomes part of the historical record
                self.history[ch.rows, ch.cols] = arr[ch.rows, ch.cols]
            if ch.until is not None:
                self._reverts.setdefault(ch.until, []).append((ch.field, ch.rows, ch.cols, old))
            self._version += 1
            if ch.field == "rivalry":
                self.rival = self.dyadic.rivalry >= self.params.rival_threshold

    def active_regimes(self, t: int) -> Sequence[Regime]:
        """Sanctions regimes in force at step ``t``."""
        return [r for r in self.world.regimes if r.active(t)]

    # -- one step ----------------------------------------------------------------------------
    def step(self) -> None:
        t = self.steps
        self._apply_events(t)
        self.rule.refresh_static(self.dyadic, self._version)
        F, A = self.rule.relative_utilities(self.ties, self.dyadic, self.active_regimes(t))
        if not np.isfinite(F.sum() + A.sum()):  # one cheap check; find the pair only on failure
            bad = np.argwhere(~(np.isfinite(F) & np.isfinite(A)))[0]
            ids = self.world.ids
            raise SimulationError(
                f"step {t}: utility of {ids[bad[0]]} for a tie with {ids[bad[1]]} is not finite"
            )
        desired = self.rule.choose(F, A, self.rng)
        self.previous = self.ties
        self.ties = consent(desired)
        if self.mechanisms.historical_distrust.enabled:
            self._learn(self.previous, desired)
        if t % self.recorder.every == 0:
            self.record()

    @property
    def statuses(self) -> np.ndarray:
        """Current alignment status code of every state (see sim.metrics.STATUSES)."""
        return status(self.ties, self.rival)

    def record(self) -> None:
        """Store the current step for measurement (the runner also calls it after the last step)."""
        self.turnover = int((self.ties != self.previous).sum()) // 2
        self.recorder.collect(self)

    def _learn(self, previous: np.ndarray, desired: np.ndarray) -> None:
        """Betrayals raise distrust; ties kept slowly lower it toward the historical floor.

        i is betrayed by j when j broke their alliance although i wanted to keep it (a friendship
        promises nothing, so dropping one betrays no one): ``D[i, j] += betrayal_learning``.
        While a tie is kept, ``D[i, j] -= trust_learning * tau(level) * (D[i, j] - memory *
        D_hist[i, j])``: kept promises slowly erase learned distrust, never the historical core.
        """
        m = self.mechanisms.historical_distrust
        D = self.dyadic.distrust
        broken = (previous == 2) & (self.ties < 2)
        if broken.any():
            cut = broken & (desired == 2) & (desired.T < 2)
            D[cut] = np.minimum(1.0, D[cut] + m.betrayal_learning)
        if self._floor_version != self._version:  # the floor moves only with distrust events
            self._floor = m.memory * self.history
            self._trust_rate = m.trust_learning * TAU
            self._floor_version = self._version
        excess = D - self._floor
        np.maximum(excess, 0.0, out=excess)
        excess *= self._trust_rate[np.minimum(self.ties, previous)]
        D -= excess
