"""``hedgesim sweep`` killed with SIGKILL at random moments, several times, then resumed.

After every kill the output directory must load (no torn file: only whole chunks), and the final
resumed sweep must hold exactly the rows of an uninterrupted sweep — none lost, none duplicated.
The number of kills survived is counted in docs/RELIABILITY.md.
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

from sim.sweep import load_sweep, run_sweep

ROOT = Path(__file__).resolve().parents[1]
KILLS = 5
SPEC = f"""\
scenario: {ROOT / "scenarios" / "iran_2021.yaml"}
replications: 40
steps: 100
record: {{every: 25}}
parameters:
  params.temperature: {{values: [0.1, 0.2, 0.3]}}
  distrust.IRN.RUS: {{values: [0.0, 0.4, 0.8]}}
"""

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")


def parts(out: Path) -> int:
    d = out / "runs"
    return sum(1 for p in d.iterdir() if p.name.startswith("part-")) if d.is_dir() else 0


def sorted_frame(df: pd.DataFrame) -> pd.DataFrame:
    keys = [k for k in ("run_index", "step") if k in df.columns]
    return df.sort_values(keys).reset_index(drop=True)


def test_random_sigkills_then_resume_equals_uninterrupted(tmp_path: Path) -> None:
    spec = tmp_path / "sweep.yaml"
    spec.write_text(SPEC)
    ref_dir = tmp_path / "ref"
    run_sweep(spec, ref_dir, workers=1, progress=False)
    ref = load_sweep(ref_dir)

    out = tmp_path / "out"
    rng = np.random.default_rng(np.random.SeedSequence(6))
    cmd = [
        sys.executable,
        "-m",
        "sim",
        "sweep",
        str(spec),
        "--out",
        str(out),
        "-q",
        "--workers",
        "2",
        "--chunk",
        "7",
    ]
    # kill k lands at a random moment after the sweep has written a random number of parts,
    # at most 3/4 of them, so every kill interrupts work whatever the machine's speed
    total = 9 * -(-40 // 7)  # 9 cells of 40 runs in chunks of ≤ 7
    targets = np.sort(rng.choice(np.arange(1, 3 * total // 4), KILLS, replace=False))
    loaded_rows = []
    for target in targets:
        proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        deadline = time.monotonic() + 120
        while parts(out) < target:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "the sweep made no progress"
            time.sleep(0.002)
        time.sleep(float(rng.uniform(0.0, 0.05)))  # mid-chunk, mid-write or between parts
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        if (out / "manifest.json").exists():
            partial = load_sweep(out)  # must load after any kill
            runs = partial.runs
            assert runs["run_id"].is_unique
            loaded_rows.append(len(runs))
            # every row on disk is the row the uninterrupted sweep has for that run
            merged = runs.merge(ref.runs, on="run_id", suffixes=("", "_ref"))
            assert len(merged) == len(runs)
            for col in ("seed", "IRN.status", "IRN.n_friendships", "system.n_alliances"):
                assert (merged[col] == merged[f"{col}_ref"]).all(), col
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    final = load_sweep(out)
    pd.testing.assert_frame_equal(sorted_frame(final.runs), sorted_frame(ref.runs))
    pd.testing.assert_frame_equal(sorted_frame(final.steps), sorted_frame(ref.steps))
    assert loaded_rows == sorted(loaded_rows)  # progress is never lost between kills
    assert len(loaded_rows) == KILLS and loaded_rows[-1] < len(ref.runs)  # all were mid-sweep
    print("rows on disk after each kill:", loaded_rows, "of", len(ref.runs))
