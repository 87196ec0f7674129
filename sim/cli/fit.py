"""``hedgesim fit RUN_DIR --targets FILE``: a run's ties scored against observed ones, year by
year (sim.validation.scoring; AUC, Brier, share; against a logistic peer and persistence)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from sim.errors import InputError


def cmd_fit(args: argparse.Namespace) -> int:
    """Score a run directory against a target table; print the table and write fit.csv."""
    from sim.validation.fitrun import fit_run

    _, text = fit_run(args.run_dir, args.targets, args.condition)
    print(text)
    print(f"\nWrote {Path(args.run_dir) / 'fit.csv'}")
    return 0


def targets_path(scenario: Any, scenario_file: str | Path) -> Path | None:
    """The scenario's ``targets:`` file, relative to the scenario file; checked to exist so a
    typo fails before the run, not after it."""
    if not getattr(scenario, "targets", None):
        return None
    p = Path(scenario.targets)
    if not p.is_absolute():
        p = Path(scenario_file).resolve().parent / p
    if not p.is_file():
        from sim.errors import Problem
        from sim.scenario.yamlsafe import locate, read_yaml

        _, node, _ = read_yaml(scenario_file)
        line, col = locate(node, ("targets",)) or (None, None)
        raise InputError([Problem(str(scenario_file), ("targets",), f"{p} not found", line, col)])
    return p


def run_fit_section(out: Path, targets: Path) -> None:
    """``hedgesim run``'s fit section: score the run just written against the scenario's
    ``targets:`` and print it (fit.csv goes into the run directory)."""
    from sim.validation.fitrun import fit_run

    _, text = fit_run(out, targets)
    print("\nfit:\n" + text)


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
