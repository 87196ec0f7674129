"""Kill -9 and resume; Dask backends. Slower than the other sweep tests (subprocesses, clusters),
but each stays within a few seconds on 2 cores.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from sweep_world import write

from sim.__main__ import main as main_sweep
from sim.errors import HedgesimError
from sim.experiments.sweep import sweep
from sim.results.read import load_sweep


def run_sweep(spec, out, **kw):
    """``sim.sweep``, returning what the invocation did (its report)."""
    return sweep(spec, out, **kw).report


pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")


SLOW = """\
scenario: quad.yaml
replications: 24
steps: 40
record: {every: 20}
parameters:
  sanctions.0.level: {values: [0.0, 0.25, 0.5, 0.75, 1.0]}
  mechanisms.partner_hedging.weight: {values: [0.0, 3.0]}
"""


def parts(out: Path) -> int:
    d = out / "runs"
    return sum(1 for p in d.iterdir() if p.name.startswith("part-")) if d.is_dir() else 0


def start(spec: Path, out: Path, *extra: str) -> subprocess.Popen:
    code = "import sys; from sim.__main__ import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, "sweep", str(spec), "--out", str(out), "-q", *extra],
        start_new_session=True,  # its own process group, so we can also reap its workers
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def kill_when(proc: subprocess.Popen, out: Path, n_parts: int, timeout: float = 60.0) -> None:
    """SIGKILL the sweep process once ``n_parts`` parts exist (its workers die with the group)."""
    deadline = time.monotonic() + timeout
    while parts(out) < n_parts:
        if proc.poll() is not None:
            pytest.fail(f"sweep ended before it could be killed: {proc.stderr.read().decode()}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail("sweep made no progress")
        time.sleep(0.005)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == -signal.SIGKILL


def test_killed_twice_then_resumed_equals_an_uninterrupted_sweep(tmp_path: Path) -> None:
    spec = write(tmp_path, SLOW)
    ref_dir = tmp_path / "ref"
    run_sweep(spec, ref_dir, workers=1, progress=False)
    ref = load_sweep(ref_dir)
    n = len(ref.runs)
    assert n == 240 and len(ref.steps) == 240 * 3

    out = tmp_path / "out"
    kill_when(start(spec, out, "--workers", "2", "--chunk", "3"), out, 4)
    first = load_sweep(out)  # a killed directory loads: no torn file, only whole chunks
    k = len(first.runs)
    assert 0 < k < n
    assert first.runs["run_id"].is_unique
    expect = ref.runs.set_index("run_index").loc[first.runs["run_index"]].reset_index()
    pd.testing.assert_frame_equal(first.runs, expect[first.runs.columns])
    assert set(first.steps["run_id"]) == set(first.runs["run_id"])

    # killed again, resuming with other workers and chunk size
    kill_when(start(spec, out, "--workers", "1", "--chunk", "5"), out, parts(out) + 4)
    second = load_sweep(out)
    assert k < len(second.runs) < n

    assert main_sweep(["sweep", str(spec), "--out", str(out), "-q", "-j", "2", "--chunk", "7"]) == 0
    done = load_sweep(out)
    pd.testing.assert_frame_equal(done.runs, ref.runs)  # exactly the rows: no loss, no duplicate
    pd.testing.assert_frame_equal(done.steps, ref.steps)
    parts_and_sums = re.compile(r"^(part-\d{10}\.parquet|\.part-\d{10}\.sha256)$")
    assert (
        not [  # no debris: part files and their checksums only
            p
            for d in ("runs", "steps")
            for p in (out / d).iterdir()
            if not parts_and_sums.match(p.name)
        ]
    )
    invocations = done.manifest["invocations"]
    assert len(invocations) == 3 and invocations[-1]["runs_after"] == n


def test_killed_before_anything_was_written(tmp_path: Path) -> None:
    spec = write(tmp_path, SLOW.replace("replications: 24", "replications: 2"))
    out = tmp_path / "out"
    proc = start(spec, out, "--workers", "1")
    time.sleep(0.05)  # still importing: nothing on disk yet
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    report = run_sweep(spec, out, workers=1, progress=False)
    assert report.ran + report.already == report.n_runs == 20
    assert len(load_sweep(out).runs) == 20


# --------------------------------------------------------------------------------------------
# Dask
# --------------------------------------------------------------------------------------------

GRID = """\
scenario: quad.yaml
replications: 4
parameters:
  sanctions.0.level: {values: [0.0, 1.0]}
  mechanisms.historical_distrust.weight: {values: [0.0, 1.0, 2.0]}
"""


def test_dask_local_cluster_and_scheduler_address_match_local(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    from distributed import LocalCluster

    spec = write(tmp_path, GRID)
    run_sweep(spec, tmp_path / "local", workers=1, progress=False)
    ref = load_sweep(tmp_path / "local").runs

    run_sweep(spec, tmp_path / "dask", backend="dask", workers=2, chunk=3, progress=False)
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "dask").runs, ref)

    with LocalCluster(
        n_workers=1, threads_per_worker=2, processes=True, dashboard_address=None
    ) as cluster:
        rc = main_sweep(
            [
                "sweep",
                str(spec),
                "--out",
                str(tmp_path / "addr"),
                "-q",
                "--backend",
                "dask",
                "--scheduler",
                cluster.scheduler_address,
                "--chunk",
                "5",
            ]
        )
    assert rc == 0
    pd.testing.assert_frame_equal(load_sweep(tmp_path / "addr").runs, ref)


def test_dask_missing_gives_a_clear_message(tmp_path: Path, monkeypatch, capsys) -> None:
    spec = write(tmp_path, GRID)
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(HedgesimError, match=r"pip install 'hedgesim\[dask\]'") as info:
        run_sweep(spec, tmp_path / "o", backend="dask", progress=False)
    assert info.value.exit_code == 2
    assert main_sweep(["sweep", str(spec), "--out", str(tmp_path / "o"), "--backend", "dask"]) == 2
    assert "hedgesim[dask]" in capsys.readouterr().err
