"""The decision rule: what a state gains from each tie level with each partner, and its choice.

This is the one file to read (and change) to understand why states ally, befriend or stay apart.
It knows nothing of files, the command line or plots.

Every state uses the same rule. For state ``i`` and partner ``j`` the utility of a tie level
``l`` (0 none, 1 friendship, 2 alliance) is a sum of terms, one per mechanism of docs/ODD.md, each
weighted by scenario data and each switchable off (its term is then exactly zero). No tie is the
reference: ``U[0] = 0`` (plus inertia when it is the current level). Rows are evaluated for all
states at once with numpy because that is cheap, but read every formula as "state i looks at j".

Arrays may carry leading axes before the last two (N, N) ones: K replications of one scenario
advanced in lock-step (sim.lockstep) hold ties and distrust as (K, N, N), and every formula here
broadcasts over them (``...`` indexing, ``axis=-1``; the level axis of a Pair comes first, and
constant factors get the batch's axes from ``_per_pair``). Write new terms the same way; the tests
check that a replication run in a batch is bit-for-bit the replication run alone.

Notation: ``s`` power, ``b[i, j] = s_j / (s_i + s_j)`` the partner's relative power, ``R`` rivalry,
``C`` interest compatibility, ``D`` current distrust, ``H0`` perceived hedging, ``L`` current ties,
``tau = (0, 0.5, 1)`` the weight of a tie level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from sim.schema import MECHANISMS, Mechanisms, Params
from sim.world import Regime, World

TAU = np.array([0.0, 0.5, 1.0])  # weight of none / friendship / alliance
EXPOSURE = np.array([0.1, 0.6, 1.0])  # how much a sender can hurt you, by your tie with it
OPTION_VALUE = np.array([0.2, 1.0, 0.0])  # option a rival of j is to i, by i's tie with it

Pair = np.ndarray
"""A (2, ..., N, N) array: ``[0]`` is added to the utility of friendship, ``[1]`` to that of
alliance (both relative to no tie); between them, the replication axis of a lock-step batch.
Unpacks as ``friendship, alliance = pair``."""
Terms = dict[str, Pair]
"""mechanism name -> its Pair."""


def _both(cost: np.ndarray, friendship: float, alliance: float) -> Pair:
    """``cost`` scaled by one factor for friendship and one for alliance, as a Pair."""
    return cost[None] * np.array([friendship, alliance])[:, None, None]


@dataclass
class Dyadic:
    """The dyadic quantities in force at a step (events change them)."""

    distrust: np.ndarray
    rivalry: np.ndarray
    interests: np.ndarray
    affinity: np.ndarray
    hedging: np.ndarray


@dataclass(frozen=True)
class _Regimes:
    """A set of active sanctions regimes as arrays (R regimes, S senders), built once per set."""

    senders: np.ndarray  # (S,) every state sending some regime
    support_pair: Pair  # the target's support from each partner, weighted, as a Pair
    sender_power: np.ndarray  # (S, R) sender power where it sends regime r
    keep: np.ndarray  # (N, R) 1 where the state is a third party of regime r
    sender_level: np.ndarray  # (N, R) the level where the state sends regime r (its own cost)
    target_columns: np.ndarray  # (R, N) 1 where regime r targets the column state
    pressed: np.ndarray  # (R,) level * secondary

    @classmethod
    def build(
        cls, active: Sequence[Regime], power: np.ndarray, rel: np.ndarray, weights: np.ndarray
    ) -> _Regimes:
        n, k = len(power), len(active)
        free = np.ones(n)  # product of (1 - level) over regimes targeting each state
        sends = np.zeros((n, n), dtype=bool)  # sends[i, j]: i sanctions j
        sender_power = np.zeros((n, k))
        is_sender = np.zeros((n, k), dtype=bool)
        is_target = np.zeros((n, k), dtype=bool)
        for c, r in enumerate(active):
            free[r.targets] *= 1.0 - r.level
            sends[np.ix_(r.senders, r.targets)] = True
            sender_power[r.senders, c] = power[r.senders]
            is_sender[r.senders, c] = True
            is_target[r.targets, c] = True
        senders = np.flatnonzero(is_sender.any(axis=1))
        # a level of exactly 1 would give log(0) below; 1 - 1e-12 is the same pressure
        level = np.minimum(np.array([r.level for r in active]), 1.0 - 1e-12)
        third = ~is_sender & ~is_target
        return cls(
            senders=senders,
            support_pair=((1.0 - free)[:, None] * rel * ~sends.T)[None] * weights,
            sender_power=sender_power[senders],
            keep=third.astype(float),
            sender_level=(is_sender & ~is_target) * level,
            target_columns=is_target.T.astype(float),
            pressed=np.array([r.level * r.secondary for r in active]),
        )


class DecisionRule:
    """Utilities of friendship and alliance for every ordered pair, and the logit choice."""

    def __init__(
        self, world: World, mechanisms: Mechanisms, params: Params, batch_axes: int = 0
    ) -> None:
        self.world = world
        self.batch_axes = batch_axes  # leading replication axes of ties and distrust (0 or 1)
        self.m = mechanisms
        self.p = params
        s = world.power
        self.n = world.n
        self.rel = s[None, :] / (s[:, None] + s[None, :])  # b[i, j]
        self.s_hat = s / s.max()
        self.enabled = {name: getattr(mechanisms, name).enabled for name in MECHANISMS}
        self.static_version: int | None = None
        self._regime_cache: dict[tuple[int, ...], _Regimes] = {}
        self._last_active: Sequence[Regime] | None = None
        self._last_parts: _Regimes | None = None
        self._static_sum_key: int | None = None
        self._static_sum: Pair = np.zeros((2, 0, 0))
        self._rows = np.arange(self.n)[:, None]
        self._cols = np.arange(self.n)[None, :]
        self._off_diagonal = 1.0 - np.eye(self.n)
        self._diagonal = np.arange(self.n)
        self._power_col = world.power[:, None]
        # inertia relative to no tie, indexed [friendship/alliance, current level]
        k = params.inertia
        self._inertia = np.array([[-k, k, 0.0], [-k, 0.0, k]])
        m = mechanisms
        sa = m.security_autonomy
        self._reliability = np.array([0.0, sa.friendship_reliability, sa.alliance_reliability])
        self._reliability_pair = self._per_pair(self._reliability[1:, None, None])
        self._neg_rel = -self.rel
        self._options_scale = (m.expanding_options.weight * world.options)[:, None]
        self._options_factors = self._per_pair(
            np.array([1.0, -m.expanding_options.alliance_factor])[:, None, None]
        )
        ph, hd, sp = m.partner_hedging, m.historical_distrust, m.sanctions_pressure
        # (2, N, 1): the mechanism weight, its friendship share, and each state's own sensitivity
        self._hedging_factors = self._per_pair(
            -ph.weight
            * np.array([ph.friendship_factor, 1.0])[:, None, None]
            * world.hedging_weight[None, :, None]
        )
        self._distrust_factors = self._per_pair(
            -hd.weight
            * np.array([hd.friendship_factor, 1.0])[:, None, None]
            * world.distrust_weight[None, :, None]
        )
        self._third_factors = self._per_pair(
            sp.weight * sp.third_party * np.array([sp.third_party_friendship, 1.0])[:, None, None]
        )

    def _per_pair(self, factor: np.ndarray) -> np.ndarray:
        """A (2, a, b) factor of a Pair with the batch's axes after the level axis."""
        return factor.reshape(factor.shape[:1] + (1,) * self.batch_axes + factor.shape[1:])

    # -- quantities that change only when dyadic data changes (events) ----------------------------
    def refresh_static(self, dy: Dyadic, version: int) -> None:
        """Recompute what does not depend on current ties; skipped unless an event changed data."""
        if self.static_version == version:
            return
        self.static_version = version
        w = self.world
        R = dy.rivalry
        sa = self.m.security_autonomy
        # Security need (Morrow): the rivals' power against one's own, in [0, 1).
        threat = R @ w.power
        need = threat / (w.power + threat)
        self.security_scale = (sa.weight * w.security * need)[:, None] * self.rel
        # Autonomy (Morrow's asymmetry): 2b - 1 is > 0 when the partner is stronger.
        self.autonomy_cost = (sa.weight * sa.autonomy_cost * w.autonomy)[:, None] * (
            2.0 * self.rel - 1.0
        )
        # Entrapment (Snyder): j's quarrels that i does not share, weighted by the rival's power.
        M = R * self.s_hat[None, :]
        ent = M.sum(axis=1)[None, :] - R @ M.T - M.T
        np.fill_diagonal(ent, 0.0)
        self.entrapment = np.clip(ent, 0.0, None)
        self.inv_rival_mass = 1.0 / (R.sum(axis=1) + 1e-12)
        self._inv_mass_col = self.inv_rival_mass[:, None]
        self._options_weight = self._options_scale * self.inv_rival_mass[None, :]
        self.divergence = (1.0 - dy.interests) / 2.0
        compat = (1.0 + dy.interests) / 2.0
        self.gains = self.p.cooperation * compat + dy.affinity
        self.alliance_gains = self.gains + self.p.alliance_gains * compat
        self.rival_cost = self.p.rivalry_cost * R

    # -- the mechanisms -------------------------------------------------------------------------
    def security_autonomy(self, L: np.ndarray) -> Pair:
        """Protection bought from a partner, with diminishing returns; autonomy paid for it.

        ``value[i, j] = w * security_i * need_i * b[i, j] * prod_{k!=j} (1 - b[i,k] r(L[i,k]))``:
        the partner's relative power against the need that i's other ties leave uncovered, where
        ``r`` is the reliability of a tie level (honoured alliance commitments, a friend's help).
        The alliance pays autonomy ``w * autonomy_i * cost * (2 b[i, j] - 1)``: the weaker side
        cedes freedom of action, the stronger gains influence (negative cost).
        """
        log_free = np.log1p(self._neg_rel * self._reliability.take(L))  # log(1 - b[i,k] r(L[i,k]))
        value = self.security_scale * np.exp(log_free.sum(axis=-1)[..., None] - log_free)
        out = value[None] * self._reliability_pair
        out[1] -= self.autonomy_cost
        return out

    def abandonment_entrapment(self, L: np.ndarray) -> Pair:
        """Binding ties drag a state into its partner's quarrels that it does not share.

        ``E[i, j] = sum_{k != i} R[j, k] (1 - R[i, k]) s_k / max(s)`` (j's quarrel with i itself
        drags i into nothing); an alliance pays ``w * E``, a friendship the ``friendship_factor``
        share of it.
        """
        m = self.m.abandonment_entrapment
        return _both(self.entrapment, -m.weight * m.friendship_factor, -m.weight)

    def partner_hedging(self, L: np.ndarray, dy: Dyadic) -> Pair:
        """A partner tied to my rivals (or seen hedging) may abandon me; alliances suffer most.

        ``h[i, j] = min(1, sum_k R[i, k] tau(L[j, k]) / sum_k R[i, k] + H0[i, j])``: the share of
        i's rivalry that j is tied to (ties weighted by level), plus the hedging i perceives from
        j's acts (votes for sanctions, a halted delivery).
        """
        h = (dy.rivalry @ TAU.take(L).swapaxes(-1, -2)) * self._inv_mass_col + dy.hedging
        return np.minimum(h, 1.0)[None] * self._hedging_factors

    def historical_distrust(self, dy: Dyadic) -> Pair:
        """Distrust discounts any tie, binding ones more (you must rely on the partner).

        An alliance pays ``w * D[i, j]``, a friendship the ``friendship_factor`` share of it; ``D``
        starts at the scenario's historical distrust and is learned (sim.model).
        """
        return dy.distrust[None] * self._distrust_factors

    def _regime_parts(self, active: Sequence[Regime]) -> _Regimes:
        """Arrays describing a set of active regimes, cached per set (sets change rarely)."""
        if active is self._last_active:  # the model hands the same list until the set changes
            return self._last_parts
        key = tuple(id(r) for r in active)
        hit = self._regime_cache.get(key)
        if hit is None:
            sp = self.m.sanctions_pressure
            weights = sp.weight * np.array([sp.support_friendship, 1.0])[:, None, None]
            hit = _Regimes.build(active, self.world.power, self.rel, weights)
            hit = replace(hit, support_pair=self._per_pair(hit.support_pair))
            self._regime_cache[key] = hit
        self._last_active, self._last_parts = active, hit
        return hit

    def sanctions_pressure(self, L: np.ndarray, active: Sequence[Regime]) -> Pair:
        """Sanctions push a target toward powers that do not sanction it, and make third parties
        pay for close ties with it in proportion to what the senders can do to them.

        Target ``i`` gains ``w * P_i * b[i, j]`` from a tie with a non-sender ``j`` (a friendship
        ``support_friendship`` of it), where ``P_i = 1 - prod_r (1 - level_r)`` over the regimes on
        it. A third party ``j`` pays, per regime, ``level * secondary * x_j / (s_j + x_j)`` for a
        tie with the target, where ``x_j`` sums the senders' power weighted by j's ties with them
        (a friend of the US has more to lose); senders pay ``level`` instead (one does not
        befriend whom one sanctions), all scaled by ``w * third_party``; regimes combine as
        ``1 - prod(1 - share)``; a friendship pays ``third_party_friendship`` of the cost.
        """
        g = self._regime_parts(active)
        exposure = EXPOSURE.take(L.take(g.senders, axis=-1)) @ g.sender_power  # (..., N, R)
        share = (g.pressed * exposure / (self._power_col + exposure)) * g.keep + g.sender_level
        # cost[j, t] = 1 - prod over regimes on t of (1 - share[j, r])
        kept = np.exp(np.log1p(-share) @ g.target_columns)
        return g.support_pair + (kept - 1.0)[None] * self._third_factors

    def expanding_options(self, L: np.ndarray, dy: Dyadic) -> Pair:
        """Ties to competing camps at once are worth more than their sum; an alliance forecloses.

        ``O[i, j] = sum_k R[j, k] v(L[i, k]) / sum_k R[j, k]`` in [0, 1]: the share of j's rivalry
        that i bridges by being friends with j's rivals (v = 1) or keeping them as an option
        (v = 0.2); a rival of j that i is allied with is no option (v = 0).
        """
        v = OPTION_VALUE.take(L) * self._off_diagonal
        # bridged[i, j] = (v @ R.T)[i, j] / sum_k R[j, k], weighted by i's options preference
        return ((v @ dy.rivalry.T) * self._options_weight)[None] * self._options_factors

    def prioritizing_interests(self, L: np.ndarray | None = None) -> Pair:
        """An alliance makes a state follow the alliance's line; divergent interests then cost.

        ``cost[i, j] = w * interests_i * (1 - C[i, j]) / 2 * 2 b[i, j]``: the line is set mostly by
        the stronger partner, so the weaker side bends further (equal partners pay the plain
        divergence). A friendship binds no policy and pays only ``friendship_factor`` of it.
        """
        m = self.m.prioritizing_interests
        cost = (self.world.interest_weight[:, None] * m.weight) * self.divergence * 2.0 * self.rel
        return _both(cost, -m.friendship_factor, -1.0)

    # -- assembling ------------------------------------------------------------------------------
    STATIC: tuple[str, ...] = ("abandonment_entrapment", "prioritizing_interests")
    """Mechanisms whose terms depend only on dyadic data, not on current ties."""

    def _base(self) -> Pair:
        """Always-on terms: gains of cooperation, upkeep, and the cost of a tie with a rival."""
        p = self.p
        return np.stack(
            [
                self.gains - p.friendship_cost - self.rival_cost,
                self.alliance_gains - p.alliance_cost - 2.0 * self.rival_cost,
            ]
        )

    def terms(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]) -> Terms:
        """Each enabled mechanism's contribution, plus the always-on base terms (for explaining)."""
        on = self.enabled
        out: Terms = {}
        if on["security_autonomy"]:
            out["security_autonomy"] = self.security_autonomy(L)
        if on["abandonment_entrapment"]:
            out["abandonment_entrapment"] = self.abandonment_entrapment(L)
        if on["partner_hedging"]:
            out["partner_hedging"] = self.partner_hedging(L, dy)
        if on["historical_distrust"]:
            out["historical_distrust"] = self.historical_distrust(dy)
        if on["sanctions_pressure"] and active:
            out["sanctions_pressure"] = self.sanctions_pressure(L, active)
        if on["expanding_options"]:
            out["expanding_options"] = self.expanding_options(L, dy)
        if on["prioritizing_interests"]:
            out["prioritizing_interests"] = self.prioritizing_interests(L)
        out["base"] = self._base()
        return out

    def relative_utilities(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]) -> Pair:
        """Utilities of friendship and alliance *relative to no tie*, inertia included.

        The same sum as :meth:`terms`, but the terms that do not depend on ties are added once
        per version of the dyadic data instead of every step (this is the hot path of every run).
        """
        if self._static_sum_key != self.static_version:
            total = self._base()
            for name in self.STATIC:
                if self.enabled[name]:
                    total += getattr(self, name)(L)
            self._static_sum = self._per_pair(total)
            self._static_sum_key = self.static_version
        on = self.enabled
        # inertia: keeping the current level is worth a little (diplomacy is slow to change)
        U = self._static_sum + self._inertia.take(L, axis=1)
        if on["security_autonomy"]:
            U += self.security_autonomy(L)
        if on["partner_hedging"]:
            U += self.partner_hedging(L, dy)
        if on["historical_distrust"]:
            U += self.historical_distrust(dy)
        if on["expanding_options"]:
            U += self.expanding_options(L, dy)
        if on["sanctions_pressure"] and active:
            U += self.sanctions_pressure(L, active)
        return U

    def utilities(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]) -> np.ndarray:
        """(3, N, N) utilities of none / friendship / alliance, inertia included (for reading)."""
        U = np.zeros((3, self.n, self.n))
        for pair in self.terms(L, dy, active).values():
            U[1:] += pair
        U[L, self._rows, self._cols] += self.p.inertia
        return U

    def choose(self, U: Pair, u: np.ndarray) -> np.ndarray:
        """Logit (softmax) choice of a desired level for every ordered pair: bounded rationality.

        ``P(l) = exp(U_l / T) / sum_k exp(U_k / T)`` with ``U`` the utilities of friendship and
        alliance relative to no tie, sampled with one uniform draw per pair: ``u`` (..., N, N)
        in [0, 1). The caller draws ``u`` from its own stream, so replications run in lock-step
        each keep the stream they would have alone.
        """
        e = np.multiply(U, 1.0 / self.p.temperature, out=U)  # U is ours to reuse
        np.minimum(e, 700.0, out=e)  # exp would overflow beyond; such a choice is certain anyway
        np.exp(e, out=e)
        if not self.p.friendship:  # the alliance-only world: no tie or an alliance
            e[0] = 0.0
        c1 = 1.0 + e[0]
        u = u * (c1 + e[1])
        desired = np.add(u >= 1.0, u >= c1, dtype=np.intp)
        desired[..., self._diagonal, self._diagonal] = 0
        return desired


def consent(desired: np.ndarray) -> np.ndarray:
    """A tie exists only at the level both sides want: the lower of the two wishes."""
    return np.minimum(desired, desired.swapaxes(-1, -2))
