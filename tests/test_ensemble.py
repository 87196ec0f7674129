"""The ensemble (sim.experiments.ensemble): McNemar and Holm against known answers, the paired
tests on constructed outcomes, reproducibility over seeds and workers, the command line."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy.stats import binomtest

from sim.__main__ import main
from sim.experiments import ensemble as ens
from sim.experiments.posterior import MARKER
from sim.experiments.run import run_scenarios

ROOT = Path(__file__).resolve().parents[1]


def _ens(*args, **kw) -> ens.EnsembleResult:
    return ens.ensemble(run_scenarios, *args, **kw)


TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")


@pytest.mark.parametrize("b,c", [(0, 0), (0, 5), (3, 9), (10, 10), (1, 12), (25, 40)])
def test_mcnemar_exact_is_the_binomial_test_on_discordant_pairs(b: int, c: int) -> None:
    expected = 1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue
    assert ens.mcnemar_exact(b, c) == pytest.approx(expected, rel=1e-12)


def test_holm_known_answer() -> None:
    # sorted 0.005, 0.01, 0.03, 0.04 -> x4, x3, x2, x1 = 0.02, 0.03, 0.06, 0.04 -> monotone 0.06
    adj = ens.holm([0.01, 0.04, 0.03, 0.005])
    assert adj.tolist() == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert ens.holm([0.9, 0.8]).tolist() == [1.0, 1.0]  # 2 x 0.8 capped at 1


def _outcomes(base: np.ndarray, cf: dict[str, np.ndarray]) -> pd.DataFrame:
    n = len(base)
    rows = []
    for cond, vals in [("baseline", base), *cf.items()]:
        for r in range(n):
            rows.append((r // 10, cond, r % 10, "A", int(vals[r]), 0))
    return pd.DataFrame(rows, columns=["set", "condition", "replication", "state", *ens.OUTCOMES])


def test_paired_tests_count_discordant_pairs_and_call_after_holm() -> None:
    base = np.zeros(40, dtype=int)
    base[:20] = 1
    strong = base.copy()
    strong[:15] = 0  # 15 pairs 1 -> 0, none 0 -> 1
    weak = base.copy()
    weak[:3] = 0
    weak[20:22] = 1  # 3 pairs 1 -> 0, 2 pairs 0 -> 1
    t = ens._tests(_outcomes(base, {"-strong": strong, "-weak": weak}))
    row = t[(t.condition == "-strong") & (t.outcome == "non_aligned")].iloc[0]
    assert (row.b, row.c) == (15, 0)
    assert row.p == pytest.approx(binomtest(0, 15, 0.5).pvalue)
    assert row.difference == pytest.approx(-15 / 40)
    assert row.called
    w = t[(t.condition == "-weak") & (t.outcome == "non_aligned")].iloc[0]
    assert (w.b, w.c) == (3, 2) and not w.called
    # Holm over the family of four tests (two conditions x two outcomes)
    assert t.p_holm.tolist() == pytest.approx(ens.holm(t.p.tolist()).tolist())
    assert row.p_holm == pytest.approx(min(1.0, 4 * row.p))


def _estimates(tmp_path: Path) -> Path:
    pts = [
        {"params.temperature": 0.008, "params.inertia": 0.03},
        {"params.temperature": 0.02, "params.inertia": 0.08},
        {"params.temperature": 0.04, "params.inertia": 0.15},
    ]
    doc = {
        "kind": "hedgesim-estimates",
        "version": 1,
        "method": "test",
        "training": {},
        "statistics": [],
        "parameters": {
            name: {
                "default": 0.0, "prior": [0.001, 1.0], "scale": "log", "median": 0.05,
                "q05": 0.01, "q95": 0.1, "low": 0.008, "high": 0.15,
            }
            for name in pts[0]
        },
        "accepted": [{"values": p, "implausibility": 1.0} for p in pts],
    }  # fmt: skip
    path = tmp_path / "est.yaml"
    path.write_text(MARKER + "\n" + yaml.safe_dump(doc, sort_keys=False))
    return path


def test_ensemble_is_reproducible_for_any_worker_count(tmp_path: Path) -> None:
    e = _estimates(tmp_path)
    kw = dict(replications=4, steps=24, estimates=e, ablate_=["security"])
    one = _ens(TOY, 3, workers=1, **kw)
    two = _ens(TOY, 3, workers=2, **kw)
    pd.testing.assert_frame_equal(one.outcomes, two.outcomes)
    assert one.draws == two.draws
    assert sorted(d["params.temperature"] for d in one.draws) == [0.008, 0.02, 0.04]
    assert len(one.outcomes) == 3 * 4 * 2 * len(one.outcomes.state.unique())
    other = _ens(TOY, 3, workers=1, seed=99, **kw)
    assert other.meta["seed"] == 99 and not other.outcomes.equals(one.outcomes)
    h = one.headline
    row = h[(h.condition == "baseline") & (h.outcome == "non_aligned")].iloc[0]
    o = one.outcomes[(one.outcomes.condition == "baseline") & (one.outcomes.state == row.state)]
    per_set = o.groupby("set").non_aligned.mean()
    assert row.share == pytest.approx(o.non_aligned.mean())
    assert row.q05 == pytest.approx(np.quantile(per_set, 0.05))
    assert row.emerges + row.undecided + row.no == 3


def test_scenario_constants_are_kept(tmp_path: Path) -> None:
    r = _ens(
        TOY, 2, replications=2, steps=12, estimates=_estimates(tmp_path),
        overrides={"params.temperature": 0.03}, workers=1,
    )  # fmt: skip
    assert r.meta["kept"] == ["params.temperature"]
    assert all(set(d) == {"params.inertia"} for d in r.draws)


def test_cli_ensemble_writes_its_files_and_keeps_foreign_ones(tmp_path: Path, capsys) -> None:
    e = str(_estimates(tmp_path))
    out = tmp_path / "ens"
    args = ["run", TOY, "--ensemble", "2", "-r", "3", "--steps", "12", "-j", "1", "-q"]
    assert main([*args, "--estimates", e, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "across sets 5-95%" in printed
    assert sorted(p.name for p in out.iterdir()) == sorted(ens.FILES)
    assert main([*args, "--estimates", e, "--out", str(out)]) == 0  # its own files: replaced
    (out / "notes.txt").write_text("mine")
    assert main([*args, "--estimates", e, "--out", str(out)]) == 2
    assert (out / "notes.txt").read_text() == "mine"
    bad = tmp_path / "bad.yaml"
    bad.write_text("kind: hedgesim-estimates\nversion: 2\n")
    assert main([*args, "--estimates", str(bad), "--out", str(tmp_path / "x")]) == 2
    assert f"{bad}:2:" in capsys.readouterr().err


def test_cli_ensemble_refuses_before_running(tmp_path: Path, capsys, monkeypatch) -> None:
    """A folder it may not write, or ``--defaults`` (which the ensemble's draws would override),
    is refused before any run: the user loses no time and no file."""
    import sim.experiments.run as run_module

    def no_runs(*args, **kwargs):
        raise AssertionError("the ensemble ran although its output was refused")

    monkeypatch.setattr(run_module, "run", no_runs)
    e = str(_estimates(tmp_path))
    out = tmp_path / "taken"
    out.mkdir()
    (out / "notes.txt").write_text("mine")
    args = ["run", TOY, "--ensemble", "2", "-r", "3", "--steps", "12", "-j", "1", "-q"]
    assert main([*args, "--estimates", e, "--out", str(out)]) == 2
    assert "holds files an ensemble did not write" in capsys.readouterr().err
    assert (out / "notes.txt").read_text() == "mine"
    fresh = tmp_path / "fresh"
    assert main([*args, "--estimates", e, "--out", str(fresh), "--defaults", "estimated"]) == 2
    assert "--defaults" in capsys.readouterr().err
    assert not fresh.exists()


def test_run_with_estimated_defaults_takes_the_medians(tmp_path: Path) -> None:
    import sim

    e = _estimates(tmp_path)
    r = sim.run(TOY, replications=2, steps=6, workers=1, defaults=e, figures=False)
    assert r.scenario.params.temperature == 0.05 and r.scenario.params.inertia == 0.05
    assert r.meta["estimated_defaults"]["values"] == {
        "params.temperature": 0.05,
        "params.inertia": 0.05,
    }
    plain = sim.run(TOY, replications=2, steps=6, workers=1, figures=False)
    assert plain.meta["estimated_defaults"] is None
    assert plain.meta["identity"] != r.meta["identity"]


def test_prim_box_finds_the_corner_where_the_outcome_lives() -> None:
    rng = np.random.default_rng(7)
    x = rng.uniform(size=(200, 3))
    y = ((x[:, 1] > 0.7) & (x[:, 2] < 0.8)).astype(float)  # the verdict lives in one corner
    low, high, inside = ens.prim_box(x, y)
    assert y[inside].mean() == 1.0  # the box holds only sets with the outcome
    assert inside.sum() >= 0.8 * y.sum()  # and most of them
    assert 0.6 <= low[1] <= 0.75 and np.isinf(high[1])
    assert 0.7 <= high[2] <= 0.85
    assert np.isinf(low[0]) and np.isinf(high[0])  # an input that does not matter is not cut
    flat_low, flat_high, flat_in = ens.prim_box(x, np.zeros(200))
    assert flat_in.all() and np.isinf(flat_low).all() and np.isinf(flat_high).all()


def test_boxes_report_the_prim_box_of_each_outcome() -> None:
    draws = [{"a": float(v), "b": float(1 - v)} for v in np.linspace(0, 1, 20)]
    rows = [
        (s, "baseline", r, "X", int(draws[s]["a"] > 0.6 and r < 3), 0)
        for s in range(20)
        for r in range(4)
    ]
    o = pd.DataFrame(rows, columns=["set", "condition", "replication", "state", *ens.OUTCOMES])
    boxes = ens._boxes(o, draws)
    assert set(boxes.outcome) == {"non_aligned"}  # allied_stronger is 0 in every set: no box
    assert boxes.box_share.iloc[0] == pytest.approx(0.75)  # 3 of 4 replications in the box
    a = boxes[boxes.input == "a"]
    assert len(a) == 0 or a.low.iloc[0] > 0.6
    b = boxes[boxes.input == "b"]
    assert len(b) == 0 or b.high.iloc[0] < 0.4
    assert len(boxes) >= 1 and (boxes.sets <= 8).all()


def test_an_ensemble_with_no_corner_or_no_drawn_constant_still_reports() -> None:
    """Outcomes equal in every set leave PRIM nothing to box; a scenario that sets every
    estimated constant leaves nothing drawn: the tables keep their columns (empty) and the
    report is written, not a traceback (found running the shipped estimates on the toy)."""
    draws = [{"a": 0.1}, {"a": 0.5}, {"a": 0.9}]
    flat = pd.DataFrame(
        [(s, "baseline", r, "S", 0, 1) for s in range(3) for r in range(4)],
        columns=["set", "condition", "replication", "state", *ens.OUTCOMES],
    )
    meta = {"scenario": "t", "sets": 3, "replications": 4, "seed": 1, "estimates": "e",
            "drawn": ["a"], "kept": []}  # fmt: skip
    for d in (draws, [{} for _ in draws]):
        result = ens.EnsembleResult(meta, d, flat)
        assert list(result.boxes.columns) == list(ens.BOX_COLUMNS) and result.boxes.empty
        assert list(result.influence.columns) == list(ens.INFLUENCE_COLUMNS)
        assert "allied_stronger  100.0% of runs" in result.summary()
