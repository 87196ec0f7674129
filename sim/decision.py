"""The decision rule: what a state gains from each tie level with each partner, and its choice.

This is the one file to read (and change) to understand why states ally, befriend or stay apart.
It knows nothing of files, the command line or plots.

Every state uses the same rule. For state ``i`` and partner ``j`` the utility of a tie level
``l`` (0 none, 1 friendship, 2 alliance) is a sum of terms, one per mechanism of docs/ODD.md, each
weighted by scenario data and each switchable off (its term is then exactly zero). No tie is the
reference: ``U[0] = 0`` (plus inertia when it is the current level). Rows are evaluated for all
states at once with numpy because that is cheap, but read every formula as "state i looks at j".

Notation: ``s`` power, ``b[i, j] = s_j / (s_i + s_j)`` the partner's relative power, ``R`` rivalry,
``C`` interest compatibility, ``D`` current distrust, ``H0`` perceived hedging, ``L`` current ties,
``tau = (0, 0.5, 1)`` the weight of a tie level.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from sim.schema import MECHANISMS, Mechanisms, Params
from sim.world import Regime, World

TAU = np.array([0.0, 0.5, 1.0])  # weight of none / friendship / alliance
EXPOSURE = np.array([0.1, 0.6, 1.0])  # how much a sender can hurt you, by your tie with it
OPTION_VALUE = np.array([0.2, 1.0, 0.0])  # option a rival of j is to i, by i's tie with it

Terms = dict[str, tuple[np.ndarray, np.ndarray]]
"""mechanism name -> (utility added to friendship, utility added to alliance), each (N, N)."""


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
    """A set of active sanctions regimes as arrays (R regimes, T targets, S senders)."""

    targets: np.ndarray  # (T,) every state targeted by some regime
    senders: np.ndarray  # (S,) every state sending some regime
    support: np.ndarray  # (T, N) P_t * b[t, j], zero for j that sanction t
    sender_power: np.ndarray  # (S, R) sender power where it sends regime r
    is_sender: np.ndarray  # (N, R) bool
    not_target: np.ndarray  # (N, R) 1 where the state is not a target of regime r
    target_columns: np.ndarray  # (R, T) 1 where regime r targets target t
    level: np.ndarray  # (R,)
    pressed: np.ndarray  # (R,) level * secondary

    @classmethod
    def build(cls, active: Sequence[Regime], power: np.ndarray, rel: np.ndarray) -> _Regimes:
        n, k = len(power), len(active)
        free = np.ones(n)  # product of (1 - level) over regimes targeting each state
        sends = np.zeros((n, n), dtype=bool)  # sends[i, j]: i sanctions j
        sender_power = np.zeros((n, k))
        is_sender = np.zeros((n, k), dtype=bool)
        is_target = np.zeros((n, k))
        for c, r in enumerate(active):
            free[r.targets] *= 1.0 - r.level
            sends[np.ix_(r.senders, r.targets)] = True
            sender_power[r.senders, c] = power[r.senders]
            is_sender[r.senders, c] = True
            is_target[r.targets, c] = 1.0
        targets = np.flatnonzero(is_target.any(axis=1))
        senders = np.flatnonzero(is_sender.any(axis=1))
        support = ((1.0 - free)[:, None] * rel * ~sends.T)[targets]
        return cls(
            targets=targets,
            senders=senders,
            support=support,
            sender_power=sender_power[senders],
            is_sender=is_sender,
            not_target=1.0 - is_target,
            target_columns=is_target[targets].T.copy(),
            level=np.array([r.level for r in active]),
            pressed=np.array([r.level * r.secondary for r in active]),
        )


class DecisionRule:
    """Utilities of friendship and alliance for every ordered pair, and the logit choice."""

    def __init__(self, world: World, mechanisms: Mechanisms, params: Params) -> None:
        self.world = world
        self.m = mechanisms
        self.p = params
        s = world.power
        self.n = world.n
        self.rel = s[None, :] / (s[:, None] + s[None, :])  # b[i, j]
        self.s_hat = s / s.max()
        self.enabled = {name: getattr(mechanisms, name).enabled for name in MECHANISMS}
        self._static_key: int | None = None
        self._regime_cache: dict[tuple[int, ...], _Regimes] = {}
        self._static_sum_key: int | None = None
        self._static_sum: tuple[np.ndarray, np.ndarray] = (np.zeros(0), np.zeros(0))
        self._rows = np.arange(self.n)[:, None]
        self._cols = np.arange(self.n)[None, :]
        self._off_diagonal = 1.0 - np.eye(self.n)
        # inertia relative to no tie, indexed by the current level
        k = params.inertia
        self._inertia_friend = np.array([-k, k, 0.0])
        self._inertia_ally = np.array([-k, 0.0, k])
        sa = mechanisms.security_autonomy
        self._reliability = np.array([0.0, sa.friendship_reliability, sa.alliance_reliability])
        self._options_scale = (mechanisms.expanding_options.weight * world.options)[:, None]

    # -- quantities that change only when dyadic data changes (events) ----------------------------
    def refresh_static(self, dy: Dyadic, version: int) -> None:
        """Recompute what does not depend on current ties; skipped unless an event changed data."""
        if self._static_key == version:
            return
        self._static_key = version
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
        self.divergence = (1.0 - dy.interests) / 2.0
        compat = (1.0 + dy.interests) / 2.0
        self.gains = self.p.cooperation * compat + dy.affinity
        self.alliance_gains = self.gains + self.p.alliance_gains * compat
        self.rival_cost = self.p.rivalry_cost * R

    # -- the mechanisms -------------------------------------------------------------------------
    def security_autonomy(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Protection bought from a partner, with diminishing returns; autonomy paid for it.

        ``value[i, j] = w * security_i * need_i * b[i, j] * prod_{k!=j} (1 - b[i,k] r(L[i,k]))``:
        the partner's relative power against the need that i's other ties leave uncovered, where
        ``r`` is the reliability of a tie level (honoured alliance commitments, a friend's help).
        The alliance pays autonomy ``w * autonomy_i * cost * (2 b[i, j] - 1)``: the weaker side
        cedes freedom of action, the stronger gains influence (negative cost).
        """
        protect = self.rel * self._reliability[L]
        log_free = np.log1p(-protect)
        value = self.security_scale * np.exp(log_free.sum(axis=1)[:, None] - log_free)
        return value * self._reliability[1], value * self._reliability[2] - self.autonomy_cost

    def abandonment_entrapment(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Binding ties drag a state into its partner's quarrels that it does not share.

        ``E[i, j] = sum_{k != i} R[j, k] (1 - R[i, k]) s_k / max(s)`` (j's quarrel with i itself
        drags i into nothing); an alliance pays ``w * E``, a friendship the ``friendship_factor``
        share of it.
        """
        m = self.m.abandonment_entrapment
        cost = m.weight * self.entrapment
        return -m.friendship_factor * cost, -cost

    def partner_hedging(self, L: np.ndarray, dy: Dyadic) -> tuple[np.ndarray, np.ndarray]:
        """A partner tied to my rivals (or seen hedging) may abandon me; alliances suffer most.

        ``h[i, j] = min(1, sum_k R[i, k] tau(L[j, k]) / sum_k R[i, k] + H0[i, j])``: the share of
        i's rivalry that j is tied to (ties weighted by level), plus the hedging i perceives from
        j's acts (votes for sanctions, a halted delivery).
        """
        m = self.m.partner_hedging
        h = (dy.rivalry @ TAU[L].T) * self.inv_rival_mass[:, None] + dy.hedging
        cost = m.weight * np.minimum(h, 1.0)
        return -m.friendship_factor * cost, -cost

    def historical_distrust(self, dy: Dyadic) -> tuple[np.ndarray, np.ndarray]:
        """Distrust discounts any tie, binding ones more (you must rely on the partner).

        An alliance pays ``w * D[i, j]``, a friendship the ``friendship_factor`` share of it; ``D``
        starts at the scenario's historical distrust and is learned (sim.model).
        """
        m = self.m.historical_distrust
        cost = m.weight * dy.distrust
        return -m.friendship_factor * cost, -cost

    def _regime_parts(self, active: Sequence[Regime]) -> _Regimes:
        """Arrays describing a set of active regimes, cached per set (sets change rarely)."""
        key = tuple(id(r) for r in active)
        hit = self._regime_cache.get(key)
        if hit is None:
            hit = self._regime_cache[key] = _Regimes.build(active, self.world.power, self.rel)
        return hit

    def sanctions_parts(
        self, L: np.ndarray, active: Sequence[Regime]
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The sanctions term in its sparse form: it only touches targets' rows and columns.

        Returns ``targets`` (T,), the target's support from each partner (T, N) and each state's
        third-party cost of a tie with each target (N, T). See :meth:`sanctions_pressure`.
        """
        m = self.m.sanctions_pressure
        g = self._regime_parts(active)
        s = self.world.power
        exposure = EXPOSURE[L[:, g.senders]] @ g.sender_power  # (N, R)
        share = g.pressed * exposure / (s[:, None] + exposure)
        share = np.where(g.is_sender, g.level, share) * g.not_target
        log_free = np.log1p(-np.minimum(share, 1.0 - 1e-12))
        third = (m.weight * m.third_party) * (1.0 - np.exp(log_free @ g.target_columns))
        return g.targets, m.weight * g.support, third

    def sanctions_pressure(
        self, L: np.ndarray, active: Sequence[Regime]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sanctions push a target toward powers that do not sanction it, and make third parties
        pay for close ties with it in proportion to what the senders can do to them.

        Target ``i`` gains ``w * P_i * b[i, j]`` from a tie with a non-sender ``j`` (a friendship
        ``support_friendship`` of it), where ``P_i = 1 - prod_r (1 - level_r)`` over the regimes on
        it. A third party ``j`` pays, per regime, ``level * secondary * x_j / (s_j + x_j)`` for a
        tie with the target, where ``x_j`` sums the senders' power weighted by j's ties with them
        (a friend of the US has more to lose); senders pay ``level`` (one does not befriend whom
        one sanctions); regimes combine as ``1 - prod(1 - share)``; a friendship pays
        ``third_party_friendship`` of the cost.
        """
        m = self.m.sanctions_pressure
        targets, support, third = self.sanctions_parts(L, active)
        F = np.zeros((self.n, self.n))
        A = np.zeros((self.n, self.n))
        F[targets] += m.support_friendship * support
        A[targets] += support
        F[:, targets] -= m.third_party_friendship * third
        A[:, targets] -= third
        return F, A

    def expanding_options(self, L: np.ndarray, dy: Dyadic) -> tuple[np.ndarray, np.ndarray]:
        """Ties to competing camps at once are worth more than their sum; an alliance forecloses.

        ``O[i, j] = sum_k R[j, k] v(L[i, k]) / sum_k R[j, k]`` in [0, 1]: the share of j's rivalry
        that i bridges by being friends with j's rivals (v = 1) or keeping them as an option
        (v = 0.2); a rival of j that i is allied with is no option (v = 0).
        """
        m = self.m.expanding_options
        v = OPTION_VALUE[L] * self._off_diagonal
        bridged = (v @ dy.rivalry.T) * self.inv_rival_mass[None, :]  # share of j's rivalry
        gain = self._options_scale * bridged
        return gain, -m.alliance_factor * gain

    def prioritizing_interests(self, L: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """An alliance makes a state follow the alliance's line; divergent interests then cost.

        ``cost[i, j] = w * interests_i * (1 - C[i, j]) / 2 * 2 b[i, j]``: the line is set mostly by
        the stronger partner, so the weaker side bends further (equal partners pay the plain
        divergence). A friendship binds no policy and pays only ``friendship_factor`` of it.
        """
        m = self.m.prioritizing_interests
        cost = (self.world.interest_weight[:, None] * m.weight) * self.divergence * 2.0 * self.rel
        return -m.friendship_factor * cost, -cost

    # -- assembling ------------------------------------------------------------------------------
    STATIC: tuple[str, ...] = ("abandonment_entrapment", "prioritizing_interests")
    """Mechanisms whose terms depend only on dyadic data, not on current ties."""

    def _base(self) -> tuple[np.ndarray, np.ndarray]:
        """Always-on terms: gains of cooperation, upkeep, and the cost of a tie with a rival."""
        p = self.p
        return (
            self.gains - p.friendship_cost - self.rival_cost,
            self.alliance_gains - p.alliance_cost - 2.0 * self.rival_cost,
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

    def relative_utilities(
        self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Utilities of friendship and alliance *relative to no tie*, inertia included.

        The same sum as :meth:`terms`, but the terms that do not depend on ties are added once
        per version of the dyadic data instead of every step (this is the hot path of every run).
        """
        if self._static_sum_key != self._static_key:
            F, A = (x.copy() for x in self._base())
            for name in self.STATIC:
                if self.enabled[name]:
                    f, a = getattr(self, name)(L)
                    F += f
                    A += a
            self._static_sum = (F, A)
            self._static_sum_key = self._static_key
        on = self.enabled
        F = self._static_sum[0] + self._inertia_friend[L]
        A = self._static_sum[1] + self._inertia_ally[L]
        if on["security_autonomy"]:
            f, a = self.security_autonomy(L)
            F += f
            A += a
        if on["partner_hedging"]:
            f, a = self.partner_hedging(L, dy)
            F += f
            A += a
        if on["historical_distrust"]:
            f, a = self.historical_distrust(dy)
            F += f
            A += a
        if on["expanding_options"]:
            f, a = self.expanding_options(L, dy)
            F += f
            A += a
        if on["sanctions_pressure"] and active:
            f, a = self.sanctions_pressure(L, active)
            F += f
            A += a
        return F, A

    def utilities(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]) -> np.ndarray:
        """(3, N, N) utilities of none / friendship / alliance, inertia included (for reading)."""
        U = np.zeros((3, self.n, self.n))
        for f, a in self.terms(L, dy, active).values():
            U[1] += f
            U[2] += a
        # Inertia: keeping the current level is worth a little (diplomacy is slow to change).
        U[L, self._rows, self._cols] += self.p.inertia
        return U

    def choose(self, F: np.ndarray, A: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Logit (softmax) choice of a desired level for every ordered pair: bounded rationality.

        ``P(l) = exp(U_l / T) / sum_k exp(U_k / T)`` with utilities relative to no tie
        (``F = U_1 - U_0``, ``A = U_2 - U_0``), sampled with one uniform draw per pair.
        """
        inv_t = 1.0 / self.p.temperature
        # with friendship switched off the choice is between no tie and an alliance
        e1 = np.exp(np.minimum(F * inv_t, 700.0)) if self.p.friendship else np.zeros_like(F)
        e2 = np.exp(np.minimum(A * inv_t, 700.0))
        c1 = 1.0 + e1
        u = rng.random((self.n, self.n)) * (c1 + e2)
        desired = (u >= 1.0).view(np.int8) + (u >= c1).view(np.int8)
        np.fill_diagonal(desired, 0)
        return desired


def consent(desired: np.ndarray) -> np.ndarray:
    """A tie exists only at the level both sides want: the lower of the two wishes."""
    return np.minimum(desired, desired.T)
