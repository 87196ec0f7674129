"""One loader for every reader (issue 14, findings 3 and 4).

Each damaged or foreign directory the issue lists, handed to ``analyze``, ``export``, ``plot``
and the resume of ``sweep``: one line ``error: path: message`` naming the file, exit status 2,
never a traceback, never a run counted twice. Odd-but-harmless contents (a file of an unexpected
name, steps parts of chunks that never committed) load with a warning; ``--repair`` drops
damaged parts and re-runs exactly their runs.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from sweep_world import write as write_world

from sim.__main__ import main
from sim.results.atomic import sealed
from sim.results.read import load_run, load_sweep

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")
GRID = """\
scenario: quad.yaml
replications: 5
record: {every: 4}
parameters:
  sanctions.0.level: {values: [0.0, 0.5, 1.0]}
  mechanisms.historical_distrust.weight: {values: [0.0, 2.0]}
"""
PART0 = "runs/part-0000000000.parquet"
PART1 = "runs/part-0000000010.parquet"


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("made")
    spec = write_world(tmp, GRID)
    sweep = tmp / "sweep"
    assert main(["sweep", str(spec), "--out", str(sweep), "-q", "-j", "1", "--chunk", "10"]) == 0
    run = tmp / "run"
    argv = ["run", TOY, "-r", "3", "--steps", "5", "-q", "-j", "1", "--no-figures"]
    assert main([*argv, "--ablate", "expanding_options", "--out", str(run)]) == 0
    return {"spec": spec, "sweep": sweep, "run": run}


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def edit_record(path: Path, change: Callable[[dict], object], reseal: bool = True) -> None:
    """Change a JSON record as a hand edit or a foreign writer would; ``reseal`` recomputes its
    checksum, so the change reaches validation rather than stopping at the seal."""
    meta = json.loads(path.read_text())
    change(meta)
    if reseal:
        meta.pop("checksum", None)
        meta = sealed(meta)
    path.write_text(json.dumps(meta))


def one_line_error(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert "Traceback" not in err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    return lines[0]


# ----------------------------------------------------------------------------- sweep damage


def truncate(d: Path) -> str:
    p = d / PART1
    p.write_bytes(p.read_bytes()[:300])
    return PART1


def zero_bytes(d: Path) -> str:
    (d / PART1).write_bytes(b"")
    return PART1


def wrong_schema(d: Path) -> str:
    pd.DataFrame({"x": [1, 2]}).to_parquet(d / PART1)
    return PART1


def manifest_list(d: Path) -> str:
    (d / "manifest.json").write_text("[1, 2, 3]")
    return "manifest.json"


def manifest_without_design(d: Path) -> str:
    edit_record(d / "manifest.json", lambda m: m.pop("design"))
    return "manifest.json"


def manifest_without_scenario(d: Path) -> str:
    edit_record(d / "manifest.json", lambda m: m.pop("scenario"))
    return "manifest.json"


def manifest_deep(d: Path) -> str:
    (d / "manifest.json").write_text("[" * 100_000 + "]" * 100_000)
    return "manifest.json"


def manifest_not_utf8(d: Path) -> str:
    (d / "manifest.json").write_bytes(b'{"kind": "hedgesim-sweep", "name": "\xff\xfe"}')
    return "manifest.json"


def manifest_cells_changed(d: Path) -> str:
    def change(m: dict) -> None:
        m["design"]["cells"][1]["sanctions.0.level"] = 0.75

    edit_record(d / "manifest.json", change)
    return "manifest.json"


def manifest_edited_unsealed(d: Path) -> str:
    edit_record(d / "manifest.json", lambda m: m.update(replications=4), reseal=False)
    return "manifest.json"


def duplicated_part(d: Path) -> str:
    shutil.copy(d / PART0, d / "runs" / "part-0000000020.parquet")
    shutil.copy(d / "runs" / ".part-0000000000.sha256", d / "runs" / ".part-0000000020.sha256")
    return "runs/part-0000000020.parquet"


def flipped_byte(d: Path) -> str:
    p = d / "steps" / "part-0000000010.parquet"
    data = bytearray(p.read_bytes())
    data[len(data) // 2] ^= 0x40
    p.write_bytes(bytes(data))
    return "steps/part-0000000010.parquet"


def missing_checksum(d: Path) -> str:
    (d / "runs" / ".part-0000000010.sha256").unlink()
    return "runs/.part-0000000010.sha256"


SWEEP_DAMAGE = [
    (truncate, "damaged"),
    (zero_bytes, "damaged"),
    (wrong_schema, "damaged"),
    (manifest_list, "expected a JSON object, got list"),
    (manifest_without_design, "design: required field is missing"),
    (manifest_without_scenario, "scenario: required field is missing"),
    (manifest_deep, "nested too deeply"),
    (manifest_not_utf8, "not UTF-8"),
    (manifest_cells_changed, "does not match its fingerprint"),
    (manifest_edited_unsealed, "checksum does not match"),
    (duplicated_part, "name says it starts at run 20"),
    (flipped_byte, "damaged"),
    (missing_checksum, "missing or damaged checksum file"),
]


@pytest.mark.parametrize(
    ("damage", "says"), SWEEP_DAMAGE, ids=[f.__name__ for f, _ in SWEEP_DAMAGE]
)
@pytest.mark.parametrize("command", ["analyze", "export", "plot", "resume"])
def test_a_damaged_sweep_is_one_line_and_exit_2(made, tmp_path, capsys, damage, says, command):
    d = copy(made["sweep"], tmp_path / "d")
    where = damage(d)
    argv = {
        "analyze": ["analyze", str(d)],
        "export": ["export", str(d), "--out", str(tmp_path / "x")],
        "plot": ["plot", str(d), "--out", str(tmp_path / "figs")],
        "resume": ["sweep", str(made["spec"]), "--out", str(d), "-q", "-j", "1"],
    }[command]
    assert main(argv) == 2
    line = one_line_error(capsys, says)
    # the line names the damaged file (resume rewrites a foreign manifest from nothing: refused)
    assert str(d / where) in line or (where == "manifest.json" and str(d) in line), line
    if "runs/" in where or "steps/" in where:
        assert "--repair" in line
    assert not (tmp_path / "x" / "runs.csv").exists()


def test_repair_drops_damaged_parts_and_reruns_exactly_their_runs(made, tmp_path, capsys):
    ref = load_sweep(made["sweep"])
    d = copy(made["sweep"], tmp_path / "d")
    truncate(d)
    flipped_byte(d)  # the same chunk's steps part
    (d / "runs" / "part-0000000020.parquet").write_bytes(b"")
    argv = ["sweep", str(made["spec"]), "--out", str(d), "-j", "1", "--chunk", "10"]
    assert main([*argv, "--repair"]) == 0
    out = capsys.readouterr()
    assert "20 runs in" in out.out  # exactly the two damaged chunks of 10 ran again
    assert out.err.count("note: dropped") == 2
    done = load_sweep(d)
    pd.testing.assert_frame_equal(done.runs, ref.runs)
    pd.testing.assert_frame_equal(done.steps, ref.steps)


def test_a_damaged_manifest_is_rewritten_by_repair(made, tmp_path, capsys):
    d = copy(made["sweep"], tmp_path / "d")
    manifest_cells_changed(d)
    argv = ["sweep", str(made["spec"]), "--out", str(d), "-q", "-j", "1"]
    assert main(argv) == 2
    one_line_error(capsys, "does not match its fingerprint", "--repair")
    assert main([*argv, "--repair"]) == 0
    assert "rewritten from the sweep file" in capsys.readouterr().err
    assert main(["analyze", str(d)]) == 0
    pd.testing.assert_frame_equal(load_sweep(d).runs, load_sweep(made["sweep"]).runs)


# ------------------------------------------------------------------- flagged, not refused


def test_unexpected_names_and_orphan_steps_are_flagged_and_never_double_counted(made, tmp_path):
    ref = load_sweep(made["sweep"])
    d = copy(made["sweep"], tmp_path / "d")
    shutil.copy(d / PART0, d / "runs" / "part-0000000000 (copy).parquet")
    shutil.copy(d / PART0, d / "runs" / "part-0000000000.csv")
    (d / "runs" / "part-0000000010.parquet").unlink()  # its steps part becomes an orphan
    data = load_sweep(d)
    assert data.runs["run_id"].is_unique and len(data.runs) == 20
    assert set(data.runs["run_id"]) < set(ref.runs["run_id"])
    text = " | ".join(data.warnings)
    assert "part-0000000000 (copy).parquet: not a part file" in text
    assert "part-0000000000.csv: not a part file" in text
    assert "never committed" in text


def test_analyze_and_export_print_the_warnings_and_count_each_run_once(made, tmp_path, capsys):
    d = copy(made["sweep"], tmp_path / "d")
    shutil.copy(d / PART0, d / "runs" / "part-0000000000 (copy).parquet")
    assert main(["analyze", str(d), "--csv", str(tmp_path / "shares.csv")]) == 0
    err = capsys.readouterr().err
    assert "warning: " in err and "(copy)" in err
    shares = pd.read_csv(tmp_path / "shares.csv")
    assert (shares["n"] == 5).all()  # 5 replications per cell, not 10
    assert main(["export", str(d), "--out", str(tmp_path / "x")]) == 0
    assert len(pd.read_csv(tmp_path / "x" / "runs.csv")) == 30


def test_identical_cells_are_flagged(tmp_path, capsys):
    spec = write_world(
        tmp_path,
        "scenario: quad.yaml\nreplications: 2\nparameters:\n"
        "  sanctions.0.level: {values: [0.6, 0.6000000000001, 0.2]}\n",
    )
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "-q", "-j", "1"]) == 0
    capsys.readouterr()
    assert main(["analyze", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "resolve to the same scenario" not in err  # different values, different scenarios
    spec.write_text(spec.read_text().replace("0.6000000000001", "0.6"))
    assert main(["sweep", str(spec), "--out", str(tmp_path / "p"), "-q", "-j", "1"]) == 0
    assert "cells 0 and 1" in capsys.readouterr().err
    assert main(["analyze", str(tmp_path / "p")]) == 0
    assert "cells 0 and 1" in capsys.readouterr().err


# ----------------------------------------------------------------------------- run damage


def run_json_list(d: Path) -> str:
    (d / "run.json").write_text("[]")
    return "run.json"


def run_json_deep(d: Path) -> str:
    (d / "run.json").write_text('{"a": ' * 50_000 + "1" + "}" * 50_000)
    return "run.json"


def world_ids_mismatch(d: Path) -> str:
    edit_record(d / "run.json", lambda m: m["world"]["names"].pop())
    return "run.json"


def states_wrong_columns(d: Path) -> str:
    pd.DataFrame({"x": [1]}).to_parquet(d / "states.parquet")
    edit_record(d / "run.json", lambda m: m.pop("checksums"))  # as an older hedgesim
    return "states.parquet"


def summary_empty(d: Path) -> str:
    (d / "summary.csv").write_bytes(b"")
    edit_record(d / "run.json", lambda m: m.pop("checksums"))
    return "summary.csv"


def summary_garbage(d: Path) -> str:
    (d / "summary.csv").write_bytes(b"\x00\xff garbage,\n\n\x01")
    edit_record(d / "run.json", lambda m: m.pop("checksums"))
    return "summary.csv"


def table_truncated(d: Path) -> str:
    p = d / "ties.parquet"
    p.write_bytes(p.read_bytes()[:100])
    return "ties.parquet"


def unknown_state(d: Path) -> str:
    edit_record(d / "run.json", lambda m: m["world"].update(ids=["A", "B", "X", "R"], focal=["X"]))
    return "states.parquet"


RUN_DAMAGE = [
    (run_json_list, "expected a JSON object, got list"),
    (run_json_deep, "nested too deeply"),
    (world_ids_mismatch, "world has 4 ids but 3 names"),
    (states_wrong_columns, "lacks column(s) condition"),
    (summary_empty, "unreadable table"),
    (summary_garbage, ""),
    (table_truncated, "damaged"),
    (unknown_state, "unknown value(s) 'S'"),
]


@pytest.mark.parametrize(("damage", "says"), RUN_DAMAGE, ids=[f.__name__ for f, _ in RUN_DAMAGE])
def test_a_damaged_run_is_one_line_and_exit_2(made, tmp_path, capsys, damage, says):
    d = copy(made["run"], tmp_path / "d")
    where = damage(d)
    assert main(["plot", str(d), "--kind", "network"]) == 2
    one_line_error(capsys, str(d / where), says)
    assert not (d / "figures").exists()


def test_an_undamaged_run_and_sweep_load_with_no_warning(made):
    run = load_run(made["run"])
    assert run.warnings == [] and len(run.summary) == 2
    sweep = load_sweep(made["sweep"])
    assert sweep.warnings == [] and sweep.runs["run_id"].is_unique and len(sweep.runs) == 30


@pytest.mark.parametrize(
    ("sampler", "indices"), [("sobol", {"S1", "ST"}), ("morris", {"mu", "mu_star", "sigma"})]
)
def test_a_constant_share_gives_every_index_undefined_and_still_draws(sampler, indices):
    """A share constant across the design (every run non-aligned) has no variance to apportion:
    each index the sampler reports is NaN with a note, so tables and figures keep their columns
    (the sensitivity figure failed on a Sobol' sweep whose share was constant)."""
    from sim import plots
    from sim.experiments.analysis import sensitivity

    names = ["a", "b"]
    problem = {"num_vars": 2, "names": names, "bounds": [[0, 1], [0, 1]]}
    design = {"sampler": sampler, "second_order": False, "levels": 4, "problem": problem}
    shares = pd.DataFrame({"state": "IRN", "cell": range(8), "n": 5, "share": 1.0})
    got = sensitivity(shares, {"design": design, "root_seed": 3})
    assert set(got["index"]) == indices and got["value"].isna().all()
    assert (got["note"] == "share constant (1) across the design").all()
    fig = plots.plot_sensitivity(got, state="IRN")
    assert any("undefined" in t.get_text() for t in fig.axes[0].texts)


def test_a_killed_write_of_a_checksum_file_is_debris_a_resume_removes(made, tmp_path, capsys):
    d = copy(made["sweep"], tmp_path / "d")
    debris = d / "runs" / "..part-0000000010.sha256.0uk9x9dk.tmp"  # atomic_path's temporary
    debris.write_text("{")
    assert load_sweep(d).warnings == []  # debris, not a file of an unexpected name
    assert main(["sweep", str(made["spec"]), "--out", str(d), "-q", "-j", "1"]) == 0
    capsys.readouterr()
    assert not debris.exists()
