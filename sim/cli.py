"""The command line: ``hedgesim run|schema|explain|landscape|sweep|analyze|export|plot``.

Every command turns a user's mistake (a bad file, a bad option) into one clear line and exit
status 2; a numerical failure inside a run exits 3; nothing prints a traceback for bad input.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sim import __version__
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


# -- run ------------------------------------------------------------------------------------------
def cmd_run(args: argparse.Namespace) -> int:
    """Run a scenario's replications (and counterfactuals), write tables, figures and a summary."""
    from sim.cli_data import targets_path
    from sim.output import prepare_out_dir
    from sim.runner import Condition
    from sim.scenario import load_scenario, resolve_ablation, scenario_hash
    from sim.world import compile_world

    overrides = list(args.set or [])
    if args.replications is not None:
        overrides.append(f"replications={args.replications}")
    if args.seed is not None:
        overrides.append(f"seed={args.seed}")
    if args.steps is not None:
        overrides.append(f"params.steps={args.steps}")
    sc = load_scenario(args.scenario, overrides)
    targets_path(sc, args.scenario)  # a missing target table fails before the run, not after
    conditions = [Condition("baseline")]
    for spec in args.ablate or []:
        conditions += [Condition(label, f) for label, f in resolve_ablation(sc, spec)]
    seen: set[str] = set()
    conditions = [c for c in conditions if not (c.label in seen or seen.add(c.label))]
    world = compile_world(sc)
    record_every = args.record_every or sc.params.record_every
    digest = scenario_hash(sc)
    identity = hashlib.sha256(
        json.dumps([digest, [(c.label, c.factors) for c in conditions], record_every]).encode()
    ).hexdigest()[:16]
    from sim.output import available_bytes, check_memory, estimate_bytes

    runs = sc.replications * len(conditions)
    from sim.world import year_end_steps

    history = len(year_end_steps(world.start, world.step, sc.params.steps))
    need = estimate_bytes(world.n, sc.params.steps, record_every, runs, history)
    where = "argument --replications/-r" if args.replications else f"{args.scenario}"
    check_memory(
        need,
        available_bytes(),
        f"{where}: {sc.replications:,} replications × {len(conditions)} "
        f"condition(s) of {sc.params.steps:,} steps",
    )
    out = Path(args.out) if args.out else _default_out(sc.name, args.scenario, overrides)
    rd = prepare_out_dir(out, identity, args.force, fmt=args.format, figures=not args.no_figures)
    try:
        if args.force and rd.kept:
            from sim.outdir import describe_kept

            print(f"note: {out}: {describe_kept(rd.kept)}", file=sys.stderr)
        job = _RunJob(args, sc, conditions, world, record_every, digest, identity, overrides)
        return job.run(rd)
    finally:
        rd.lock.release()


def _default_out(name: str, scenario: str, overrides: list[str], suffix: str = "") -> Path:
    """``results/<name><suffix>``; a name that would leave results/ is an error at the name's
    line (or on ``--set`` when an override gave it)."""
    from sim.errors import Problem
    from sim.outdir import default_out

    try:
        return default_out(name, scenario, suffix)
    except InputError as exc:
        msg = exc.problems[0].message
        if any(o.split("=", 1)[0].strip() == "name" for o in overrides):
            raise InputError([Problem("--set", ("name",), msg)]) from None
        from sim.yamlsafe import locate, read_yaml

        try:
            _, node, _ = read_yaml(scenario)
            pos = locate(node, ("name",))
        except InputError:
            pos = None
        raise InputError([Problem(scenario, ("name",), msg, *(pos or (None, None)))]) from None


@dataclass
class _RunJob:
    """A validated ``hedgesim run``: what to run, ready to write into a prepared directory."""

    args: argparse.Namespace
    sc: Any
    conditions: list[Any]
    world: Any
    record_every: int
    digest: str
    identity: str
    overrides: list[str]

    def run(self, rd: Any) -> int:
        from tqdm import tqdm

        from sim.atomic import write_text
        from sim.cli_data import run_fit_section
        from sim.output import write_run
        from sim.runner import default_workers, run_conditions, seed_for, seed_value
        from sim.summary import focal_outcomes, format_summary

        args, sc, conditions, world = self.args, self.sc, self.conditions, self.world
        out = rd.out
        focal = world.focal or list(range(world.n))
        workers = args.workers or default_workers()
        total = sc.replications * len(conditions)
        quiet = args.quiet or not sys.stderr.isatty()
        tqdm.monitor_interval = 0  # no monitor thread: the worker pool can then fork (faster)
        t0 = time.perf_counter()
        with tqdm(total=total, disable=quiet, unit="run", desc=sc.name) as bar:
            results = run_conditions(
                sc,
                conditions,
                replications=sc.replications,
                steps=sc.params.steps,
                record_every=self.record_every,
                workers=workers,
                progress=bar.update,
            )
        elapsed = time.perf_counter() - t0
        outcomes = {
            c.label: focal_outcomes(world, c.label, results[c.label], focal) for c in conditions
        }
        rows = [o.row() for outs in outcomes.values() for o in outs]
        meta = {
            "identity": self.identity,
            "scenario": sc.name,
            "scenario_file": str(args.scenario),
            "scenario_hash": self.digest,
            "scenario_resolved": sc.model_dump(mode="json"),
            "overrides": self.overrides,
            "seed": sc.seed,
            "replications": sc.replications,
            "steps": sc.params.steps,
            "record_every": self.record_every,
            "seeding": "replication r uses numpy SeedSequence(seed, spawn_key=(r,))",
            "replication_seeds": [seed_value(seed_for(sc.seed, r)) for r in range(sc.replications)],
            "conditions": [{"label": c.label, "switched_off": list(c.factors)} for c in conditions],
            "workers": workers,
            "elapsed_seconds": round(elapsed, 3),
        }
        header = (
            f"Scenario {sc.name} ({self.digest}): {sc.replications} replications x "
            f"{sc.params.steps} steps, seed {sc.seed}, {len(conditions)} condition(s), "
            f"{workers} worker(s), {elapsed:.1f} s"
        )
        text = format_summary(
            world, results, outcomes, {c.label: c.factors for c in conditions}, header
        )
        write_run(out, world, results, rows, meta, args.format, files=rd.files)
        write_text(out / "summary.txt", text + "\n")
        figures = []
        if not args.no_figures:
            figures = _run_figures(out)
        print(text)
        print(
            f"\nWrote {out}/ (tables: system, states, ties as {args.format}; summary.csv; run.json"
            + (f"; figures: {', '.join(figures)}" if figures else "")
            + ")"
        )
        run_fit_section(sc, args.scenario, out)  # the scenario's `targets:`, if it names any
        return 0


def _run_figures(out: Path) -> list[str]:
    """Every figure the run supports (the same as ``hedgesim plot DIR``), as PNG."""
    from sim.cli_plot import draw

    return [str(Path(p).relative_to(out)) for p in draw(out, locked=True)]


# -- schema ---------------------------------------------------------------------------------------
def cmd_schema(args: argparse.Namespace) -> int:
    """Print the scenario JSON Schema (editors use it to complete and check scenario files)."""
    from sim.schema import Scenario

    print(json.dumps(Scenario.model_json_schema(), indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="hedgesim",
        description="Agent-based simulation of how states align: does non-alignment emerge?",
        epilog="Each command has its own --help. Bad input exits 2 with file:line:col: path: "
        "message.",
    )
    p.add_argument("--version", action="version", version=f"hedgesim {__version__}")
    sub = p.add_subparsers(dest="command", required=True, parser_class=_Parser)

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
    r.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="override a scenario value, e.g. distrust.IRN.RUS=0.2 or "
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
    r.set_defaults(func=cmd_run)

    s = sub.add_parser("schema", help="print the scenario JSON Schema")
    s.set_defaults(func=cmd_schema)

    for module in (
        "sim.cli_landscape",
        "sim.cli_sweep",
        "sim.cli_plot",
        "sim.cli_explain",
        "sim.cli_validate",
        "sim.cli_data",
    ):
        __import__(module)
        sys.modules[module].add_commands(sub)
    return p


_ASCII = {
    "–": "-", "—": "--", "−": "-", "×": "x", "≥": ">=", "≤": "<=", "±": "+/-", "…": "...",
    "→": "->", "←": "<-", "·": ".", "’": "'", "‘": "'", "“": '"', "”": '"', "≈": "~",
    "≠": "!=", "°": " deg", "│": "|", "─": "-", "█": "#", "▏": "|",
}  # fmt: skip


def _ascii_fallback(exc: UnicodeError) -> tuple[str, int]:
    """Codec error handler: a character the terminal cannot show becomes its ASCII look-alike
    (``–`` -> ``-``, ``×`` -> ``x``, ``≥`` -> ``>=``, accents dropped), else ``?``."""
    import unicodedata

    if not isinstance(exc, UnicodeEncodeError):
        raise exc
    out = []
    for ch in exc.object[exc.start : exc.end]:
        alt = _ASCII.get(ch)
        if alt is None:
            alt = unicodedata.normalize("NFKD", ch).encode("ascii", "ignore").decode() or "?"
        out.append(alt)
    return "".join(out), exc.end


def _safe_streams() -> None:
    """Output never crashes on a terminal's encoding (``PYTHONIOENCODING=ascii``, a POSIX
    locale): what it cannot show degrades to ASCII. Files are always written as UTF-8."""
    import codecs
    import io

    try:
        codecs.lookup_error("hedgesim-ascii")
    except LookupError:
        codecs.register_error("hedgesim-ascii", _ascii_fallback)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            with contextlib.suppress(ValueError, io.UnsupportedOperation):
                stream.reconfigure(errors="hedgesim-ascii")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``hedgesim`` and ``python -m sim``."""
    # Figures are files: whatever MPLBACKEND says (a GUI, a typo), draw with Agg.
    os.environ["MPLBACKEND"] = "agg"
    _safe_streams()
    try:
        parser = build_parser()  # imports most of hedgesim: Ctrl-C here is one line too
        args = parser.parse_args(argv)
        return _dispatch(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def entry() -> None:
    """The ``hedgesim`` command and ``python -m sim``: :func:`main`, then exit with its status.

    After Ctrl-C the process ends with ``os._exit(130)``: CPython marks a KeyboardInterrupt that
    escaped an ``exec`` of source text (dataclasses, pydantic and others compile code that way)
    as unhandled even when hedgesim caught it, and would then kill itself with SIGINT at exit
    (status -2, in ~1 of 7 interrupts) after saying "interrupted".
    """
    import signal

    signal.signal(signal.SIGINT, signal.default_int_handler)  # Ctrl-C is KeyboardInterrupt again
    code = main()
    if code == 130:
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        os._exit(130)
    sys.exit(code)


def _dispatch(args: argparse.Namespace) -> int:
    from sim.model import SimulationError

    try:
        return int(args.func(args) or 0)
    except InputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return EXIT_INPUT
    except SimulationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_SIMULATION
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # output piped into `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    except OSError as exc:  # disk full, permissions, vanished directories: the environment
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"error: {where}{exc.strerror or exc}", file=sys.stderr)
        return EXIT_ENVIRONMENT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
