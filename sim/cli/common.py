"""What every command shares: argparse that fails in one line, bounded numbers, ``--set``
parsed once into typed values, the default output directory."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sim.errors import EXIT_INPUT, InputError, Problem
from sim.scenario.load import parse_override
from sim.scenario.paths import Override

MAX_REPLICATIONS = 1_000_000  # the scenario schema's limits
MAX_STEPS = 100_000
MAX_WORKERS = 1024


class Parser(argparse.ArgumentParser):
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


positive_int = bounded_int(1, 10**9)
seed_int = bounded_int(0, 2**63 - 1)


def fraction(text: str) -> float:
    """An argparse type: a number strictly between 0 and 1."""
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not 0 < v < 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {v}")
    return v


def overrides(texts: Sequence[str] | None) -> list[Override]:
    """``--set PATH=VALUE`` texts as typed overrides: read once here, typed from then on."""
    return [parse_override(t) for t in texts or ()]


def default_out(name: str, scenario: str, pairs: Sequence[Override], suffix: str = "") -> Path:
    """``results/<name><suffix>``; a name that would leave results/ is an error at the name's
    line (or on ``--set`` when an override gave it)."""
    from sim.results.outdir import default_out as out_under_results
    from sim.scenario.yamlsafe import locate, read_yaml

    try:
        return out_under_results(name, scenario, suffix)
    except InputError as exc:
        msg = exc.problems[0].message
        if any(tuple(p) == ("name",) for p, _ in pairs):
            raise InputError([Problem("--set", ("name",), msg)]) from None
        try:
            _, node, _ = read_yaml(scenario)
            pos = locate(node, ("name",))
        except InputError:
            pos = None
        raise InputError([Problem(scenario, ("name",), msg, *(pos or (None, None)))]) from None


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


def warn(message: str) -> None:
    import sys

    print(f"warning: {message}", file=sys.stderr)


def add_set(p: argparse.ArgumentParser, help: str = "override a scenario value") -> None:
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help=help)


Args = Any
