"""Pattern-oriented calibration of the rule's free constants (docs/ODD.md §7, "Defaults").

The constants that no source gives a number for (temperature, inertia, an alliance's commitment
and upkeep, a friend's reliability, the bargaining share, the weight of entrapment) are chosen by
pattern-oriented modelling (Grimm et al. 2005; Wiegand et al. 2004): sample them over wide
ranges, run every pattern of validation/patterns/ at each sample, and keep the region where all
patterns pass together. No pattern is tuned alone and no Iran outcome is looked at. The Iran
scenario then uses the schema's defaults, which sit inside that region.

Prints one line per sample (values, checks passed, failed checks) and a summary of the accepted
region (each constant's range among samples passing every check).

Usage: python validation/pom_calibration.py [--samples 160] [--scale 0.5] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from scipy.stats import qmc

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.validation.patterns import evaluate, load_pattern, pattern_files  # noqa: E402

SPACE: dict[str, tuple[float, float, bool]] = {
    # path: (low, high, log-scale)
    "params.temperature": (0.008, 0.025, True),
    "params.inertia": (0.02, 0.1, False),
    "params.friendship_cost": (0.0, 0.06, False),
    "params.alliance_cost": (0.0, 0.06, False),
    "mechanisms.autonomy.commitment": (0.01, 0.06, False),
    "mechanisms.autonomy.bargain": (0.3, 0.8, False),
    "mechanisms.security.friendship_reliability": (0.05, 0.3, False),
    "mechanisms.entrapment.weight": (0.1, 0.6, False),
}


def design(n: int, seed: int) -> list[dict[str, float]]:
    x = qmc.LatinHypercube(d=len(SPACE), seed=np.random.default_rng(seed)).random(n)
    out = []
    for row in x:
        point = {}
        for (path, (lo, hi, log)), u in zip(SPACE.items(), row, strict=True):
            v = np.exp(np.log(lo) + u * (np.log(hi) - np.log(lo))) if log else lo + u * (hi - lo)
            point[path] = round(float(v), 4)
        out.append(point)
    return out


def score(args: tuple[dict[str, float], float]) -> tuple[dict[str, float], int, int, list[str]]:
    point, scale = args
    sets = [f"{k}={v}" for k, v in point.items()]
    results = []
    for path in pattern_files([ROOT / "validation" / "patterns"]):
        pat = load_pattern(path, sets)
        results += evaluate(pat, max(20, round(scale * pat.scenario.replications)))
    failed = [f"{r.pattern}: {r.check}" for r in results if not r.passed]
    return point, len(results) - len(failed), len(results), failed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--samples", type=int, default=160)
    ap.add_argument(
        "--scale", type=float, default=0.5, help="share of each pattern's replications to run"
    )
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--center", action="store_true", help="also score the schema's defaults")
    a = ap.parse_args()
    points = design(a.samples, a.seed)
    accepted = []
    with ProcessPoolExecutor(a.workers) as ex:
        for point, ok, total, failed in ex.map(score, [(p, a.scale) for p in points]):
            vals = " ".join(f"{v:7.4f}" for v in point.values())
            print(f"{vals}  {ok:2d}/{total}  {'; '.join(failed)[:160]}", flush=True)
            if ok == total:
                accepted.append(point)
    print(f"\n{len(accepted)} of {len(points)} samples pass every check")
    for path in SPACE:
        vals = [p[path] for p in accepted]
        if vals:
            q = np.quantile(vals, [0.0, 0.5, 1.0])
            print(f"  {path:<45} min {q[0]:.4f}  median {q[1]:.4f}  max {q[2]:.4f}")


if __name__ == "__main__":
    main()
