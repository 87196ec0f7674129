"""``hedgesim plot DIR``: figures from a run or a sweep directory.

Why a separate command: the figures depend only on the tables a run or sweep wrote (docs/DATA.md),
so they can be redrawn, restyled or aimed at another state or condition without re-running
anything. ``sim/cli.py`` calls :func:`add_commands` to register the subcommand; :func:`draw` is
the same thing as a function (``hedgesim run`` can call it for its own figures, so both commands
write the same files under the same names). Figures are built by ``sim.plots`` and written with
:func:`sim.plots.save` (atomically, format by extension).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError

RUN_KINDS: tuple[str, ...] = ("timeline", "network", "partners", "counterfactual")
SWEEP_KINDS: tuple[str, ...] = ("phase", "sensitivity")
KINDS: tuple[str, ...] = RUN_KINDS + SWEEP_KINDS
FORMATS: tuple[str, ...] = ("png", "svg", "pdf")
SENSITIVITY_SAMPLERS = ("sobol", "morris")

# Columns of the sweep `runs` table that are neither swept parameters nor outcomes (DATA.md).
_RUN_ID_COLUMNS = frozenset({"run_id", "run_index", "cell", "replication", "seed"})
_FOCAL_METRICS = frozenset(
    {"status", "non_aligned", "aligned", "n_alliances", "n_friendships", "hedging_index"}
)
_MAX_FACETS = 9


@dataclass(frozen=True)
class Options:
    """What to draw; the command-line flags of ``hedgesim plot`` as a value."""

    kind: str | None = None
    states: tuple[str, ...] = ()
    condition: str = "baseline"
    replication: int | None = None
    x: str | None = None
    y: str | None = None
    facet: str | None = None
    indices: Path | None = None


@dataclass(frozen=True)
class FigureJob:
    """One figure to draw: its file stem and how to build it (built lazily, one at a time)."""

    stem: str
    build: Callable[[], Any] = field(compare=False)


def _replication(text: str) -> int:
    from sim.cli.common import MAX_REPLICATIONS, bounded_int

    return bounded_int(0, MAX_REPLICATIONS - 1)(text)


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
    p.add_argument("--kind", choices=KINDS, help="draw only this kind of figure")
    p.add_argument(
        "--out",
        type=Path,
        help="output file (.png/.svg/.pdf; one figure) or directory (default DIR/figures)",
    )
    p.add_argument(
        "--state",
        action="append",
        metavar="ID",
        help="state id (repeatable; default: the focal states)",
    )
    p.add_argument(
        "--condition",
        default="baseline",
        metavar="C",
        help="condition for timeline/network/partners: baseline (default) or a counterfactual, "
        "e.g. historical_distrust or --condition=-historical_distrust",
    )
    p.add_argument(
        "--replication",
        type=_replication,
        metavar="R",
        help="network: the final ties of this replication instead of shares over all of them",
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
        help="sensitivity: CSV/Parquet of indices instead of computing them from the sweep",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="also remove figures hedgesim drew in that folder before and does not redraw now "
        "(files hedgesim did not write are never touched)",
    )
    p.set_defaults(func=cmd_plot)
    return p


def cmd_plot(args: argparse.Namespace) -> int:
    """``hedgesim plot``: draw, print each path written, return 0.

    Bad input (unknown directory layout, a kind the data cannot support, an unknown state) raises
    :class:`sim.errors.InputError`, which the CLI prints and turns into exit status 2.
    """
    opts = Options(
        kind=args.kind,
        states=tuple(args.state or ()),
        condition=args.condition,
        replication=args.replication,
        x=args.x,
        y=args.y,
        facet=args.facet,
        indices=args.indices,
    )
    for path in draw(args.dir, opts, out=args.out, fmt=args.fmt, force=args.force):
        print(path)
    return 0


def draw(
    directory: str | Path,
    opts: Options | None = None,
    *,
    out: str | Path | None = None,
    fmt: str = "png",
    force: bool = False,
    locked: bool = False,
) -> list[Path]:
    """Draw the figures ``opts`` asks for (all the data supports by default); return the paths.

    ``out`` is one file (its extension .png/.svg/.pdf gives the format; exactly one figure must be
    drawn) or a directory (default ``DIR/figures``) where figures are written as
    ``<stem>.<fmt>``. ``locked``: the caller (``hedgesim run``) holds the directory's lock.
    """
    from sim import plots  # deferred: matplotlib is only needed here

    directory = Path(directory)
    opts = opts or Options()
    if fmt not in FORMATS:
        raise InputError.single("--format", f"unknown format {fmt!r} (one of {FORMATS})")
    if (directory / "run.json").is_file():
        jobs = run_jobs(directory, opts)
    elif (directory / "manifest.json").is_file():
        jobs = sweep_jobs(directory, opts)
    else:
        raise InputError.plain(
            str(directory),
            "neither a run directory (run.json) nor a sweep directory (manifest.json)",
        )
    if not jobs:
        raise InputError.plain(str(directory), "no figure can be drawn from this directory")

    out_path = Path(out) if out is not None else None
    if out_path is not None and out_path.suffix.lower().lstrip(".") in FORMATS:
        if len(jobs) != 1:
            stems = ", ".join(j.stem for j in jobs)
            raise InputError.single(
                "--out",
                f"{out_path} names one file but {len(jobs)} figures would be drawn ({stems}); "
                "choose one with --kind/--state or give a directory",
            )
        folder, targets = out_path.parent, [out_path]
    else:  # a folder: any name without a figure extension (figs.v2 included)
        folder = out_path if out_path is not None else directory / "figures"
        targets = [folder / f"{j.stem}.{fmt}" for j in jobs]
    with _claim(folder, targets, force=force, locked=locked, explicit=out_path == targets[0]):
        written = []
        for job, target in zip(jobs, targets, strict=True):
            with _as_input_error(job.stem):
                fig = job.build()
            written.append(plots.save(fig, target))
    return written


@contextlib.contextmanager
def _claim(
    folder: Path, targets: list[Path], *, force: bool, locked: bool, explicit: bool
) -> Iterator[None]:
    """Check and record the figures about to be written into ``folder``.

    The record is the run's or sweep's (``DIR/figures``), or the folder's own ledger: figures
    hedgesim drew before may be redrawn, a file of the same name that hedgesim did not write is
    never replaced, and ``--force`` also removes figures hedgesim drew there earlier that this
    command does not redraw. A single file named by ``--out FILE`` is written as asked (when it is
    a regular file or a new path), and recorded only where a record exists.
    """
    from sim.results.atomic import writable_target
    from sim.results.outdir import (
        FIGURE_RE,
        TEMP_RE,
        Busy,
        DirLock,
        conflicts,
        refuse_conflicts,
        register,
        survey,
    )

    if os.path.lexists(folder) and folder.is_symlink() and not folder.exists():
        raise InputError.plain(str(folder), f"is a broken symbolic link (to {os.readlink(folder)})")
    if folder.exists() and not folder.is_dir():
        raise InputError.plain(str(folder), "exists and is not a directory")
    parent = survey(folder.parent) if folder.name == "figures" else None
    if parent is not None and parent.kind in ("run", "sweep"):
        root, prefix = folder.parent, "figures/"
    else:
        root, prefix = folder, ""
    for t in targets:
        writable_target(t)
    lock = None
    if not locked and ((root / "run.json").exists() or (root / "manifest.json").exists()):
        try:
            lock = DirLock(root, "plot").acquire()
        except Busy as exc:
            raise InputError.plain(
                str(root),
                f"another hedgesim process ({exc.holder}) is writing here; draw into another "
                "folder with --out, or wait for it to finish",
            ) from None
    try:
        c = survey(root)
        rels = [prefix + t.name for t in targets]
        if not explicit:
            refuse_conflicts(root, conflicts(c, rels), "figures")
        if explicit and c.kind is None:
            yield  # a file the user named, in a folder hedgesim keeps no record of
            return
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            why = exc.strerror or exc
            raise InputError.plain(str(folder), f"cannot write here: {why}") from None
        stale = [
            r
            for r in c.present_owned()
            if r.startswith(prefix)
            and "/" not in r[len(prefix) :]
            and (
                TEMP_RE.match(Path(r).name)
                or (force and FIGURE_RE.match(Path(r).name) and r not in rels)
            )
        ]
        for r in stale:
            (root / r).unlink(missing_ok=True)
        register(root, rels, drop=stale)
        yield
    finally:
        if lock is not None:
            lock.release()


def main(argv: Sequence[str] | None = None) -> int:
    """Stand-alone entry (``python -m sim.cli.plot plot DIR ...``), mirroring the hedgesim CLI."""
    parser = argparse.ArgumentParser(prog="hedgesim")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except InputError as exc:
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2


# ------------------------------------------------------------------------------------ helpers


def slug(text: str) -> str:
    """A file-name-safe form of a condition or state id; ``-x+y`` -> ``without-x+y``."""
    text = "without-" + text[1:] if text.startswith("-") else text
    return re.sub(r"[^A-Za-z0-9_.+=-]+", "_", text).strip("_") or "_"


def _suffix(condition: str) -> str:
    """File-name suffix of a condition: none for the baseline (the names `hedgesim run` uses)."""
    return "" if condition == "baseline" else f"_{slug(condition)}"


@contextlib.contextmanager
def _as_input_error(where: str) -> Iterator[None]:
    """Data that cannot be drawn (a state or condition not in it) is an input error, not a crash.

    ``sim.experiments.sweep.SweepError`` (code 2) and the ``ValueError`` the plot functions raise for data they
    cannot draw become :class:`InputError`, which the CLI prints without a traceback.
    """
    try:
        yield
    except InputError:
        raise
    except ValueError as exc:
        raise InputError.single("hedgesim plot", str(exc), (where,)) from None
    except Exception as exc:
        if type(exc).__name__ == "SweepError" and getattr(exc, "code", 1) == 2:
            raise InputError.single("hedgesim plot", str(exc), (where,)) from None
        raise


def _get(obj: Any, name: str) -> Any:
    """Attribute or key: the loaders return an object (dataclass, NamedTuple) or a mapping."""
    if isinstance(obj, Mapping):
        return obj.get(name)
    return getattr(obj, name, None)


def _nonempty(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and not df.empty


def _load_run(directory: Path) -> Any:
    from sim.results.read import load_run

    return load_run(directory)


def _load_sweep(directory: Path) -> Any:
    from sim.experiments.sweep import load_sweep

    return load_sweep(directory)


def _sweep_sensitivity(directory: Path) -> pd.DataFrame | None:
    """Indices computed by the sweep analysis helper (long rows; None for non-SALib designs)."""
    from sim.experiments.analysis import analyze

    return analyze(directory).sensitivity


def _pick_states(requested: Sequence[str], available: Iterable[str], what: str) -> list[str]:
    avail = list(dict.fromkeys(map(str, available)))
    if not requested:
        return avail
    unknown = [s for s in requested if s not in avail]
    if unknown:
        raise InputError.single("--state", f"{unknown} not among the {what}: {avail}")
    return list(dict.fromkeys(requested))


def _resolve_condition(condition: str, conditions: Iterable[str]) -> str:
    """Accept ``historical_distrust`` for ``-historical_distrust``: a leading dash on the command
    line reads as an option unless written ``--condition=-historical_distrust``."""
    known = sorted(set(conditions))
    for cand in (condition, f"-{condition}", "-" + condition.removeprefix("without-")):
        if cand in known:
            return cand
    raise InputError.single("--condition", f"{condition!r} not in this run: {known}")


def _want(kind: str | None, name: str) -> bool:
    return kind is None or kind == name


class _Need:
    """Skip a figure the data cannot support, unless it was asked for by name: then say why."""

    def __init__(self, directory: Path, kind: str | None) -> None:
        self.directory, self.kind = directory, kind

    def __call__(self, ok: bool, what: str) -> bool:
        if not ok and self.kind is not None:
            raise InputError.plain(str(self.directory), f"cannot draw {self.kind!r}: {what}")
        return ok


# ------------------------------------------------------------------------------- run directory


def run_jobs(directory: Path, opts: Options) -> list[FigureJob]:
    """The figures a run directory supports (or the kind asked for)."""
    from sim import plots

    kind = opts.kind
    if kind in SWEEP_KINDS:
        raise InputError.single("--kind", f"{kind!r} needs a sweep directory; {directory} is a run")
    need = _Need(directory, kind)
    res = _load_run(directory)
    meta: dict[str, Any] = _get(res, "meta") or {}
    world: dict[str, Any] | None = meta.get("world")
    names = (
        dict(zip(world["ids"], world.get("names") or world["ids"], strict=True)) if world else {}
    )
    n_rep = meta.get("replications")
    states, ties, summary = _get(res, "states"), _get(res, "ties"), _get(res, "summary")
    known = {
        str(c)
        for df in (states, ties, summary)
        if isinstance(df, pd.DataFrame) and "condition" in df.columns
        for c in pd.unique(df["condition"])
    }
    cond = _resolve_condition(opts.condition, known) if known else opts.condition
    focal = [str(s) for s in (world or {}).get("focal") or []]
    jobs: list[FigureJob] = []

    if _want(kind, "timeline") and need(_nonempty(states), "no states table"):
        present = list(dict.fromkeys(map(str, states["state"].unique())))
        default = [s for s in focal if s in present] or present
        for sid in _pick_states(opts.states, present, "states") if opts.states else default:
            jobs.append(
                FigureJob(
                    f"timeline_{slug(sid)}{_suffix(cond)}",
                    lambda sid=sid: plots.plot_timeline(
                        states, sid, condition=cond, name=names.get(sid, sid)
                    ),
                )
            )
    for name in ("network", "partners"):
        if not _want(kind, name):
            continue
        if not (need(world is not None, "run.json has no 'world'") and world is not None):
            continue
        if not need(isinstance(ties, pd.DataFrame), "no ties table"):
            continue
        if name == "network":
            extra: dict[str, Any] = {"condition": cond, "n_replications": n_rep}
            stem = f"network{_suffix(cond)}"
            if opts.replication is not None:
                if isinstance(n_rep, int) and not 0 <= opts.replication < n_rep:
                    raise InputError.single(
                        "--replication",
                        f"{opts.replication}: this run has replications 0–{n_rep - 1}",
                    )
                extra = {"condition": cond, "replication": opts.replication}
                stem += f"_rep{opts.replication}"
            jobs.append(
                FigureJob(stem, lambda extra=extra: plots.plot_network(ties, world, **extra))
            )
        else:
            jobs.append(
                FigureJob(
                    f"partners{_suffix(cond)}",
                    lambda: plots.plot_partners(ties, world, condition=cond, n_replications=n_rep),
                )
            )
    if _want(kind, "counterfactual") and need(_nonempty(summary), "no summary table"):
        n_conds = summary["condition"].nunique()
        # The baseline alone compares nothing: drawn when asked for, not by default.
        if need(kind is not None or n_conds > 1, "the run has only one condition"):
            present = list(dict.fromkeys(map(str, summary["state"])))
            for sid in _pick_states(opts.states, present, "summary's states"):
                jobs.append(
                    FigureJob(
                        f"counterfactuals_{slug(sid)}",
                        lambda sid=sid: plots.plot_counterfactuals(summary, sid),
                    )
                )
    return jobs


# ----------------------------------------------------------------------------- sweep directory


def focal_states(runs: pd.DataFrame) -> list[str]:
    """State ids with a ``<ID>.non_aligned`` column in the ``runs`` table."""
    return [
        str(c)[: -len(".non_aligned")]
        for c in runs.columns
        if str(c).endswith(".non_aligned") and not str(c).startswith("system.")
    ]


def swept_parameters(runs: pd.DataFrame, manifest: Mapping[str, Any] | None = None) -> list[str]:
    """The swept-parameter columns: from the manifest's design when it says, else by elimination.

    By elimination: every column that is not a run identifier, a ``system.`` metric or a
    ``<state>.<metric>`` outcome (docs/DATA.md).
    """
    design = (manifest or {}).get("design") or {}
    if design.get("columns"):
        return [str(c) for c in design["columns"] if c in runs.columns]
    focal = set(focal_states(runs))
    out = []
    for c in map(str, runs.columns):
        if c in _RUN_ID_COLUMNS or c.startswith("system."):
            continue
        head, _, tail = c.rpartition(".")
        if head in focal and tail in _FOCAL_METRICS:
            continue
        out.append(c)
    return out


def read_indices(path: Path) -> pd.DataFrame:
    """Sensitivity indices from CSV or Parquet, wide or long (see plots.sensitivity_table)."""
    if not path.is_file():
        raise InputError.plain(str(path), "no such file")
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)


def sweep_jobs(directory: Path, opts: Options) -> list[FigureJob]:
    """The figures a sweep directory supports (or the kind asked for)."""
    from sim import plots

    kind = opts.kind
    if kind in RUN_KINDS:
        raise InputError.single("--kind", f"{kind!r} needs a run directory; {directory} is a sweep")
    need = _Need(directory, kind)
    with _as_input_error(str(directory)):
        data = _load_sweep(directory)
    for w in _get(data, "warnings") or []:
        print(f"warning: {w}", file=sys.stderr)
    runs: pd.DataFrame | None = _get(data, "runs")
    manifest: dict[str, Any] = _get(data, "manifest") or {}
    scenario = manifest.get("scenario") or {}
    names = dict(zip(scenario.get("ids") or [], scenario.get("names") or [], strict=False))
    reported = focal_states(runs) if isinstance(runs, pd.DataFrame) else []
    states = _pick_states(opts.states, reported, "sweep's states") if opts.states else reported
    jobs: list[FigureJob] = []

    if _want(kind, "phase") and need(_nonempty(runs), "no runs yet"):
        assert runs is not None
        params = swept_parameters(runs, manifest)
        for flag in ("x", "y", "facet"):
            value = getattr(opts, flag)
            if value is not None and value not in params:
                raise InputError.single(
                    f"--{flag}", f"{value!r} is not a swept parameter (swept: {params})"
                )
        varying = [p for p in params if runs[p].nunique(dropna=True) > 1]
        x = opts.x or next((p for p in varying if p not in {opts.y, opts.facet}), None)
        y = opts.y or next((p for p in varying if p not in {x, opts.facet}), None)
        facet = opts.facet
        if facet is None:
            rest = [p for p in varying if p not in {x, y}]
            if rest and runs[rest[0]].nunique() <= _MAX_FACETS:
                facet = rest[0]
        pooled = [p for p in varying if p not in {x, y, facet}]
        if need(
            x is not None and y is not None,
            f"needs two swept parameters with several values (swept: {params})",
        ):
            for sid in states:
                jobs.append(
                    FigureJob(
                        f"phase_{slug(sid)}",
                        lambda sid=sid: plots.plot_phase(
                            runs,
                            x,
                            y,
                            state=sid,
                            facet=facet,
                            pooled=pooled,
                            name=names.get(sid, sid),
                        ),
                    )
                )
    if _want(kind, "sensitivity"):
        indices: pd.DataFrame | None = None
        if opts.indices is not None:
            indices = read_indices(opts.indices)
        elif (manifest.get("design") or {}).get("sampler") in SENSITIVITY_SAMPLERS and _nonempty(
            runs
        ):
            with _as_input_error(str(directory)):
                indices = _sweep_sensitivity(directory)
        if need(
            indices is not None and not indices.empty,
            "no sensitivity indices (the design is not Sobol/Morris; pass --indices FILE)",
        ):
            assert indices is not None
            if "state" in indices.columns:
                present = list(dict.fromkeys(map(str, indices["state"])))
                chosen = [s for s in states if s in present] or present
            else:
                chosen = [""]
            for sid in chosen:
                label = f"{names.get(sid, sid)}'s non-aligned share" if sid else None
                jobs.append(
                    FigureJob(
                        f"sensitivity_{slug(sid)}" if sid else "sensitivity",
                        lambda sid=sid, label=label: plots.plot_sensitivity(
                            indices, state=sid or None, output=label
                        ),
                    )
                )
    return jobs


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
