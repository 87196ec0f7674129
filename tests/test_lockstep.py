"""Lock-step batches (sim.model.lockstep): replication k of a batch is bit-for-bit the run alone
(the Mesa model, sim.model.model.AlignmentModel, with its agents).

Sweeps and ``hedgesim run`` rely on this for their reproducibility promise (same scenario + seed
⇒ identical output whatever the chunking), so it is checked field by field, dtype included, on
the shipped scenarios, with every mechanism switched off in turn, and on random worlds whose
events clip learned distrust differently in each replication, whose treaties gain and lose
members differently in each replication, and whose power and preferences change by events.
"""

from __future__ import annotations

import itertools
from dataclasses import fields
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import sim.model.lockstep as lockstep
from sim.errors import SimulationError
from sim.experiments.conditions import ablate
from sim.experiments.engine import plan_chunks
from sim.model import decision
from sim.model.dynamics import Dynamics
from sim.model.lockstep import LockstepModel, simulate_many
from sim.model.model import AlignmentModel
from sim.model.recording import Recorder
from sim.model.seeds import decision_stream
from sim.model.seeds import replication_seed as seed_for
from sim.model.world import compile_world
from sim.scenario.generate import random_world_document
from sim.scenario.load import load_scenario
from sim.scenario.schema import MECHANISMS, Scenario

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "scenarios"


def assert_identical(alone, batch) -> None:
    assert len(alone) == len(batch)
    for k, (a, b) in enumerate(zip(alone, batch, strict=True)):
        for f in fields(a):
            x, y = getattr(a, f.name), getattr(b, f.name)
            if not isinstance(x, np.ndarray):  # the calendar: (start, step unit) or None
                assert x == y, (k, f.name)
                continue
            assert x.dtype == y.dtype and x.shape == y.shape, (k, f.name)
            assert np.array_equal(x, y), f"replication {k}: {f.name} differs"


def check(sc: Scenario, n: int = 5, steps: int | None = None, every: int | None = None) -> list:
    w = compile_world(sc)
    seeds = [seed_for(sc.seed, i) for i in range(n)]
    alone = [
        AlignmentModel(sc, rng=s, record_every=every, world=w)
        .finish(sc.params.steps if steps is None else steps)
        .run_record()
        for s in seeds
    ]
    assert_identical(alone, simulate_many(w, sc, seeds, steps, every))
    return alone


@pytest.mark.parametrize("name", ["iran_2021", "toy_triangle", "europe_1936"])
def test_shipped_scenarios_match_run_alone(name: str) -> None:
    check(load_scenario(SCENARIOS / f"{name}.yaml"), every=7)


@pytest.mark.parametrize("factor", [*MECHANISMS, "friendship"])
def test_each_switch_matches_run_alone(factor: str) -> None:
    sc = load_scenario(SCENARIOS / "iran_2021.yaml")
    if factor == "friendship":
        sc = sc.model_copy(update={"params": sc.params.model_copy(update={"friendship": False})})
    else:
        sc = ablate(sc, (factor,))
    check(sc, n=4, steps=60, every=1)


def _eventful(n: int, seed: int) -> Scenario:
    """A random world with sanctions that start and end and events on every dyadic field,
    including distrust pushed past its bounds (the clipped change, hence the historical record and
    its revert, then differ between replications)."""
    doc = random_world_document(n, seed=seed, steps=40)
    ids = list(doc["states"])
    a, b, c = ids[0], ids[1], ids[2]
    doc["sanctions"] = [
        {"name": "s1", "senders": [a], "targets": [b], "level": 0.7, "start": 3, "end": 25},
        {"name": "s2", "senders": [c, a], "targets": [ids[-1]], "level": 1.0, "start": 10},
    ]
    doc["events"] = [
        {
            "name": "betrayal",
            "step": 5,
            "until": 20,
            "field": "distrust",
            "changes": {a: {b: 0.9, c: 0.6}, c: {b: 0.95}},
        },
        {"name": "reset", "step": 12, "field": "distrust", "mode": "set", "changes": {b: {a: 0.0}}},
        {"name": "feud", "step": 8, "until": 30, "field": "rivalry", "changes": {b: {c: 0.8}}},
        {"name": "deal", "step": 2, "field": "interests", "changes": {a: {c: 0.7}}},
        {"name": "channel", "step": 4, "until": 9, "field": "affinity", "changes": {a: {b: 0.5}}},
        {"name": "vote", "step": 6, "field": "hedging", "changes": {b: {c: 0.4}}},
        {"name": "growth", "step": 7, "field": "power", "mode": "set", "changes": {a: 0.2}},
        {
            "name": "fear",
            "step": 9,
            "until": 30,
            "field": "preferences.security",
            "changes": {b: 2.0, c: 1.0},
        },
    ]
    doc["treaties"] = [
        {"name": "pact", "members": [a, c, ids[3]]},
        {"name": "late", "members": [b, ids[-1]], "start": 11, "end": 33, "open": False},
    ]
    doc["params"].update({"temperature": 0.15, "inertia": 0.05})
    doc["mechanisms"] = {"historical_distrust": {"betrayal_learning": 0.5}}
    return Scenario.model_validate(doc)


@pytest.mark.parametrize(("n", "seed"), [(4, 1), (9, 2), (25, 3)])
def test_random_worlds_with_events_match_run_alone(n: int, seed: int) -> None:
    sc = _eventful(n, seed)
    check(sc, n=6, every=3)


def test_batches_split_by_size_still_match(monkeypatch) -> None:
    sc = _eventful(9, 4)
    monkeypatch.setattr(lockstep, "MAX_BATCH_CELLS", 2 * 9 * 9)  # batches of 2, 2, 1
    assert lockstep.batch_size(9) == 2
    check(sc, n=5, every=5)


def test_the_runs_draw_from_their_own_decision_stream_not_mesas() -> None:
    """hedgesim derives its streams from the replication's seed itself (sim.model.seeds): the
    choices come from the decision stream, and Mesa's generators are seeded apart."""
    sc = load_scenario(SCENARIOS / "toy_triangle.yaml")
    w = compile_world(sc)
    for i in range(3):
        seed = seed_for(11, i)
        model = AlignmentModel(sc, rng=seed, world=w)
        assert model.decisions.bit_generator.state == decision_stream(seed).bit_generator.state
        kids = seed_for(11, i).spawn(2)  # the decision stream is the seed's first child
        assert (
            decision_stream(seed).random(4).tolist()
            == np.random.default_rng(kids[0]).random(4).tolist()
        )
        assert model.rng is not model.decisions
        model.run_for(5)  # drawing from Mesa's generator does not change a run
        drawn = AlignmentModel(sc, rng=seed, world=w)
        drawn.rng.random(1000)
        drawn.random.random()
        drawn.run_for(5)
        assert np.array_equal(model.ties, drawn.ties)


def test_batch_has_one_axis_per_replication_and_no_agents() -> None:
    sc = load_scenario(SCENARIOS / "toy_triangle.yaml")
    w = compile_world(sc)
    m = LockstepModel(w, sc.mechanisms, sc.params, seeds=[seed_for(1, i) for i in range(3)])
    assert m.ties.shape == m.dyadic.distrust.shape == m.history.shape == (3, w.n, w.n)
    assert m.dyadic.rivalry.shape == (w.n, w.n)  # shared: only events change it
    assert len(m.agents) == 0
    with pytest.raises(ValueError, match="at least one seed"):
        LockstepModel(w, sc.mechanisms, sc.params, seeds=[])


def test_a_failure_names_the_replication_of_the_batch(monkeypatch) -> None:
    sc = load_scenario(SCENARIOS / "toy_triangle.yaml")
    w = compile_world(sc)
    original = decision.DecisionRule.security

    def poisoned(self, L, D, *args, **kwargs):
        pair = original(self, L, D, *args, **kwargs)
        if pair.ndim == 4 and self.static_version is not None:
            pair = pair.copy()
            pair[1, 2, 0, 1] = np.nan  # replication 2 only
        return pair

    monkeypatch.setattr(decision.DecisionRule, "security", poisoned)
    with pytest.raises(SimulationError) as info:
        simulate_many(w, sc, [seed_for(1, i) for i in range(4)], steps=3)
    assert info.value.replication == 2
    assert f"utility of {w.ids[0]} for a tie with {w.ids[1]} is not finite" in str(info.value)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 300), unique=True, max_size=120).map(sorted),
    st.integers(1, 40),
    st.integers(1, 30),
    st.one_of(st.none(), st.integers(1, 8)),
)
def test_plan_chunks_covers_pending_and_cuts_at_cells(pending, chunk, reps, guided) -> None:
    pending = np.array(pending, dtype=np.int64)
    out = list(plan_chunks(pending, chunk, reps, guided=guided))
    assert np.array_equal(np.concatenate(out) if out else pending[:0], pending)  # all, in order
    assert all(1 <= len(c) <= chunk for c in out)
    owners: dict[int, list[int]] = {}
    for c in out:
        for cell in set((c // reps).tolist()):
            owners.setdefault(cell, []).append(int(np.count_nonzero(c // reps == cell)))
    for cell, pieces in owners.items():
        if reps <= chunk:  # a cell that fits a chunk is never split between chunks
            assert len(pieces) == 1, f"cell {cell} split"
        else:  # a larger one in near-equal pieces: no tiny remainder batch
            assert max(pieces) - min(pieces) <= 1, f"cell {cell} in pieces {pieces}"
    if guided:  # guided chunks never grow (up to a cell's near-equal pieces), so the tail is short
        sizes = [len(c) for c in out[:-1]]
        assert all(b <= a + max(reps, 8) for a, b in itertools.pairwise(sizes))
        return
    # no chunk could have taken the next chunk's first cell group without exceeding the size
    for a, b in itertools.pairwise(out):
        first_cell = b[0] // reps
        group = np.count_nonzero(b // reps == first_cell)
        assert len(a) + min(group, chunk) > chunk or a[-1] // reps == first_cell


def test_batches_stay_cache_sized_and_large_worlds_run_alone() -> None:
    # K × N × N ≤ MAX_BATCH_CELLS: big batches of big worlds fall out of cache and get slower
    for n in (2, 13, 50, 100, 181, 182, 500):
        k = lockstep.batch_size(n)
        assert k >= 1 and (k == 1 or k * n * n <= lockstep.MAX_BATCH_CELLS)
        assert (k + 1) * n * n > lockstep.MAX_BATCH_CELLS  # the largest batch that fits
    assert lockstep.batch_size(13) > 100
    assert lockstep.batch_size(128) == 2 and lockstep.batch_size(129) == 1


def _fuzzed(n: int, seed: int, rng: np.random.Generator) -> Scenario:
    """A random world with what the batch must keep per replication: events at step 0, sanctions
    at level 1 from step 0, initial alliances (so betrayals can happen from the first step)."""
    doc = random_world_document(n, seed=seed, steps=int(rng.integers(5, 60)), density=0.2)
    ids = list(doc["states"])
    a, b, c = ids[:3]
    doc["sanctions"] = [
        {
            "name": "s0",
            "senders": [a],
            "targets": [b],
            "level": 1.0,
            "start": 0,
            "end": int(rng.integers(1, 30)),
        },
        {
            "name": "s1",
            "senders": [c],
            "targets": [ids[-1], b],
            "level": float(rng.uniform()),
            "start": 2,
        },
    ]
    doc["events"] = [
        {
            "name": "e0",
            "step": 0,
            "until": int(rng.integers(1, 20)),
            "field": "distrust",
            "changes": {a: {b: 0.9}, b: {a: 0.7}},
        },
        {"name": "e1", "step": 0, "field": "rivalry", "changes": {a: {c: 0.6}}},
        {
            "name": "e2",
            "step": int(rng.integers(0, 10)),
            "until": int(rng.integers(11, 40)),
            "field": "distrust",
            "mode": "set",
            "changes": {c: {a: 1.0}, a: {c: 0.0}},
        },
    ]
    doc["ties"] = {a: {b: "alliance", c: "friendship"}, ids[3]: {ids[4]: "alliance"}}
    doc["step"] = str(rng.choice(["year", "month"]))  # reviews every step, or a twelfth of them
    if rng.integers(2):
        doc["treaties"] = [
            {"name": "t0", "members": [a, c], "start": int(rng.integers(0, 5))},
            {"name": "t1", "members": [b, ids[3], ids[4]], "open": bool(rng.integers(2))},
        ]
    if rng.integers(2):
        doc["start"] = "2000-01"
        doc["states"][a]["power_series"] = {
            2000 + k: float(rng.uniform(0.01, 0.3)) for k in range(4)
        }
    doc["params"].update(
        {
            "temperature": float(rng.uniform(0.05, 0.5)),
            "inertia": float(rng.uniform(0, 0.3)),
            "friendship": bool(rng.integers(2)),
        }
    )
    doc["mechanisms"] = {
        "historical_distrust": {
            "betrayal_learning": float(rng.uniform(0, 1)),
            "trust_learning": float(rng.uniform(0, 0.5)),
            "memory": float(rng.uniform()),
        }
    }
    return Scenario.model_validate(doc)


def test_fuzzed_worlds_match_run_alone_with_betrayals_in_some_replications(monkeypatch) -> None:
    """24 seeded random cases (5-20 states, 2-8 replications, recording every step, every 4th,
    only the ends, steps shorter than the recording period). In some cases an alliance is
    betrayed in some replications of a batch and not in others: the learned distrust then
    differs between replications, which is what the batch must keep apart."""
    mixed = treaties_apart = 0
    seen: list[np.ndarray] = []
    learn = Dynamics._learn

    def spy(self, previous, wants):
        cut = (previous == 2) & (self.ties < 2) & wants & ~wants.swapaxes(-1, -2)
        if cut.ndim == 3:
            seen.append(cut.reshape(len(cut), -1).any(axis=1))
        return learn(self, previous, wants)

    monkeypatch.setattr(Dynamics, "_learn", spy)
    rng = np.random.default_rng(7)
    for case in range(24):
        sc = _fuzzed(int(rng.choice([5, 8, 13, 20])), case, rng)
        seen.clear()
        alone = check(
            sc,
            n=int(rng.integers(2, 9)),
            steps=[None, 7, 1][case % 3],
            every=[None, 1, 4, 1000][case % 4],
        )
        if seen:
            hit = np.array(seen).any(axis=0)
            mixed += bool(hit.any() and not hit.all())
        members = [r.final_members for r in alone]
        treaties_apart += any(not np.array_equal(members[0], m) for m in members[1:])
    assert mixed >= 2, f"only {mixed} cases had betrayals in some replications but not all"
    assert treaties_apart >= 2, f"only {treaties_apart} cases ended with different treaty members"


# -- the speed paths change no result ------------------------------------------------------------
# Each shortcut of the hot path (benchmarks/bench_run.py, bench_world.py) is checked against the
# plain computation it replaces: records bit for bit equal, and the shortcut actually taken.


def _records(sc: Scenario, n: int = 4, steps: int | None = None, world=None) -> list:
    w = compile_world(sc) if world is None else world
    return simulate_many(w, sc, [seed_for(sc.seed, i) for i in range(n)], steps, 1)


def _alone_and_batch(sc: Scenario, steps: int) -> tuple[list, list]:
    w = compile_world(sc)
    seeds = [seed_for(sc.seed, i) for i in range(4)]
    alone = [simulate_many(w, sc, [s], steps, 1)[0] for s in seeds]
    return alone, simulate_many(w, sc, seeds, steps, 1)


@pytest.mark.parametrize("world", ["iran", "eventful"])
def test_skipping_treaty_values_when_no_membership_can_change_changes_nothing(
    world: str, monkeypatch
) -> None:
    sc = load_scenario(SCENARIOS / "iran_2021.yaml") if world == "iran" else _eventful(9, 5)
    original = Dynamics._membership_reviewed
    skipped = []

    def counted(self, u, refused):
        out = original(self, u, refused)
        skipped.append(not out)
        return out

    monkeypatch.setattr(Dynamics, "_membership_reviewed", counted)
    fast = _alone_and_batch(sc, 80)
    assert sum(skipped) > 10  # the shortcut is taken, in runs alone at least
    monkeypatch.setattr(Dynamics, "_membership_reviewed", lambda self, u, refused: True)
    plain = _alone_and_batch(sc, 80)
    assert_identical(plain[0], fast[0])
    assert_identical(plain[1], fast[1])


@pytest.mark.parametrize("constant", ["GATHER_CELLS", "EDGE_TABLE_CELLS"])
def test_small_and_large_array_paths_agree(constant: str, monkeypatch) -> None:
    """The choice (every cell, or only the pairs under review) and partner hedging's discount
    (table lookup, or arithmetic on the cells) give the same bits either way."""
    worlds = [load_scenario(SCENARIOS / "iran_2021.yaml"), _eventful(25, 6)]
    monkeypatch.setattr(decision, constant, 0)  # always the large-array path
    large = [_records(sc, steps=60) for sc in worlds]
    monkeypatch.setattr(decision, constant, 10**12)  # always the small-array path
    small = [_records(sc, steps=60) for sc in worlds]
    for a, b in zip(large, small, strict=True):
        assert_identical(a, b)


def test_a_worlds_cache_serves_its_later_runs_exactly(monkeypatch) -> None:
    """Static terms, regime shares and sanctions pressure are kept per world (keyed by the
    data's content) for its later runs: those equal runs on a fresh world, with the cache or
    past its cap, and what is shared cannot be edited."""
    import pickle

    sc = _eventful(9, 7)  # events change power, preferences and dyadic data mid-run
    w = compile_world(sc)
    first = _records(sc, world=w)
    (shared,) = (v for k, v in w.cache.items() if k[0] == "decision")
    statics = [k for k in shared if isinstance(k, tuple) and k[0] == "static"]
    assert len(statics) >= 4  # one per distinct data state the events made
    assert any(isinstance(k, tuple) and k[0] == "sanctions" for k in shared)
    again = _records(sc, world=w)
    assert_identical(first, again)
    assert_identical(first, _records(sc))  # a fresh world, empty cache
    monkeypatch.setattr(decision, "SHARED_BYTES", 0)  # nothing kept
    fresh = compile_world(sc)
    assert_identical(first, _records(sc, world=fresh))
    kept = next(iter(fresh.cache.values()))
    assert not [k for k in kept if isinstance(k, tuple) and k[0] in ("static", "sanctions")]
    one = shared[statics[0]]
    with pytest.raises(ValueError, match="read-only"):
        one["help_static"][0, 0] = 1.0
    assert pickle.loads(pickle.dumps(w)).cache == {}  # workers get the world, not its cache


def test_third_party_sanctions_equal_the_dense_product() -> None:
    """Summing each target's regimes (sparse) matches the dense formula ``1 - exp(log1p(-share)
    @ targets)``, with several regimes on one target (their order matters for rounding)."""
    doc = random_world_document(12, seed=8, steps=30)
    ids = list(doc["states"])
    doc["sanctions"] = [
        {"name": f"s{k}", "senders": [ids[k]], "targets": [ids[0]], "level": 0.2 + 0.1 * k}
        for k in range(1, 6)
    ] + [{"name": "two", "senders": [ids[7]], "targets": [ids[1], ids[2]], "level": 0.6}]
    sc = Scenario.model_validate(doc)
    w = compile_world(sc)
    model = LockstepModel(w, sc.mechanisms, sc.params, seeds=[seed_for(1, 0)])
    model.step()
    rule, t = model.rule, model.steps
    active = model.active_regimes(t)
    g, support_share, exposure = rule._regime_parts(active)
    sp = sc.mechanisms.sanctions_pressure
    bite = g.level * decision.sanction_bite(
        g.before + (t - g.start + 1) * w.step_years, sp.buildup_years, sp.adaptation_half_life_years
    )
    bite = np.minimum(bite, 1.0 - 1e-12)
    pressure = 1.0 - np.exp(np.log1p(-bite) @ g.targets)
    support = pressure[:, None] * support_share
    third = 1.0 - np.exp(np.log1p(-(exposure.T * (bite * g.secondary))) @ g.targets)
    dense = sp.weight * (support + sp.rent * support.T - sp.third_party * third - g.sender_cost)
    np.fill_diagonal(dense, 0.0)
    got = rule.sanctions_pressure(active, t)
    assert np.abs(third).max() > 0.01  # third parties do pay here
    np.testing.assert_allclose(got, dense, rtol=1e-12, atol=1e-15)


def test_the_engine_limits_blas_threads_only_while_it_runs() -> None:
    from threadpoolctl import threadpool_info

    def blas() -> list[int]:
        return [lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]

    before = blas()
    with lockstep.one_blas_thread():
        inside = blas()
    assert all(n == 1 for n in inside)
    assert blas() == before


def _choose_as_written(rule, U, u, L):
    """The choice as first written (before its call-count savings): the reference."""
    p = rule.review
    upper = rule._upper
    review = u < p
    review = np.where(upper, review, review.swapaxes(-1, -2))
    u = np.where(upper, u / p, u)
    e = np.minimum(U / rule.p.temperature, 700.0)
    e = np.exp(e)
    if not rule.p.friendship:
        e[0] = 0.0
    c1 = 1.0 + e[0]
    u = u * (c1 + e[1])
    chosen = np.add(u >= 1.0, u >= c1, dtype=np.intp)
    return np.where(review, chosen, L) * rule._off_diagonal


@pytest.mark.parametrize("batch", [(), (3,)])
def test_choice_and_tie_values_equal_their_plain_formulas(batch) -> None:
    """The choice (one division by a per-cell scale, levels summed as bytes), membership's
    logit (maximum and minimum for np.clip) and the tie values of options (one lookup for two
    nested ``np.where``) give the plain formulas' bits, alone and in a batch."""
    sc = load_scenario(SCENARIOS / "iran_2021.yaml")
    w = compile_world(sc)
    rule = decision.DecisionRule(w, sc.mechanisms, sc.params, len(batch))
    rng = np.random.default_rng(4)
    n = w.n
    for _ in range(20):
        U = rng.normal(0.0, 3.0, (2, *batch, n, n)) * rng.integers(0, 2, (2, *batch, n, n))
        U[0, ..., 0, 1] = 1e4  # beyond exp's range: clipped
        u = rng.random((*batch, n, n))
        L = rng.integers(0, 3, (*batch, n, n)).astype(np.intp)
        want = _choose_as_written(rule, U.copy(), u, L)
        got = rule.choose(U.copy(), u, L)
        assert got.dtype == np.intp and np.array_equal(got, want)
        assert np.array_equal(
            rule._tie_values(L, U), np.where(L == 1, U[0], np.where(L == 2, U[1], 0.0))
        )
        value = rng.normal(0.0, 50.0, (*batch, 3, n))
        ut, now = rng.random(value.shape), rng.random(value.shape) < 0.5
        z = np.clip(-value / rule.p.temperature, -700.0, 700.0)
        plain = np.where(ut < rule.review, ut / rule.review * (1.0 + np.exp(z)) < 1.0, now)
        assert np.array_equal(rule.choose_membership(value, ut, now), plain)


def _treaty_choices_as_written(self, value, u, refused, wants):
    """Treaty choices as first written (no early return when nobody left or joined)."""
    before = self.members
    membership = self._membership()
    shared = membership.fellows
    if value is None and membership.whole:
        return shared | wants
    inside = before if value is None else self.rule.choose_membership(value, u, before)
    joining = inside & ~before & self._open_now()
    new = before & inside
    if joining.any():
        new |= joining & ~refused.get()
    new &= (new.sum(axis=-1) >= 2)[..., None]
    if np.array_equal(new, before):
        stayed = shared
    else:
        self.members = new
        m = before.astype(np.float32)
        stayed = np.matmul((before & new).astype(np.float32).swapaxes(-1, -2), m) > 0
    return np.where(shared, stayed, wants)


@pytest.mark.parametrize("world", ["iran", "eventful"])
def test_treaty_choices_equal_the_plain_version(world: str, monkeypatch) -> None:
    """Treaty choices return early when members reviewed but nobody left or joined; the
    records equal those of the version without that shortcut, alone and in batches."""
    sc = load_scenario(SCENARIOS / "iran_2021.yaml") if world == "iran" else _eventful(9, 5)
    fast = _alone_and_batch(sc, 80)
    monkeypatch.setattr(Dynamics, "_treaty_choices", _treaty_choices_as_written)
    plain = _alone_and_batch(sc, 80)
    assert_identical(plain[0], fast[0])
    assert_identical(plain[1], fast[1])


def _collect_as_written(self, model) -> None:
    """The recorder's collection as first written: a snapshot and a comparison every time."""
    self.ties.append(model.ties.astype(np.int8))
    changed = model.ties != model.previous
    model.turnover = changed.reshape((*changed.shape[:-2], -1)).sum(axis=-1) // 2
    self.turnover.append(model.turnover)
    self.steps.append(model.steps)
    self.rivalry.append(model.dyadic.rivalry)
    self.power.append(model.attrs.power)


@pytest.mark.parametrize("world", ["iran", "eventful"])
def test_keeping_unchanged_ties_by_identity_changes_nothing(world: str, monkeypatch) -> None:
    """A step that changes no tie keeps the previous array object, and what depends on the ties
    alone is then reused (the rule's tie caches, the choice's ties, learning's rates, the
    recorder's snapshot). With a new array every step nothing is reused: same records."""
    sc = load_scenario(SCENARIOS / "iran_2021.yaml") if world == "iran" else _eventful(9, 5)
    original = Dynamics._settled
    kept = []

    def counted(self, ties):
        out = original(self, ties)
        kept.append(out is self.previous)
        if out is not self.previous:
            with pytest.raises(ValueError, match="read-only"):
                out[0, 0] = 1  # a new tie matrix is never edited
        return out

    monkeypatch.setattr(Dynamics, "_settled", counted)
    fast = _alone_and_batch(sc, 80)
    assert sum(kept) > 20  # the arrays are kept, in runs alone at least
    # the plain computations: a new array every step, and nothing reused by identity
    monkeypatch.setattr(Dynamics, "_settled", lambda self, ties: ties.copy())
    monkeypatch.setattr(decision.DecisionRule, "_for_ties", lambda self, L: {})
    monkeypatch.setattr(
        decision.DecisionRule, "with_inertia", lambda self, U, L: U + self._inertia.take(L, axis=1)
    )
    monkeypatch.setattr(
        Dynamics,
        "_deciding_ties",
        lambda self: np.where(self._held(), 1, self.ties) if self.world.treaties else self.ties,
    )
    monkeypatch.setattr(Recorder, "collect", _collect_as_written)
    plain = _alone_and_batch(sc, 80)
    assert_identical(plain[0], fast[0])
    assert_identical(plain[1], fast[1])
