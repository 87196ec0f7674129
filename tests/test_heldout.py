"""``hedgesim validate --heldout`` at its quick size: the table's structure and that every
figure is a finite number in its range (the values themselves are reported, at full size, in
docs/VALIDATION.md, not asserted: they are findings, not specifications)."""

from __future__ import annotations

import math

import pytest

from sim import heldout
from sim.cli import main

TESTS = {
    "(a) 2010, no initial ties",
    "(a) 2018, no initial ties",
    "(a') 2011->2018 from real ties",
    "(a') formation 2011->2018",
    "(a') termination 2011->2018",
}


@pytest.fixture(scope="module")
def report() -> heldout.Report:
    return heldout.run(heldout.QUICK)


def test_table_structure(report: heldout.Report) -> None:
    tests = {r.test for r in report.rows}
    assert tests >= TESTS
    iran = tests - TESTS
    assert {t.split(",")[-1].strip() for t in iran} == {"alliance", "any tie"}
    for t in tests:  # every test scores the same dyads for the three predictors
        rows = [r for r in report.rows if r.test == t]
        assert [r.predictor for r in rows] == ["model", "logistic", "persistence"]
        assert len({(r.n, r.ties) for r in rows}) == 1


def test_figures_are_finite_and_in_range(report: heldout.Report) -> None:
    for r in report.rows:
        assert r.n > 0 and 0 <= r.ties <= r.n
        assert 0.0 <= r.brier <= 1.0
        if 0 < r.ties < r.n:
            assert 0.0 <= r.auc <= 1.0
        else:  # one outcome only: AUC undefined, never a made-up 0.5
            assert math.isnan(r.auc)
        if r.ties:
            assert 0.0 <= r.share_at_half <= 1.0 and 0.0 <= r.expected_share <= 1.0


def test_persistence_is_wrong_exactly_on_the_changes(report: heldout.Report) -> None:
    """Persistence's Brier score on the 2011->2018 dyads is the share of dyads whose ATOP state
    changed: the formations plus the terminations counted in the sub-tests."""
    row = {(r.test, r.predictor): r for r in report.rows}
    main_row = row[("(a') 2011->2018 from real ties", "persistence")]
    formed = row[("(a') formation 2011->2018", "persistence")].ties
    ended = row[("(a') termination 2011->2018", "persistence")].ties
    assert main_row.brier == pytest.approx((formed + ended) / main_row.n)


def test_cli_prints_the_table(report: heldout.Report, monkeypatch, capsys) -> None:
    monkeypatch.setattr(heldout, "run", lambda size: report)
    assert main(["validate", "--heldout", "--quick", "-q"]) == 0
    out = capsys.readouterr().out
    assert all(t in out for t in TESTS) and "persistence" in out
    assert main(["validate", "--heldout", "--quick", "--markdown", "-q"]) == 0
    assert "| test | predictor |" in capsys.readouterr().out
    assert main(["validate", "--quick"]) == 2
    assert main(["validate", "--heldout", "some_pattern.yaml"]) == 2
