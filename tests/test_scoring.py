"""``hedgesim fit`` (sim.scoring): run directories matched to target tables by calendar year,
scored with sim.fit's metrics. Expected values are recomputed here from the run's own tables
and the target file, so a wrong join (year, dyad order, replication count) fails."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import fit, scoring
from sim.cli import main
from sim.errors import InputError
from sim.world import step_of_month

WORLD = """\
name: fit_world
start: "2009-01"
step: month
states:
  AAA: {name: A, power: 0.3}
  BBB: {name: B, power: 0.2}
  CCC: {name: C, power: 0.1}
  DDD: {name: D, power: 0.05}
rivalry: {AAA: {DDD: 0.9}}
interests: {AAA: {BBB: 0.8}, CCC: {DDD: 0.4}}
treaties:
  - {name: pact, members: [AAA, BBB]}
params: {steps: 30}
replications: 8
seed: 3
"""


def test_step_year_matches_step_of_month() -> None:
    for start, step in (("2005-01", "month"), ("2005-07", "month"), ("1990-01", "year")):
        for year in range(int(start[:4]) + 1, int(start[:4]) + 6):
            t = step_of_month(start, step, year)  # the first step of January ``year``
            assert scoring.step_year(start, step, t) == year
            assert scoring.step_year(start, step, t - 1) == year - 1
    assert scoring.step_year("2005-01", "month", 0) == 2005
    assert scoring.step_year("2005-01", "week", 53) == 2005  # 52 weeks after 1 January
    assert scoring.step_year("2005-01", "week", 54) == 2006


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("fit")
    (d / "w.yaml").write_text(WORLD)
    out = d / "run"
    code = main(["run", str(d / "w.yaml"), "-q", "-j", "1", "--no-figures", "-o", str(out)])
    assert code == 0
    return out


def atop_targets(path: Path) -> Path:
    rows = [
        (a, b, y, int({a, b} == {"AAA", "BBB"} or ({a, b} == {"CCC", "DDD"} and y == 2011)))
        for y in (2009, 2010, 2011)
        for a, b in (("AAA", "BBB"), ("AAA", "CCC"), ("BBB", "CCC"), ("CCC", "DDD"), ("AAA", "DDD"))
    ]
    pd.DataFrame(rows, columns=["a", "b", "year", "pact"]).to_csv(path, index=False)
    return path


def test_fit_scores_match_the_run_tables(run_dir: Path, tmp_path: Path, capsys) -> None:
    targets = atop_targets(tmp_path / "t.csv")
    assert main(["fit", str(run_dir), "--targets", str(targets)]) == 0
    printed = capsys.readouterr().out
    assert "2010" in printed and "persistence" in printed
    rows = pd.read_csv(run_dir / "fit.csv")
    # recompute the model's alliance probability for 2010 from tie_history: the last step of
    # 2010 is December 2010 = step 24 (step 1 = January 2009)
    hist = pd.read_parquet(run_dir / "tie_history.parquet")
    dec = hist[(hist.step == 24) & (hist.level.astype(str) == "alliance")]
    counts = dec.groupby([dec.a.astype(str), dec.b.astype(str)]).size()
    t = pd.read_csv(targets)
    t10 = t[t.year == 2010]
    prob = [
        (counts.get((a, b), 0) + counts.get((b, a), 0)) / 8
        for a, b in zip(t10.a, t10.b, strict=True)
    ]
    want = fit.score(np.array(prob), t10.pact.to_numpy())
    got = rows[(rows.year == "2010") & (rows.predictor == "model")].iloc[0]
    assert got.n == 5 and got.ties == 1
    assert got.brier == pytest.approx(want.brier)
    assert np.isfinite(want.auc) and got.auc == pytest.approx(want.auc)
    # persistence in 2011 predicts 2010's labels: it misses exactly the C-D pact formed in 2011
    p11 = rows[(rows.year == "2011") & (rows.predictor == "persistence")].iloc[0]
    assert p11.ties == 2 and p11.share_at_half == 0.5 and p11.brier == pytest.approx(1 / 5)
    # persistence in the first year uses the run's initial ties (the A-B treaty): right on all 5
    p09 = rows[(rows.year == "2009") & (rows.predictor == "persistence")].iloc[0]
    assert p09.brier == 0.0
    logit = rows[rows.predictor == "logistic"]
    assert (logit[logit.year == "2009"].note == "in-sample (training year)").all()
    assert set(rows.measure) == {"alliance"}  # an ATOP table says nothing about friendships
    assert ((rows.brier >= 0) & (rows.brier <= 1)).all()


def test_fit_reads_level_tables_and_scores_any_tie(run_dir: Path, tmp_path: Path) -> None:
    p = tmp_path / "levels.csv"
    pd.DataFrame(
        {
            "a": ["AAA", "AAA", "CCC", "AAA"],
            "b": ["BBB", "CCC", "DDD", "ZZZ"],
            "year": [2010, 2010, 2010, 2010],
            "tie": ["alliance", "friendship", "none", "none"],
            "source": ["x"] * 4,
        }
    ).to_csv(p, index=False)
    rep, _ = scoring.fit_run(run_dir, p)
    assert set(rep.rows.measure) == {"alliance", "tie"}
    assert rep.unmatched_states == ["ZZZ"]
    tie = rep.rows[(rep.rows.measure == "tie") & (rep.rows.predictor == "model")]
    assert (tie.ties == 2).all() and (tie.n == 3).all()


def test_bad_targets_and_runs_are_clear_errors(run_dir: Path, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("a,b,when\nX,Y,2010\n")
    with pytest.raises(InputError, match="expected columns a, b, year"):
        scoring.read_targets(bad)
    bad.write_text("a,b,year,tie\nAAA,BBB,2010,allied\n")
    with pytest.raises(InputError, match=r"bad.csv:2:1: tie: must be one of"):
        scoring.read_targets(bad)
    late = tmp_path / "late.csv"
    late.write_text("a,b,year,pact\nAAA,BBB,1990,1\n")
    assert main(["fit", str(run_dir), "--targets", str(late)]) == 2
    assert "no target year falls inside the run (2009-2011)" in capsys.readouterr().err
    assert main(["fit", str(tmp_path), "--targets", str(late)]) == 2
    assert "not a hedgesim run directory" in capsys.readouterr().err


def test_scenario_targets_give_a_fit_section(tmp_path: Path, capsys) -> None:
    atop_targets(tmp_path / "t.csv")
    (tmp_path / "w.yaml").write_text(WORLD + "targets: t.csv\n")
    out = tmp_path / "run"
    args = ["run", str(tmp_path / "w.yaml"), "-q", "-j", "1", "--no-figures", "-r", "2", "-o"]
    assert main([*args, str(out)]) == 0
    assert "\nfit:\n" in capsys.readouterr().out
    assert (out / "fit.csv").is_file()
    (tmp_path / "w2.yaml").write_text(WORLD + "targets: missing.csv\n")
    out2 = tmp_path / "run2"
    assert main(["run", str(tmp_path / "w2.yaml"), "-q", "-o", str(out2)]) == 2
    assert "missing.csv not found" in capsys.readouterr().err
    assert not out2.exists()  # failed before the run: nothing written


def test_prior_start_carries_the_first_year(run_dir: Path, tmp_path: Path) -> None:
    """A pact seen only in 2010: persistence from the previous year predicts it in 2011 (wrong),
    persistence from the first year (2009) does not (right)."""
    p = tmp_path / "t.csv"
    pd.DataFrame(
        {
            "a": ["AAA", "AAA"] * 3,
            "b": ["BBB", "CCC"] * 3,
            "year": [2009, 2009, 2010, 2010, 2011, 2011],
            "pact": [1, 0, 1, 1, 1, 0],
        }
    ).to_csv(p, index=False)
    run, targets = scoring.run_ties(run_dir), scoring.read_targets(p)
    for prior, brier in (("previous", 0.5), ("start", 0.0)):
        rows = scoring.score_run(run, targets, prior=prior).rows
        got = rows[(rows.year == 2011) & (rows.predictor == "persistence")].brier.iloc[0]
        assert got == brier
