"""``hedgesim build-world``: a scenario written from the vendored datasets (sim.scenario
build_world: COW capabilities, ATOP alliances, strategic rivalries, UN voting, GSDB sanctions)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from sim.cli.common import positive_int
from sim.errors import InputError


def parse_span(text: str) -> tuple[int, int]:
    """``"2010"`` or ``"2005-2021"`` (inclusive) to ``(first, last)``."""
    first, _, last = text.partition("-")
    try:
        lo, hi = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected YEAR or FIRST-LAST, got {text!r}") from None
    if hi < lo:
        raise argparse.ArgumentTypeError(f"{lo} is after {hi}")
    return lo, hi


def _codes(text: str, option: str, year: int, at_least: int = 2) -> list[int]:
    from sim import data
    from sim.scenario.datasets import resolve_states

    ids = [s.strip() for s in text.split(",") if s.strip()]
    try:
        return resolve_states(ids, year, at_least)
    except data.DataError as exc:
        raise InputError.plain(option, str(exc)) from None


def cmd_build_world(args: argparse.Namespace) -> int:
    """Write a scenario built from data (see sim.scenario.build_world for every construction)."""
    from sim import data
    from sim.results.atomic import write_text
    from sim.scenario.build_world import MARKER, build_world, default_name
    from sim.scenario.datasets import Request, all_states, check_years, top_states
    from sim.scenario.load import loads_scenario

    first, last = args.span if args.span else (args.year, args.year)
    option = "--span" if args.span else "--year"
    try:
        check_years(first, last)
    except data.DataError as exc:
        raise InputError.plain(option, str(exc)) from None
    if args.states:
        states = _codes(args.states, "--states", first)
        how = f"{len(states)}states"
    else:
        try:
            states = top_states(args.top, first) if args.top else all_states(first)
        except data.DataError as exc:
            raise InputError.plain("--top", str(exc)) from None
        how = f"top{args.top}" if args.top else "all"
    focal = _codes(args.focal, "--focal", first, 1) if args.focal else []
    missing = [data.iso3(c) for c in focal if c not in states]
    if missing:
        raise InputError.plain("--focal", f"not among the world's states: {', '.join(missing)}")
    req = Request(
        first,
        last,
        tuple(states),
        step=args.step,
        focal=tuple(focal),
        alliances=not args.no_alliances,
        alliance_changes=not args.no_alliance_changes,
        name=args.name,
        command=shlex.join(["hedgesim", *sys.argv[1:]]) if sys.argv else "",
    )
    try:
        text = build_world(req, how)
    except data.DataError as exc:
        raise InputError.plain("build-world", str(exc)) from None
    out = Path(args.out) if args.out else Path(f"{req.name or default_name(req, how)}.yaml")
    if out.exists():
        if out.is_dir():
            raise InputError.plain(str(out), "is a directory; give a file name")
        if not args.force:
            raise InputError.plain(
                str(out), "exists; choose another --out (or --force to replace a built world)"
            )
        with out.open("rb") as fh:
            head = fh.readline().decode("utf-8", "replace").rstrip("\r\n")
        if head != MARKER:
            raise InputError.plain(
                str(out),
                "exists and was not written by hedgesim build-world (its first line is not the "
                "build-world marker): not replaced, even with --force",
            )
    sc = loads_scenario(text, str(out))  # a built world must load unchanged: fail before writing
    write_text(out, text)
    horizon = f"{sc.params.steps} {sc.step} steps from {sc.start}"
    print(
        f"Wrote {out}: {len(sc.states)} states, {len(sc.treaties)} treaties, "
        f"{sum(len(r) for r in sc.ties.values())} bilateral alliances, "
        f"{sum(len(r) for r in sc.rivalry.values())} rivalries, {len(sc.sanctions)} sanctions "
        f"regimes, {len(sc.events)} events; {horizon}"
    )
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    b = sub.add_parser(
        "build-world",
        help="write a scenario built from data (COW, ATOP, rivalries, UN votes, GSDB)",
        description="Write a scenario for a year or span and a set of states from the vendored "
        "data: power from COW CINC, alliances from ATOP v5.1, rivalry from Thompson, Sakuwa & "
        "Suhas (2021), interests from UN ideal points, sanctions from GSDB; every value with a "
        "comment naming dataset, year and construction (sim/build_world.py; sources and "
        "citations: sim/data/README.md). The data have no "
        "region classification, so there is no --region.",
    )
    when = b.add_mutually_exclusive_group(required=True)
    when.add_argument("--year", type=int, help="one year (1946-2018)")
    when.add_argument(
        "--span", type=parse_span, metavar="FIRST-LAST", help="a span, e.g. 2005-2021"
    )
    who = b.add_mutually_exclusive_group(required=True)
    who.add_argument("--states", metavar="ID,ID,...", help="ISO3 codes or COW codes/abbreviations")
    who.add_argument("--top", type=positive_int, metavar="N", help="the N highest CINC states")
    who.add_argument("--all", action="store_true", help="every system member in the first year")
    b.add_argument("--step", choices=("month", "year"), default="month", help="step length")
    b.add_argument("--focal", metavar="ID,ID,...", help="focal states (default: none)")
    b.add_argument(
        "--no-alliances", action="store_true", help="no initial alliances (structure-only tests)"
    )
    b.add_argument(
        "--no-alliance-changes",
        action="store_true",
        help="only the first year's alliances, without the treaties ATOP records later in the "
        "span or their ends (for fitting: those are what is predicted)",
    )
    b.add_argument("--name", help="scenario name (default world_<years>_<states>)")
    b.add_argument("--out", "-o", help="file to write (default <name>.yaml); never overwritten")
    b.add_argument(
        "--force", action="store_true", help="replace a file that build-world itself wrote"
    )
    b.set_defaults(func=cmd_build_world)
