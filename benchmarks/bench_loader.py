"""Benchmark what the checked loader (sim.results.read) costs over an unchecked read.

Writes a sweep of the small five-state test world (10 x 10 cells x 200 replications = 20,000
runs in 400 part files, final state only), then times, best of REPEATS: ``load_sweep`` (every
part's SHA-256, columns, run ids recomputed from cell and seed, each run once) against a plain
``pyarrow.dataset`` read of the same runs parts, and ``analyze``'s column-restricted load. Figures
only: nothing here asserts on time.

Run: .venv/bin/python benchmarks/bench_loader.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import pyarrow.dataset as ds  # noqa: E402
from sweep_world import write  # noqa: E402

from sim.experiments.sweep import sweep  # noqa: E402
from sim.results.read import load_sweep  # noqa: E402

REPEATS = 3
SPEC = """\
scenario: quad.yaml
replications: 200
parameters:
  sanctions.0.level: {linspace: {start: 0.0, stop: 1.0, num: 10}}
  mechanisms.historical_distrust.weight: {linspace: {start: 0.0, stop: 3.0, num: 10}}
"""


def best(fn: object) -> float:
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        spec = write(Path(tmp), SPEC)
        out = Path(tmp) / "out"
        report = sweep(spec, out, workers=2).report
        assert report is not None
        parts = sum(1 for p in (out / "runs").iterdir() if p.name.startswith("part-"))
        print(f"sweep: {report.n_runs:,} runs in {parts} part files ({report.seconds:.1f} s)")
        checked = best(lambda: load_sweep(out))
        columns = best(lambda: load_sweep(out, columns=["cell", "IRN.status"]))
        plain = best(lambda: ds.dataset(out / "runs", format="parquet").to_table().to_pandas())
        print(f"load_sweep, checked, all columns:      {checked:.2f} s")
        print(f"load_sweep, checked, analyze's columns: {columns:.2f} s")
        print(f"pyarrow.dataset, unchecked:            {plain:.2f} s")
        print(f"checked / unchecked: {checked / plain:.2f}")


if __name__ == "__main__":
    main()
