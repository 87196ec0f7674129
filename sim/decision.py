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
EXPOSURE = np.array([0.25, 0.6, 1.0])  # how much a sender can hurt you, by your tie with it
OPTION_VALUE = np.array([0.3, 1.0, 0.0])  # option a rival of j is to i, by i's tie with it

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

    # -- terms that change only when dyadic data changes (events) -------------------------------
    def refresh_static(self, dy: Dyadic, version: int) -> None:
        """Recompute terms that do not depend on current ties; cheap to skip on most steps."""
        if self._static_key == version:
            return
        self._static_key = version
        w = self.world
        R = dy.rivalry
        # Security need (Morrow): the rivals' power against one's own.
        threat = R @ w.power
        self.need = threat / (w.power + threat)
        # Entrapment (Snyder): j's quarrels that i does not share, weighted by the rival's power.
        M = R * self.s_hat[None, :]
        self.entrapment = M.sum(axis=1)[None, :] - R @ M.T - M.T
        np.fill_diagonal(self.entrapment, 0.0)
        np.clip(self.entrapment, 0.0, None, out=self.entrapment)
        self.rival_mass = R.sum(axis=1) + 1e-12
        self.divergence = (1.0 - dy.interests) / 2.0
        self.gains = self.p.cooperation * (1.0 + dy.interests) / 2.0 + dy.affinity
        self.rival_cost = self.p.rivalry_cost * R

    # -- the mechanisms -------------------------------------------------------------------------
    def security_autonomy(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Protection bought from a partner, with diminishing returns; autonomy paid for it.

        Residual need discounts what the other ties already protect; an alliance protects with the
        reliability of honoured commitments, a friendship much less. The autonomy term is Morrow's
        asymmetry: the weaker side cedes freedom of action, the stronger gains influence.
        """
        m = self.m.security_autonomy
        rel_lvl = np.array([0.0, m.friendship_reliability, m.alliance_reliability])
        protect = self.rel * rel_lvl[L]
        log_free = np.log1p(-np.minimum(protect, 1 - 1e-12))
        residual = self.need[:, None] * np.exp(log_free.sum(axis=1)[:, None] - log_free)
        value = (self.world.security[:, None] * m.weight) * residual * self.rel
        autonomy = (self.world.autonomy[:, None] * (m.weight * m.autonomy_cost)) * (
            2.0 * self.rel - 1.0
        )
        return value * m.friendship_reliability, value * m.alliance_reliability - autonomy

    def abandonment_entrapment(self, L: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Binding ties drag a state into its partner's quarrels that it does not share."""
        m = self.m.abandonment_entrapment
        cost = m.weight * self.entrapment
        return -m.friendship_factor * cost, -cost

    def partner_hedging(self, L: np.ndarray, dy: Dyadic) -> tuple[np.ndarray, np.ndarray]:
        """A partner tied to my rivals (or seen hedging) may abandon me; alliances suffer most.

        ``h[i, j]`` = share of i's rivalry that j is tied to (ties weighted by level), plus the
        hedging i perceives from j's acts (votes, halted deliveries), capped at 1.
        """
        m = self.m.partner_hedging
        R = dy.rivalry
        tied = TAU[L]
        np.fill_diagonal(tied, 0.0)
        h = (R @ tied.T) / self.rival_mass[:, None]  # h[i, j] = sum_k R[i, k] tau(L[j, k])
        h = np.clip(h + dy.hedging, 0.0, 1.0)
        cost = m.weight * h
        return -m.friendship_factor * cost, -cost

    def historical_distrust(self, dy: Dyadic) -> tuple[np.ndarray, np.ndarray]:
        """Distrust discounts any tie, binding ones more (you must rely on the partner)."""
        m = self.m.historical_distrust
        cost = m.weight * dy.distrust
        return -m.friendship_factor * cost, -cost

    def sanctions_pressure(
        self, L: np.ndarray, active: Sequence[Regime]
    ) -> tuple[np.ndarray, np.ndarray]:
        """Sanctions push a target toward powers that do not sanction it, and make third parties
        pay for close ties with it in proportion to what the senders can do to them."""
        m = self.m.sanctions_pressure
        n = self.n
        free = np.ones(n)  # product of (1 - level) over regimes targeting each state
        sends = np.zeros((n, n), dtype=bool)  # sends[i, j]: i sanctions j
        third_free = np.ones((n, n))  # product over regimes of (1 - cost share) for pair (j, t)
        s = self.world.power
        for r in active:
            free[r.targets] *= 1.0 - r.level
            sends[np.ix_(r.senders, r.targets)] = True
            exposure = (EXPOSURE[L[:, r.senders]] * s[r.senders][None, :]).sum(axis=1)
            leverage = exposure / (s + exposure)  # what senders can do to each state
            share = r.level * r.secondary * leverage
            share[r.senders] = r.level  # senders do not befriend whom they sanction
            share[r.targets] = 0.0
            third_free[:, r.targets] *= 1.0 - share[:, None]
        pressure = 1.0 - free
        support = (m.weight * pressure)[:, None] * self.rel * ~sends.T
        third = (m.weight * m.third_party) * (1.0 - third_free)
        return (
            support * m.support_friendship - third * m.third_party_friendship,
            support - third,
        )

    def expanding_options(self, L: np.ndarray, dy: Dyadic) -> tuple[np.ndarray, np.ndarray]:
        """Ties to competing camps at once are worth more than their sum; an alliance forecloses.

        ``O[i, j] = sum_k R[j, k] * v(L[i, k])``: how much a tie with j bridges to j's rivals k that
        i is friends with (v = 1) or could be (v = 0.3); allied rivals are no option (v = 0).
        """
        m = self.m.expanding_options
        v = OPTION_VALUE[L]
        np.fill_diagonal(v, 0.0)
        O = v @ dy.rivalry.T  # O[i, j] = sum_k v[i, k] R[j, k]
        gain = (self.world.options[:, None] * m.weight) * O
        return gain, -m.alliance_factor * gain

    def prioritizing_interests(self) -> tuple[np.ndarray, np.ndarray]:
        """An alliance makes a state follow its partner's line; divergent interests then cost."""
        m = self.m.prioritizing_interests
        cost = (self.world.interest_weight[:, None] * m.weight) * self.divergence
        return -m.friendship_factor * cost, -cost

    # -- assembling ------------------------------------------------------------------------------
    def terms(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]) -> Terms:
        """Each enabled mechanism's contribution, plus the always-on base terms."""
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
            out["prioritizing_interests"] = self.prioritizing_interests()
        p = self.p
        out["base"] = (
            self.gains - p.friendship_cost - self.rival_cost,
            self.gains - p.alliance_cost - 2.0 * self.rival_cost,
        )
        return out

    def utilities(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime]) -> np.ndarray:
        """(3, N, N) utilities of none / friendship / alliance, inertia included."""
        n = self.n
        U = np.zeros((3, n, n))
        for friend, ally in self.terms(L, dy, active).values():
            U[1] += friend
            U[2] += ally
        # Inertia: keeping the current level is worth a little (diplomacy is slow to change).
        U[L, np.arange(n)[:, None], np.arange(n)[None, :]] += self.p.inertia
        return U

    def choose(self, U: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Logit (softmax) choice of a desired level for every ordered pair: bounded rationality."""
        z = U / self.p.temperature
        z -= z.max(axis=0)
        e = np.exp(z)
        cum = np.cumsum(e, axis=0)
        u = rng.random((self.n, self.n)) * cum[2]
        desired = (u >= cum[0]).astype(np.int8) + (u >= cum[1])
        np.fill_diagonal(desired, 0)
        return desired


def consent(desired: np.ndarray) -> np.ndarray:
    """A tie exists only at the level both sides want: the lower of the two wishes."""
    return np.minimum(desired, desired.T)
