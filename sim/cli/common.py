"""What every command shares: argparse that fails in one line, bounded numbers, the default
output directory."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

from sim.errors import InputError

EXIT_INPUT = 2
EXIT_SIMULATION = 3
EXIT_ENVIRONMENT = 4


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2 (its default too)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_INPUT, f"{self.prog}: error: {message}\n")


def bounded_int(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number in [lo, hi] (every number the CLI takes is bounded, so a
    typo like ``-r 1000000000000`` is refused as that flag's error, not later as something
    else's)."""

    def parse(text: str) -> int:
        t = text.strip().replace("_", "")
        if len(t) > 30:
            raise argparse.ArgumentTypeError(
                f"must be between {lo:,} and {hi:,}, got a number of {len(t)} digits"
            )
        try:
            value = int(t)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"must be between {lo:,} and {hi:,}, got {value:,}")
        return value

    parse.__name__ = "whole number"
    return parse


MAX_REPLICATIONS = 1_000_000  # the scenario schema's limits
MAX_STEPS = 100_000
MAX_WORKERS = 1024
positive_int = bounded_int(1, 10**9)
seed_int = bounded_int(0, 2**63 - 1)


def default_out(name: str, scenario: str, overrides: list[str], suffix: str = "") -> Path:
    """``results/<name><suffix>``; a name that would leave results/ is an error at the name's
    line (or on ``--set`` when an override gave it)."""
    from sim.errors import Problem
    from sim.results.outdir import default_out

    try:
        return default_out(name, scenario, suffix)
    except InputError as exc:
        msg = exc.problems[0].message
        if any(o.split("=", 1)[0].strip() == "name" for o in overrides):
            raise InputError([Problem("--set", ("name",), msg)]) from None
        from sim.scenario.yamlsafe import locate, read_yaml

        try:
            _, node, _ = read_yaml(scenario)
            pos = locate(node, ("name",))
        except InputError:
            pos = None
        raise InputError([Problem(scenario, ("name",), msg, *(pos or (None, None)))]) from None
