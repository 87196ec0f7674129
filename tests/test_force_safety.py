"""``--force`` never removes or overwrites a file hedgesim did not write (issue 14, finding 1).

Each test puts user files where hedgesim writes — the output folder, its ``figures/``, ``runs/`` —
runs ``run``, ``sweep`` or ``plot`` with ``--force`` into it, and finds every user file intact,
byte for byte; outputs whose names the user's files take are refused before any work.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest
from sweep_world import write as write_world

from sim.__main__ import main
from sim.results.lock import LOCK_NAME, DirLock
from sim.results.read import load_run, load_sweep

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")
RUN = ["-r", "3", "--steps", "5", "-q", "-j", "1"]
GRID = """\
scenario: quad.yaml
replications: 2
parameters:
  sanctions.0.level: {values: [0.0, 1.0]}
  mechanisms.historical_distrust.weight: {values: [0.0, 2.0]}
"""
OTHER = GRID.replace("[0.0, 1.0]", "[0.5]")


def user_files(root: Path) -> dict[Path, bytes]:
    """A thesis, a data folder, and files inside the folders hedgesim writes into."""
    files = {
        root / "mythesis.txt": b"three years of work\n",
        root / "data" / "a.csv": b"x,y\n1,2\n",
        root / "figures" / "my_diagram.png": b"\x89PNG not really",
        root / "runs" / "notes.txt": b"my notes on runs\n",
        root / ".git" / "HEAD": b"ref: refs/heads/main\n",
    }
    for p, data in files.items():
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
    return files


def assert_intact(files: dict[Path, bytes]) -> None:
    for p, data in files.items():
        assert p.is_file(), f"{p} was removed"
        assert p.read_bytes() == data, f"{p} was changed"


# ------------------------------------------------------------------------------------- run


def test_run_force_into_a_folder_of_user_files_keeps_them_and_says_so(tmp_path, capsys):
    files = user_files(tmp_path)
    # without --force: refused, and the message no longer invites data loss
    assert main(["run", TOY, *RUN, "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "other files" in err and "are kept" in err
    assert_intact(files)
    assert main(["run", TOY, *RUN, "--out", str(tmp_path), "--force"]) == 0
    err = capsys.readouterr().err
    assert_intact(files)
    assert "kept 5 entries hedgesim did not write" in err
    for name in (".git/", "data/", "mythesis.txt", "figures/my_diagram.png", "runs/"):
        assert name in err
    res = load_run(tmp_path)
    assert res.meta["status"] == "complete" and (tmp_path / "figures" / "network.png").is_file()
    listed = set(res.meta["files"])
    assert {"run.json", "states.parquet", "figures/network.png"} <= listed
    assert not listed & {"mythesis.txt", "data/a.csv", "figures/my_diagram.png"}


def test_run_force_replaces_only_its_own_previous_outputs(tmp_path, capsys):
    files = user_files(tmp_path)
    assert main(["run", TOY, *RUN, "--out", str(tmp_path), "--force"]) == 0
    first = json.loads((tmp_path / "run.json").read_text())["files"]
    # a different run (CSV, no figures): the old Parquet tables and figures go, user files stay
    args = ["run", TOY, *RUN, "--seed", "5", "--format", "csv", "--no-figures"]
    assert main([*args, "--out", str(tmp_path)]) == 2  # different settings need --force
    assert main([*args, "--out", str(tmp_path), "--force"]) == 0
    capsys.readouterr()
    assert_intact(files)
    assert "states.parquet" in first and not (tmp_path / "states.parquet").exists()
    assert not (tmp_path / "figures" / "network.png").exists()
    assert (tmp_path / "states.csv").is_file()
    assert load_run(tmp_path).meta["seed"] == 5


def test_run_refuses_to_overwrite_a_user_file_with_an_output_name(tmp_path, capsys):
    (tmp_path / "summary.txt").write_text("my own summary")
    (tmp_path / "figures").mkdir()
    (tmp_path / "figures" / "network.png").write_bytes(b"my network drawing")
    assert main(["run", TOY, *RUN, "--out", str(tmp_path), "--force"]) == 2
    err = capsys.readouterr().err
    assert "figures/network.png" in err and "summary.txt" in err and "not written by" in err
    assert (tmp_path / "summary.txt").read_text() == "my own summary"
    assert (tmp_path / "figures" / "network.png").read_bytes() == b"my network drawing"
    assert not (tmp_path / "run.json").exists() and not (tmp_path / "states.parquet").exists()
    # a user's own run.json (not hedgesim's) is never replaced either
    other = tmp_path / "o"
    other.mkdir()
    (other / "run.json").write_text('["my", "list"]')
    assert main(["run", TOY, *RUN, "--out", str(other), "--force"]) == 2
    assert "not a record hedgesim wrote" in capsys.readouterr().err
    assert (other / "run.json").read_text() == '["my", "list"]'


def test_force_on_a_directory_written_before_file_lists_removes_only_known_names(tmp_path, capsys):
    out = tmp_path / "old"
    assert main(["run", TOY, *RUN, "--out", str(out)]) == 0
    meta = json.loads((out / "run.json").read_text())
    del meta["files"], meta["checksum"]  # as an older hedgesim wrote it
    (out / "run.json").write_text(json.dumps(meta))
    (out / "my_notes.md").write_text("notes")
    (out / "figures" / "poster.png").write_bytes(b"mine")
    assert main(["run", TOY, *RUN, "--seed", "9", "--out", str(out), "--force"]) == 0
    capsys.readouterr()
    assert (out / "my_notes.md").read_text() == "notes"
    assert (out / "figures" / "poster.png").read_bytes() == b"mine"
    assert load_run(out).meta["seed"] == 9


# ----------------------------------------------------------------------------------- sweep


def test_sweep_force_keeps_user_files_and_replaces_only_the_old_sweep(tmp_path, capsys):
    spec = write_world(tmp_path, GRID)
    other = write_world(tmp_path, OTHER, "other.yaml")
    out = tmp_path / "out"
    files = user_files(out)
    files[out / "runs.csv"] = b"my own runs table\n"
    (out / "runs.csv").write_bytes(files[out / "runs.csv"])
    base = ["sweep", "--out", str(out), "-q", "-j", "1"]
    assert main([*base[:1], str(spec), *base[1:]]) == 0
    assert_intact(files)
    assert len(load_sweep(out).runs) == 8
    assert main([*base[:1], str(other), *base[1:]]) == 2  # a different sweep needs --force
    assert main([*base[:1], str(other), *base[1:], "--force"]) == 0
    err = capsys.readouterr().err
    assert_intact(files)
    assert "kept" in err and "mythesis.txt" in err and "runs.csv" in err
    assert len(load_sweep(out).runs) == 4  # the old sweep's parts are gone, the new ones there


def test_sweep_never_replaces_a_foreign_manifest_or_a_run(tmp_path, capsys):
    spec = write_world(tmp_path, GRID)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text('{"name": "my web app"}')
    assert main(["sweep", str(spec), "--out", str(out), "-q", "-j", "1", "--force"]) == 2
    assert "not a hedgesim sweep manifest" in capsys.readouterr().err
    assert (out / "manifest.json").read_text() == '{"name": "my web app"}'
    run_dir = tmp_path / "run"
    assert main(["run", TOY, *RUN, "--no-figures", "--out", str(run_dir)]) == 0
    before = sorted(p.name for p in run_dir.iterdir())
    assert main(["sweep", str(spec), "--out", str(run_dir), "-q", "-j", "1", "--force"]) == 2
    assert "holds a hedgesim run" in capsys.readouterr().err
    assert sorted(p.name for p in run_dir.iterdir()) == before


def test_run_force_never_touches_a_sweep_live_or_finished(tmp_path, capsys):
    spec = write_world(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "-q", "-j", "1"]) == 0

    def contents() -> dict[Path, bytes]:  # everything but the lock's own note of its holder
        return {p: p.read_bytes() for p in out.rglob("*") if p.is_file() and p.name != LOCK_NAME}

    snapshot = contents()
    # a running sweep holds the directory's lock: --force does not override it
    with DirLock(out, "sweep"):
        assert main(["run", TOY, *RUN, "--out", str(out), "--force"]) == 2
        err = capsys.readouterr().err
        assert f"sweep pid {os.getpid()}" in err and "writing here" in err
        assert main(["plot", str(out)]) == 2
        assert "writing here" in capsys.readouterr().err
    # finished: still a sweep's results, which a run never replaces
    assert main(["run", TOY, *RUN, "--out", str(out), "--force"]) == 2
    assert "holds a hedgesim sweep" in capsys.readouterr().err
    assert contents() == snapshot


# ------------------------------------------------------------------------------------ plot


def test_plot_force_keeps_user_figures_and_refuses_their_names(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", TOY, *RUN, "--ablate", "expanding_options", "--out", str(out)]) == 0
    capsys.readouterr()
    mine = out / "figures" / "my_diagram.png"
    mine.write_bytes(b"mine")
    (out / "thesis.txt").write_text("thesis")
    # --force removes figures hedgesim drew before and does not redraw; user files stay
    assert main(["plot", str(out), "--kind", "network", "--force"]) == 0
    capsys.readouterr()
    assert mine.read_bytes() == b"mine" and (out / "thesis.txt").read_text() == "thesis"
    assert (out / "figures" / "network.png").is_file()
    assert not (out / "figures" / "timeline_S.png").exists()
    # a user's file with a figure's name is never replaced, with or without --force
    (out / "figures" / "timeline_S.png").write_bytes(b"my own timeline")
    assert main(["plot", str(out), "--force"]) == 2
    assert "timeline_S.png" in capsys.readouterr().err
    assert (out / "figures" / "timeline_S.png").read_bytes() == b"my own timeline"
    # into any other folder: a ledger records what hedgesim drew there
    folder = tmp_path / "figs.v2"
    folder.mkdir()
    (folder / "notes.txt").write_text("n")
    assert main(["plot", str(out), "--kind", "network", "--out", str(folder), "--force"]) == 0
    assert main(["plot", str(out), "--kind", "network", "--out", str(folder)]) == 0
    capsys.readouterr()
    assert (folder / "network.png").is_file() and (folder / "notes.txt").read_text() == "n"


# ---------------------------------------------------------------------- default output names


@pytest.mark.parametrize("name", [".", "..", "../../x", "/tmp/hedgesim_abs", "a/b", "a\\b", " "])
def test_default_output_refuses_names_that_leave_results(tmp_path, monkeypatch, capsys, name):
    monkeypatch.chdir(tmp_path)
    text = Path(TOY).read_text().replace("name: toy_triangle", f"name: {json.dumps(name)}")
    (tmp_path / "s.yaml").write_text(text)
    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "earlier_run").mkdir()
    (tmp_path / "results" / "earlier_run" / "keep.txt").write_text("k")
    before = sorted(str(p) for p in tmp_path.rglob("*"))
    assert main(["run", "s.yaml", *RUN, "--force"]) == 2
    err = capsys.readouterr().err.strip()
    line = 1 + text.splitlines().index(f"name: {json.dumps(name)}")
    assert err.startswith(f"error: s.yaml:{line}:7: name: scenario name") and "--out" in err, err
    assert len(err.splitlines()) == 1
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before
    assert not Path("/tmp/hedgesim_abs").exists()
    # landscape's default CSV goes under results/ the same way
    assert main(["landscape", "s.yaml"]) == 2
    assert "cannot name an output under results/" in capsys.readouterr().err
    assert sorted(str(p) for p in tmp_path.rglob("*")) == before


def test_a_scenario_name_from_set_is_blamed_on_set(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", TOY, *RUN, "--set", "name=..", "--force"]) == 2
    assert capsys.readouterr().err.startswith("error: --set: name: scenario name '..'")


# ------------------------------------------------------------------------- special files


def test_outputs_never_replace_special_files_and_write_through_links(tmp_path, capsys):
    spec = write_world(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "-q", "-j", "1"]) == 0
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert main(["analyze", str(out), "--csv", str(fifo)]) == 2
    err = capsys.readouterr().err
    assert f"error: {fifo}: is a named pipe; hedgesim writes only regular files" in err
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    real = tmp_path / "real.csv"
    real.write_text("old")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    # a link to a file hedgesim did not write is that file: refused, both left as they were
    assert main(["analyze", str(out), "--csv", str(link)]) == 2
    assert "not written by hedgesim" in capsys.readouterr().err
    assert link.is_symlink() and real.read_text() == "old"
    dangling = tmp_path / "dangling"
    dangling.symlink_to(tmp_path / "nowhere")
    assert main(["run", TOY, *RUN, "--out", str(dangling)]) == 2
    err = capsys.readouterr().err
    assert "is a broken symbolic link" in err and "File exists" not in err
    assert main(["analyze", str(out), "--csv", str(dangling)]) == 2
    assert "is a broken symbolic link" in capsys.readouterr().err


def test_export_never_replaces_a_user_file_and_records_its_own(tmp_path, capsys):
    spec = write_world(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "-q", "-j", "1"]) == 0
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "runs.csv").write_text("my runs")
    assert main(["export", str(out), "--out", str(dest)]) == 2
    assert "runs.csv" in capsys.readouterr().err
    assert (dest / "runs.csv").read_text() == "my runs"
    # into the sweep directory: recorded in the manifest, so exporting again may replace it
    assert main(["export", str(out)]) == 0
    assert main(["export", str(out)]) == 0
    capsys.readouterr()
    assert "runs.csv" in json.loads((out / "manifest.json").read_text())["files"]


def test_a_refused_sweep_leaves_no_trace(tmp_path, capsys):
    spec = write_world(tmp_path, GRID)
    out = tmp_path / "out"
    out.mkdir()
    (out / "manifest.json").write_text("[]")
    before = sorted(p.name for p in out.iterdir())
    assert main(["sweep", str(spec), "--out", str(out), "-q", "-j", "1"]) == 2
    capsys.readouterr()
    assert sorted(p.name for p in out.iterdir()) == before  # no .hedgesim.lock left behind


def test_a_rerun_without_figures_keeps_the_figures_on_hedgesims_list(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", TOY, *RUN, "--out", str(out)]) == 0
    assert main(["run", TOY, *RUN, "--out", str(out), "--no-figures"]) == 0
    assert "figures/network.png" in json.loads((out / "run.json").read_text())["files"]
    assert main(["run", TOY, *RUN, "--out", str(out)]) == 0  # redraws its own figures
    capsys.readouterr()


def test_a_named_output_file_hedgesim_did_not_write_is_never_replaced(tmp_path, capsys):
    """``analyze --csv FILE``, ``landscape --csv FILE`` and ``plot --out FILE.png`` refuse a
    file the user has there, before any work; hedgesim's own earlier output may be rewritten."""
    spec = write_world(tmp_path, GRID)
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out), "-q", "-j", "1"]) == 0
    mine = tmp_path / "thesis.csv"
    mine.write_text("my table")
    pic = tmp_path / "figure.png"
    pic.write_bytes(b"my picture")
    for argv in (
        ["analyze", str(out), "--csv", str(mine)],
        ["analyze", str(out), "--sensitivity-csv", str(mine)],
        ["landscape", TOY, "--runs", "5", "--csv", str(mine)],
        ["plot", str(out), "--out", str(pic), "--state", "IRN"],
    ):
        capsys.readouterr()
        assert main(argv) == 2, argv
        assert "not written by hedgesim" in capsys.readouterr().err
    assert mine.read_text() == "my table" and pic.read_bytes() == b"my picture"
    fresh = tmp_path / "fresh.csv"
    assert main(["analyze", str(out), "--csv", str(fresh)]) == 0
    assert main(["analyze", str(out), "--csv", str(fresh)]) == 0  # its own file: rewritten
    assert fresh.read_text().startswith("cell,")
