"""A sweep that keeps its runs' ties (``ties:`` in the spec): the table is the runs' own ties,
identical whatever the workers, chunks or format, checked on load, part of the sweep's identity.

Why it exists: the estimation of the free constants (sim.validation.estimate) scores each run's
alliances against ATOP dyad by dyad, from the stored runs of a sweep.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_world import SCENARIO

import sim
from sim.errors import InputError
from sim.experiments.spec import load_spec
from sim.model.model import AlignmentModel
from sim.model.seeds import replication_seed
from sim.results.read import load_sweep_ties
from sim.results.records import fingerprint_of, read_manifest
from sim.scenario.load import validate_document
from sim.scenario.paths import apply_overrides

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")

CALENDAR = SCENARIO.replace("name: quad", 'name: quad\nstart: "2000-01"').replace(
    "steps: 8", "steps: 30"
)
SPEC = """\
scenario: quad.yaml
replications: 3
ties: {ties}
parameters:
  sanctions.0.level: {{values: [0.0, 1.0]}}
"""


def _write(tmp: Path, ties: str = "yearly", scenario: str = CALENDAR) -> Path:
    (tmp / "quad.yaml").write_text(scenario)
    p = tmp / "sweep.yaml"
    p.write_text(SPEC.format(ties=ties))
    return p


@pytest.fixture(scope="module")
def yearly(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("ties")
    spec = _write(tmp)
    res = sim.sweep(spec, tmp / "out", workers=1)
    return spec, res.ties


def _expected(spec: Path, run_index: int) -> dict[int, np.ndarray]:
    """The run's ties at each year end and the last step, from a Mesa model of its cell."""
    base = load_spec(spec)
    cell, _ = divmod(run_index, 3)
    doc = apply_overrides(base.scenario_doc, [(("sanctions", 0, "level"), [0.0, 1.0][cell])])
    sc = validate_document(doc, "x")
    rec = AlignmentModel(sc, rng=replication_seed(11, run_index)).finish(30).run_record()
    return dict(zip(rec.history_steps.tolist(), rec.history_ties, strict=True))


def test_the_ties_are_each_runs_own_at_every_year_end(yearly) -> None:
    spec, ties = yearly
    ids = ["USA", "RUS", "CHN", "IND", "IRN"]
    assert set(ties["level"].astype(str)) == {"friendship", "alliance"}
    for r in (0, 4, 5):
        want = _expected(spec, r)
        assert sorted(want) == [12, 24, 30]  # December 2000, December 2001, the last step
        got = ties[ties.run_index == r]
        for step, matrix in want.items():
            rows = got[got.step == step]
            table = np.zeros((5, 5), dtype=int)
            for a, b, lv in zip(rows.a.astype(str), rows.b.astype(str), rows.level, strict=True):
                assert ids.index(a) < ids.index(b)
                table[ids.index(a), ids.index(b)] = {"friendship": 1, "alliance": 2}[lv]
            np.testing.assert_array_equal(table, np.triu(matrix, 1))


def test_same_table_whatever_workers_chunks_and_format(tmp_path: Path, yearly) -> None:
    spec, ref = yearly
    res = sim.sweep(spec, tmp_path / "a", workers=2, chunk=1, fmt="csv")
    got = res.ties
    for c in ("a", "b", "level"):
        got[c], want = got[c].astype(str), ref[c].astype(str)
        assert (got[c] == want).all()
    pd.testing.assert_frame_equal(got[["run_index", "step"]], ref[["run_index", "step"]])


def test_final_alliances_only(tmp_path: Path, yearly) -> None:
    spec, ref = yearly
    spec = _write(tmp_path, "{when: final, level: alliance}")
    ties = sim.sweep(spec, tmp_path / "out", workers=1).ties
    assert set(ties.step) == {30} and set(ties.level.astype(str)) == {"alliance"}
    want = ref[(ref.step == 30) & (ref.level.astype(str) == "alliance")].reset_index(drop=True)
    for c in ("run_index", "a", "b"):
        assert list(ties[c].astype(str)) == list(want[c].astype(str))


@pytest.mark.parametrize(
    ("ties", "scenario", "message"),
    [
        ("weekly", CALENDAR, "`when` must be one of final, yearly"),
        ("{when: final, level: friends}", CALENDAR, "`level` must be one of any, alliance"),
        ("{when: final, every: 2}", CALENDAR, "unknown key(s) every"),
        ("yearly", SCENARIO, "ties: yearly needs a scenario with a calendar"),
    ],
)
def test_bad_ties_are_located(tmp_path: Path, ties: str, scenario: str, message: str) -> None:
    spec = _write(tmp_path, ties, scenario)
    with pytest.raises(InputError) as exc:
        sim.sweep(spec, tmp_path / "out", workers=1)
    (p,) = exc.value.problems
    assert p.line == 3 and message in p.message and p.path[0] == "ties"
    assert not (tmp_path / "out").exists()


def test_ties_are_part_of_the_sweeps_identity(tmp_path: Path) -> None:
    spec = _write(tmp_path)
    sim.sweep(spec, tmp_path / "out", workers=1)
    m = read_manifest(tmp_path / "out")
    assert m["ties"] == {"when": "yearly", "level": "any"}
    assert fingerprint_of(m) == m["fingerprint"]
    without = {k: v for k, v in m.items() if k != "ties"}
    assert fingerprint_of(without) != m["fingerprint"]  # keeping ties makes another sweep
    assert fingerprint_of({**without, "ties": None}) == fingerprint_of(without)  # old sweeps
    spec.write_text(spec.read_text().replace("ties: yearly\n", ""))
    with pytest.raises(InputError, match="ties kept"):
        sim.sweep(spec, tmp_path / "out", workers=1)
    with pytest.raises(InputError, match="keeps no ties"):
        load_sweep_ties(sim.sweep(spec, tmp_path / "plain", workers=1).directory)


def test_a_damaged_or_missing_ties_part_is_found_and_repaired(tmp_path: Path, yearly) -> None:
    _, ref = yearly
    spec = _write(tmp_path)
    out = tmp_path / "out"
    sim.sweep(spec, out, workers=1, chunk=3)
    part = out / "ties" / "part-0000000003.parquet"
    part.write_bytes(part.read_bytes()[:-20])
    with pytest.raises(InputError, match=r"part-0000000003\.parquet: damaged"):
        load_sweep_ties(out)
    with pytest.raises(InputError, match="--repair"):
        sim.sweep(spec, out, workers=1, chunk=3)
    res = sim.sweep(spec, out, workers=1, chunk=3, repair=True)
    assert res.report.ran == 3
    assert list(res.ties.run_index) == list(ref.run_index)
    (out / "ties" / "part-0000000000.parquet").unlink()
    with pytest.raises(InputError, match="its ties part is missing"):
        load_sweep_ties(out)
