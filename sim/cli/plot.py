"""``hedgesim plot DIR``: figures from a run or a sweep directory.

The figures depend only on the tables a run or sweep wrote (docs/DATA.md), so they can be redrawn,
restyled or aimed at another state or condition without re-running anything; ``hedgesim run``
writes the same figures under the same names (sim.plots.figures plans both).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sim.cli.common import MAX_REPLICATIONS, bounded_int
from sim.errors import InputError
from sim.plots.kinds import FORMATS, KINDS


def _replication(text: str) -> int:
    return bounded_int(0, MAX_REPLICATIONS - 1)(text)


def add_command(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``plot`` on the ``hedgesim`` subparsers."""
    p = subparsers.add_parser(
        "plot",
        help="draw figures from a run or sweep directory",
        description=(
            "Draw figures from a `hedgesim run` directory (run.json, states/ties tables, "
            "summary.csv) or a `hedgesim sweep` directory (manifest.json, runs/). With --kind "
            "omitted, every figure the data supports is written into DIR/figures/ (or the --out "
            "directory). The format follows the file extension: .png (150 dpi), .svg or .pdf."
        ),
    )
    p.add_argument("dir", metavar="DIR", type=Path, help="run or sweep output directory")
    p.add_argument("--kind", choices=KINDS, help="draw only this kind of figure")
    p.add_argument(
        "--out",
        type=Path,
        help="output file (.png/.svg/.pdf; one figure) or directory (default DIR/figures)",
    )
    p.add_argument(
        "--state",
        action="append",
        metavar="ID",
        help="state id (repeatable; default: the focal states)",
    )
    p.add_argument(
        "--condition",
        default="baseline",
        metavar="C",
        help="condition for timeline/network/partners: baseline (default) or a counterfactual, "
        "e.g. historical_distrust or --condition=-historical_distrust",
    )
    p.add_argument(
        "--replication",
        type=_replication,
        metavar="R",
        help="network: the final ties of this replication instead of shares over all of them",
    )
    p.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="png",
        help="format of figures written into a directory (default: png)",
    )
    p.add_argument("--x", metavar="PARAM", help="phase: parameter on the x-axis (dotted path)")
    p.add_argument("--y", metavar="PARAM", help="phase: parameter on the y-axis")
    p.add_argument("--facet", metavar="PARAM", help="phase: one panel per value of this parameter")
    p.add_argument(
        "--indices",
        type=Path,
        metavar="FILE",
        help="sensitivity: CSV/Parquet of indices instead of computing them from the sweep",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="also remove figures hedgesim drew in that folder before and does not redraw now "
        "(files hedgesim did not write are never touched)",
    )
    p.set_defaults(func=cmd_plot)
    return p


def cmd_plot(args: argparse.Namespace) -> int:
    """Draw, print each path written, return 0 (an InputError for data it cannot draw)."""
    from sim.plots.figures import Options

    opts = Options(
        kind=args.kind,
        states=tuple(args.state or ()),
        condition=args.condition,
        replication=args.replication,
        x=args.x,
        y=args.y,
        facet=args.facet,
        indices=args.indices,
    )
    for path in draw(args.dir, opts, out=args.out, fmt=args.fmt, force=args.force):
        print(path)
    return 0


def draw(
    directory: str | Path,
    opts: Any = None,
    *,
    out: str | Path | None = None,
    fmt: str = "png",
    force: bool = False,
) -> list[Path]:
    """The figures ``opts`` asks for (all the data supports by default), read from a run or a
    sweep directory and written (default ``DIR/figures``); return the paths."""
    from sim.plots.figures import Options, run_jobs, sweep_jobs, write_figures
    from sim.results.read import load_run, load_sweep

    directory = Path(directory)
    opts = opts or Options()
    if (directory / "run.json").is_file():
        res = load_run(directory)
        jobs = run_jobs(directory, res.meta, res.states, res.ties, res.summary, opts)
    elif (directory / "manifest.json").is_file():
        data = load_sweep(directory)
        for w in data.warnings:
            print(f"warning: {w}", file=sys.stderr)

        def sensitivity() -> Any:
            from sim.experiments.sweep import analyze

            return analyze(directory).sensitivity

        jobs = sweep_jobs(directory, data.runs, data.manifest, sensitivity, opts)
    else:
        raise InputError.plain(
            str(directory),
            "neither a run directory (run.json) nor a sweep directory (manifest.json)",
        )
    return write_figures(jobs, directory, out=out, fmt=fmt, force=force)
