"""``hedgesim fit RUN_DIR --targets FILE``: a run's ties scored against observed ones, year by
year (sim.validation.scoring; AUC, Brier, share; against a logistic peer and persistence)."""

from __future__ import annotations

import argparse
from pathlib import Path


def cmd_fit(args: argparse.Namespace) -> int:
    """Score a run directory against a target table; print the table and write fit.csv."""
    from sim.validation.fitrun import fit_run

    _, text = fit_run(args.run_dir, args.targets, args.condition)
    print(text)
    print(f"\nWrote {Path(args.run_dir) / 'fit.csv'}")
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    f = sub.add_parser(
        "fit",
        help="score a run's ties against observed ones (AUC, Brier, share; vs baselines)",
        description="Per calendar year: AUC and Brier score of the simulated alliance "
        "probability per dyad (share of replications allied at the year's last step), share of "
        "target ties reproduced, and the same for a logistic baseline (power ratio, rivalry, "
        "affinity, prior tie; fitted on the first year) and persistence (last year's ties). "
        "Writes fit.csv into the run directory.",
    )
    f.add_argument("run_dir", help="a hedgesim run directory (its scenario needs a start)")
    f.add_argument(
        "--targets", required=True, help="target CSV: a, b, year, pact (ATOP) or a, b, year, tie"
    )
    f.add_argument(
        "--condition", default="baseline", help="condition to score (e.g. --condition=-security)"
    )
    f.set_defaults(func=cmd_fit)
