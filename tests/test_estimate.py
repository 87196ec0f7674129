"""Estimation of the free defaults (sim.validation.estimate) and the estimates file it writes
(sim.experiments.posterior): implausibility and statistics on constructed cases, designs,
a tiny estimation end to end (resumed), and the file's checks."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim.errors import InputError
from sim.experiments.posterior import MARKER, load_estimates, with_constants
from sim.scenario.load import load_scenario
from sim.validation import estimate as est
from sim.validation import estimate_file as estf

ROOT = Path(__file__).resolve().parents[1]


def test_implausibility_constructed_case() -> None:
    mean = np.array([[10.0, 20.0], [30.0, 20.0]])
    var = np.array([[4.0, 0.0], [0.0, 0.0]])
    obs = np.array([12.0, 20.0])
    i = est.implausibility(mean, var, 4, obs, np.array([1.0, 1.0]), np.array([0.0, 3.0]))
    # |12 - 10| / sqrt(1 + 0 + 4 * (1 + 1/4)) and |20 - 20| / 2
    assert i[0, 0] == pytest.approx(2 / math.sqrt(6))
    assert i[0, 1] == 0
    assert i[1, 0] == pytest.approx(18.0)  # far off, with no simulator noise to excuse it
    worst = i.max(axis=1)
    assert (worst <= est.CUTOFF).tolist() == [True, False]


def test_variances_are_the_written_down_ones() -> None:
    obs_var, md_var = est.variances(np.array([100.0, 0.0]))
    assert obs_var.tolist() == pytest.approx([(est.OBS_REL * 100) ** 2, 0.0])
    assert md_var.tolist() == pytest.approx([(est.MD_REL * 100) ** 2 + 1.0, 1.0])


def test_statistics_count_alliances_formations_and_ends_among_members() -> None:
    years = [2000, 2001, 2002]
    h = np.zeros((3, 4, 4), dtype=np.int8)

    def ally(t: int, a: int, b: int) -> None:
        h[t, a, b] = h[t, b, a] = 1

    ally(0, 0, 1)
    ally(1, 0, 1)
    ally(1, 1, 2)  # formed in 2001
    ally(2, 1, 2)  # 0-1 ended in 2002
    ally(2, 2, 3)  # formed, but state 3 is not a member in 2002: not counted
    alive = np.ones((3, 4), dtype=bool)
    alive[2, 3] = False
    names = ["alliances_2001", "alliances_2002", "formed", "ended"]
    assert est.statistics(h, alive, years, names) == [2.0, 1.0, 1.0, 1.0]


def test_lhs_is_latin_reproducible_and_refocused() -> None:
    u = est.lhs(8, seed=5, wave=1)
    assert np.array_equal(u, est.lhs(8, seed=5, wave=1))
    assert not np.array_equal(u, est.lhs(8, seed=5, wave=2))
    for col in u.T:  # one point per eighth of every axis
        assert sorted(np.floor(col * 8).astype(int).tolist()) == list(range(8))
    box = est.refocus(np.array([[0.2] * 9, [0.4] * 9]))
    assert box[0].tolist() == pytest.approx([0.1, 0.5])
    inside = est.lhs(16, seed=5, wave=2, box=box)
    assert inside.min() >= 0.1 and inside.max() <= 0.5
    for p in est.PRIORS:
        v = p.value(np.array([0.0, 0.5, 1.0]))
        assert v[0] == pytest.approx(p.low) and v[2] == pytest.approx(p.high)
        assert p.unit(v).tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_tiny_estimation_end_to_end_resumes_and_writes_a_valid_file(tmp_path: Path) -> None:
    out = tmp_path / "est"
    res = est.estimate(out, est.QUICK, workers=1)
    waves = res.waves
    assert [w.runs for w in waves] == [12, 8][: len(waves)]
    assert res.reference.runs == 2 and res.reference.values.shape == (1, len(est.PRIORS))
    doc = estf.document(res.target, waves, res.plan, res.reference)
    assert doc["reference"]["non_implausible"] == bool(res.reference.ok[0])
    parts = sorted((out / "wave1" / "runs").glob("part-*"))
    stamps = [p.stat().st_mtime_ns for p in parts]
    res2 = est.estimate(out, est.QUICK, workers=1)  # resumed: nothing runs again
    doc2 = estf.document(res2.target, res2.waves, res2.plan, res2.reference)
    assert [p.stat().st_mtime_ns for p in parts] == stamps
    assert doc2 == doc
    path = estf.write_estimates(doc, tmp_path / "defaults.yaml")
    loaded = load_estimates(path)
    assert set(loaded.parameters) == {p.path for p in est.PRIORS}
    acc = np.array([[pt[p.path] for p in est.PRIORS] for pt in loaded.points])
    for k, p in enumerate(est.PRIORS):
        s = loaded.parameters[p.path]
        assert s.low == pytest.approx(acc[:, k].min(), rel=1e-3)
        assert p.low <= s.low <= s.median <= s.high <= p.high
    d = loaded.draws(5, seed=3)
    assert d == loaded.draws(5, seed=3) and all(x in loaded.points for x in d)
    foreign = tmp_path / "mine.yaml"
    foreign.write_text("kind: notes\n")
    with pytest.raises(InputError, match="not written by the estimation"):
        estf.write_estimates(doc, foreign)
    assert foreign.read_text() == "kind: notes\n"


def _doc() -> dict:
    return {
        "kind": "hedgesim-estimates",
        "version": 1,
        "method": "test",
        "training": {},
        "statistics": [],
        "parameters": {
            "params.temperature": {
                "default": 0.013, "prior": [0.004, 0.05], "scale": "log", "median": 0.02,
                "q05": 0.01, "q95": 0.03, "low": 0.01, "high": 0.03,
            }
        },
        "accepted": [{"values": {"params.temperature": 0.02}, "implausibility": 1.0}],
    }  # fmt: skip


def _write(tmp_path: Path, doc: dict) -> Path:
    p = tmp_path / "e.yaml"
    p.write_text(MARKER + "\n" + yaml.safe_dump(doc, sort_keys=False))
    return p


def test_estimates_file_errors_name_file_line_column_and_path(tmp_path: Path) -> None:
    ok = load_estimates(_write(tmp_path, _doc()))
    assert ok.median() == {"params.temperature": 0.02}
    bad = _doc()
    bad["accepted"][0]["values"]["params.temperature"] = -1.0
    bad["parameters"]["params.nonsense"] = bad["parameters"]["params.temperature"]
    p = _write(tmp_path, bad)
    with pytest.raises(InputError) as e:
        load_estimates(p)
    lines = str(e.value).splitlines()
    text = "\n".join(lines)
    assert any(
        line.startswith(f"{p}:") and "accepted.0.values" in line and "greater than 0" in line
        for line in lines
    ), text
    assert f"{p}:" in text and '"params.nonsense"' in text and "not a constant" in text
    line_no = int(next(x for x in lines if "accepted.0.values" in x).split(":")[1])
    src = p.read_text().splitlines()
    assert "params.temperature: -1.0" in src[line_no - 1]
    wrong = _doc()
    wrong["kind"] = "scenario"
    with pytest.raises(InputError, match="not a hedgesim estimates file"):
        load_estimates(_write(tmp_path, wrong))
    missing = _doc()
    del missing["accepted"]
    with pytest.raises(InputError, match="accepted"):
        load_estimates(_write(tmp_path, missing))


def test_with_constants_changes_only_the_named_fields() -> None:
    sc = load_scenario(ROOT / "scenarios" / "toy_triangle.yaml")
    new = with_constants(
        sc, {"params.temperature": 0.021, "mechanisms.institutions.exit_cost": 1.7}
    )
    assert new.params.temperature == 0.021
    assert new.mechanisms.institutions.exit_cost == 1.7
    assert sc.params.temperature != 0.021  # the original is untouched
    assert new.states == sc.states and new.params.steps == sc.params.steps
    with pytest.raises(InputError):
        with_constants(sc, {"mechanisms.security.friendship_reliability": 1.5})
