"""``hedgesim plot DIR``: figures from a run or a sweep directory.

Why a separate module: the figures depend only on the tables a run or sweep wrote (docs/DATA.md),
so they can be redrawn, restyled or re-aimed at another state without re-running anything. The
lead's ``sim/cli.py`` calls :func:`add_commands` to register the subcommand; each figure is built
by ``sim.plots`` and written with :func:`sim.plots.save` (atomically, format by extension).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError

RUN_KINDS: tuple[str, ...] = ("timeline", "network", "partners", "counterfactual")
SWEEP_KINDS: tuple[str, ...] = ("phase", "sensitivity")
KINDS: tuple[str, ...] = RUN_KINDS + SWEEP_KINDS
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
SOURCE = "hedgesim plot"

# Columns of the sweep `runs` table that are neither swept parameters nor outcomes (DATA.md).
_RUN_ID_COLUMNS = frozenset({"run_id", "run_index", "cell", "replication", "seed"})
_FOCAL_METRICS = frozenset(
    {"status", "non_aligned", "aligned", "n_alliances", "n_friendships", "hedging_index"}
)
_MAX_FACETS = 9


@dataclass(frozen=True)
class FigureJob:
    """One figure to draw: its file stem and how to build it (built lazily, one at a time)."""

    stem: str
    build: Callable[[], Any]


def add_commands(subparsers: Any) -> argparse.ArgumentParser:
    """Register ``plot`` on the ``hedgesim`` subparsers; sets ``func`` to :func:`cmd_plot`."""
    p = subparsers.add_parser(
        "plot",
        help="draw figures from a run or sweep directory",
        description=(
            "Draw figures from a `hedgesim run` directory (run.json, states/ties tables, "
            "summary.csv) or a `hedgesim sweep` directory (manifest.json, runs/). With --kind "
            "omitted, every figure the data supports is written into DIR/figures/ (or the --out "
            "directory). The format follows the file extension: .png (150 dpi), .svg or .pdf."
        ),
    )
    p.add_argument("dir", metavar="DIR", type=Path, help="run or sweep output directory")
    p.add_argument("--kind", choices=KINDS, help="draw only this figure")
    p.add_argument(
        "--out",
        type=Path,
        help="output file (.png/.svg/.pdf; one figure) or directory (default DIR/figures)",
    )
    p.add_argument("--state", action="append", metavar="ID", help="focal state id (repeatable)")
    p.add_argument(
        "--condition",
        default="baseline",
        metavar="C",
        help="condition for timeline/network/partners (default: baseline)",
    )
    p.add_argument(
        "--replication",
        type=int,
        metavar="R",
        help="network: draw the final ties of this replication instead of shares over all",
    )
    p.add_argument(
        "--format",
        dest="fmt",
        choices=FORMATS,
        default="png",
        help="format of figures written into a directory (default: png)",
    )
    p.add_argument("--x", metavar="PARAM", help="phase: parameter on the x-axis (dotted path)")
    p.add_argument("--y", metavar="PARAM", help="phase: parameter on the y-axis")
    p.add_argument("--facet", metavar="PARAM", help="phase: one panel per value of this parameter")
    p.add_argument(
        "--indices",
        type=Path,
        metavar="FILE",
        help="sensitivity: CSV/Parquet of indices (default: found in DIR, see docs)",
    )
    p.set_defaults(func=cmd_plot)
    return p


def cmd_plot(args: argparse.Namespace) -> int:
    """Build the requested figures and write them; prints each path written. Returns 0.

    Bad input (unknown directory layout, a kind the data cannot support, an unknown state) raises
    :class:`sim.errors.InputError`, which the CLI prints and turns into exit status 2.
    """
    from sim import plots  # deferred: matplotlib is only needed by this subcommand

    directory: Path = args.dir
    kind = getattr(args, "kind", None)
    if (directory / "run.json").is_file():
        jobs = run_jobs(directory, args, kind)
    elif (directory / "manifest.json").is_file():
        jobs = sweep_jobs(directory, args, kind)
    else:
        raise InputError.single(
            str(directory),
            "not a run directory (no run.json) nor a sweep directory (no manifest.json)",
        )
    if not jobs:
        raise InputError.single(str(directory), "no figure can be drawn from this directory")

    out: Path | None = args.out
    if out is not None and out.suffix.lower().lstrip(".") in FORMATS:
        if len(jobs) != 1:
            stems = ", ".join(j.stem for j in jobs)
            raise InputError.single(
                "--out",
                f"{out} names one file but {len(jobs)} figures would be drawn ({stems}); "
                "choose one with --kind/--state or give a directory",
            )
        targets = [out]
    elif out is not None and out.suffix:
        raise InputError.single(
            "--out",
            f"unsupported figure format {out.suffix!r}: use " + ", ".join(f".{f}" for f in FORMATS),
        )
    else:
        folder = out if out is not None else directory / "figures"
        targets = [folder / f"{j.stem}.{args.fmt}" for j in jobs]
    for job, target in zip(jobs, targets, strict=True):
        fig = job.build()
        plots.save(fig, target)
        print(target)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m sim.cli_plot DIR ...``), mirroring the hedgesim CLI."""
    parser = argparse.ArgumentParser(prog="hedgesim")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


# ------------------------------------------------------------------------------------ helpers


def slug(text: str) -> str:
    """A file-name-safe form of a condition or state id; ``-x+y`` -> ``without-x+y``."""
    text = "without-" + text[1:] if text.startswith("-") else text
    return re.sub(r"[^A-Za-z0-9_.+=-]+", "_", text).strip("_") or "_"


def _get(obj: Any, name: str) -> Any:
    """Attribute or key: the loaders may return an object or a mapping."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _nonempty(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and not df.empty


def _load_run(directory: Path) -> Any:
    from sim.results import load_run

    return load_run(directory)


def _load_sweep(directory: Path) -> Any:
    from sim.sweep import load_sweep

    return load_sweep(directory)


def _pick_states(requested: Sequence[str] | None, available: Iterable[str], what: str) -> list[str]:
    avail = list(dict.fromkeys(map(str, available)))
    if not requested:
        return avail
    unknown = [s for s in requested if s not in avail]
    if unknown:
        raise InputError.single("--state", f"{unknown} not among the {what}: {avail}")
    return list(dict.fromkeys(requested))


def _want(kind: str | None, name: str) -> bool:
    return kind is None or kind == name


# ------------------------------------------------------------------------------- run directory


def run_jobs(directory: Path, args: argparse.Namespace, kind: str | None) -> list[FigureJob]:
    """The figures a run directory supports (or the one asked for with ``--kind``)."""
    from sim import plots

    if kind in SWEEP_KINDS:
        raise InputError.single("--kind", f"{kind!r} needs a sweep directory; {directory} is a run")
    res = _load_run(directory)
    meta: dict[str, Any] = _get(res, "meta") or {}
    world: dict[str, Any] | None = meta.get("world")
    names = (
        dict(zip(world["ids"], world.get("names") or world["ids"], strict=True)) if world else {}
    )
    n_rep = meta.get("replications")
    condition: str = args.condition
    states, ties, summary = _get(res, "states"), _get(res, "ties"), _get(res, "summary")
    focal = list((world or {}).get("focal") or [])
    jobs: list[FigureJob] = []

    def need(ok: bool, what: str) -> bool:
        if not ok and kind is not None:
            raise InputError.single(str(directory), f"cannot draw {kind!r}: {what}")
        return ok

    if _want(kind, "timeline") and need(_nonempty(states), "no states table"):
        conds = set(map(str, pd.unique(states["condition"])))
        if condition not in conds:
            raise InputError.single("--condition", f"{condition!r} not in {sorted(conds)}")
        present = set(map(str, pd.unique(states["state"])))
        default = [s for s in focal if s in present] or sorted(present)
        chosen = _pick_states(args.state, default if not args.state else present, "states")
        for sid in chosen:
            jobs.append(
                FigureJob(
                    f"timeline_{slug(sid)}_{slug(condition)}",
                    lambda sid=sid: plots.plot_timeline(
                        states, sid, condition=condition, name=names.get(sid, sid)
                    ),
                )
            )
    for name, fn in (("network", plots.plot_network), ("partners", plots.plot_partners)):
        if not _want(kind, name):
            continue
        if not need(world is not None, "run.json has no 'world'"):
            continue
        if not need(isinstance(ties, pd.DataFrame), "no ties table"):
            continue
        extra: dict[str, Any] = {"condition": condition, "n_replications": n_rep}
        stem = f"{name}_{slug(condition)}"
        if name == "network" and args.replication is not None:
            extra = {"condition": condition, "replication": args.replication}
            stem += f"_rep{args.replication}"
        jobs.append(FigureJob(stem, lambda fn=fn, extra=extra: fn(ties, world, **extra)))
    if _want(kind, "counterfactual") and need(_nonempty(summary), "no summary table"):
        conds = list(dict.fromkeys(map(str, summary["condition"])))
        # Only the baseline is no comparison: drawn when asked for, not by default.
        if need(kind is not None or len(conds) > 1, "only one condition"):
            present = list(dict.fromkeys(map(str, summary["state"])))
            chosen = _pick_states(args.state, present, "summary's states")
            for sid in chosen:
                jobs.append(
                    FigureJob(
                        f"counterfactual_{slug(sid)}",
                        lambda sid=sid: plots.plot_counterfactuals(summary, sid),
                    )
                )
    return jobs


# ----------------------------------------------------------------------------- sweep directory


def swept_parameters(runs: pd.DataFrame) -> list[str]:
    """Columns of the ``runs`` table that are swept parameters, in table order (DATA.md)."""
    focal = {
        str(c)[: -len(".non_aligned")]
        for c in runs.columns
        if str(c).endswith(".non_aligned") and not str(c).startswith("system.")
    }
    out = []
    for c in map(str, runs.columns):
        if c in _RUN_ID_COLUMNS or c.startswith("system."):
            continue
        head, _, tail = c.rpartition(".")
        if head in focal and tail in _FOCAL_METRICS:
            continue
        out.append(c)
    return out


def focal_states(runs: pd.DataFrame) -> list[str]:
    """State ids with a ``<ID>.non_aligned`` column in the ``runs`` table."""
    return [
        str(c)[: -len(".non_aligned")]
        for c in runs.columns
        if str(c).endswith(".non_aligned") and not str(c).startswith("system.")
    ]


def find_indices(directory: Path) -> list[Path]:
    """Sensitivity index tables stored in a sweep directory (``*sobol*``, ``*morris*``, ...)."""
    found: list[Path] = []
    for folder in (directory, directory / "analysis"):
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir()):
            stem = path.stem.lower()
            if path.suffix.lower() in {".csv", ".parquet"} and any(
                k in stem for k in ("sobol", "morris", "sensitivity")
            ):
                found.append(path)
    return found


def read_indices(path: Path) -> pd.DataFrame:
    """A table of sensitivity indices (CSV or Parquet)."""
    if not path.is_file():
        raise InputError.single(str(path), "no such file")
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)


def sweep_jobs(directory: Path, args: argparse.Namespace, kind: str | None) -> list[FigureJob]:
    """The figures a sweep directory supports (or the one asked for with ``--kind``)."""
    from sim import plots

    if kind in RUN_KINDS:
        raise InputError.single("--kind", f"{kind!r} needs a run directory; {directory} is a sweep")
    jobs: list[FigureJob] = []

    def need(ok: bool, what: str) -> bool:
        if not ok and kind is not None:
            raise InputError.single(str(directory), f"cannot draw {kind!r}: {what}")
        return ok

    if _want(kind, "phase"):
        res = _load_sweep(directory)
        runs = _get(res, "runs")
        if need(_nonempty(runs), "no runs table"):
            params = swept_parameters(runs)
            for flag in ("x", "y", "facet"):
                value = getattr(args, flag, None)
                if value is not None and value not in params:
                    raise InputError.single(
                        f"--{flag}", f"{value!r} is not a swept parameter (swept: {params})"
                    )
            varying = [p for p in params if runs[p].nunique(dropna=True) > 1]
            x = args.x or next((p for p in varying if p not in {args.y, args.facet}), None)
            y = args.y or next((p for p in varying if p not in {x, args.facet}), None)
            facet = args.facet
            if facet is None:
                rest = [p for p in varying if p not in {x, y}]
                if rest and runs[rest[0]].nunique() <= _MAX_FACETS:
                    facet = rest[0]
            pooled = [p for p in varying if p not in {x, y, facet}]
            if need(
                x is not None and y is not None,
                f"needs two swept parameters with several values (swept: {params})",
            ):
                chosen = _pick_states(args.state, focal_states(runs), "sweep's focal states")
                for sid in chosen:
                    jobs.append(
                        FigureJob(
                            f"phase_{slug(sid)}",
                            lambda sid=sid: plots.plot_phase(
                                runs, x, y, state=sid, facet=facet, pooled=pooled
                            ),
                        )
                    )
    if _want(kind, "sensitivity"):
        paths = [args.indices] if args.indices is not None else find_indices(directory)
        if need(bool(paths), "no sensitivity indices found (pass --indices FILE)"):
            for path in paths:
                stem = "sensitivity" if len(paths) == 1 else f"sensitivity_{slug(path.stem)}"
                jobs.append(
                    FigureJob(
                        stem,
                        lambda path=path: plots.plot_sensitivity(
                            read_indices(path), output=path.stem.replace("_", " ")
                        ),
                    )
                )
    return jobs


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
