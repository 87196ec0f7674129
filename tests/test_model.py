"""The model: determinism, consent, the decision rule's pieces, and each mechanism's formula.

Mechanism tests are deterministic: they evaluate the rule on small worlds written for the purpose
and check the direction and the special cases each formula promises (docs/ODD.md §7). What the
mechanisms do together over time is the pattern suite's job (tests/test_patterns.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.experiments.conditions import Condition, ablate, prepare
from sim.experiments.engine import Execution
from sim.experiments.run import run_conditions
from sim.model.decision import DecisionRule, consent
from sim.model.model import AlignmentModel
from sim.model.seeds import replication_seed as seed_for
from sim.model.world import compile_world
from sim.scenario.load import load_scenario, parse_override
from sim.scenario.schema import MECHANISMS

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_triangle.yaml"


def toy(sets=(), factors=()):
    sc = ablate(load_scenario(TOY, [parse_override(s) for s in sets]), factors)
    return sc, compile_world(sc)


def simulate(w, sc, seed):
    """One replication alone: the Mesa model run to the scenario's end, as its record."""
    return AlignmentModel(sc, rng=seed, world=w).finish(sc.params.steps).run_record()


# -- determinism ----------------------------------------------------------------------------------
def _same(a, b) -> bool:
    return all(np.array_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)


def test_same_seed_gives_identical_records():
    sc, w = toy()
    assert _same(simulate(w, sc, seed_for(5, 3)), simulate(w, sc, seed_for(5, 3)))


def test_different_seeds_differ():
    sc, w = toy()
    recs = [simulate(w, sc, seed_for(5, r)) for r in range(4)]
    assert not all(_same(recs[0], r) for r in recs[1:])


def test_seed_for_matches_spawn():
    children = np.random.SeedSequence(11).spawn(5)
    for i, child in enumerate(children):
        assert seed_for(11, i).generate_state(4).tolist() == child.generate_state(4).tolist()


def test_workers_and_chunks_do_not_change_results():
    sc, _ = prepare(toy()[0], replications=6, steps=30)
    conds = [Condition("baseline"), Condition("-expanding_options", ("expanding_options",))]
    one = run_conditions(sc, conds, execution=Execution(workers=1))
    two = run_conditions(sc, conds, execution=Execution(workers=2, chunk=1))
    three = run_conditions(sc, conds, execution=Execution(workers=2, chunk=4))
    for label in one:
        for a, b, c in zip(one[label], two[label], three[label], strict=True):
            assert _same(a, b) and _same(a, c)


# -- consent and the rule -------------------------------------------------------------------------
def test_consent_invariant_every_step(monkeypatch):
    sc = load_scenario(ROOT / "scenarios" / "iran_2021.yaml")
    w = compile_world(sc)
    seen = []
    original = DecisionRule.choose

    def spy(self, U, u, L):
        desired = original(self, U, u, L)
        seen.append(desired)
        return desired

    monkeypatch.setattr(DecisionRule, "choose", spy)
    model = AlignmentModel(sc, rng=seed_for(1, 0), world=w)
    members = {tr.name: set(tr.members.tolist()) for tr in w.treaties}
    for _ in range(60):
        model.step()
        d = seen[-1]
        t = model.ties
        fellows = np.zeros_like(t, dtype=bool)
        for k in range(len(w.treaties)):
            m = model.members[k]
            fellows |= m[:, None] & m[None, :]
        np.fill_diagonal(fellows, False)
        free = ~fellows
        assert np.array_equal(t[free], np.minimum(d, d.T)[free])  # bilateral ties: consent
        assert (t[fellows] == 2).all()  # fellow members of a treaty are allied
        assert np.array_equal(t, t.T) and not t.diagonal().any()
    assert len(seen) == 60 and members


def test_consent_takes_the_lower_wish():
    d = np.array([[0, 2, 1], [2, 0, 0], [2, 1, 0]], dtype=np.int8)
    assert consent(d).tolist() == [[0, 2, 1], [2, 0, 0], [1, 0, 0]]


def _iran_model(steps: int, factors=(), seed=2):
    sc = ablate(load_scenario(ROOT / "scenarios" / "iran_2021.yaml"), factors)
    w = compile_world(sc)
    model = AlignmentModel(sc, rng=seed_for(seed, 0), world=w)
    model.run_for(steps)
    model.rule.refresh_static(model.dyadic, model.attrs, model._version)
    return sc, w, model


def _rule_view(model):
    t = model.steps
    act = model.active_regimes(t)
    rule = model.rule
    return (
        rule.terms(model.ties, model.dyadic, act, t),
        rule.utilities(model.ties, model.dyadic, act, t),
        rule.relative_utilities(model.ties, model.dyadic, act, t),
    )


def test_fast_utilities_equal_the_sum_of_terms():
    _, _, model = _iran_model(170)  # inside the maximum-pressure regime, after several events
    terms, U, (F, A) = _rule_view(model)
    assert np.allclose(F, U[1] - U[0]) and np.allclose(A, U[2] - U[0])
    assert np.allclose(sum(terms.values()), U[1:] - model.rule._inertia.take(model.ties, axis=1))


DOWNSTREAM = {
    # terms that legitimately change when a mechanism is switched off: the autonomy transfer is a
    # share of the security surplus, options are the payoff of current ties (all other terms),
    # and the hedging discount is shown after the distrust discount
    "security": {"autonomy", "expanding_options"},
    "partner_hedging": {"autonomy", "expanding_options"},
    "historical_distrust": {"autonomy", "expanding_options", "partner_hedging"},
}
NAMES = {"security": {"security", "historical_distrust", "partner_hedging"}}


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_switching_a_mechanism_off_removes_its_term_and_nothing_upstream(mechanism):
    sc, w, model = _iran_model(170)
    terms_on, U_on, _ = _rule_view(model)
    off = ablate(sc, [mechanism])
    rule_off = DecisionRule(w, off.mechanisms, off.params)
    rule_off.refresh_static(model.dyadic, model.attrs, 0)
    t = model.steps
    act = model.active_regimes(t)
    terms_off = rule_off.terms(model.ties, model.dyadic, act, t)
    U_off = rule_off.utilities(model.ties, model.dyadic, act, t)
    gone = NAMES.get(mechanism, {mechanism})
    if mechanism == "institutions":  # the exit cost is inertia, not a term
        assert not np.allclose(U_on, U_off)
        assert rule_off.exit == sc.params.inertia != model.rule.exit
        return
    assert gone <= set(terms_on) and not gone & set(terms_off)
    assert np.abs(terms_on[mechanism][1]).max() > 0
    for name in set(terms_off) - DOWNSTREAM.get(mechanism, {"expanding_options"}):
        assert np.allclose(terms_on[name], terms_off[name]), name
    inertia = model.rule._inertia.take(model.ties, axis=1)
    assert np.allclose(U_off[1:], sum(terms_off.values()) + inertia)


def test_rule_names_no_country():
    """Emergence must be emergent: the decision code mentions no state of any scenario."""
    code = "".join(p.read_text() for p in (ROOT / "sim" / "model").glob("*.py"))
    ids = list(load_scenario(ROOT / "scenarios" / "iran_2021.yaml").states)
    for sid in ids:
        assert f'"{sid}"' not in code and f"'{sid}'" not in code


# -- each mechanism's formula on worlds written for it -------------------------------------------
def world(text: str, ties: np.ndarray | None = None):
    """A small world from YAML text, its model at step 0 and its rule refreshed."""
    from sim.scenario.load import loads_scenario

    sc = loads_scenario(text)
    w = compile_world(sc)
    model = AlignmentModel(sc, rng=seed_for(1, 0), world=w)
    if ties is not None:
        model.ties = ties
    model.rule.refresh_static(model.dyadic, model.attrs, model._version)
    return sc, w, model


def terms_of(model, t: int = 1):
    return model.rule.terms(model.ties, model.dyadic, model.active_regimes(t), t)


THREAT = """
name: threat
states:
  T: {name: Threat, power: 0.25}
  G: {name: Great power, power: 0.25}
  S: {name: Small, power: 0.02}
  P: {name: Peer, power: 0.02}
rivalry:
  T: {G: 0.9, S: 0.8, P: 0.8}
"""


def test_security_comes_from_partners_against_ones_threats_never_from_the_threat():
    _, w, model = world(THREAT)
    sec = terms_of(model)["security"]
    S, T, G, P = (w.index[k] for k in "STGP")
    assert sec[1, S, T] == 0 and sec[0, S, T] == 0  # a tie with one's own rival protects nothing
    assert sec[1, S, G] > sec[0, S, G] > 0  # a great power protects, an ally more than a friend
    # equal tiny states cannot cover each other against a rival over ten times stronger: the
    # peer removes at most the first-order share its power adds, R s_T rho s_P / (s_S + s_T)^2
    assert sec[1, S, P] <= 0.8 * 0.25 * 0.75 * 0.02 / 0.27**2 < 0.15 * sec[1, S, G]


def test_security_has_diminishing_returns_and_grows_with_the_security_preference():
    _, w, model = world(THREAT)
    S, G, P = w.index["S"], w.index["G"], w.index["P"]
    alone = terms_of(model)["security"][1, S, P]
    ties = model.ties.copy()
    ties[S, G] = ties[G, S] = 2  # once allied with the great power, the peer adds less
    model.ties = ties
    assert terms_of(model)["security"][1, S, P] < alone
    _, _, worried = world(THREAT + "\n", None)
    _, _, model2 = world(
        THREAT.replace(
            "S: {name: Small, power: 0.02}",
            "S: {name: Small, power: 0.02, preferences: {security: 2}}",
        )
    )
    assert terms_of(model2)["security"][1, S, G] == pytest.approx(
        2 * terms_of(worried)["security"][1, S, G]
    )


def test_partner_hedging_and_distrust_discount_a_partners_help():
    base_sec = terms_of(world(THREAT)[2])["security"]
    _, w, model = world(THREAT + "distrust: {S: {G: 0.5}}\n")
    S, G, T = w.index["S"], w.index["G"], w.index["T"]
    t = terms_of(model)
    assert t["historical_distrust"][1, S, G] < 0
    assert t["security"][1, S, G] == pytest.approx(base_sec[1, S, G])  # shown undiscounted
    ties = model.ties.copy()
    ties[G, T] = ties[T, G] = 1  # the great power befriends the threat
    _, _, hedged = world(THREAT, ties)
    assert terms_of(hedged)["partner_hedging"][1, S, G] < 0


def test_morrows_exchange_the_junior_pays_the_senior_gains_both_want_it():
    _, w, model = world(THREAT)
    S, G, P = w.index["S"], w.index["G"], w.index["P"]
    t = terms_of(model)
    aut = t["autonomy"]
    commitment = load_scenario_default("autonomy").commitment
    # the junior pays for the protection, the senior gains the same (equal autonomy weights)
    assert aut[1, S, G] + commitment < 0 < aut[1, G, S] + commitment
    assert aut[1, S, G] + aut[1, G, S] == pytest.approx(-2 * commitment)
    assert aut[1, S, P] == pytest.approx(-commitment)  # equals: only the commitment
    total = sum(t.values())
    assert total[1, S, G] > total[0, S, G] and total[1, G, S] > total[0, G, S]  # consent possible


def load_scenario_default(mechanism: str):
    from sim.scenario.schema import Mechanisms

    return getattr(Mechanisms(), mechanism)


def test_entrapment_counts_only_quarrels_one_does_not_share():
    _, w, model = world(
        """
name: entrapment
states:
  A: {name: A, power: 0.1}
  B: {name: B, power: 0.1}
  C: {name: C, power: 0.1}
  K: {name: Rival, power: 0.2}
rivalry:
  K: {A: 0.8, B: 0.8}
"""
    )
    A, B, C = w.index["A"], w.index["B"], w.index["C"]
    ent = terms_of(model)["entrapment"][1]
    assert ent[A, B] == 0  # a shared quarrel drags no one in
    assert ent[C, A] < 0  # C would be dragged into A's quarrel
    assert ent[A, C] == 0  # C has no quarrels


def test_options_cost_the_payoff_of_ties_an_alliance_forecloses():
    text = """
name: options
states:
  A: {name: A, power: 0.2}
  B: {name: B, power: 0.2}
  H: {name: H, power: 0.03}
rivalry:
  A: {B: 0.9}
interests:
  H: {A: 0.5, B: 0.5}
"""
    _, w, alone = world(text)
    A, B, H = w.index["A"], w.index["B"], w.index["H"]
    assert terms_of(alone)["expanding_options"][1, H, A] == 0  # no tie with B: nothing to lose
    ties = alone.ties.copy()
    ties[H, B] = ties[B, H] = 1
    _, _, friends = world(text, ties)
    t = terms_of(friends)
    assert t["expanding_options"][1, H, A] < 0  # allying with A ends the friendship with B
    assert (t["expanding_options"][0] == 0).all()  # a friendship forecloses nothing
    value = sum(v for k, v in t.items() if k != "expanding_options")[0, H, B]
    assert t["expanding_options"][1, H, A] == pytest.approx(-0.9 * value)


def test_doctrine_interests_and_sanctions():
    _, w, model = world(
        """
name: doctrine
states:
  D: {name: Doctrinaire, power: 0.02, preferences: {doctrine: 1}}
  G: {name: Great power, power: 0.3}
  W: {name: Weak, power: 0.01}
  X: {name: Sender, power: 0.2}
interests:
  D: {W: -0.5, G: 0.5}
sanctions:
  - {name: s, senders: [X], targets: [D], level: 0.8, secondary: 0.9, start: 0}
"""
    )
    D, G, W, X = (w.index[k] for k in "DGWX")
    t = terms_of(model, t=24)
    doc = t["nonalignment_doctrine"][1]
    assert doc[D, G] < doc[D, W] < 0 and doc[G, D] == 0  # a great power costs the doctrine most
    assert t["prioritizing_interests"][1, D, W] < 0 == t["prioritizing_interests"][1, D, G]
    assert (t["prioritizing_interests"][0] == 0).all()  # a friendship binds no policy
    s = t["sanctions_pressure"][1]
    assert s[D, G] > 0 and s[D, X] == 0  # support from non-senders only
    assert s[X, D] < 0  # a sender does not befriend its target
    assert s[W, D] < s[G, D]  # a small third party is more exposed to secondary sanctions


def test_sanctions_bite_builds_up_then_fades():
    from sim.model.decision import sanction_bite

    t = np.array([0.1, 1.0, 2.0, 5.0, 20.0])
    b = sanction_bite(t, 1.0, 5.0)
    assert b[0] < b[1] < b[2] and b[2] > b[3] > b[4] > 0
    assert sanction_bite(t, 0.0, None).tolist() == [1.0] * 5


def test_institutions_make_an_alliance_worth_keeping():
    sc, _, model = world(THREAT)
    rule = model.rule
    assert rule._inertia[1, 2] == sc.mechanisms.institutions.exit_cost
    assert rule.treaty_exit == sc.mechanisms.institutions.treaty_exit_cost


# -- learning, events, treaties, reviews ----------------------------------------------------------
def test_betrayal_raises_and_kept_ties_lower_distrust():
    sc, w = toy()
    model = AlignmentModel(sc, rng=seed_for(1, 2), world=w)
    s, a = w.index["S"], w.index["A"]
    prev = np.zeros((w.n, w.n), dtype=np.int8)
    prev[s, a] = prev[a, s] = 2
    wants = prev == 2
    wants[a, s] = False  # A wants only friendship: it breaks the alliance S wanted
    model.ties = np.where(wants & wants.T, 2, 1) * (prev > 0)
    before = model.dyadic.distrust.copy()
    model._learn(prev, wants)
    m = sc.mechanisms.historical_distrust
    assert model.dyadic.distrust[s, a] > before[s, a]  # S learns to distrust A
    assert model.dyadic.distrust[a, s] <= before[a, s]  # A was not betrayed
    # a kept tie relaxes learned distrust toward the historical floor, never below it, and an
    # alliance (more trust invested) relaxes it faster than a friendship
    floor = m.memory * model.history[s, a]
    after = {}
    for level in (1, 2):
        kept = np.zeros((w.n, w.n), dtype=np.intp)
        kept[s, a] = kept[a, s] = level
        model.dyadic.distrust[s, a] = 0.9
        model.ties = kept.copy()
        for _ in range(20):
            model._learn(kept, kept == 2)
        after[level] = model.dyadic.distrust[s, a]
        assert floor - 1e-9 <= after[level] < 0.9
    assert after[2] < after[1]
    for _ in range(2000):
        model._learn(kept, kept == 2)
    assert model.dyadic.distrust[s, a] == pytest.approx(floor, abs=1e-6)


def test_events_apply_and_revert_on_pairs_power_and_preferences():
    sets = [
        "events=[{name: channel, step: 3, until: 6, field: affinity, changes: {S: {B: 0.5}}},"
        " {name: growth, step: 2, field: power, mode: set, changes: {S: 0.2}},"
        " {name: fear, step: 4, until: 5, field: preferences.security, changes: {S: 1.5}}]"
    ]
    sc, w = toy(sets)
    model = AlignmentModel(sc, rng=seed_for(1, 3), world=w)
    s, b = w.index["S"], w.index["B"]
    seen = []
    for _ in range(7):
        model.step()
        seen.append(
            (
                model.dyadic.affinity[s, b],
                model.dyadic.affinity[b, s],
                model.attrs.power[s],
                model.attrs.prefs["security"][s],
            )
        )
    assert seen[1][:2] == (0.0, 0.0) and seen[2][:2] == (0.5, 0.5) and seen[4][:2] == (0.5, 0.5)
    assert seen[5][:2] == (0.0, 0.0)
    assert seen[0][2] == 0.04 and seen[1][2] == 0.2 and seen[6][2] == 0.2
    assert seen[2][3] == 2.0 and seen[3][3] == 3.5 and seen[4][3] == 2.0


def test_power_series_set_power_each_january():
    text = THREAT + "start: 2001-01\n"
    text = text.replace(
        "S: {name: Small, power: 0.02}",
        "S: {name: Small, power: 0.02, power_series: {2001: 0.02, 2002: 0.05}}",
    )
    _, w, model = world(text)
    S = w.index["S"]
    model.run_for(12)  # step 12 = December 2001
    assert model.attrs.power[S] == 0.02
    model.run_for(1)  # step 13 = January 2002
    assert model.attrs.power[S] == 0.05


TREATY = (
    THREAT
    + """
treaties:
  - {name: pact, members: [G, S, P]}
step: year
"""
)


def test_treaty_members_are_allied_and_outsiders_join_only_with_every_members_consent(
    monkeypatch,
):
    _, w, model = world(TREATY)
    G, S, P, T = (w.index[k] for k in "GSPT")
    assert model.ties[G, S] == model.ties[S, P] == model.ties[G, P] == 2  # in force at step 0
    rule = model.rule
    original = rule.choose_membership
    # T wants in, but one member refuses it: T stays out
    monkeypatch.setattr(rule, "choose_membership", lambda v, u, now: np.ones_like(now))
    monkeypatch.setattr(
        rule, "choose", lambda U, u, L: np.full_like(L, 2) - np.eye(len(L), dtype=int) * 2
    )
    model.step()
    assert model.members[0, T]  # everyone wanted an alliance with T: it joined
    _, w, model = world(TREATY)
    rule = model.rule
    monkeypatch.setattr(rule, "choose_membership", lambda v, u, now: np.ones_like(now))

    def refuse(U, u, L):
        d = np.full_like(L, 2)
        d[G, T] = 0  # G does not want T
        np.fill_diagonal(d, 0)
        return d

    monkeypatch.setattr(rule, "choose", refuse)
    model.step()
    assert not model.members[0, T] and model.members[0, [G, S, P]].all()
    # a member that leaves ends its alliances with the others (if they do not want them)
    monkeypatch.setattr(rule, "choose_membership", lambda v, u, now: now & (np.arange(w.n) != S))
    monkeypatch.setattr(rule, "choose", lambda U, u, L: np.zeros_like(L))
    model.step()
    assert not model.members[0, S] and model.ties[S, G] == 0 and model.ties[G, P] == 2
    assert original is not None


def test_without_a_review_a_state_wants_what_it_has():
    _, w, model = world(THREAT)  # monthly steps, yearly reviews: p = 1/12
    rule = model.rule
    assert rule.review == pytest.approx(1 / 12)
    n = w.n
    U = np.zeros((2, n, n))
    U[1] = 5.0  # everyone would want an alliance
    L = np.ones((n, n), dtype=np.intp) - np.eye(n, dtype=np.intp)
    u = np.full((n, n), 0.5)  # no upper-triangle draw under 1/12: nobody reviews
    assert np.array_equal(rule.choose(U.copy(), u, L), L)
    u[np.triu_indices(n, 1)] = 0.01  # every pair reviews: both sides choose
    assert (rule.choose(U.copy(), u, L)[~np.eye(n, dtype=bool)] == 2).all()


def test_measures_on_changed_rows_equal_measures_on_every_row() -> None:
    """The recorder measures only the tie rows that changed since the step before
    (sim.model.recording._changed_rows) and spreads them: the same numbers, bit for bit, as
    measuring every row of every step."""
    from sim.model.metrics import alignment_index, hedging_index, status
    from sim.model.recording import _changed_rows

    rng = np.random.default_rng(3)
    n, steps = 30, 40
    R = rng.random((n, n))
    R = (R + R.T) / 2
    np.fill_diagonal(R, 0.0)
    ties = np.zeros((steps, n, n), dtype=np.int8)
    level = np.triu(rng.integers(0, 3, (n, n)), 1)
    for s in range(steps):
        flip = np.triu(rng.random((n, n)) < 0.01, 1)  # a few pairs change each step
        level = np.where(flip, rng.integers(0, 3, (n, n)), level)
        ties[s] = level + level.T
    rows, source = _changed_rows(ties)
    assert len(rows) < 0.6 * steps * n  # most rows are reused
    assert np.array_equal(rows[source], ties.reshape(steps, n, n))
    assert np.array_equal(status(rows, R >= 0.5)[source], status(ties, R >= 0.5))
    h = hedging_index(ties, R)
    assert np.array_equal(hedging_index(rows, R)[source], h)
    assert np.array_equal(
        alignment_index(rows, R, hedging_index(rows, R))[source], alignment_index(ties, R, h)
    )


def test_the_mesa_models_collection_skips_steps_where_nothing_changed(monkeypatch) -> None:
    """AlignmentModel measures a step again only when ties, rivalry or power changed (the agents
    keep their attributes; the system columns move only by the turnover): its DataCollector's
    frames equal those of measuring every step."""
    import pandas as pd

    sc = load_scenario(ROOT / "scenarios" / "iran_2021.yaml")
    w = compile_world(sc)
    measured = []
    original = AlignmentModel._measure_now

    def counted(self):
        measured.append(self.steps)
        original(self)

    monkeypatch.setattr(AlignmentModel, "_measure_now", counted)

    def frames():
        m = AlignmentModel(sc, rng=seed_for(1, 3), world=w).finish(120)
        return (
            m.datacollector.get_model_vars_dataframe(),
            m.datacollector.get_agent_vars_dataframe(),
        )

    fast = frames()
    assert 5 < len(measured) < 60  # most steps are skipped, some are not
    every = AlignmentModel.record

    def always(self):
        self._measured = None
        every(self)

    monkeypatch.setattr(AlignmentModel, "record", always)
    plain = frames()
    pd.testing.assert_frame_equal(fast[0], plain[0], check_exact=True)
    pd.testing.assert_frame_equal(fast[1], plain[1], check_exact=True)
    assert fast[0]["turnover"].gt(0).any()  # a step with changes followed by one without


def test_tie_matrices_cannot_be_edited_in_place() -> None:
    """What is computed from a tie matrix is kept while the same array is in place, so no tie
    matrix may be edited: the initial one, and every one a step makes, are read-only (a caller
    who wants other ties assigns a new array)."""
    sc = load_scenario(ROOT / "scenarios" / "iran_2021.yaml")
    model = AlignmentModel(sc, rng=seed_for(1, 0))
    for _ in range(3):
        with pytest.raises(ValueError, match="read-only"):
            model.ties[0, 1] = 2
        model.step()
