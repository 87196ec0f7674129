"""``hedgesim sweep SPEC --out DIR``: every cell of a design, resumable (docs/SWEEPS.md).

A thin layer over sim.experiments (``sim.sweep``): the spec is read and checked (``--dry-run``
stops there, in bounded time), expanded and run by the engine into DIR; re-running the same
command resumes. Exit status: 0 done, 2 bad input, 3 a run failed, 1 a worker died, 130
interrupted (finished chunks stay on disk).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from sim.cli.common import MAX_WORKERS, bounded_int
from sim.experiments.engine import BACKENDS


def add_command(sub: Any) -> None:
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


def cmd_sweep(args: argparse.Namespace) -> int:
    """``hedgesim sweep SPEC --out DIR ...``"""
    from sim.experiments.design import build_design, check_design, design_size
    from sim.experiments.engine import Execution
    from sim.experiments.spec import load_spec
    from sim.experiments.sweep import execute

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
    how = Execution(args.workers, args.backend, args.scheduler, None, args.chunk)
    try:
        report = execute(
            design,
            args.out,
            how,
            fmt=args.format,
            force=args.force,
            repair=args.repair,
            progress=not args.quiet,
        )
    except KeyboardInterrupt:
        print(
            "\nhedgesim sweep: interrupted; finished chunks are on disk — run the same command "
            "again to resume",
            file=sys.stderr,
        )
        return 130
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    if args.force and report.kept:
        from sim.results.outdir import describe_kept

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
    from sim.experiments.design import design_size

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
