"""Outputs that survive crashes, numerical safety and hostile environments for ``hedgesim run``."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.__main__ import main
from sim.errors import InputError, SimulationError
from sim.model import decision
from sim.model.model import AlignmentModel
from sim.model.seeds import replication_seed as seed_for
from sim.model.world import compile_world
from sim.results.read import load_run
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")
KILLS = 6  # SIGKILLs at different moments; counted in docs/RELIABILITY.md
ARGS = ["run", TOY, "-r", "150", "--steps", "60", "-q", "-j", "2", "--ablate", "all"]


def _frames(out: Path) -> dict[str, pd.DataFrame]:
    return {n: pd.read_parquet(out / f"{n}.parquet") for n in ("system", "states", "ties")}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> tuple[dict[str, pd.DataFrame], float]:
    """The uninterrupted run's tables, and how long its work took (to aim kills inside it)."""
    out = tmp_path_factory.mktemp("ref") / "run"
    t0 = time.perf_counter()
    assert main([*ARGS, "--out", str(out), "--no-figures"]) == 0
    return _frames(out), time.perf_counter() - t0


def _claimed_since(marker: Path, before: int | None, proc: subprocess.Popen) -> None:
    """Wait until this attempt has written its "running" marker (its work has begun)."""
    deadline = time.monotonic() + 60
    while not marker.exists() or marker.stat().st_mtime_ns == before:
        assert proc.poll() is None, "the run ended before it claimed its directory"
        assert time.monotonic() < deadline, "the run never claimed its directory"
        time.sleep(0.002)


def test_sigkill_at_random_moments_leaves_a_loadable_or_clearly_incomplete_directory(
    tmp_path, reference
):
    tables, seconds = reference
    rng = np.random.default_rng(np.random.SeedSequence(2024))
    out = tmp_path / "run"
    marker = out / "run.json"
    cmd = [sys.executable, "-m", "sim", *ARGS, "--out", str(out), "--no-figures"]
    outcomes = []
    for k in range(KILLS):
        before = marker.stat().st_mtime_ns if marker.exists() else None
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        if k % 2 == 0:  # any moment from launch: start-up, work or the end
            time.sleep(float(rng.uniform(0.3, 4.0)))
        else:  # a moment inside the work (the run is fast: a launch-timed kill may miss it)
            _claimed_since(marker, before, proc)
            time.sleep(float(rng.uniform(0.0, 0.8 * seconds)))
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        try:
            res = load_run(out)
            outcomes.append("complete")
            for name, frame in _frames(out).items():  # a complete directory is the right one
                pd.testing.assert_frame_equal(frame, tables[name])
            assert len(res.summary) > 0
        except InputError as exc:
            claimed = marker.exists() and json.loads(marker.read_text())["status"] == "running"
            outcomes.append("mid-run" if claimed else "before-start")
            assert "did not complete" in str(exc) or "no run.json" in str(exc)
    # re-running the same command completes it, with exactly the uninterrupted numbers
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    for name, frame in _frames(out).items():
        pd.testing.assert_frame_equal(frame, tables[name])
    assert load_run(out).meta["status"] == "complete"
    assert "mid-run" in outcomes, outcomes  # at least one kill landed while the run worked


def test_a_non_finite_utility_stops_the_run_naming_step_and_pair(monkeypatch, tmp_path, capsys):
    sc = load_scenario(TOY)
    w = compile_world(sc)
    original = decision.DecisionRule.base_utilities  # the utilities every step starts from

    def poisoned(self, *args, **kwargs):
        pair = original(self, *args, **kwargs)
        if self.steps_seen == 3:
            pair = pair.copy()
            pair[1, ..., 2, 0] = np.nan  # S's alliance utility with A (in every replication)
        self.steps_seen += 1
        return pair

    monkeypatch.setattr(decision.DecisionRule, "base_utilities", poisoned)
    monkeypatch.setattr(decision.DecisionRule, "steps_seen", 0, raising=False)
    model = AlignmentModel(sc, rng=seed_for(1, 0), world=w)
    with pytest.raises(SimulationError, match=r"step 4: utility of S for a tie with A"):
        model.run_for(10)
    # through the command line: exit status 3 and the same one-line message
    monkeypatch.setattr(decision.DecisionRule, "steps_seen", 0, raising=False)
    out = tmp_path / "o"
    code = main(["run", TOY, "-r", "3", "--steps", "10", "-j", "1", "-q", "--out", str(out)])
    assert code == 3
    err = capsys.readouterr().err
    assert "step 4: utility of S for a tie with A is not finite" in err and "Traceback" not in err


def test_a_disk_full_during_writing_exits_4_and_leaves_no_partial_file(
    tmp_path, monkeypatch, capsys
):
    import sim.results.atomic

    real = sim.results.atomic.atomic_path
    calls = {"n": 0}

    def failing(target):
        calls["n"] += 1
        if calls["n"] == 3:  # the second table: the disk fills up mid-run
            raise OSError(errno.ENOSPC, "No space left on device", str(target))
        return real(target)

    monkeypatch.setattr(sim.results.atomic, "atomic_path", failing)
    out = tmp_path / "o"
    code = main(
        ["run", TOY, "-r", "3", "--steps", "5", "-q", "-j", "1", "--no-figures", "--out", str(out)]
    )
    assert code == 4
    err = capsys.readouterr().err
    assert "No space left on device" in err and "Traceback" not in err
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*.tmp"))
    assert json.loads((out / "run.json").read_text())["status"] == "running"
    with pytest.raises(InputError, match="did not complete"):
        load_run(out)


def test_unreadable_scenario_and_unwritable_output(tmp_path, monkeypatch, capsys):
    real_open = Path.open

    def deny(self, *a, **k):
        if self.name == "secret.yaml":
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_open(self, *a, **k)

    secret = tmp_path / "secret.yaml"
    secret.write_text(Path(TOY).read_text())
    monkeypatch.setattr(Path, "open", deny)
    assert main(["run", str(secret), "-o", str(tmp_path / "x")]) == 2
    assert "permission denied" in capsys.readouterr().err
    monkeypatch.setattr(Path, "open", real_open)
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["run", TOY, "-o", str(blocker), "-q"]) == 2
    assert "not a directory" in capsys.readouterr().err
    assert main(["run", TOY, "-o", str(blocker / "sub"), "-q"]) == 2
    assert "cannot write" in capsys.readouterr().err


def test_outputs_are_readable_like_any_file_the_user_writes(tmp_path):
    out = tmp_path / "o"
    old = os.umask(0o022)
    try:
        assert (
            main(["run", TOY, "-r", "2", "--steps", "3", "-q", "-j", "1", "--out", str(out)]) == 0
        )
    finally:
        os.umask(old)
    for f in (out / "run.json", out / "states.parquet", out / "figures" / "network.png"):
        assert f.stat().st_mode & 0o777 == 0o644, f


# a parent already running a thread (a notebook kernel) starts its workers from a fork server
THREADED = (
    "import sys, threading, time\n"
    "threading.Thread(target=time.sleep, args=(600,), daemon=True).start()\n"
    "from sim.__main__ import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)


MAIN_ONLY = ["run", TOY, "-r", "300", "--steps", "60", "-q", "-j", "2",
             "--ablate", "expanding_options"]  # fmt: skip


@pytest.mark.parametrize("start", ["fork", "forkserver"])
def test_killing_the_main_pid_of_a_run_takes_its_workers_along(tmp_path, start):
    """``kill PID`` of ``hedgesim run`` (SIGTERM to the main process only): workers (and a fork
    server) follow it within a few seconds, and the same command then completes the run (checked
    once: a fork server changes nothing on disk; the tables after kills are checked above)."""
    from test_reliability_sweep import alive, descendants, wait_gone

    out = tmp_path / "run"
    head = ["-m", "sim"] if start == "fork" else ["-c", THREADED]
    cmd = [sys.executable, *head, *MAIN_ONLY, "--out", str(out), "--no-figures"]
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    try:
        _claimed_since(out / "run.json", None, proc)
        deadline = time.monotonic() + 30
        while len(workers := descendants(proc.pid)) < (2 if start == "fork" else 4):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGTERM)
        proc.wait()
        assert wait_gone(workers, 3.0) < 3.0
    finally:
        if alive(proc.pid):
            os.killpg(proc.pid, signal.SIGKILL)
    if start == "forkserver":
        return
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    res = load_run(out)
    assert res.meta["status"] == "complete" and res.system["replication"].nunique() == 300
