"""``hedgesim run SCENARIO``: a scenario's replications and counterfactuals, written to a folder.

A thin layer over :func:`sim.experiments.run.run` (``sim.run``): the options become its typed
arguments (``--set`` parsed once), the output directory is claimed before any work, and the
result is printed (``RunResult.summary``) and written (tables, summary, run.json, figures). A
scenario naming ``targets:`` is also scored against them (``fit.csv``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.cli.common import (
    MAX_REPLICATIONS,
    MAX_STEPS,
    MAX_WORKERS,
    add_set,
    bounded_int,
    default_out,
    overrides,
    seed_int,
    targets_path,
)


def add_command(sub: argparse._SubParsersAction) -> None:
    r = sub.add_parser("run", help="run a scenario's replications and counterfactuals")
    r.add_argument("scenario", help="scenario YAML file")
    r.add_argument(
        "--replications",
        "-r",
        type=bounded_int(1, MAX_REPLICATIONS),
        help="override replications (1 to 1,000,000)",
    )
    r.add_argument("--seed", type=seed_int, help="override the root seed")
    r.add_argument(
        "--steps", type=bounded_int(1, MAX_STEPS), help="override params.steps (1 to 100,000)"
    )
    r.add_argument("--out", "-o", help="output directory (default results/<scenario name>)")
    add_set(
        r,
        "override a scenario value, e.g. distrust.IRN.RUS=0.2 or "
        "'sanctions.US maximum pressure.level=0.5' (list items by position or name; repeatable)",
    )
    r.add_argument(
        "--ablate",
        action="append",
        metavar="F[,F|+F]",
        help="switch factors off: a,b one at a time; a+b together; a scenario "
        "counterfactual name; or 'all' (repeatable)",
    )
    r.add_argument(
        "--workers", "-j", type=bounded_int(1, MAX_WORKERS), help="processes (default: cores)"
    )
    r.add_argument("--record-every", type=bounded_int(1, MAX_STEPS), help="record every K steps")
    r.add_argument("--format", choices=("parquet", "csv"), default="parquet")
    r.add_argument("--force", action="store_true", help="replace an existing output directory")
    r.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    r.add_argument("--no-figures", action="store_true", help="skip the PNG figures")
    r.add_argument(
        "--ensemble",
        type=bounded_int(1, 10_000),
        metavar="K",
        help="draw K parameter sets from the estimates and run --replications (default 20) of "
        "each: verdict shares with their 5-95%% band across sets, paired McNemar tests (its "
        "tables are CSV and it draws no figures: --format and --no-figures are for plain runs)",
    )
    r.add_argument(
        "--defaults",
        metavar="estimated|FILE",
        help="take the estimated constants' medians (validation/estimates/defaults.yaml, or an "
        "estimates FILE) where the scenario leaves the schema's default",
    )
    r.add_argument(
        "--estimates",
        default="estimated",
        help="estimates file for --ensemble (default: validation/estimates/defaults.yaml)",
    )
    r.set_defaults(func=cmd_run)


def cmd_run(args: argparse.Namespace) -> int:
    """Run, write the run directory, print the report (and the fit, for ``targets:``)."""
    from sim.experiments.conditions import prepare
    from sim.experiments.run import run
    from sim.results.outdir import describe_kept

    pairs = overrides(args.set)
    if args.ensemble:
        return _ensemble(args, pairs)
    sc, _ = prepare(
        args.scenario,
        replications=args.replications,
        seed=args.seed,
        steps=args.steps,
        overrides=pairs,
    )
    targets = targets_path(sc, args.scenario)  # a missing target table fails before the run
    out = Path(args.out) if args.out else default_out(sc.name, args.scenario, pairs)
    kept = _kept_before(out) if args.force else []
    result = run(
        args.scenario,
        replications=args.replications,
        seed=args.seed,
        steps=args.steps,
        overrides=pairs,
        ablate=args.ablate or (),
        record_every=args.record_every,
        workers=args.workers,
        progress=not args.quiet,
        out=out,
        fmt=args.format,
        force=args.force,
        figures=not args.no_figures,
        defaults=args.defaults,
    )
    if kept:
        print(f"note: {out}: {describe_kept(kept)}", file=sys.stderr)
    figures = [str(p.relative_to(out)) for p in result.figures]
    print(result.summary())
    print(
        f"\nWrote {out}/ (tables: system, states, ties as {args.format}; summary.csv; run.json"
        + (f"; figures: {', '.join(figures)}" if figures else "")
        + ")"
    )
    if targets is not None:  # the scenario's `targets:`: score the run (fit.csv)
        from sim.validation.fitrun import fit_run

        _, text = fit_run(out, targets)
        print("\nfit:\n" + text)
    return 0


def _ensemble(args: argparse.Namespace, pairs: list) -> int:
    """``--ensemble K``: print the ensemble's report and write its files (ensemble.json,
    sets.csv, tests.csv, influence.csv, boxes.csv, summary.txt) to ``--out`` (default
    results/<scenario name>_ensemble)."""
    from sim.errors import InputError
    from sim.experiments.conditions import prepare
    from sim.experiments.ensemble import FILES, check_out
    from sim.experiments.run import run

    if args.defaults:
        raise InputError.single(
            "--defaults",
            "does not combine with --ensemble: the ensemble draws the estimated constants the "
            "scenario leaves at their defaults from --estimates",
        )
    sc, _ = prepare(args.scenario, seed=args.seed, steps=args.steps, overrides=pairs)
    out = Path(args.out) if args.out else default_out(sc.name, args.scenario, pairs, "_ensemble")
    check_out(out)  # refused before the runs, not after them
    result = run(
        args.scenario,
        ensemble=args.ensemble,
        replications=args.replications,
        seed=args.seed,
        steps=args.steps,
        overrides=pairs,
        ablate=args.ablate or (),
        estimates=args.estimates,
        record_every=args.record_every,
        workers=args.workers,
        progress=not args.quiet,
    )
    result.save(out)  # type: ignore[union-attr]
    print(result.summary())
    print(f"\nWrote {out}/ ({', '.join(FILES)})")
    return 0


def _kept_before(out: Path) -> list[str]:
    """Entries of ``out`` hedgesim did not write (kept by ``--force``, reported after)."""
    from sim.results.outdir import survey

    if not out.is_dir():
        return []
    return survey(out).kept()
