"""The decision rule: what a state gains from each tie level with each partner, and its choice.

This is the one file to read (and change) to understand why states ally, befriend or stay apart.
It knows nothing of files, the command line or plots. Why one module, over 500 lines: the rule is
read as a whole — every term of docs/ODD.md §7 next to the others it is summed with, the choice
next to the utilities — and split across files it would be read in pieces.

Every state uses the same rule. For state ``i`` and partner ``j`` the utility of a tie level
``l`` (0 none, 1 friendship, 2 alliance) is a sum of terms, one per mechanism of docs/ODD.md §7,
each weighted by scenario data and each switchable off. No tie is the reference: ``U[0] = 0``
(plus inertia when it is the current level). Rows are evaluated for all states at once with numpy
because that is cheap, but read every formula as "state i looks at j".

The mechanisms, in one line each (formulas in the methods below and in docs/ODD.md):

- security (Walt 1987): a tie is worth the share of i's threats it removes; a threat is a rival's
  power against the power i and its partners can muster; a partner helps with its power times the
  reliability of the tie level (alliances: Leeds, Long & Mitchell 2000), never against itself;
- partner hedging and historical distrust discount that help (a partner tied to my rival helps
  less against it; a distrusted partner is less likely to honour a commitment, Kydd 2005);
- autonomy (Morrow 1991): in an alliance the weaker side cedes freedom of action, the stronger
  gains it;
- entrapment (Snyder 1984): an ally's quarrels one does not share are the cost of the commitment;
- sanctions: a target gains from ties with non-senders; third parties pay for ties with it;
- expanding options (Kuik 2008): an alliance with j costs the payoff of i's ties with j's rivals,
  which it forecloses; a friendship forecloses nothing;
- non-alignment doctrine: a state's doctrine against alliances with great powers;
- prioritizing interests: an alliance makes i follow a line that conflicts with its interests;
- institutions: leaving an alliance or a treaty costs an exit cost calibrated on treaty durations.

Arrays may carry leading axes before the last two (N, N) ones: K replications of one scenario
advanced in lock-step (sim.model.lockstep) hold ties and distrust as (K, N, N), and every
formula here broadcasts over them (``...`` indexing, ``axis=-1``; the level axis of a Pair
comes first). Write new terms the same way; the tests check that a replication run in a batch
is bit-for-bit the replication run alone.

Notation: ``s`` power, ``b[i, j] = s_j / (s_i + s_j)`` the partner's relative power, ``R``
rivalry, ``C`` interest compatibility, ``D`` current distrust, ``H0`` perceived hedging, ``L``
current ties, ``tau = (0, 0.5, 1)`` the weight of a tie level.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.ties import TIE_WEIGHT
from sim.scenario.schema import MECHANISMS, Mechanisms, Params

if TYPE_CHECKING:
    from sim.model.world import Regime, World

MAX_THREATS = 8
"""Rivals each state weighs in its security: its most threatening ones (Walt: states balance
against the greatest threat; no state in the rivalry data has more than 8 in one year)."""

Pair = np.ndarray
"""A (2, ..., N, N) array: ``[0]`` is added to the utility of friendship, ``[1]`` to that of
alliance (both relative to no tie); between them, the replication axis of a lock-step batch.
Unpacks as ``friendship, alliance = pair``."""
Terms = dict[str, Pair]
"""mechanism name -> its Pair."""

GATHER_CELLS = 2048
"""From this many tie cells (replications x N x N) on, the choice computes only the pairs under
review (benchmarks/bench_run.py: below it the gathering costs more than it saves)."""

EDGE_TABLE_CELLS = 2**15
"""Below this many edge cells (replications x threat edges x N), partner hedging's discount is
looked up from a table (fewer calls); from it on, computed on the cells (fewer bytes moved)."""

SHARED_BYTES = 64 * 2**20
"""Cap on what the rule keeps per world and setting in ``World.cache`` (static terms and
sanctions pressure by step): every run of a world computes the same sequence of them, so runs
after the first look them up; past the cap they are computed as before."""

_STATIC = (
    "s", "rel", "_rivalry",
    "ei", "ek", "_threatened", "_slots", "_edges",
    "edge_rival_power", "edge_own_power", "edge_weight", "_edge_rival_power_n", "_edge_weight_n",
    "_s32", "_rho32", "_rho_levels",
    "w_hedge", "_w_edge_n", "_tied_table", "_tied_offset", "help_raw", "help_static",
    "w_distrust", "_price", "_aut", "w_options", "static_terms", "_static_sum",
)  # fmt: skip
"""What :meth:`DecisionRule.refresh_static` computes: attributes of the rule."""


def read_only(a: np.ndarray) -> np.ndarray:
    """``a`` made read-only: it is kept for later steps (or, for a tie matrix, what is computed
    from it is), so it must never be edited; an edit raises instead."""
    a.flags.writeable = False
    return a


def _frozen(value: object) -> object:
    """``value`` with its arrays read-only: shared between runs, they must never be edited."""
    if isinstance(value, np.ndarray):
        value.flags.writeable = False
    elif isinstance(value, dict):
        for v in value.values():
            _frozen(v)
    elif isinstance(value, tuple):
        for v in value:
            _frozen(v)
    return value


def _nbytes(value: object) -> int:
    if isinstance(value, np.ndarray):
        return value.nbytes
    if isinstance(value, dict):
        return sum(_nbytes(v) for v in value.values())
    if isinstance(value, tuple):
        return sum(_nbytes(v) for v in value)
    return 0


@dataclass
class Dyadic:
    """The dyadic quantities in force at a step (events change them)."""

    distrust: np.ndarray
    rivalry: np.ndarray
    interests: np.ndarray
    affinity: np.ndarray
    hedging: np.ndarray


@dataclass
class Attributes:
    """The state-level quantities in force at a step (events and power series change them)."""

    power: np.ndarray  # (N,)
    prefs: dict[str, np.ndarray]  # preference name -> (N,)


def sanction_bite(elapsed_years: np.ndarray, buildup: float, half_life: float | None) -> np.ndarray:
    """Share of a regime's level that bites after ``elapsed_years`` in force: its cost builds up
    (``1 - exp(-t / buildup)``) and fades as the target adapts (halving every ``half_life``)."""
    t = np.asarray(elapsed_years, dtype=float)
    grow = 1.0 - np.exp(-t / buildup) if buildup > 0 else np.ones_like(t)
    fade = np.exp2(-t / half_life) if half_life else np.ones_like(t)
    return grow * fade


def _rows_of(weights: np.ndarray, n: int) -> np.ndarray:
    """(N,) per-state weights as an (N, N) array, row i all ``weights[i]``."""
    return np.repeat(weights[:, None], n, axis=1)


def entrapment(R: np.ndarray, s: np.ndarray, honoured: float, block: int = 32) -> np.ndarray:
    """Expected cost to i of j's quarrels that i does not share (Snyder 1984).

    ``E[i, j] = honoured * sum_k (R[j, k] - R[i, k])+ * s_k / (s_j + s_k) * s_k / (s_i + s_k)``:
    for each of j's rivals k, the part of the quarrel that is j's alone, times how much j needs
    help against k (a partner able to face k alone rarely calls on its allies), times what
    fighting k costs i (k's power against i's), times the share of commitments honoured.
    """
    n = len(s)
    q = s[None, :] / (s[:, None] + s[None, :])  # q[i, k]: k's power against i's
    np.fill_diagonal(q, 0.0)
    out = np.empty((n, n))
    for a in range(0, n, block):
        rows = slice(a, min(n, a + block))
        excess = np.maximum(R[None, :, :] - R[rows, None, :], 0.0)  # [i, j, k]
        out[rows] = np.einsum("ijk,jk,ik->ij", excess, q, q[rows])
    np.fill_diagonal(out, 0.0)
    # k = j contributes R[j, j] = 0; k = i is removed by q[i, i] = 0
    return honoured * out


@dataclass(frozen=True)
class _Regimes:
    """A set of active sanctions regimes as arrays (R regimes): who sends and who is targeted,
    built once per set, and what depends on power and rivalry, rebuilt when those change."""

    targets: np.ndarray  # (R, N) 1 where regime r targets the column state
    is_sender: np.ndarray  # (N, R) 1 where the row state sends regime r
    third: np.ndarray  # (N, R) 1 where the row state neither sends nor is targeted by r
    not_sent: np.ndarray  # (N, N) [i, j]: 1 unless j sanctions i
    sends_to: np.ndarray  # (N, N) [i, j]: 1 where j sanctions i
    level: np.ndarray  # (R,)
    secondary: np.ndarray  # (R,)
    start: np.ndarray  # (R,) first step in force
    before: np.ndarray  # (R,) years in force before the start
    sender_cost: np.ndarray  # (N, N) cost to j of a tie with i because j sanctions i
    targeted: np.ndarray  # (I,) the states some regime targets, ascending
    by_target: np.ndarray  # (P,) regimes, grouped by the state they target (ascending within)
    starts: np.ndarray  # (I,) where each targeted state's regimes begin in by_target

    @classmethod
    def build(cls, active: Sequence[Regime], n: int) -> _Regimes:
        k = len(active)
        is_sender = np.zeros((n, k))
        targets = np.zeros((k, n))
        for c, r in enumerate(active):
            is_sender[r.senders, c] = 1.0
            targets[c, r.targets] = 1.0
        level = np.array([r.level for r in active])
        sends = (is_sender @ targets) > 0  # [j, i]: j sanctions i
        # product over the regimes j sends on i of (1 - level): one does not befriend one's target
        keep = np.exp(is_sender * np.log1p(-np.minimum(level, 1.0 - 1e-12)) @ targets)
        state, regime = np.nonzero(targets.T)  # (state, regime) pairs, by state then regime
        targeted, starts = np.unique(state, return_index=True)
        return cls(
            targets=targets,
            is_sender=is_sender,
            third=(1.0 - is_sender) * (1.0 - targets.T),
            not_sent=(~sends.T).astype(float),
            sends_to=sends.T.astype(float),
            level=level,
            secondary=np.array([r.secondary for r in active]),
            start=np.array([r.start for r in active]),
            before=np.array([r.in_force_years for r in active]),
            sender_cost=1.0 - keep,
            targeted=targeted,
            by_target=regime,
            starts=starts,
        )

    def shares(self, power: np.ndarray, rivalry: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """What depends on power and rivalry: the support share of a non-sender for a target,
        ``s_j / (s_j + S_i)`` ([i, j]), and third parties' exposure to each regime's senders,
        ``L / (s_j + L)`` with ``L`` their power discounted by rivalry with j (a rival of the
        sender has little trade with it to lose), as (R, N): [regime, third party j]."""
        against = self.sends_to @ power  # (N,) power of all senders against each state
        support_share = power[None, :] / (power[None, :] + against[:, None]) * self.not_sent
        np.fill_diagonal(support_share, 0.0)
        leverage = (1.0 - rivalry) @ (self.is_sender * power[:, None])  # (N, R)
        exposure = self.third * leverage / (power[:, None] + leverage)
        return support_share, np.ascontiguousarray(exposure.T)


class DecisionRule:
    """Utilities of friendship and alliance for every ordered pair, and the logit choice."""

    def __init__(
        self, world: World, mechanisms: Mechanisms, params: Params, batch_axes: int = 0
    ) -> None:
        self.world = world
        self.batch_axes = batch_axes  # leading replication axes of ties and distrust (0 or 1)
        self.m = mechanisms
        self.p = params
        self.n = world.n
        self.enabled = {name: getattr(mechanisms, name).enabled for name in MECHANISMS}
        self.static_version: int | None = None
        self._sanction_key: tuple[int, int | None] | None = None
        self._sanction_pair = np.zeros((0, 0))
        self._diagonal = np.arange(self.n)
        sec = mechanisms.security
        self.rho = np.array([0.0, sec.friendship_reliability, sec.alliance_reliability])
        k = params.inertia
        # probability that a pair reviews its tie in a step (1: every step)
        self.review = min(1.0, world.step_years / params.review_years)
        self._upper = np.triu(np.ones((self.n, self.n), dtype=bool), 1)
        # u / p in the upper triangle, u / 1 (exactly u) below it: one division per step
        self._review_scale = np.where(self._upper, self.review, 1.0)
        self._tie_buf: np.ndarray | None = None  # see _tie_values
        self._active_list: Sequence[Regime] | None = None  # the regimes of the last step
        self._active_ids: tuple[int, ...] = ()
        self._ties_of: np.ndarray | None = None  # see _for_ties
        self._of_ties: dict[str, np.ndarray] = {}
        self._inertia_of: tuple[np.ndarray | None, np.ndarray | None] = (None, None)
        self._off_diagonal = 1 - np.eye(self.n, dtype=np.intp)
        self._members_of: tuple = (None,)
        self._tau32 = TIE_WEIGHT.astype(np.float32)
        inst = mechanisms.institutions
        self.exit = inst.weight * inst.exit_cost if inst.enabled else k
        self.treaty_exit = inst.weight * inst.treaty_exit_cost if inst.enabled else k
        # inertia relative to no tie, indexed [friendship/alliance, current level]
        self._inertia = np.array([[-k, k, 0.0], [-k, 0.0, self.exit]])
        # what this setting computes from the world's data, shared by every run of the world
        key = ("decision", mechanisms.model_dump_json(), params.model_dump_json(), batch_axes)
        self._shared = world.cache.setdefault(key, {"bytes": 0})
        self._data: bytes = b""

    def _share(self, key: object, value: object) -> object:
        """Keep ``value`` (made read-only) for the other runs of this world, within the cap."""
        size = _nbytes(value)
        if self._shared["bytes"] + size <= SHARED_BYTES:
            self._shared["bytes"] += size
            self._shared[key] = _frozen(value)
        return value

    def _for_ties(self, L: np.ndarray) -> dict[str, np.ndarray]:
        """What was computed from the tie matrix ``L`` alone (with static data), kept while the
        caller passes the same array object: tie matrices are replaced, never edited, and a step
        that changes no tie keeps its array (sim.model.dynamics), as ~88% of the steps of a
        13-state run do. The cached arrays are read-only. Not in lock-step batches: some
        replication changes a tie in almost every step, and the arrays would only hold memory."""
        if self.batch_axes:
            return {}
        if L is not self._ties_of:
            self._ties_of, self._of_ties = L, {}
        return self._of_ties

    def _per_pair(self, factor: np.ndarray) -> np.ndarray:
        """A (2, a, b) factor of a Pair with the batch's axes after the level axis."""
        return factor.reshape(factor.shape[:1] + (1,) * self.batch_axes + factor.shape[1:])

    # -- quantities that change only when data changes (events, power series) ------------------
    def refresh_static(self, dy: Dyadic, at: Attributes, version: int) -> None:
        """Recompute what does not depend on current ties or distrust; skipped unless an event
        changed data since the last call, and looked up when another run of the world computed
        it from the same data (the key is the data's content, so a hit is exact)."""
        if self.static_version == version:
            return
        self.static_version = version
        self._ties_of = None  # what was kept for the ties used static data that may change
        digest = hashlib.blake2b(digest_size=16)
        for a in (dy.rivalry, dy.interests, dy.affinity, dy.hedging, at.power):
            digest.update(np.ascontiguousarray(a).data)
        for name in sorted(at.prefs):
            digest.update(np.ascontiguousarray(at.prefs[name]).data)
        self._data = digest.digest()
        self._sanction_key = None
        hit = self._shared.get(("static", self._data))
        if hit is None:
            self._compute_static(dy, at)
            hit = {a: getattr(self, a) for a in _STATIC if hasattr(self, a)}
            self._share(("static", self._data), hit)
        self.__dict__.update(hit)

    def _compute_static(self, dy: Dyadic, at: Attributes) -> None:
        """The work of :meth:`refresh_static`."""
        m, p = self.m, self.p
        s = at.power
        pref = at.prefs
        R = dy.rivalry
        self.s = s
        self.rel = s[None, :] / (s[:, None] + s[None, :])  # b[i, j]
        # -- threats: one edge per (state, rival), the MAX_THREATS most threatening rivals each
        theta = R * (s[None, :] / (s[:, None] + s[None, :]))
        np.fill_diagonal(theta, 0.0)
        order = np.argsort(-theta, axis=1, kind="stable")[:, :MAX_THREATS]
        keep = np.take_along_axis(theta, order, axis=1) > 0  # a prefix of each row (sorted)
        # Edges are laid out padded, M slots per threatened state (M: the most edges any state
        # has), so that a state's edges are one block and summing them is M - 1 whole-array
        # additions (see _sum_edges) rather than a reduceat over ragged segments, which numpy
        # runs column by column. A padding slot has weight 0 and its rival is the state itself.
        counts = keep.sum(axis=1)
        threatened = np.flatnonzero(counts)
        slots = int(counts.max()) if len(threatened) else 0
        valid = keep[threatened, :slots]  # (A, M)
        ei = np.repeat(threatened, slots)
        ek = np.where(valid, order[threatened, :slots], threatened[:, None]).ravel()
        valid = valid.ravel()
        self.ei, self.ek = ei, ek
        self._threatened, self._slots = threatened, slots
        self._edges = np.arange(len(ei))
        # edge arrays are float32: they are (E, N) per step, the hot path of large worlds
        f32 = np.float32
        self.edge_rival_power = np.where(valid, s[ek], 1.0)[:, None].astype(f32)  # (E, 1)
        self.edge_own_power = s[ei].astype(f32)  # (E,)
        # edge weight: rivalry, the state's security weight and the rival's power
        w_sec = m.security.weight * pref["security"]
        self.edge_weight = np.where(valid, R[ei, ek] * w_sec[ei] * s[ek], 0.0)[:, None].astype(f32)
        self._s32 = s.astype(f32)
        self._rho32 = self.rho.astype(f32)
        self._rho_levels = self._per_pair(self._rho32[1:, None, None])  # friendship, alliance
        # the same per-edge columns spread over (E, N), for whole-array products in security
        self._edge_rival_power_n = np.repeat(self.edge_rival_power, self.n, axis=1)
        self._edge_weight_n = np.repeat(self.edge_weight, self.n, axis=1)
        # -- the part of a partner's help that events alone change: rivalry with it, perceived
        # hedging (H0); distrust is learned, so it is applied each step
        hedging_on = self.enabled["partner_hedging"]
        self.w_hedge = (m.partner_hedging.weight * pref["hedging"]) if hedging_on else None
        help_static = 1.0 - R
        np.fill_diagonal(help_static, 0.0)  # a state is not its own partner
        self.help_raw = help_static.copy()
        if hedging_on:
            help_static = help_static * np.clip(1.0 - self.w_hedge[:, None] * dy.hedging, 0, None)
            # the discount of j's help against k by j's tie with k, by edge and level of that
            # tie: max(0, 1 - h_i tau(L[j, k])), looked up from the flat (E, 3) table
            w_edge = self.w_hedge[ei][:, None].astype(f32)  # (E, 1)
            table = np.maximum(f32(1.0) - self._tau32 * w_edge, f32(0.0))
            self._w_edge_n = np.repeat(w_edge, self.n, axis=1)  # (E, N)
            # a last entry, 0, read at j = k (the diagonal of L is 0): a rival does not help
            # against itself
            self._tied_table = np.append(table.ravel(), f32(0.0))
            offset = np.repeat(3 * np.arange(len(ei))[:, None], self.n, axis=1)  # (E, N)
            offset[self._edges, ek] = table.size
            self._tied_offset = offset
        self.help_static = help_static.astype(f32)
        self.help_raw = self.help_raw.astype(f32)
        distrust_on = self.enabled["historical_distrust"]
        # per-state weights are spread over their rows (N, N): whole-array products are
        # cheaper than broadcasting a column, for the same numbers
        self.w_distrust = (
            _rows_of(m.historical_distrust.weight * pref["distrust"], self.n)
            if distrust_on
            else None
        )
        # -- alliance-only terms that depend on data alone
        zero = np.zeros((self.n, self.n))
        self._price = None
        self.static_terms: Terms = {}
        rel = self.rel
        if self.enabled["autonomy"]:
            a = m.autonomy
            cost = (a.weight * a.commitment * pref["autonomy"])[:, None] * np.ones_like(rel)
            self.static_terms["autonomy"] = np.stack([zero, -cost])
            # the junior's share of its surplus that it pays, and the autonomy weights
            self._price = a.weight * a.bargain * np.clip(2.0 * rel - 1.0, 0.0, None)
            self._aut = _rows_of(pref["autonomy"], self.n)
        if self.enabled["entrapment"]:
            ent = entrapment(R, s, m.security.alliance_reliability)
            self.static_terms["entrapment"] = np.stack([zero, -m.entrapment.weight * ent])
        if self.enabled["prioritizing_interests"]:
            conflict = np.clip(-dy.interests, 0.0, None)
            cost = (m.prioritizing_interests.weight * pref["interests"])[:, None] * conflict
            self.static_terms["prioritizing_interests"] = np.stack([zero, -cost * 2.0 * rel])
        if self.enabled["nonalignment_doctrine"]:
            great = s / s.max()
            cost = (m.nonalignment_doctrine.weight * pref["doctrine"])[:, None] * great[None, :]
            self.static_terms["nonalignment_doctrine"] = np.stack([zero, -cost])
        gains = p.cooperation * dy.interests + dy.affinity - p.rivalry_cost * R
        self.static_terms["base"] = np.stack(
            [
                gains - p.friendship_cost,
                gains + p.alliance_gains * dy.interests - p.alliance_cost,
            ]
        )
        total = sum(self.static_terms.values())
        total[:, self._diagonal, self._diagonal] = 0.0
        self._static_sum = self._per_pair(total)
        self.w_options = (
            _rows_of(m.expanding_options.weight * pref["options"], self.n)
            if self.enabled["expanding_options"]
            else None
        )
        self._rivalry = R

    # -- security, with the discounts of distrust and partner hedging --------------------------
    def _edge_help(
        self, L: np.ndarray, D: np.ndarray, hedging: bool = True, distrust: bool = True
    ) -> tuple[np.ndarray, np.ndarray]:
        """Help per unit of reliability that each partner j brings against each threat edge.

        ``B[e, j] = s_j (1 - R[i, j]) (1 - h_i H0[i, j]) (1 - d_i D[i, j]) (1 - h_i tau(L[j, k]))``
        for the edge ``e = (i, k)``, zero for ``j = k`` (a rival does not help against itself)
        and ``j = i``; and ``rho[e, j]``, the reliability of i's current tie level with j.
        Ties are symmetric (consent), so ``L[j, k]`` is read as row k of ``L``.
        """
        f = self.help_static if hedging else self.help_raw
        if distrust and self.w_distrust is not None:
            trust = 1.0 - self.w_distrust * D
            np.maximum(trust, 0.0, out=trust)
            f = f * trust.astype(np.float32)
        base = f * self._s32
        B = base.take(self.ei, axis=-2)  # (..., E, N)
        kept = self._for_ties(L)
        if hedging and self.w_hedge is not None:
            # the discount of j's help by j's tie with the rival k of each edge, (..., E, N)
            tied = kept.get("tied")
            if tied is None:
                tied = kept["tied"] = read_only(self._tied(L, B.size))
            B = B * tied if B.ndim < tied.ndim else np.multiply(B, tied, out=B)
        else:
            B[..., self._edges, self.ek] = 0.0  # a rival does not help against itself
        rho = kept.get("rho")
        if rho is None:
            rho = kept["rho"] = read_only(self._rho32.take(L).take(self.ei, axis=-2))
        return B, rho

    def _tied(self, L: np.ndarray, cells: int) -> np.ndarray:
        """(..., E, N) partner hedging's discount of j's help by j's tie with the rival k of
        each edge (0 at j = k: a rival does not help against itself)."""
        if cells < EDGE_TABLE_CELLS:  # small: looked up from the flat (E, 3) table
            return self._tied_table.take(L.take(self.ek, axis=-2) + self._tied_offset)
        tied = self._tau32.take(L).take(self.ek, axis=-2)  # large: the table's arithmetic on
        tied *= self._w_edge_n  # the cells (no int64 index arrays)
        np.subtract(np.float32(1.0), tied, out=tied)
        np.maximum(tied, np.float32(0.0), out=tied)
        tied[..., self._edges, self.ek] = 0.0
        return tied

    def _sum_edges(self, v: np.ndarray) -> np.ndarray:
        """(..., E, M) values per threat edge summed over each state's edges: (..., A, M) for
        the threatened states, in the order ``np.add.reduceat`` over its edges adds them (the
        first edge plus the sum of the others, left to right), so the sums are bit-for-bit
        those of the ragged layout; padding slots add exact zeros."""
        slots = self._slots
        v = v.reshape((*v.shape[:-2], len(self._threatened), slots, v.shape[-1]))
        if slots == 1:
            return v[..., 0, :]
        rest = v[..., 1, :] + v[..., 2, :] if slots > 2 else v[..., 1, :].copy()
        for p in range(3, slots):
            rest += v[..., p, :]
        rest += v[..., 0, :]  # commutative: x0 + rest, as reduceat adds them
        return rest

    def _rows(self, edge_values: np.ndarray) -> np.ndarray:
        """(..., E, M) values per threat edge summed into (..., N, M) per threatened state."""
        out = np.zeros((*edge_values.shape[:-2], self.n, edge_values.shape[-1]))  # float64
        if len(self._threatened):
            out[..., self._threatened, :] = self._sum_edges(edge_values)
        return out

    def security(
        self, L: np.ndarray, D: np.ndarray, hedging: bool = True, distrust: bool = True
    ) -> Pair:
        """The share of i's threats that a friendship or an alliance with j would remove.

        For each rival k of i (an edge), i's insecurity is ``R[i, k] s_k / (P + s_k)`` with ``P``
        the power i musters against k: its own plus ``rho(L[i, j]) B[e, j]`` from each partner
        (see :meth:`_edge_help`). The value of level ``l`` with j is the insecurity removed by
        raising j's help from nothing to ``rho(l) B[e, j]`` while i's other ties stay as they are
        (diminishing returns), summed over i's threats and weighted by ``w * security_i``. States
        attend to their ``MAX_THREATS`` most threatening rivals (``R s_k / (s_i + s_k)``).
        """
        B, rho_now = self._edge_help(L, D, hedging, distrust)
        current = rho_now * B
        muster = self.edge_own_power + current.sum(axis=-1)  # (..., E)
        self._edge_cache = (B, current, muster)
        d0 = muster[..., None] - current  # the power i musters without j
        d0 += self._edge_rival_power_n
        # both levels at once: (2, ..., E, N)
        x = self._rho_levels * B
        v = d0 + x
        v *= d0
        np.divide(x, v, out=v)
        v *= self._edge_weight_n
        out = np.zeros((2, *L.shape))
        if len(self._threatened):
            out[..., self._threatened, :] = self._sum_edges(v)
        return out

    def transfer(self, sec: Pair) -> np.ndarray:
        """Morrow's exchange: the junior partner pays for the protection an alliance adds with
        policy concessions that the senior gains.

        ``tau[i, j] = bargain * (2 b[i, j] - 1)+ * (sec_A[i, j] - sec_F[i, j])+``: a share of the
        security the alliance adds over a friendship, larger the more unequal the pair. The
        junior pays ``autonomy_i * tau[i, j]``; the senior j gains ``autonomy_j * tau[i, j]``.
        """
        tau = self._price * np.maximum(sec[1] - sec[0], 0.0)
        return self._aut * (tau.swapaxes(-1, -2) - tau)

    # -- sanctions ----------------------------------------------------------------------------
    def _regime_parts(self, active: Sequence[Regime]) -> tuple[_Regimes, np.ndarray, np.ndarray]:
        """The arrays of a set of active regimes (cached per set), with their power-dependent
        shares (cached per set until power or rivalry change)."""
        key = tuple(id(r) for r in active)
        g = self._shared.get(("regime set", key))
        if g is None:
            g = _Regimes.build(active, self.n)
            self._share(("regime set", key), g)
        parts = self._shared.get(("shares", self._data, key))
        if parts is None:
            parts = self._share(("shares", self._data, key), g.shares(self.s, self._rivalry))
        return g, *parts

    def sanctions_pressure(self, active: Sequence[Regime], t: int) -> np.ndarray:
        """(N, N) added to both levels: a target's gain from ties with non-senders, minus what a
        tie with a target costs senders and third parties. Depends on the step, not on ties.

        Regime r bites ``level_r * bite(t - start_r)`` (:func:`sanction_bite`). Target i's
        pressure is ``P_i = 1 - prod_r (1 - bite_r)`` over the regimes on it; a tie with a
        non-sender j is worth ``w * P_i * s_j / (s_j + S_i)`` (``S_i`` the power of i's
        sanctioners: what j can replace). A third party j pays, per regime on i,
        ``bite_r * secondary_r * S_r / (s_j + S_r)`` (small states are most exposed), combined as
        ``1 - prod(1 - share)`` and scaled by ``w * third_party`` (``S_r`` discounted by the
        senders' rivalry with j: a rival of the sender has little to lose); a sender pays its full
        level (one does not befriend whom one sanctions). The non-sender j earns ``rent`` times
        what the tie is worth to the target (sanctions busting pays, Early 2015).
        """
        if active is not self._active_list:  # the caller keeps one list until a regime changes
            self._active_list, self._active_ids = active, tuple(id(r) for r in active)
        key = (self._active_ids, t)
        if key == self._sanction_key:
            return self._sanction_pair
        hit = self._shared.get(("sanctions", self._data, *key))
        if hit is not None:
            self._sanction_key, self._sanction_pair = key, hit
            return hit
        sp = self.m.sanctions_pressure
        g, support_share, exposure = self._regime_parts(active)
        elapsed = g.before + (t - g.start + 1) * self.world.step_years
        bite = g.level * sanction_bite(elapsed, sp.buildup_years, sp.adaptation_half_life_years)
        bite = np.minimum(bite, 1.0 - 1e-12)
        pressure = 1.0 - np.exp(np.log1p(-bite) @ g.targets)  # (N,)
        support = pressure[:, None] * support_share  # [target i, non-sender j]
        share = exposure * (bite * g.secondary)[:, None]  # (R, N): [regime, third party j]
        # [j, i]: 1 - prod over the regimes on i of (1 - share), as a sum of logs over those
        # regimes alone (each target has a few of the R regimes; others contribute exact zeros)
        third = np.zeros((self.n, self.n))
        if len(g.targeted):
            logs = np.add.reduceat(np.log1p(-share)[g.by_target], g.starts, axis=0)  # (I, N)
            third[:, g.targeted] = (1.0 - np.exp(logs)).T
        rent = sp.rent * support.T  # what the lifeline earns the non-sender j
        out = sp.weight * (support + rent - sp.third_party * third - g.sender_cost)
        out[self._diagonal, self._diagonal] = 0.0
        self._sanction_key, self._sanction_pair = key, out
        self._share(("sanctions", self._data, *key), out)
        return out

    # -- options ------------------------------------------------------------------------------
    def expanding_options(self, L: np.ndarray, before: Pair) -> Pair:
        """An alliance with j costs the payoff of i's ties with j's rivals: it forecloses them.

        ``cost[i, j] = w * options_i * sum_k R[j, k] V[i, k]`` where ``V[i, k]`` is what i's
        current tie with k is worth to it (its utility before options, at least 0; nothing when
        there is no tie): a full rival of j ends the tie, a partial one part of it. A friendship
        with j forecloses nothing.
        """
        return np.stack([np.zeros(L.shape), -self.options_cost(L, before)])

    def options_cost(self, L: np.ndarray, before: Pair) -> np.ndarray:
        """The alliance side of :meth:`expanding_options` (a friendship's is zero)."""
        value = self._tie_values(L, before)
        np.maximum(value, 0.0, out=value)
        return self.w_options * (value @ self._rivalry)

    def _tie_values(self, L: np.ndarray, pair: Pair) -> np.ndarray:
        """What each current tie is worth: ``pair[L - 1]`` where there is a tie, 0 where there is
        none (the same values as two nested ``np.where``, by one lookup in a (3, ...) buffer whose
        first layer stays zero: half the calls)."""
        buf = self._tie_buf
        if buf is None or buf.shape[1:] != L.shape:
            buf = np.zeros((3, *L.shape))
            offsets = np.arange(L.size).reshape(L.shape)
            if not self.batch_axes:  # a batch's buffers would only hold memory between steps
                self._tie_buf, self._tie_offsets = buf, offsets
        else:
            offsets = self._tie_offsets
        buf[1:] = pair
        kept = self._for_ties(L)
        index = kept.get("tie index")
        if index is None:
            index = kept["tie index"] = read_only(L * L.size + offsets)
        return buf.reshape(-1).take(index)

    # -- assembling ---------------------------------------------------------------------------
    def _before_options(
        self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime], t: int
    ) -> tuple[Pair, Pair | None]:
        """Every term but options and inertia, summed, and the security Pair."""
        if self.batch_axes:
            U = np.empty((2, *L.shape))
            U[...] = self._static_sum
        else:
            U = self._static_sum.copy()
        sec = None
        if self.enabled["security"] and len(self.ei):
            sec = self.security(L, dy.distrust)
            U += sec
            if self._price is not None:
                U[1] += self.transfer(sec)
        if self.enabled["sanctions_pressure"] and active:
            U += self.sanctions_pressure(active, t)
        return U, sec

    def base_utilities(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime], t: int) -> Pair:
        """Utilities of friendship and alliance relative to no tie, without inertia (for
        treaties) — the sum of :meth:`terms`."""
        U, sec = self._before_options(L, dy, active, t)
        self._security_pair = sec
        if self.w_options is not None:
            U[1] -= self.options_cost(L, U)
        U.reshape(*U.shape[:-2], -1)[..., :: self.n + 1] = 0.0  # the diagonal (U is contiguous)
        return U

    def with_inertia(self, U: Pair, L: np.ndarray) -> Pair:
        """Add the value of keeping the current level: inertia for friendships and no tie, the
        exit cost of institutions for alliances (a new array: ``U`` stays the utilities without
        inertia, which treaty membership values use)."""
        of, value = self._inertia_of
        if L is not of:  # kept while the same (never edited) array comes back (see _for_ties)
            value = self._inertia.take(L, axis=1)
            if not self.batch_axes:
                self._inertia_of = (L, read_only(value))
        return U + value

    def relative_utilities(
        self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime], t: int
    ) -> Pair:
        """Utilities of friendship and alliance *relative to no tie*, inertia included (the hot
        path of every run)."""
        return self.with_inertia(self.base_utilities(L, dy, active, t), L)

    def terms(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime], t: int) -> Terms:
        """Each mechanism's contribution (for explaining); they sum to :meth:`base_utilities`.

        Security is shown undiscounted, and distrust and partner hedging as what their discounts
        take away from it (distrust first, then hedging), so the three add up to the security
        that enters the utility.
        """
        out: Terms = {}
        if self.enabled["security"] and len(self.ei):
            raw = self.security(L, dy.distrust, hedging=False, distrust=False)
            with_d = self.security(L, dy.distrust, hedging=False)
            full = self.security(L, dy.distrust)
            out["security"] = raw
            if self.enabled["historical_distrust"]:
                out["historical_distrust"] = with_d - raw
            if self.enabled["partner_hedging"]:
                out["partner_hedging"] = full - with_d
        for name, pair in self.static_terms.items():
            if name != "base":
                out[name] = np.broadcast_to(self._per_pair(pair), (2, *L.shape)).copy()
        if "security" in out and self._price is not None:
            full = sum(
                out[k] for k in ("security", "historical_distrust", "partner_hedging") if k in out
            )
            out["autonomy"][1] += self.transfer(full)
        if self.enabled["sanctions_pressure"] and active:
            s = self.sanctions_pressure(active, t)
            out["sanctions_pressure"] = np.broadcast_to(s, (2, *L.shape)).copy()
        base = self._per_pair(self.static_terms["base"])
        out["base"] = np.broadcast_to(base, (2, *L.shape)).copy()
        if self.w_options is not None:
            before, _ = self._before_options(L, dy, active, t)
            out["expanding_options"] = self.expanding_options(L, before)
        for pair in out.values():
            pair[:, ..., self._diagonal, self._diagonal] = 0.0
        return out

    def utilities(self, L: np.ndarray, dy: Dyadic, active: Sequence[Regime], t: int) -> np.ndarray:
        """(3, N, N) utilities of none / friendship / alliance, inertia included (for reading)."""
        U = np.zeros((3, *L.shape))
        for pair in self.terms(L, dy, active, t).values():
            U[1:] += pair
        U[1:] += self._inertia.take(L, axis=1)
        return U

    # -- treaties -----------------------------------------------------------------------------
    def membership_values(self, U: Pair, members: np.ndarray) -> np.ndarray:
        """(..., T, N) value to each state of being in each treaty rather than out of it.

        A member's commitment covers the whole treaty: the value is the security the members
        bring as allies rather than as friends, taken jointly (not as a sum of marginal values),
        plus, for each member j, the alliance's other terms against a friendship's (autonomy,
        entrapment, interests, doctrine, options, upkeep), with the upkeep charged once per
        treaty; members also keep the exit cost. ``U`` is :meth:`base_utilities` of this step
        (its security part and edge help are reused); ``members`` is (..., T, N) boolean.
        """
        m, upkeep, exit_value = self._membership_terms(members)
        sec = self._security_pair
        if self.p.friendship:  # out of the treaty, a member stays a friend
            nonsec = U[1] - U[0] - (0.0 if sec is None else sec[1] - sec[0])
            rho_out = self.rho[1]
        else:
            nonsec = U[1] - (0.0 if sec is None else sec[1])
            rho_out = 0.0
        value = np.matmul(nonsec, m)  # (..., N, T): the pair terms summed over members j
        value += upkeep
        if sec is not None:
            B, current, muster = self._edge_cache
            base = muster[..., None] - np.matmul(current, m) + self.edge_rival_power  # (..., E, T)
            B_t = np.matmul(B, m)
            w = self.edge_weight
            value += self._rows(w / (base + rho_out * B_t) - w / (base + self.rho[2] * B_t))
        value = value.swapaxes(-1, -2)  # (..., T, N)
        value += exit_value
        return value

    def _membership_terms(self, members: np.ndarray) -> tuple[np.ndarray, ...]:
        """What :meth:`membership_values` needs of a membership array alone: the members as
        (..., N, T) floats, the upkeep charged once per treaty, ``(others - 1) * alliance_cost``
        (others: the members other than i), and the exit cost members keep; computed again only
        when membership changes (the array is replaced, never edited)."""
        if self._members_of[0] is not members:
            m = members.astype(float).swapaxes(-1, -2)  # (..., N, T)
            others = m.sum(axis=-2, keepdims=True) - m  # members other than i
            upkeep = (others - 1.0) * self.p.alliance_cost
            self._members_of = (members, m, upkeep, self.treaty_exit * members)
        return self._members_of[1:]

    def choose_membership(self, value: np.ndarray, u: np.ndarray, now: np.ndarray) -> np.ndarray:
        """Logit choice to be in a treaty (stay or join) rather than out, at a review (with the
        probability of :meth:`choose`); outside a review the state stays where it is."""
        p = self.review
        review = u < p
        u = u / p
        z = -value / self.p.temperature
        np.maximum(z, -700.0, out=z)  # np.clip's values, without its Python wrapper (~10 us)
        np.minimum(z, 700.0, out=z)
        return np.where(review, u * (1.0 + np.exp(z)) < 1.0, now)

    # -- choice --------------------------------------------------------------------------------
    def choose(self, U: Pair, u: np.ndarray, L: np.ndarray) -> np.ndarray:
        """Logit (softmax) choice of a desired level for every ordered pair under review.

        A pair is reviewed in a step with probability ``p = step / review_years`` (both sides at
        once: a review is a diplomatic occasion); a side that is not reviewing wants its current
        level ``L``. Under review, ``P(l) = exp(U_l / T) / sum_k exp(U_k / T)`` with ``U`` the
        utilities of friendship and alliance relative to no tie (bounded rationality).

        ``u`` (..., N, N) holds one uniform draw in [0, 1) per ordered pair, drawn by the caller
        from its own stream (so replications in lock-step keep the stream they would have
        alone). The draw of the upper-triangle cell decides the review (``u < p``) and, divided by
        ``p``, is that side's choice draw; the lower-triangle cell is the other side's.
        """
        p = self.review
        if p < 1.0:
            upper = self._upper
            review = u < p
            review = np.where(upper, review, review.swapaxes(-1, -2))
            u = np.divide(u, self._review_scale)
            # in large arrays only the pairs under review choose (~p of them): the others keep
            # L, so their utilities need no exponential; the same arithmetic on fewer cells
            # (small arrays cost the call, not the cells: there, every cell computes)
            gather = L.size >= GATHER_CELLS
            if gather:
                cells = np.flatnonzero(review)
                u = u.ravel()[cells]
                U = U.reshape(2, -1)[:, cells]
        e = np.multiply(U, 1.0 / self.p.temperature, out=U)  # U is ours to reuse
        np.minimum(e, 700.0, out=e)  # exp would overflow beyond; such a choice is certain anyway
        np.exp(e, out=e)
        if not self.p.friendship:  # the alliance-only world: no tie or an alliance
            e[0] = 0.0
        c1 = 1.0 + e[0]
        u = u * (c1 + e[1])
        chosen = (u >= 1.0).view(np.uint8)  # the level: how many thresholds the draw passed
        chosen += (u >= c1).view(np.uint8)
        if p >= 1.0:
            desired = chosen.astype(np.intp)
        elif gather:
            desired = L.copy()
            desired.reshape(-1)[cells] = chosen
        else:
            desired = np.where(review, chosen, L)
        desired *= self._off_diagonal  # no tie with oneself
        return desired


def consent(desired: np.ndarray) -> np.ndarray:
    """A tie exists only at the level both sides want: the lower of the two wishes."""
    return np.minimum(desired, desired.swapaxes(-1, -2))
