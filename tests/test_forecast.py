"""The Iran forecast, held-out test (c): the scenario continues the Iran world exactly, its
post-2021 inputs do not encode the forecast targets, the observed table is complete and sourced,
and the scoring gives known answers on constructed cases (docs/FORECAST.md)."""

from __future__ import annotations

import runpy
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.model.world import compile_world
from sim.scenario.calendar import step_year, year_end_steps
from sim.scenario.load import load_scenario
from sim.scenario.schema import LEVELS
from sim.validation import forecast, heldout
from sim.validation.scoring import world_at

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "validation" / "targets"
IRAN = ROOT / "scenarios" / "iran_2021.yaml"
IRAN_LAST_STEP = 200  # August 2021


@pytest.fixture(scope="module")
def sc():
    return forecast.load_forecast_scenario()


@pytest.fixture(scope="module")
def observed() -> pd.DataFrame:
    return pd.read_csv(forecast.FORECAST_TARGETS)


def test_calendar_runs_from_september_2021_to_december_2024(sc) -> None:
    assert sc.start == "2021-09" and sc.step == "month"
    ends = year_end_steps(sc.start, sc.step, sc.params.steps)
    assert [step_year(sc.start, sc.step, s) for s in ends] == [2021, 2022, 2023, 2024]
    assert ends[-1] == sc.params.steps == 40  # December 2024 is the last step


def test_start_equals_the_iran_world_in_august_2021(sc) -> None:
    """Every exogenous input at step 0 is what scenarios/iran_2021.yaml has in force at its
    step 200: power, preferences and all five dyadic fields."""
    old = compile_world(load_scenario(IRAN))
    new = compile_world(sc)
    assert old.ids == new.ids
    power, dyads = world_at(old, IRAN_LAST_STEP)
    np.testing.assert_allclose(new.power, power, rtol=0, atol=1e-12)
    for field, arr in dyads.items():
        np.testing.assert_allclose(new.dyads[field], arr, rtol=0, atol=1e-12, err_msg=field)
    for name, weights in old.prefs.items():
        np.testing.assert_array_equal(new.prefs[name], weights, err_msg=name)


def test_sanctions_in_force_in_august_2021_keep_their_age(sc) -> None:
    """A regime of the Iran world still in force at step 200 continues with in_force_years =
    its age then (its own in_force_years plus the months since its start)."""
    old = {r.name: r for r in load_scenario(IRAN).sanctions}
    new = {r.name: r for r in sc.sanctions}
    alive = {n for n, r in old.items() if r.start <= IRAN_LAST_STEP and r.end is None}
    assert alive and alive <= set(new)
    for name in alive:
        age = old[name].in_force_years + (IRAN_LAST_STEP - old[name].start) / 12
        assert new[name].start == 0 and new[name].level == old[name].level
        assert new[name].in_force_years == pytest.approx(age, abs=0.01), name
    for name in set(old) - alive:  # ended before September 2021: not carried over
        assert name not in new


def test_initial_ties_are_the_observed_2021_ties(sc) -> None:
    table = pd.read_csv(TARGETS / "iran_2005_2021.csv")
    start = forecast.initial_levels(sc)
    rows = table[table.year == 2021]
    assert len(rows) > 20
    for r in rows.itertuples():
        level = start.get((r.a, r.b), start.get((r.b, r.a), 0))
        assert LEVELS[level] == r.tie, f"{r.a}-{r.b}"


def test_post_2021_inputs_come_after_the_start_and_leave_the_targets_alone(sc) -> None:
    """Events and new regimes start after step 0; none touches a focal dyad's own inputs other
    than through organisations the state joined (SCO, BRICS); the Iran-Saudi dyad, whose
    agreement is a target, gets no input at all; no treaty ties Iran to a focal partner."""
    assert sc.events and all(e.step >= 1 for e in sc.events)
    assert all(r.start >= 1 or r.in_force_years > 0 for r in sc.sanctions)
    for e in sc.events:
        for a, row in e.changes.items():
            cells = row if isinstance(row, dict) else {}
            for b in cells:
                assert {a, b} != {"IRN", "SAU"}, e.name
            assert e.field == "affinity" and e.mode == "add", e.name
    focal_partners = {b for _, b in forecast.FOCAL_DYADS}
    for tr in sc.treaties:
        assert not ("IRN" in tr.members and focal_partners & set(tr.members)), tr.name


def test_observed_table_is_regenerated_by_its_script(tmp_path) -> None:
    out = tmp_path / "t.csv"
    mod = runpy.run_path(str(TARGETS / "iran_forecast_targets.py"))
    assert mod["main"](["--out", str(out)]) == 0
    pd.testing.assert_frame_equal(pd.read_csv(out), pd.read_csv(forecast.FORECAST_TARGETS))
    assert mod["main"](["--out", str(out)]) == 2  # never overwrites


def test_observed_table_rows_are_sourced_and_follow_its_rule(sc, observed) -> None:
    """Every row has a source, known states and levels, a year of the horizon; the dyads are
    Iran's twelve and every dyad tied in 2021, each in every year."""
    assert observed.source.str.len().min() > 20
    assert set(observed.a) | set(observed.b) <= set(sc.states)
    assert set(observed.tie) <= set(LEVELS) and set(observed.year) == {2022, 2023, 2024}
    assert not observed.duplicated(["a", "b", "year"]).any()
    before = pd.read_csv(TARGETS / "iran_2005_2021.csv")
    tied = before[(before.year == 2021) & (before.tie != "none")]
    want = {frozenset(d) for d in zip(tied.a, tied.b, strict=True)}
    want |= {frozenset(("IRN", s)) for s in sc.states if s != "IRN"}
    for year, g in observed.groupby("year"):
        assert {frozenset(d) for d in zip(g.a, g.b, strict=True)} == want, year


def test_brier_on_constructed_cases() -> None:
    p = np.array([[0.2, 0.5, 0.3], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    np.testing.assert_allclose(forecast.brier_levels(p, [1, 0, 0]), [0.04 + 0.25 + 0.09, 0.0, 2.0])


def test_score_dyads_on_a_constructed_forecast(sc) -> None:
    """A forecast of Iran-Saudi Arabia 2023 at 0.6 / 0.4 / 0, observed a friendship: Brier of
    any tie (0.4 - 1)^2 = 0.36, of alliance 0, three-level 0.36 + 0.36 = 0.72, a miss;
    persistence (no tie in 2021) misses for sure: 2."""
    dyads = pd.DataFrame(
        {"a": ["IRN", "IRN"], "b": ["SAU", "RUS"], "year": [2023, 2023], "step": [28, 28],
         "p_none": [0.6, 0.0], "p_friendship": [0.4, 0.5], "p_alliance": [0.0, 0.5]}
    )  # fmt: skip
    fc = forecast.Forecast(sc, 10, "IRN", dyads, pd.DataFrame())
    obs = pd.DataFrame(
        {"a": ["SAU", "RUS", "RUS"], "b": ["IRN", "IRN", "IRN"], "year": [2023, 2023, 2030],
         "tie": ["friendship", "friendship", "none"]}
    )  # fmt: skip
    s = forecast.score_dyads(fc, obs)
    assert len(s) == 2  # the 2030 row is outside the forecast
    sau, rus = s.iloc[0], s.iloc[1]
    assert sau.brier_tie == pytest.approx(0.36) and sau.brier_alliance == 0.0
    assert sau.brier3 == pytest.approx(0.72) and not sau.hit
    assert sau.persist_level == "none" and sau.persist_brier3 == 2.0
    assert not rus.hit  # 0.5 / 0.5: a tie between levels is not a hit
    assert rus.brier_alliance == pytest.approx(0.25) and rus.persist_brier3 == 0.0


def test_forecast_is_reproducible_and_sums_to_one(sc) -> None:
    a = forecast.run_forecast(sc, 4)
    b = forecast.run_forecast(sc, 4)
    pd.testing.assert_frame_equal(a.dyads, b.dyads)
    total = a.dyads[["p_none", "p_friendship", "p_alliance"]].sum(axis=1)
    np.testing.assert_allclose(total, 1.0)
    assert set(a.status.year) == {2021, 2022, 2023, 2024}
    assert (a.status[["aligned", "non_aligned", "one_camp", "isolated"]].sum(axis=1) == 1).all()


def test_heldout_c_persistence_is_wrong_exactly_on_the_changes(observed) -> None:
    """(c)'s persistence row carries the 2021 ties: its Brier score on 'any tie' is the share
    of 2022-2024 dyad-years whose tie / no-tie differs from 2021 (computed from the tables)."""
    report = heldout.Report()
    heldout.forecast_test(heldout.QUICK, report)
    rows = {(r.test.split(", ")[-1], r.predictor): r for r in report.rows}
    assert {p for _, p in rows} == {"model", "logistic", "persistence"}
    before = pd.read_csv(TARGETS / "iran_2005_2021.csv")
    tie21 = {
        frozenset((r.a, r.b)): r.tie != "none" for r in before[before.year == 2021].itertuples()
    }
    changed = [tie21[frozenset((r.a, r.b))] != (r.tie != "none") for r in observed.itertuples()]
    persistence = rows[("any tie", "persistence")]
    assert persistence.n == len(observed)
    assert persistence.brier == pytest.approx(np.mean(changed))
    assert any("(c)" in n for n in report.notes)
