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
from sim.world import World


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
        self.history = d["distrust"].copy()  # historical distrust, the floor of learning
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
        self.statuses = status(self.ties, self.rival)
        self.recorder = Recorder(self, record_every or params.record_every)
        self.recorder.collect(self)

    # -- environment -------------------------------------------------------------------------
    def _apply_events(self, t: int) -> None:
        for field, rows, cols, old in self._reverts.pop(t, []):
            getattr(self.dyadic, field)[rows, cols] = old
            self._version += 1
        for ch in self.world.changes:
            if ch.step != t:
                continue
            arr = getattr(self.dyadic, ch.field)
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

    def active_regimes(self, t: int) -> Sequence:
        return [r for r in self.world.regimes if r.active(t)]

    # -- one step ----------------------------------------------------------------------------
    def step(self) -> None:
        t = self.steps
        self._apply_events(t)
        self.rule.refresh_static(self.dyadic, self._version)
        U = self.rule.utilities(self.ties, self.dyadic, self.active_regimes(t))
        if not np.isfinite(U).all():
            lvl, i, j = np.argwhere(~np.isfinite(U))[0]
            ids = self.world.ids
            raise SimulationError(
                f"step {t}: utility of level {lvl} for {ids[i]} with {ids[j]} is not finite"
            )
        desired = self.rule.choose(U, self.rng)
        self.previous = self.ties
        self.ties = consent(desired)
        if self.mechanisms.historical_distrust.enabled:
            self._learn(self.previous, desired)
        if t % self.recorder.every == 0:
            self.record()

    def record(self) -> None:
        """Measure and store the current step (the runner also calls it after the last step)."""
        self.statuses = status(self.ties, self.rival)
        self.recorder.collect(self)

    def _learn(self, previous: np.ndarray, desired: np.ndarray) -> None:
        """Betrayals raise distrust; ties kept slowly lower it toward the historical floor."""
        m = self.mechanisms.historical_distrust
        D = self.dyadic.distrust
        cut = (self.ties < previous) & (desired >= previous) & (previous > desired.T)
        if cut.any():
            loss = (previous - self.ties) / 2.0
            D[cut] = np.minimum(1.0, D[cut] + m.betrayal_learning * loss[cut])
        kept = (self.ties > 0) & (previous > 0)
        floor = m.memory * self.history
        D -= kept * (m.trust_learning * TAU[self.ties]) * np.maximum(D - floor, 0.0)
