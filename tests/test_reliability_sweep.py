"""``hedgesim sweep`` killed at random moments, many times, then resumed (issue 14, finding 2).

Two ways to kill: the whole process group (what a terminal's Ctrl-\\ or a batch system does), and
the main pid only (``kill PID``: SIGKILL, SIGTERM or SIGHUP), which used to leave the forked
workers running and holding the directory's lock so the sweep could never be resumed. After each
kill: every worker is gone within a few seconds, the directory loads (only whole chunks), every row
on disk is the uninterrupted sweep's row for that run, and the resumed sweep holds exactly the
uninterrupted rows — none lost, none duplicated. The figures are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sweep_world import write as write_world

from sim.experiments.sweep import sweep
from sim.results.lock import LOCK_NAME, Busy, DirLock
from sim.results.read import load_sweep


def run_sweep(spec, out, **kw):
    """``sim.sweep``, returning what the invocation did (its report)."""
    return sweep(spec, out, **kw).report


KILLS = 20  # SIGKILLs at random moments; counted in docs/RELIABILITY.md
ORPHAN_GRACE = 3.0  # seconds a worker may outlive its parent
SPEC = """\
scenario: quad.yaml
replications: 40
steps: 60
record: {every: 15}
parameters:
  params.temperature: {values: [0.1, 0.2, 0.3]}
  distrust.IRN.RUS: {values: [0.0, 0.4, 0.8]}
"""
CHUNK = 5
TOTAL_PARTS = 9 * 40 // CHUNK

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")


def parts(out: Path) -> int:
    d = out / "runs"
    return sum(1 for p in d.iterdir() if p.name.startswith("part-")) if d.is_dir() else 0


def descendants(pid: int) -> set[int]:
    """Every live process below ``pid`` (workers and any helper they started)."""
    parent: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            parent[int(entry)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {c for c, p in parent.items() if p in frontier} - out
        out |= frontier
    return out


def alive(pid: int) -> bool:
    """Running, not a zombie waiting for a reaper."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def wait_gone(pids: set[int], limit: float) -> float:
    """Seconds until every pid is gone (fails the test past ``limit``)."""
    t0 = time.monotonic()
    while any(alive(p) for p in pids):
        if time.monotonic() - t0 > limit:
            left = [p for p in pids if alive(p)]
            for p in left:  # do not leave them running after the test
                os.kill(p, signal.SIGKILL)
            pytest.fail(f"workers {left} outlived their parent by more than {limit} s")
        time.sleep(0.02)
    return time.monotonic() - t0


def sorted_frame(df: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in ("run_index", "step") if k in df.columns]
    return df.sort_values(keys).reset_index(drop=True)


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("kills")
    spec = write_world(tmp, SPEC)
    run_sweep(spec, tmp / "ref", workers=1, progress=False)
    cmd = [sys.executable, "-m", "sim", "sweep", str(spec), "-q", "--workers", "2"]
    return tmp, load_sweep(tmp / "ref"), [*cmd, "--chunk", str(CHUNK)]


def launch_and_wait(cmd: list[str], out: Path, target: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [*cmd, "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while parts(out) < target:
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "the sweep made no progress"
        time.sleep(0.002)
    return proc


def check_on_disk(out: Path, ref) -> int:
    """The directory loads after a kill, and each row on disk is the uninterrupted one."""
    runs = load_sweep(out).runs
    assert runs["run_id"].is_unique
    merged = runs.merge(ref.runs, on="run_id", suffixes=("", "_ref"))
    assert len(merged) == len(runs)
    for col in ("seed", "IRN.status", "IRN.n_friendships", "system.n_alliances"):
        assert (merged[col] == merged[f"{col}_ref"]).all(), col
    return len(runs)


def finish_and_compare(cmd: list[str], out: Path, ref) -> None:
    r = subprocess.run([*cmd, "--out", str(out)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    final = load_sweep(out)
    pd.testing.assert_frame_equal(sorted_frame(final.runs), sorted_frame(ref.runs))
    pd.testing.assert_frame_equal(sorted_frame(final.steps), sorted_frame(ref.steps))


def test_random_sigkills_then_resume_equals_uninterrupted(setup) -> None:
    """20 SIGKILLs at random moments, every other one to the main pid only."""
    tmp, ref, cmd = setup
    out = tmp / "random"
    rng = np.random.default_rng(np.random.SeedSequence(6))
    # kill k lands at a random moment after the sweep has written a random number of parts,
    # at most 3/4 of them, so every kill interrupts work whatever the machine's speed
    targets = np.sort(rng.choice(np.arange(1, 3 * TOTAL_PARTS // 4), KILLS, replace=False))
    rows, orphan_seconds = [], []
    for k, target in enumerate(targets):
        proc = launch_and_wait(cmd, out, int(target))
        time.sleep(float(rng.uniform(0.0, 0.03)))  # mid-chunk, mid-write or between parts
        workers = descendants(proc.pid)
        if k % 2:
            os.kill(proc.pid, signal.SIGKILL)  # the main pid only: workers must follow
        else:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        orphan_seconds.append(wait_gone(workers, ORPHAN_GRACE))
        rows.append(check_on_disk(out, ref))
    finish_and_compare(cmd, out, ref)
    assert rows == sorted(rows)  # progress is never lost between kills
    assert len(rows) == KILLS and rows[-1] < len(ref.runs)  # all were mid-sweep
    print(
        f"rows on disk after each kill: {rows} of {len(ref.runs)}; "
        f"workers gone {max(orphan_seconds):.2f} s after their parent at most"
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP])  # SIGKILL: the test above
def test_kill_main_pid_only_workers_die_and_the_sweep_resumes(setup, sig) -> None:
    tmp, ref, cmd = setup
    out = tmp / f"main_only_{sig.name}"
    proc = launch_and_wait(cmd, out, TOTAL_PARTS // 3)
    workers = descendants(proc.pid)
    assert len(workers) >= 2
    os.kill(proc.pid, sig)
    proc.wait()
    seconds = wait_gone(workers, ORPHAN_GRACE)
    assert check_on_disk(out, ref) < len(ref.runs)
    # the lock died with its holder: resuming is not refused as "another sweep is writing here"
    finish_and_compare(cmd, out, ref)
    print(f"{sig.name}: workers gone {seconds:.2f} s after their parent")


def test_a_lock_held_for_a_dead_pid_is_stale(tmp_path) -> None:
    """Orphans of an older hedgesim kept the lock file locked after their parent died: the lock
    names a dead pid, so it is broken instead of refusing forever."""
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import fcntl, os, sys, time\n"
            f"fd = os.open({str(tmp_path / LOCK_NAME)!r}, os.O_RDWR | os.O_CREAT)\n"
            "fcntl.flock(fd, fcntl.LOCK_EX)\n"
            f"os.write(fd, b'{dead.pid} sweep')\n"
            "print('locked', flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        lock = DirLock(tmp_path, "sweep").acquire()
        assert lock.broke_stale == dead.pid
        with pytest.raises(Busy, match=f"sweep pid {os.getpid()}"):
            DirLock(tmp_path, "run").acquire()  # a live holder is respected
        lock.release()
        DirLock(tmp_path, "run").acquire().release()
    finally:
        holder.kill()
        holder.wait()
