"""``hedgesim analyze DIR``: per design cell, each state's share of runs ending in a status (or
allied with a stronger state) with Wilson intervals; Sobol' and Morris indices of that share."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sim.cli.common import bounded_int, fraction, warn
from sim.model.metrics import OUTCOMES


def add_command(sub: Any) -> None:
    a = sub.add_parser(
        "analyze",
        help="non-alignment share per design cell; sensitivity indices (Sobol', Morris)",
        description="Print, per design cell, each focal state's share of runs ending in STATUS "
        "with Wilson intervals; for sobol and morris designs, SALib sensitivity indices of that "
        "share with bootstrap confidence intervals.",
    )
    a.add_argument("dir", metavar="DIR", help="sweep output directory")
    a.add_argument(
        "--status",
        choices=OUTCOMES,
        default="non_aligned",
        help="outcome whose share is reported: a final status, or allied_stronger (ending "
        "allied with a more powerful state); default non_aligned",
    )
    a.add_argument(
        "--state", action="append", metavar="ID", help="only this focal state (repeatable)"
    )
    a.add_argument(
        "--confidence",
        type=fraction,
        default=0.95,
        metavar="P",
        help="confidence level of intervals (default 0.95)",
    )
    a.add_argument(
        "--resamples",
        type=bounded_int(1, 100_000),
        default=500,
        metavar="B",
        help="bootstrap resamples for sensitivity intervals (default 500)",
    )
    a.add_argument(
        "--max-rows",
        type=bounded_int(0, 10**9),
        default=60,
        metavar="N",
        help="cells printed (0 = all; default 60)",
    )
    a.add_argument("--csv", metavar="FILE", help="also write the per-cell table as CSV")
    a.add_argument(
        "--sensitivity-csv", metavar="FILE", help="also write the sensitivity indices as CSV"
    )
    a.set_defaults(func=cmd_analyze)


def cmd_analyze(args: argparse.Namespace) -> int:
    """``hedgesim analyze DIR``"""
    from sim.experiments.analysis import format_report
    from sim.experiments.sweep import analyze
    from sim.results.atomic import write_text
    from sim.results.outdir import claim_file

    for named in (args.csv, args.sensitivity_csv):  # refused before any work if taken
        if named:
            claim_file(named, "CSV")
    a = analyze(
        args.dir,
        status=args.status,
        states=args.state,
        confidence=args.confidence,
        resamples=args.resamples,
    )
    for w in a.warnings:
        warn(w)
    print(format_report(a, max_rows=args.max_rows))
    if args.csv:
        write_text(args.csv, a.shares.to_csv(index=False))
    if args.sensitivity_csv:
        if a.sensitivity is None:
            print("no sensitivity indices: the design is not sobol or morris", file=sys.stderr)
        else:
            write_text(args.sensitivity_csv, a.sensitivity.to_csv(index=False))
    return 0
