"""Benchmark the exact landscape solver (sim.landscape.solver.enumerate_landscape).

Prints, for random seeded instances of N = 12, 16, 18, 20, 22 states (sizes lognormal, propensity
symmetric normal), the wall time of a full enumeration (energies, local minima and basins), the
number of local minima and the peak memory numpy allocated, then the budget check for N = 20
(under 5 s, the target for a 2-core machine) and, for scale, one local-search run above the
exact limit. Figures only: nothing here asserts on time.

Run: .venv/bin/python benchmarks/bench_landscape.py
"""

from __future__ import annotations

import os
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sim.landscape.solver import enumerate_landscape, local_search_landscape

SIZES = (12, 16, 18, 20, 22)
BUDGET_N, BUDGET_S = 20, 5.0
REPEATS = 3


def instance(n: int, seed: int = 2024) -> tuple[np.ndarray, np.ndarray]:
    """Random instance: lognormal sizes, symmetric standard-normal propensities."""
    rng = np.random.default_rng(seed + n)
    sizes = rng.lognormal(0.0, 1.0, size=n)
    a = rng.normal(size=(n, n))
    p = (a + a.T) / np.sqrt(2.0)
    np.fill_diagonal(p, 0.0)
    return sizes, p


def main() -> None:
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, cpus {os.cpu_count()}")
    header = f"{'N':>3} {'configs':>9} {'best s':>8} {'median s':>9} {'minima':>7} "
    print(header + f"{'global E':>12} {'top basin':>10} {'peak MB':>8}")
    best: dict[int, float] = {}
    for n in SIZES:
        s, p = instance(n)
        times = []
        for _ in range(REPEATS):
            t0 = time.perf_counter()
            land = enumerate_landscape(s, p)
            times.append(time.perf_counter() - t0)
        tracemalloc.start()
        enumerate_landscape(s, p)
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        best[n] = min(times)
        top = max(m.basin_share for m in land.minima)
        print(
            f"{n:>3} {land.n_configs:>9} {min(times):>8.3f} {float(np.median(times)):>9.3f} "
            f"{len(land.minima):>7} {land.global_energy:>12.3f} {top:>10.3f} {peak:>8.1f}"
        )
    verdict = "yes" if best[BUDGET_N] < BUDGET_S else "NO"
    print(f"N={BUDGET_N} under {BUDGET_S:.0f} s: {verdict} ({best[BUDGET_N]:.3f} s)")

    n, starts = 40, 2000
    s, p = instance(n)
    t0 = time.perf_counter()
    land = local_search_landscape(s, p, starts=starts, rng=np.random.default_rng(0))
    dt = time.perf_counter() - t0
    print(
        f"local search N={n}, {starts} starts: {dt:.3f} s, {len(land.minima)} distinct minima, "
        f"best E {land.global_energy:.3f}"
    )


if __name__ == "__main__":
    main()
