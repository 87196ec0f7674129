"""Running sweeps: identical results whatever the executor, workers or chunks; the store; analysis.

The scenario is tiny (5 states, 8 steps) so a run costs about a millisecond: these tests check
bookkeeping, not the model.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy.stats import binomtest
from sweep_world import write as write_world

from sim import __version__
from sim.__main__ import main as main_sweep
from sim.errors import HedgesimError
from sim.experiments.analysis import cell_shares, format_report, sensitivity
from sim.experiments.design import build_design
from sim.experiments.engine import Execution
from sim.experiments.spec import load_spec
from sim.experiments.stats import wilson
from sim.experiments.sweep import analyze, execute, sweep
from sim.model.metrics import STATUSES
from sim.model.model import AlignmentModel
from sim.model.seeds import replication_seed as seed_for
from sim.model.seeds import seed_value
from sim.results.read import load_sweep
from sim.results.tables import run_id
from sim.scenario.load import scenario_hash, validate_document
from sim.scenario.paths import apply_overrides


def run_sweep(spec, out, **kw):
    """``sim.sweep``, returning what the invocation did (its report)."""
    return sweep(spec, out, **kw).report


pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")


GRID = """\
scenario: quad.yaml
replications: 5
parameters:
  sanctions.0.level: {values: [0.0, 0.5, 1.0]}
  mechanisms.historical_distrust.weight: {values: [0.0, 2.0]}
"""


def write(tmp: Path, text: str = GRID, name: str = "sweep.yaml") -> Path:
    return write_world(tmp, text, name)


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[Path, pd.DataFrame]:
    """The grid run in-process with default chunks: what every other way must reproduce."""
    tmp = tmp_path_factory.mktemp("ref")
    spec = write(tmp)
    run_sweep(spec, tmp / "out", workers=1, progress=False)
    return spec, load_sweep(tmp / "out").runs


# --------------------------------------------------------------------------------------------
# Determinism
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("workers", "chunk"), [(1, 1), (1, 7), (2, 1), (2, 4), (2, None)])
def test_same_rows_whatever_workers_and_chunk(tmp_path: Path, reference, workers, chunk) -> None:
    spec, ref = reference
    report = run_sweep(spec, tmp_path / "out", workers=workers, chunk=chunk, progress=False)
    assert report.ran == report.n_runs == 30
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "out").runs, ref)


def test_any_concurrent_futures_executor(tmp_path: Path, reference) -> None:
    spec, ref = reference
    with ThreadPoolExecutor(3) as ex:
        run_sweep(spec, tmp_path / "out", executor=ex, workers=3, chunk=2, progress=False)
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "out").runs, ref)


def test_rows_match_an_independent_run_of_the_resolved_scenario(reference) -> None:
    """Cell values, seed, id and outcome of each row, recomputed without sim.experiments.sweep."""
    spec, ref = reference
    base = load_spec(spec)
    assert list(ref["run_index"]) == list(range(30))
    assert ref["run_id"].is_unique
    for _, row in ref.iloc[[0, 7, 29]].iterrows():
        cell, rep = divmod(int(row["run_index"]), 5)
        assert (row["cell"], row["replication"]) == (cell, rep)
        level = [0.0, 0.5, 1.0][cell // 2]
        weight = [0.0, 2.0][cell % 2]
        assert (row["sanctions.0.level"], row["mechanisms.historical_distrust.weight"]) == (
            level,
            weight,
        )
        doc = apply_overrides(
            base.scenario_doc,
            [
                (("sanctions", 0, "level"), level),
                (("mechanisms", "historical_distrust", "weight"), weight),
            ],
        )
        sc = validate_document(doc, "x")
        seq = seed_for(11, int(row["run_index"]))
        assert row["seed"] == seed_value(seq)
        assert row["run_id"] == run_id(scenario_hash(sc), seed_value(seq), __version__)
        rec = AlignmentModel(sc, rng=seq).finish(sc.params.steps).run_record()
        world_ids = list(sc.states)
        for sid in ("IRN", "IND"):
            code = rec.status[-1, world_ids.index(sid)]
            assert row[f"{sid}.status"] == STATUSES[code]
            assert row[f"{sid}.non_aligned"] == int(STATUSES[code] == "non_aligned")
            assert row[f"{sid}.n_friendships"] == rec.n_friendships[-1, world_ids.index(sid)]
        assert row["system.share_non_aligned"] == pytest.approx(rec.system[-1, 5])


def test_outcomes_are_not_degenerate(reference) -> None:
    """Guard for the tests above: the fixture scenario must produce varied outcomes."""
    _, ref = reference
    assert ref["IRN.status"].nunique() >= 2 and ref["IND.status"].nunique() >= 2


def test_recording_every_k_steps(tmp_path: Path, reference) -> None:
    _, ref = reference
    spec = write(tmp_path, GRID + "record: {every: 3}\n")
    run_sweep(spec, tmp_path / "out", workers=1, chunk=4, progress=False)
    data = load_sweep(tmp_path / "out")
    # recording does not change outcomes: same final rows as the final-only reference
    pd.testing.assert_frame_equal(data.runs.drop(columns="run_id"), ref.drop(columns="run_id"))
    steps = data.steps
    assert sorted(steps["step"].unique()) == [0, 3, 6, 8]  # every 3, plus initial and final
    assert len(steps) == 30 * 4
    last = steps[steps["step"] == 8].reset_index(drop=True)
    metrics = [c for c in last.columns if c not in ("run_id", "run_index", "step")]
    pd.testing.assert_frame_equal(last[metrics], data.runs[metrics])


# --------------------------------------------------------------------------------------------
# Store: resume, conflicts, formats, debris
# --------------------------------------------------------------------------------------------


def test_rerun_skips_everything_and_manifest_records_it(tmp_path: Path, reference) -> None:
    spec, _ = reference
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, progress=False)
    again = run_sweep(spec, out, workers=2, progress=False)
    assert (again.ran, again.already) == (0, 30)
    m = json.loads((out / "manifest.json").read_text())
    assert m["n_runs"] == 30 and m["complete"] is True and m["root_seed"] == 11
    assert [i["runs_before"] for i in m["invocations"]] == [0, 30]
    assert m["design"]["columns"] == ["sanctions.0.level", "mechanisms.historical_distrust.weight"]
    assert m["versions"]["hedgesim"] == __version__


def test_a_different_sweep_is_refused_unless_forced(tmp_path: Path, reference, capsys) -> None:
    spec, ref = reference
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, progress=False)
    other = write(tmp_path, GRID.replace("replications: 5", "replications: 2"), "other.yaml")
    rc = main_sweep(["sweep", str(other), "--out", str(out), "-q", "-j", "1"])
    err = capsys.readouterr().err
    assert rc == 2 and "holds a different sweep (replications: 5 there, 2 here)" in err
    assert "--force" in err
    pd.testing.assert_frame_equal(load_sweep(out).runs, ref)  # untouched
    assert main_sweep(["sweep", str(other), "--out", str(out), "-q", "-j", "1", "--force"]) == 0
    assert len(load_sweep(out).runs) == 12


def test_csv_parts_load_identically_and_export(tmp_path: Path, reference) -> None:
    spec, ref = reference
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, chunk=8, fmt="csv", progress=False)
    assert {p.suffix for p in (out / "runs").iterdir() if p.name.startswith("part-")} == {".csv"}
    pd.testing.assert_frame_equal(load_sweep(out).runs, ref)
    with pytest.raises(HedgesimError, match="was written as csv"):
        run_sweep(spec, out, workers=1, fmt="parquet", progress=False)
    assert main_sweep(["export", str(out), "--csv"]) == 0
    exported = pd.read_csv(out / "runs.csv")
    assert len(exported) == 30 and list(exported.columns) == list(ref.columns)
    assert (exported["IRN.status"] == ref["IRN.status"]).all()


def test_loader_ignores_temp_files_and_uncommitted_steps(tmp_path: Path) -> None:
    spec = write(tmp_path, GRID + "record: {every: 4}\n")
    out = tmp_path / "out"
    run_sweep(spec, out, workers=1, chunk=10, progress=False)
    full = load_sweep(out)
    # debris a kill can leave: a temp file mid-write, and a steps part whose runs part never came
    (out / "runs" / ".part-0000000000.parquet.abc.tmp").write_bytes(b"PAR1 torn")
    (out / "steps" / "part-0000000010.parquet").replace(out / "steps" / "keep")
    (out / "runs" / "part-0000000010.parquet").unlink()
    (out / "steps" / "keep").replace(out / "steps" / "part-0000000010.parquet")
    partial = load_sweep(out)
    assert len(partial.runs) == 20 and set(partial.steps["run_id"]) == set(partial.runs["run_id"])
    report = run_sweep(spec, out, workers=1, chunk=3, progress=False)  # resume cleans up
    assert report.ran == 10
    assert not any(p.name.endswith(".tmp") for p in (out / "runs").iterdir())
    done = load_sweep(out)
    pd.testing.assert_frame_equal(done.runs, full.runs)
    pd.testing.assert_frame_equal(done.steps, full.steps)


@pytest.mark.parametrize(("bad", "where"), [(17, "a later batch"), (19, "a batch of one")])
def test_failed_run_keeps_finished_chunks_and_names_the_run(
    tmp_path: Path, monkeypatch, reference, bad: int, where: str
) -> None:
    """A run's utilities turn non-finite inside the model; the sweep names that run.

    Batches of two (cell 3 = runs 15-16, 17-18, 19) put the failing run in a later lock-step
    batch or alone, where the model only knows its position in its own batch.
    """
    spec, ref = reference
    import sim.model.lockstep as lockstep_mod
    from sim.model.dynamics import Dynamics

    n = len(build_design(load_spec(spec)).base_doc["states"])
    monkeypatch.setattr(lockstep_mod, "MAX_BATCH_CELLS", 2 * n * n)
    assert lockstep_mod.batch_size(n) == 2
    real_step = Dynamics.step

    def step(self) -> None:
        keys = [s.spawn_key for s in self.seeds]
        if (bad,) in keys:  # this run's own distrust becomes NaN: its utilities are not finite
            k = keys.index((bad,))
            self.dyadic.distrust[(k, 0, 1) if self.dyadic.distrust.ndim == 3 else (0, 1)] = np.nan
        real_step(self)

    monkeypatch.setattr(Dynamics, "step", step)
    with pytest.raises(HedgesimError) as info:
        run_sweep(spec, tmp_path / "out", workers=1, chunk=5, progress=False)
    assert info.value.exit_code == 3
    msg = str(info.value)
    assert f"run {bad} (cell 3" in msg and f"replication {bad - 15}" in msg, (where, msg)
    assert "SimulationError" in msg and "is not finite" in msg
    partial = load_sweep(tmp_path / "out").runs
    assert list(partial["run_index"]) == list(range(15))
    monkeypatch.setattr(Dynamics, "step", real_step)
    run_sweep(spec, tmp_path / "out", workers=1, chunk=5, progress=False)
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "out").runs, ref)


class CountingExecutor(Executor):
    """Runs tasks on threads and records the largest number ever in flight."""

    def __init__(self) -> None:
        self.inner = ThreadPoolExecutor(4)
        self.lock = threading.Lock()
        self.inflight = 0
        self.peak = 0
        self.submitted = 0

    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future:
        with self.lock:
            self.inflight += 1
            self.submitted += 1
            self.peak = max(self.peak, self.inflight)
        fut = self.inner.submit(fn, *args, **kwargs)

        def done(_: Future) -> None:
            with self.lock:
                self.inflight -= 1

        fut.add_done_callback(done)
        return fut


def test_at_most_a_window_of_tasks_is_in_flight(tmp_path: Path, reference) -> None:
    spec, ref = reference
    ex = CountingExecutor()
    run_sweep(spec, tmp_path / "out", executor=ex, chunk=1, window=3, progress=False)
    ex.inner.shutdown()
    assert ex.submitted == 30 and ex.peak <= 3
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "out").runs, ref)


def test_bad_options_and_unknown_directories(tmp_path: Path, reference, capsys) -> None:
    spec, _ = reference
    assert main_sweep(["analyze", str(tmp_path)]) == 2
    assert "not a hedgesim sweep directory" in capsys.readouterr().err
    design = build_design(load_spec(spec))
    with pytest.raises(HedgesimError, match="unknown format"):
        execute(design, tmp_path / "o", fmt="xlsx")
    (tmp_path / "o2" / "runs").mkdir(parents=True)
    (tmp_path / "o2" / "runs" / "part-0000000000.parquet").write_bytes(b"x")
    with pytest.raises(HedgesimError, match="without a manifest"):
        execute(design, tmp_path / "o2", Execution(workers=1), progress=False)


# --------------------------------------------------------------------------------------------
# Analysis
# --------------------------------------------------------------------------------------------


def test_wilson_matches_scipy_and_covers_the_share() -> None:
    for k, n in [(0, 5), (3, 5), (5, 5), (17, 40)]:
        ci = binomtest(k, n).proportion_ci(method="wilson")
        assert wilson(k, n) == pytest.approx((ci.low, ci.high))
        assert ci.low <= k / n <= ci.high
    assert np.isnan(wilson(0, 0)).all()


def test_cell_shares_count_runs_per_cell(reference) -> None:
    spec, ref = reference
    d = build_design(load_spec(spec))
    manifest = {
        "design": {"cells": d.cells, "columns": d.columns},
        "scenario": {"states_reported": ["IRN", "IND"]},
    }
    shares = cell_shares(ref, manifest)
    assert len(shares) == 6 * 2 and (shares["n"] == 5).all()
    for _, row in shares.iterrows():
        runs = ref[ref["cell"] == row["cell"]]
        k = int((runs[f"{row['state']}.status"] == "non_aligned").sum())
        assert row["k"] == k and row["share"] == pytest.approx(k / 5)
        assert (row["lo"], row["hi"]) == pytest.approx(wilson(k, 5))
    # an unfinished sweep shows its empty cells instead of hiding them
    part = cell_shares(ref[ref["cell"] != 2], manifest)
    empty = part[part["cell"] == 2]
    assert (empty["n"] == 0).all() and empty["share"].isna().all()


def test_analyze_cli_on_a_grid(reference, tmp_path: Path, capsys) -> None:
    spec, _ = reference
    run_sweep(spec, tmp_path / "out", workers=1, progress=False)
    assert main_sweep(["analyze", str(tmp_path / "out"), "--csv", str(tmp_path / "c.csv")]) == 0
    out = capsys.readouterr().out
    assert "non-aligned share per cell (95% Wilson interval)" in out
    assert "6 cells × 5 replications = 30 runs" in out
    table = pd.read_csv(tmp_path / "c.csv")
    assert len(table) == 12 and {"share", "lo", "hi", "state"} <= set(table.columns)


def _synthetic(tmp: Path, sampler: str, n: int, extra: str = "") -> dict[str, Any]:
    """A sampled design's manifest section, without running anything."""
    text = (
        f"scenario: quad.yaml\nsampler: {sampler}\nn: {n}\n{extra}\nparameters:\n"
        "  sanctions.0.level: {bounds: [0.0, 1.0]}\n"
        "  params.temperature: {bounds: [0.1, 0.5]}\n"
        "  mechanisms.historical_distrust.weight: {bounds: [0.0, 2.0]}\n"
    )
    d = build_design(load_spec(write(tmp, text)))
    return {
        "design": {
            "sampler": sampler,
            "cells": d.cells,
            "columns": d.columns,
            "problem": d.problem,
            "second_order": "second_order: false" not in extra,
            "levels": 4,
        },
        "scenario": {"states_reported": ["IRN"]},
        "root_seed": 1,
    }


def _shares_from(manifest: dict[str, Any], fn) -> pd.DataFrame:
    cells = manifest["design"]["cells"]
    y = np.array([fn(c) for c in cells])
    return pd.DataFrame({"cell": np.arange(len(cells)), "state": "IRN", "n": 10, "share": y})


def test_sobol_indices_find_the_only_influential_parameter(tmp_path: Path) -> None:
    """Share = sanctions level exactly: S1 = ST = 1 for it (up to estimator error of a
    256-point design), exactly 0 for the others (their columns never change the output)."""
    m = _synthetic(tmp_path, "sobol", 256)
    s = sensitivity(_shares_from(m, lambda c: c["sanctions.0.level"]), m)
    v = s.set_index(["parameter", "index"])["value"]
    conf = s.set_index(["parameter", "index"])["conf"]
    for ix in ("S1", "ST"):  # within the estimator's own 95% bootstrap interval (+ rounding)
        key = ("sanctions.0.level", ix)
        assert abs(v[key] - 1.0) <= conf[key] + 1e-9, (ix, v[key], conf[key])
        assert conf[key] < 0.3  # and that interval is informative at N = 256
    for p in ("params.temperature", "mechanisms.historical_distrust.weight"):
        assert abs(v[(p, "S1")]) < 1e-9 and abs(v[(p, "ST")]) < 1e-9
    assert len(s[s["index"] == "S2"]) == 3
    m2 = _synthetic(tmp_path, "sobol", 64, "second_order: false")
    s2 = sensitivity(_shares_from(m2, lambda c: c["params.temperature"]), m2)
    assert set(s2["index"]) == {"S1", "ST"}


def test_morris_effects_of_a_linear_output(tmp_path: Path) -> None:
    """Share = 0.5·level + 0.2·weight/2: elementary effects on the unit scale are exactly 0.5 and
    0.2 everywhere, so mu* equals them, sigma is 0, and temperature has no effect."""
    m = _synthetic(tmp_path, "morris", 10)
    s = sensitivity(
        _shares_from(
            m,
            lambda c: (
                0.5 * c["sanctions.0.level"] + 0.1 * c["mechanisms.historical_distrust.weight"]
            ),
        ),
        m,
    )
    v = s.set_index(["parameter", "index"])["value"]
    assert v[("sanctions.0.level", "mu_star")] == pytest.approx(0.5)
    assert v[("mechanisms.historical_distrust.weight", "mu_star")] == pytest.approx(0.2)
    assert v[("params.temperature", "mu_star")] == pytest.approx(0.0)
    assert v[("sanctions.0.level", "sigma")] == pytest.approx(0.0, abs=1e-9)


def test_sensitivity_refuses_an_incomplete_design(tmp_path: Path) -> None:
    m = _synthetic(tmp_path, "sobol", 8)
    sh = _shares_from(m, lambda c: c["sanctions.0.level"])
    sh.loc[3, "n"] = 0
    with pytest.raises(HedgesimError, match="1 of 64 cells have no runs"):
        sensitivity(sh, m)


def test_sobol_sweep_end_to_end(tmp_path: Path, capsys) -> None:
    spec = write(
        tmp_path,
        "scenario: quad.yaml\nsampler: sobol\nn: 8\nsecond_order: false\n"
        "replications: 2\nparameters:\n"
        "  sanctions.0.level: {bounds: [0.0, 1.0]}\n"
        "  mechanisms.historical_distrust.weight: {bounds: [0.0, 2.0]}\n",
    )
    assert main_sweep(["sweep", str(spec), "--out", str(tmp_path / "o"), "-q", "-j", "1"]) == 0
    a = analyze(tmp_path / "o")
    assert len(a.shares) == 8 * 4 * 2 and a.sensitivity is not None
    assert set(a.sensitivity["state"]) == {"IRN", "IND"}
    text = format_report(a)
    assert "Sobol' indices of IRN's non-aligned share" in text
    assert (
        main_sweep(
            [
                "analyze",
                str(tmp_path / "o"),
                "--state",
                "IND",
                "--status",
                "aligned",
                "--max-rows",
                "3",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "aligned share per cell" in out and "29 more cells" in out and "of IND's" in out


def test_main_cli_dispatches_to_the_sweep_commands(tmp_path: Path, reference, capsys) -> None:
    """``hedgesim sweep|analyze|export`` through the installed entry point (sim.__main__)."""
    import sim.__main__ as cli

    spec, ref = reference
    out = tmp_path / "out"
    assert cli.main(["sweep", str(spec), "--out", str(out), "-j", "1"]) == 0
    assert "30 runs in" in capsys.readouterr().out
    pd.testing.assert_frame_equal(load_sweep(out).runs, ref)
    assert cli.main(["analyze", str(out), "--max-rows", "0"]) == 0
    assert cli.main(["export", str(out), "--parquet", "--out", str(tmp_path / "x")]) == 0
    assert len(pd.read_parquet(tmp_path / "x" / "runs.parquet")) == 30
    (tmp_path / "file").write_text("")
    assert cli.main(["sweep", str(spec), "--out", str(tmp_path / "file"), "-q"]) == 2
    assert "exists and is not a directory" in capsys.readouterr().err


def test_progress_bar_only_on_a_terminal_and_not_when_quiet(monkeypatch) -> None:
    import sys

    from tqdm import tqdm

    from sim.experiments.sweep import _progress

    monkeypatch.setattr(sys.stderr, "isatty", lambda: False, raising=False)
    assert not isinstance(_progress(10, 0, True), tqdm)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    assert not isinstance(_progress(10, 0, False), tqdm)
    bar = _progress(10, 4, True)
    assert isinstance(bar, tqdm) and bar.n == 4 and bar.total == 10
    bar.close()
