"""Estimate the free defaults (docs/ODD.md §7.13) by history matching against ATOP (issue 11).

Runs sim.validation.estimate: the training world (top 40 by CINC, 1992-2010, from data), an LHS
design over the free constants per wave, run through the sweep engine into OUT/wave<k>/ (so the
same command resumes an interrupted estimation, and ``--backend dask`` runs it on Dask like any
sweep), scored against ATOP, and writes the estimates file (default
validation/estimates/defaults.yaml, read by ``--defaults estimated`` and ``--ensemble``). It never
replaces a file it did not write. Prints the statistics, each wave's count and each constant's
non-implausible range.

Usage: python validation/estimate_defaults.py [--out results/estimate] [--workers 2]
           [--backend local|dask] [--scheduler ADDR] [--quick] [--estimates FILE]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.errors import InputError  # noqa: E402
from sim.validation import estimate as est  # noqa: E402
from sim.validation import estimate_file as estf  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="results/estimate", help="the sweeps' folder (resumable)")
    ap.add_argument("--estimates", default=str(ROOT / "validation/estimates/defaults.yaml"))
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--backend", choices=("local", "dask"), default="local")
    ap.add_argument("--scheduler", default=None)
    ap.add_argument("--quick", action="store_true", help="a tiny plan (12 states, 5 years)")
    args = ap.parse_args(argv)
    plan = est.QUICK if args.quick else est.FULL
    t0 = time.perf_counter()
    try:
        res = est.estimate(
            args.out, plan, workers=args.workers, backend=args.backend,
            scheduler=args.scheduler, progress=True,
        )  # fmt: skip
        doc = estf.document(res.target, res.waves, res.plan, res.reference)
        path = estf.write_estimates(doc, args.estimates)
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    elapsed = time.perf_counter() - t0
    print("statistic            ATOP   obs sd  discrepancy sd")
    for s in doc["statistics"]:
        print(f"{s['name']:<18} {s['observed']:>6.0f} {s['obs_sd']:>8.2f} {s['md_sd']:>10.2f}")
    for w in doc["waves"]:
        print(
            f"wave {w['wave']}: {w['points']} points x {w['replications']} replications = "
            f"{w['runs']} runs; non-implausible {w['non_implausible']}; "
            f"smallest max-I {w['min_implausibility']}"
        )
    ref = doc["reference"]
    verdict = "non-implausible" if ref["non_implausible"] else "ruled out"
    print(
        f"schema defaults ({ref['replications']} runs): max implausibility "
        f"{ref['max_implausibility']} ({verdict}); "
        + ", ".join(f"{k} {v}" for k, v in ref["statistics"].items())
    )
    print(f"\n{'constant':<44} {'default':>8} {'median':>8} {'q05':>8} {'q95':>8}  range")
    for name, p in doc["parameters"].items():
        print(
            f"{name:<44} {p['default']:>8.3g} {p['median']:>8.3g} {p['q05']:>8.3g} "
            f"{p['q95']:>8.3g}  {p['low']:.3g}-{p['high']:.3g}"
        )
    for note in doc["notes"]:
        print(f"note: {note}")
    print(f"\nwrote {path} ({len(doc['accepted'])} accepted sets) in {elapsed:.0f} s")
    frame = estf.frame(res.waves, res.target)
    frame.to_csv(Path(args.out) / "points.csv", index=False)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
