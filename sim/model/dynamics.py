"""The dynamics of the world: events, treaties, choices, consent, learning — one step at a time.

Scheduling (docs/ODD.md, "Process overview"): each step, scheduled events apply and treaties enter
into force or end; every state then chooses simultaneously, for every partner, the tie level it
wants (sim.model.decision); a tie takes the lower of the two wishes (consent); each treaty member
chooses to stay or leave and outsiders may join with every member's consent; experience updates
distrust; the step is recorded. Simultaneous choice is deliberate: no state gets a first-mover
advantage from the activation order, and the step is one vectorized computation.

The code is written for arrays with optional leading axes (``...`` indexing) so that one class
advances either one replication ((N, N) arrays: :class:`sim.model.model.AlignmentModel`, the Mesa
model with its State agents) or K replications of one scenario in lock-step ((K, N, N):
:class:`sim.model.lockstep.LockstepModel`, what the engine runs). What is recorded, and how, is
theirs: this class calls :meth:`Dynamics.record` at each recorded step.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import mesa
import numpy as np

from sim.errors import SimulationError
from sim.model.decision import Attributes, DecisionRule, Dyadic, consent, read_only
from sim.model.metrics import status
from sim.model.ties import TIE_WEIGHT
from sim.model.world import Regime, World
from sim.scenario.calendar import year_end_steps
from sim.scenario.schema import FIELD_RANGES, Mechanisms, Params


class _Refusals:
    """``refused[..., t, i]``: some member j of treaty t does not want an alliance with i this
    step — computed when first needed (most steps no outsider could join)."""

    def __init__(self, members: np.ndarray, desired: np.ndarray) -> None:
        self.members, self.desired = members, desired
        self._refused: np.ndarray | None = None

    def get(self) -> np.ndarray:
        if self._refused is None:
            m = self.members.astype(np.float32)
            self._refused = np.matmul(m, (self.desired != 2).astype(np.float32)) > 0
        return self._refused


@dataclass(frozen=True)
class _Membership:
    """What follows from one treaty membership array and the treaties in force, computed when
    either changes (the array is replaced whenever membership changes, never edited) and read
    by every step in between: most steps change no membership."""

    members: np.ndarray  # (..., T, N)
    in_force: int  # the version of the treaties in force it was made for
    fellows: np.ndarray  # (..., N, N) members of one treaty (diagonal: states in some treaty)
    held: np.ndarray  # the same without the diagonal: pairs whose alliance a treaty holds
    allied: np.ndarray  # (..., N, N) intp: 2 on held pairs, else 0 (ties ≤ 2: a maximum sets them)
    whole: bool  # no treaty has a single member (which dissolves)
    could_join: np.ndarray  # (..., T, N) outsiders of open treaties in force

    @classmethod
    def of(cls, members: np.ndarray, in_force: int, open_now: np.ndarray) -> _Membership:
        m = members.astype(np.float32)
        fellows = np.matmul(m.swapaxes(-1, -2), m) > 0
        held = fellows.copy()
        n = held.shape[-1]
        held[..., np.arange(n), np.arange(n)] = False
        allied = held * np.intp(2)
        for a in (fellows, held, allied):
            a.flags.writeable = False
        whole = bool((members.sum(axis=-1) != 1).all())
        return cls(members, in_force, fellows, held, allied, whole, ~members & open_now)


class Dynamics(mesa.Model):
    """States forming friendships and alliances by mutual consent under pressure and distrust.

    The base of the two models: it owns the world's arrays and advances them; subclasses decide
    what a replication is (one, or K in lock-step) and what is recorded.
    """

    decisions: np.random.Generator  # one replication's decision stream (sim.model.seeds)

    def __init__(
        self,
        world: World,
        mechanisms: Mechanisms,
        params: Params,
        *,
        seeds: Sequence[np.random.SeedSequence],
        record_every: int | None = None,
        **mesa_kwargs: object,
    ) -> None:
        super().__init__(**mesa_kwargs)
        self.seeds = list(seeds)  # the seed of each replication this model runs (provenance)
        self.world = world
        self.params = params
        self.mechanisms = mechanisms
        d = world.dyads
        # distrust is learned, so it is each replication's own; other dyadic data change only
        # by events, the same in every replication
        own = {k: self._own(v) if k == "distrust" else v.copy() for k, v in d.items()}
        self.dyadic = Dyadic(**own)
        # power and preferences change only by events, the same in every replication
        self.attrs = Attributes(
            power=world.power.copy(), prefs={k: v.copy() for k, v in world.prefs.items()}
        )
        self.history = self._own(d["distrust"])  # historical distrust; memory * it is the floor
        self._floor_version = -1
        self._rate_of: tuple[object, ...] = (None, None, None)  # see _learn
        # intp, not int8: ties index small lookup tables every step, and numpy's fancy indexing
        # is several times faster with native-width indices
        self.ties = read_only(self._own(world.ties.astype(np.intp)))
        self.rule = DecisionRule(world, mechanisms, params, self.ties.ndim - 2)
        self._version = 0  # bumped whenever data changes (events), to refresh static terms
        self._diag = np.arange(world.n)
        self._reverts: dict[int, list[tuple[object, np.ndarray]]] = {}
        self._changes_at: dict[int, list] = {}
        for ch in world.changes:
            self._changes_at.setdefault(ch.step, []).append(ch)
        self._regime_bounds = {r.start for r in world.regimes} | {
            r.end for r in world.regimes if r.end is not None
        }
        self._active: Sequence[Regime] | None = None
        self.rival = self.dyadic.rivalry >= params.rival_threshold
        # treaty membership: (..., T, N), each replication its own
        self.members = self._own(np.zeros((len(world.treaties), world.n), dtype=bool))
        self._joinable = np.array([[tr.open] for tr in world.treaties], dtype=bool).reshape(-1, 1)
        self._treaty_steps = {tr.start for tr in world.treaties} | {
            tr.end for tr in world.treaties if tr.end is not None
        }
        self._in_force = np.array([tr.in_force(0) for tr in world.treaties], dtype=bool)
        self._any_in_force = bool(self._in_force.any())
        self._in_force_version = 0
        self._membership_of: _Membership | None = None
        self._deciding: tuple[object, ...] = (None, None, None)  # see _deciding_ties
        self._apply_events(0)
        self.previous = self.ties
        self.every = record_every or params.record_every
        # year-end steps whose ties are all kept (scenarios with a calendar), always recorded
        self.history_steps = year_end_steps(world.start, world.step, params.steps)
        self._history = set(self.history_steps)
        self.recorded_step = -1  # the last step recorded

    # -- what differs between one replication and a lock-step batch ---------------------------
    def _own(self, a: np.ndarray) -> np.ndarray:
        """This model's own copy of an initial array it will change (one per replication)."""
        return a.copy()

    def _uniforms(self) -> np.ndarray:
        """One uniform draw per ordered pair for this step's choices, from the replication's
        decision stream (sim.model.seeds)."""
        return self.decisions.random((self.world.n, self.world.n))

    def _treaty_uniforms(self) -> np.ndarray:
        """One uniform draw per treaty and state (drawn after the pairs', only with treaties)."""
        return self.decisions.random((len(self.world.treaties), self.world.n))

    def record(self) -> None:
        """Store the current step (subclasses record what they need); called at step 0, every
        ``record_every`` steps, at the year ends of a calendar and by :meth:`finish`."""
        self.recorded_step = self.steps

    def finish(self, steps: int) -> Dynamics:
        """Run ``steps`` steps and record the last one (whatever ``record_every`` says): a run's
        outcome is always its final state."""
        self.run_for(steps)
        if self.recorded_step != self.steps:
            self.record()
        return self

    # -- environment -------------------------------------------------------------------------
    def _apply_events(self, t: int) -> None:
        """Apply the changes scheduled for step ``t``, revert those whose window ended, and let
        treaties enter into force or end.

        A revert takes back exactly the change the event made (what happened to the same cells
        in between, such as learned distrust, is kept); arrays are replaced, not edited, because
        recorded steps keep references to the arrays in force then.
        """
        for ch, delta in self._reverts.pop(t, []):
            self._change(ch, -delta)
        for ch in self._changes_at.get(t, ()):
            old = self._cells(ch)
            target = ch.values if ch.mode == "set" else old + ch.values
            applied = self._change(ch, target - old)
            if ch.until is not None:
                self._reverts.setdefault(ch.until, []).append((ch, applied))
        if t not in self._treaty_steps:
            return
        self._in_force = np.array([tr.in_force(t) for tr in self.world.treaties], dtype=bool)
        self._any_in_force = bool(self._in_force.any())
        self._in_force_version += 1
        for k, tr in enumerate(self.world.treaties):
            if t == tr.start:
                self.members = self.members.copy()  # replaced, not edited (_Membership)
                self.members[..., k, :] = False
                self.members[..., k, tr.members] = True
                self.ties = read_only(self._treaty_ties(self.ties))
            elif tr.end is not None and t == tr.end:
                # the treaty lapses: its alliances fall back to friendships, then are re-decided
                held = self._held()
                self.members = self.members.copy()
                self.members[..., k, :] = False
                lapsed = held & ~self._held()
                if lapsed.any():
                    self.ties = read_only(np.where(lapsed, 1, self.ties))

    def _cells(self, ch) -> np.ndarray:
        """Current values of the cells an event changes."""
        if ch.per_state:
            return self._state_array(ch.field)[ch.rows]
        return getattr(self.dyadic, ch.field)[..., ch.rows, ch.cols]

    def _state_array(self, field: str) -> np.ndarray:
        if field == "power":
            return self.attrs.power
        return self.attrs.prefs[field.removeprefix("preferences.")]

    def _change(self, ch, delta: np.ndarray) -> np.ndarray:
        """Add ``delta`` to the cells of an event's field (clipped to its range); return what
        changed."""
        lo, hi = FIELD_RANGES[ch.field]
        self._version += 1
        if ch.per_state:
            arr = self._state_array(ch.field).copy()
            old = arr[ch.rows]
            arr[ch.rows] = np.clip(old + delta, lo, hi)
            if ch.field == "power":
                self.attrs.power = arr
            else:
                self.attrs.prefs[ch.field.removeprefix("preferences.")] = arr
            return arr[ch.rows] - old
        field, rows, cols = ch.field, ch.rows, ch.cols
        arr = getattr(self.dyadic, field).copy()
        old = arr[..., rows, cols]
        arr[..., rows, cols] = np.clip(old + delta, lo, hi)
        setattr(self.dyadic, field, arr)
        applied = arr[..., rows, cols] - old
        if field == "distrust":  # a betrayal (or its settlement) is part of the historical record
            h = self.history
            h[..., rows, cols] = np.clip(h[..., rows, cols] + applied, 0.0, 1.0)
        if field == "rivalry":
            self.rival = arr >= self.params.rival_threshold
        return applied

    def _membership(self) -> _Membership:
        """What follows from the current membership (see :class:`_Membership`)."""
        now = self._membership_of
        if now is None or now.members is not self.members or now.in_force != self._in_force_version:
            now = self._membership_of = _Membership.of(
                self.members, self._in_force_version, self._open_now()
            )
        return now

    def _held(self) -> np.ndarray:
        """(..., N, N) pairs whose alliance a treaty holds (fellow members of some treaty)."""
        return self._membership().held

    def _settled(self, ties: np.ndarray) -> np.ndarray:
        """The step's new tie matrix: ``ties``, made read-only (tie matrices are replaced, never
        edited), or, when no tie changed, the previous array itself — the same object, so that
        what depends on the ties alone is kept by identity (DecisionRule._for_ties, the choice's
        ties, learning's rates, the recorder's snapshot): ~88% of the steps of a 13-state run."""
        if (ties != self.previous).any():
            return read_only(ties)
        return self.previous

    def _deciding_ties(self) -> np.ndarray:
        """The ties as the choice weighs them: a pair whose alliance a treaty holds decides as
        friends would (leaving the treaty, not the pair, carries the exit cost). Kept while
        neither the ties nor the membership change."""
        if not self.world.treaties:
            return self.ties
        held = self._held()
        of_ties, of_held, value = self._deciding
        if of_ties is not self.ties or of_held is not held:
            value = np.where(held, 1, self.ties)
            if self.ties.ndim == 2:  # not in batches (see DecisionRule._for_ties)
                self._deciding = (self.ties, held, value)
        return value

    def _treaty_ties(self, ties: np.ndarray) -> np.ndarray:
        """``ties`` with every pair of fellow members of a treaty allied (treaties not in force
        have no members); the diagonal stays as in ``ties`` (0)."""
        if not self.world.treaties:
            return ties
        return np.maximum(ties, self._membership().allied)

    def active_regimes(self, t: int) -> Sequence[Regime]:
        """Sanctions regimes in force at step ``t``."""
        return [r for r in self.world.regimes if r.active(t)]

    def _active_now(self, t: int) -> Sequence[Regime]:
        """``active_regimes(t)`` recomputed only when a regime starts or ends (steps ascend)."""
        if t in self._regime_bounds or self._active is None:
            self._active = self.active_regimes(t)
        return self._active

    # -- one step ----------------------------------------------------------------------------
    def step(self) -> None:
        t = self.steps
        self._apply_events(t)
        rule = self.rule
        if rule.static_version != self._version:
            rule.refresh_static(self.dyadic, self.attrs, self._version)
        # this step's draws, in the decision stream's order: the pairs', then (with a treaty in
        # force) the treaty memberships'
        u = self._uniforms()
        treaties = self._any_in_force
        u_treaty = self._treaty_uniforms() if treaties else None
        U = rule.base_utilities(self.ties, self.dyadic, self._active_now(t), t)
        # a pair whose alliance a treaty holds decides as friends would: leaving the treaty,
        # not the pair, carries the exit cost
        with_inertia = rule.with_inertia(U, self._deciding_ties())
        self._check_finite(with_inertia, t)
        desired = rule.choose(with_inertia, u, self.ties)
        self.previous = self.ties
        wants = desired == 2
        ties = consent(desired)
        if treaties:
            refused = _Refusals(self.members, desired)
            value = None
            if self._membership_reviewed(u_treaty, refused):
                value = rule.membership_values(U, self.members)
                self._check_finite(value, t, treaty=True)
            wants = self._treaty_choices(value, u_treaty, refused, wants)
            ties = self._treaty_ties(ties)
        self.ties = self._settled(ties)
        if self.mechanisms.historical_distrust.enabled:
            self._learn(self.previous, wants)
        if t % self.every == 0 or t in self._history:
            self.record()

    def _open_now(self) -> np.ndarray:
        """(T, 1) treaties that outsiders may join now (open and in force)."""
        return self._joinable & self._in_force[:, None]

    def _membership_reviewed(self, u: np.ndarray, refused: _Refusals) -> bool:
        """Whether some state reviews a membership that it could change this step: a member
        (stay or leave) or an outsider of an open treaty in force whom no member refuses (join).
        Most steps of a small world have none, and then no membership value is needed."""
        review = u < self.rule.review
        if (review & self.members).any():
            return True
        outsiders = review & self._membership().could_join
        return bool(outsiders.any() and (outsiders & ~refused.get()).any())

    def _check_finite(self, a: np.ndarray, t: int, treaty: bool = False) -> None:
        """One cheap test per step; find the culprit only on failure."""
        if math.isfinite(a.sum()):
            return
        bad = np.argwhere(~np.isfinite(a))[0]
        ids = self.world.ids
        replication = int(bad[1]) if a.ndim > (3 if not treaty else 2) else None
        if treaty:
            what = f"value to {ids[bad[-1]]} of treaty {self.world.treaties[bad[-2]].name}"
        else:
            what = f"utility of {ids[bad[-2]]} for a tie with {ids[bad[-1]]}"
        raise SimulationError(f"step {t}: {what} is not finite", replication)

    def _treaty_choices(
        self,
        value: np.ndarray | None,
        u: np.ndarray,
        refused: _Refusals,
        wants: np.ndarray,
    ) -> np.ndarray:
        """Members stay or leave, outsiders join with every member's consent; returns who wants
        each alliance (a member that stayed wants it with its fellow members). ``value`` is None
        when no state reviews a membership it could change: everyone stays where they are."""
        before = self.members
        membership = self._membership()
        shared = membership.fellows  # pairs of fellow members before the step
        if value is None and membership.whole:
            return shared | wants  # nobody could change a membership: everyone stays
        inside = before if value is None else self.rule.choose_membership(value, u, before)
        new = before & inside
        joining = inside & membership.could_join  # could_join: outsiders of open treaties
        if joining.any():
            new |= joining & ~refused.get()
        elif membership.whole and not (new != before).any():
            return shared | wants  # nobody left and nobody joined: everyone stays
        new &= (new.sum(axis=-1) >= 2)[..., None]  # a treaty of one is no treaty
        # fellow members before the step: each wants the alliance if it stayed
        if not (new != before).any():
            stayed = shared
        else:
            self.members = new
            m = before.astype(np.float32)
            stayed = np.matmul((before & new).astype(np.float32).swapaxes(-1, -2), m) > 0
        return np.where(shared, stayed, wants)

    def utility_terms(self) -> dict[str, np.ndarray]:
        """Each mechanism's contribution to every state's utility of friendship and alliance with
        every partner at the current step (``DecisionRule.terms``): for explaining."""
        self.rule.refresh_static(self.dyadic, self.attrs, self._version)
        t = self.steps
        return self.rule.terms(self.ties, self.dyadic, self.active_regimes(t), t)

    @property
    def statuses(self) -> np.ndarray:
        """Current alignment status code of every state (see sim.model.metrics.STATUSES)."""
        return status(self.ties, self.rival)

    def _learn(self, previous: np.ndarray, wants: np.ndarray) -> None:
        """Betrayals raise distrust; ties kept slowly lower it toward the historical floor.

        i is betrayed by j when their alliance ended although i wanted to keep it and j did not
        (a friendship promises nothing, so dropping one betrays no one; a treaty member that
        stays wants its alliances with the others): ``D[i, j] += betrayal_learning``.
        While a tie is kept, ``D[i, j] -= trust_learning * tau(level) * (D[i, j] - memory *
        D_hist[i, j])``: kept promises slowly erase learned distrust, never the historical core.
        """
        m = self.mechanisms.historical_distrust
        D = self.dyadic.distrust
        # rare: test the expensive condition only when some tie was lowered
        same = previous is self.ties  # no tie changed (the step kept the array)
        if not same and (previous > self.ties).any():
            cut = (previous == 2) & (self.ties < 2) & wants & ~wants.swapaxes(-1, -2)
            D[cut] = np.minimum(1.0, D[cut] + m.betrayal_learning)
        if self._floor_version != self._version:  # the floor moves only with distrust events
            self._floor = m.memory * self.history
            self._trust_rate = m.trust_learning * TIE_WEIGHT
            self._floor_version = self._version
        excess = D - self._floor
        np.maximum(excess, 0.0, out=excess)
        if not same:
            rate = self._trust_rate.take(np.minimum(self.ties, previous))
        elif self._rate_of[0] is self.ties and self._rate_of[1] is self._trust_rate:
            rate = self._rate_of[2]
        else:  # (a batch keeps its array only when no replication changed a tie: rare)
            rate = self._trust_rate.take(self.ties)
            self._rate_of = (self.ties, self._trust_rate, rate)
        excess *= rate
        D -= excess
