"""``hedgesim validate [PATTERN ...]``: the pattern suite (docs/VALIDATION.md, "Patterns").

Runs every pattern file (default: ``validation/patterns/`` of the source tree) with the schema's
defaults and prints one table: pattern, outcome, share of runs with its 95% Wilson interval,
expectation, pass or FAIL. Exit status 1 when a check fails, 2 for bad input.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sim.cli.common import MAX_REPLICATIONS, bounded_int, overrides

DEFAULT_DIR = Path(__file__).resolve().parents[1] / "validation" / "pattern_worlds"
"""validation/patterns/ (a link in the source tree, package data in a wheel)."""


def cmd_validate(args: argparse.Namespace) -> int:
    from sim.errors import InputError

    if args.heldout or args.quick or args.markdown:
        return cmd_heldout(args)
    from sim.validation.patterns import evaluate, format_table, load_pattern, pattern_files

    paths = pattern_files(args.patterns or [DEFAULT_DIR])
    if not paths:
        raise InputError.single(str(args.patterns or DEFAULT_DIR), "no pattern files found")
    patterns = [load_pattern(p, overrides(args.set)) for p in paths]  # input errors before any work
    t0 = time.perf_counter()
    results = []
    for pat in patterns:
        results += evaluate(pat, args.replications)
    print(format_table(results))
    if not args.quiet:
        print(f"({len(patterns)} patterns in {time.perf_counter() - t0:.1f} s)")
    return 0 if all(r.passed for r in results) else 1


def cmd_heldout(args: argparse.Namespace) -> int:
    """``--heldout``: the held-out tests of sim.validation.heldout, printed as one table (exit 0:
    a report of figures, not a pass/fail suite)."""
    from sim.errors import InputError
    from sim.validation import heldout

    if not args.heldout:
        raise InputError.plain("--quick", "--quick and --markdown go with --heldout")
    if args.patterns or args.set or args.replications:
        raise InputError.plain("--heldout", "runs its own worlds: no pattern files, --set or -r")
    t0 = time.perf_counter()
    report = heldout.run(heldout.QUICK if args.quick else heldout.FULL)
    print(heldout.format_table(report, markdown=args.markdown))
    if not args.quiet:
        print(f"\n(held-out tests, {'quick' if args.quick else 'full'} size, in "
              f"{time.perf_counter() - t0:.1f} s)")  # fmt: skip
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="run the pattern suite (stylized facts on small worlds) and print pass/fail",
        description="Run pattern files (default: validation/patterns/) with the schema's "
        "defaults; print each check's share of runs with its 95%% interval and pass/FAIL. "
        "Exit 1 if any check fails.",
    )
    p.add_argument("patterns", nargs="*", help="pattern files or directories")
    p.add_argument(
        "--replications",
        "-r",
        type=bounded_int(1, MAX_REPLICATIONS),
        help="override replications (1 to 1,000,000)",
    )
    p.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="override a value in every pattern's world (to explore the defaults' range)",
    )
    p.add_argument("--quiet", "-q", action="store_true", help="no timing line")
    p.add_argument(
        "--heldout",
        action="store_true",
        help="instead of the patterns, the held-out tests against ATOP and the Iran target "
        "table: model vs logistic baseline vs persistence (docs/VALIDATION.md)",
    )
    p.add_argument("--quick", action="store_true", help="--heldout at a small size (tests)")
    p.add_argument("--markdown", action="store_true", help="--heldout table as Markdown")
    p.set_defaults(func=cmd_validate)
