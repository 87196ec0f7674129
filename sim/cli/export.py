"""``hedgesim export DIR``: a sweep's tables as single files (runs.csv, steps.csv)."""

from __future__ import annotations

import argparse
from typing import Any

from sim.cli.common import warn


def add_command(sub: Any) -> None:
    e = sub.add_parser(
        "export",
        help="write a sweep's tables as single files (runs.csv, steps.csv)",
        description="Concatenate a sweep's part files into runs.<fmt> (and steps.<fmt>).",
    )
    e.add_argument("dir", metavar="DIR", help="sweep output directory")
    fmt = e.add_mutually_exclusive_group()
    fmt.add_argument("--csv", dest="fmt", action="store_const", const="csv", help="CSV (default)")
    fmt.add_argument(
        "--parquet",
        dest="fmt",
        action="store_const",
        const="parquet",
        help="one Parquet file per table",
    )
    e.add_argument("--out", "-o", metavar="DIR2", help="write there instead of into DIR")
    e.set_defaults(func=cmd_export, fmt="csv")


def cmd_export(args: argparse.Namespace) -> int:
    """``hedgesim export DIR --csv``"""
    from sim.experiments.sweep import export_sweep

    for path in export_sweep(args.dir, args.fmt, args.out, warn=warn):
        print(path)
    return 0
