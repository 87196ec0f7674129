"""Command-line front ends for sweeps: ``hedgesim sweep``, ``analyze`` and ``export``.

``sim.cli`` registers these through :func:`add_commands`; :func:`main_sweep` runs them standalone
(tests, and before the main CLI wires them in). Every handler returns an exit status: 0 success,
1 a run failed, 2 bad input (printed as ``file:line:col: path: message``), 130 interrupted.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from sim.cli import MAX_WORKERS, bounded_int
from sim.errors import InputError
from sim.metrics import OUTCOMES

BACKENDS = ("local", "dask")


def _fraction(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {v}")
    return v


def add_commands(sub: Any) -> None:
    """Register ``sweep``, ``analyze`` and ``export`` on an argparse subparsers object."""
    p = sub.add_parser(
        "sweep",
        help="run a parameter sweep (resumable, streamed to disk)",
        description="Run every cell of a sweep SPEC (a sweep file, or a scenario with a sweep: "
        "block) REPLICATIONS times into DIR. Re-running the same command resumes: runs already "
        "on disk are skipped. See docs/SWEEPS.md.",
    )
    p.add_argument("spec", metavar="SPEC", help="sweep file or scenario with a sweep: block")
    p.add_argument("--out", "-o", required=True, metavar="DIR", help="output directory")
    p.add_argument(
        "--workers",
        "-j",
        type=bounded_int(1, MAX_WORKERS),
        metavar="N",
        help="worker processes (default: all cores; 1 runs in this process)",
    )
    p.add_argument(
        "--backend",
        choices=BACKENDS,
        default="local",
        help="local process pool (default) or Dask (needs hedgesim[dask])",
    )
    p.add_argument(
        "--scheduler",
        metavar="ADDR",
        help="Dask scheduler address or scheduler file (default: a LocalCluster)",
    )
    p.add_argument(
        "--chunk",
        type=bounded_int(1, 1_000_000),
        metavar="K",
        help="runs per task and per part file (default: automatic, ≤ 64)",
    )
    p.add_argument(
        "--format",
        choices=("parquet", "csv"),
        default="parquet",
        help="part file format (default parquet)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no summary")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace what hedgesim wrote in DIR for a different sweep (other files are kept)",
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="resume past damaged part files: drop them and run their runs again",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="check the spec and print the design size, run nothing",
    )
    p.set_defaults(func=cmd_sweep)

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
        type=_fraction,
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


def _report_errors(fn: Any) -> Any:
    """Turn our exceptions into a message on stderr and an exit status."""

    name = fn.__name__.removeprefix("cmd_")

    def wrapper(args: argparse.Namespace) -> int:
        from sim.sweep import SweepError

        try:
            return int(fn(args))
        except InputError as exc:
            for p in exc.problems:
                print(f"error: {p}", file=sys.stderr)
            return 2
        except SweepError as exc:
            print(f"error: hedgesim {name}: {exc}", file=sys.stderr)
            return exc.code
        except KeyboardInterrupt:
            print(
                f"\nhedgesim {name}: interrupted; finished chunks are on disk — run the "
                "same command again to resume",
                file=sys.stderr,
            )
            return 130

    wrapper.__doc__ = fn.__doc__
    wrapper.__name__ = fn.__name__
    return wrapper


@_report_errors
def cmd_sweep(args: argparse.Namespace) -> int:
    """``hedgesim sweep SPEC --out DIR ...``"""
    from sim.sweep import execute
    from sim.sweepspec import build_design, check_design, design_size, load_spec

    spec = load_spec(args.spec)
    if args.dry_run:  # bounded time whatever the design's size: no cell is expanded but a sample
        checked, base = check_design(spec)
        for w in spec.warnings:
            print(w, file=sys.stderr)
        print(_describe(spec, base.params.steps))
        size = design_size(spec)
        print(
            f"  checked: the scenario, every parameter value alone and {checked:,} of "
            f"{size:,} cells (the sweep checks every cell before it runs)"
        )
        return 0
    design = build_design(spec)
    for w in spec.warnings:
        print(w, file=sys.stderr)
    report = execute(
        design,
        args.out,
        workers=args.workers,
        backend=args.backend,
        scheduler=args.scheduler,
        chunk=args.chunk,
        fmt=args.format,
        force=args.force,
        repair=args.repair,
        progress=not args.quiet,
        command=getattr(args, "argv", None) or sys.argv,
    )
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.force and report.kept:
        from sim.outdir import describe_kept

        print(f"note: {report.out}: {describe_kept(report.kept)}", file=sys.stderr)
    if not args.quiet:
        if report.ran == 0:
            print(f"nothing to do: all {report.n_runs:,} runs already in {report.out}")
        else:
            print(
                f"{report.ran:,} runs in {report.seconds:.1f} s "
                f"({report.already:,} of {report.n_runs:,} were already on disk) -> {report.out}"
            )
    return 0


def _describe(spec: Any, steps: int) -> str:
    from sim.sweepspec import design_size

    n_cells = design_size(spec)
    lines = [
        f"sweep {spec.name!r}: scenario {spec.scenario_source}",
        f"  sampler {spec.sampler}: {n_cells:,} cells × {spec.replications:,} replications"
        f" = {n_cells * spec.replications:,} runs of {steps:,} steps, root seed "
        f"{spec.seed}, recording "
        + ("final state" if spec.record_every is None else f"every {spec.record_every} steps"),
    ]
    for p in spec.parameters:
        if p.values is not None:
            vals = ", ".join(map(repr, p.values[:8])) + (" …" if len(p.values) > 8 else "")
            lines.append(f"  {p.name}: {len(p.values)} values ({vals})")
        else:
            lines.append(f"  {p.name}: bounds {list(p.bounds or ())}")
    if spec.cases:
        lines.append(f"  cases: {len(spec.cases)}")
    return "\n".join(lines)


@_report_errors
def cmd_analyze(args: argparse.Namespace) -> int:
    """``hedgesim analyze DIR``"""
    from sim.analysis import analyze, format_report
    from sim.atomic import write_text

    a = analyze(
        args.dir,
        status=args.status,
        states=args.state,
        confidence=args.confidence,
        resamples=args.resamples,
    )
    for w in a.warnings:
        _warn(w)
    print(format_report(a, max_rows=args.max_rows))
    if args.csv:
        write_text(args.csv, a.shares.to_csv(index=False))
    if args.sensitivity_csv:
        if a.sensitivity is None:
            print("no sensitivity indices: the design is not sobol or morris", file=sys.stderr)
        else:
            write_text(args.sensitivity_csv, a.sensitivity.to_csv(index=False))
    return 0


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


@_report_errors
def cmd_export(args: argparse.Namespace) -> int:
    """``hedgesim export DIR --csv``"""
    from sim.sweep import export_sweep

    for path in export_sweep(args.dir, args.fmt, args.out, warn=_warn):
        print(path)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hedgesim", description="hedgesim sweep commands")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    add_commands(sub)
    return parser


def main_sweep(argv: Sequence[str] | None = None) -> int:
    """Run ``sweep``/``analyze``/``export`` from an argument list (standalone entry point)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = ["hedgesim", *argv]
    return int(args.func(args))


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main_sweep())
