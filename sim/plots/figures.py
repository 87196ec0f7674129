"""Which figures a run or a sweep supports, and writing them into its folder.

Why separate from drawing: the figures depend only on the tables a run or sweep wrote
(docs/DATA.md), so ``hedgesim run`` (through ``RunResult.save``) and ``hedgesim plot DIR`` plan
the same figures under the same names, and they can be redrawn, restyled or aimed at another
state or condition without re-running anything.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError
from sim.experiments.analysis import SENSITIVITY_SAMPLERS
from sim.plots.counterfactuals import plot_counterfactuals
from sim.plots.kinds import FORMATS, RUN_KINDS, SWEEP_KINDS
from sim.plots.network import plot_network, plot_partners
from sim.plots.phase import plot_phase
from sim.plots.sensitivity import plot_sensitivity
from sim.plots.style import save
from sim.plots.timeline import plot_timeline
from sim.results.outdir import claim_figures
from sim.results.tables import RUN_COLUMNS, STATE_METRICS

# Columns of the sweep `runs` table that are neither swept parameters nor outcomes (DATA.md).
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


def slug(text: str) -> str:
    """A file-name-safe form of a condition or state id; ``-x+y`` -> ``without-x+y``."""
    text = "without-" + text[1:] if text.startswith("-") else text
    return re.sub(r"[^A-Za-z0-9_.+=-]+", "_", text).strip("_") or "_"


def _suffix(condition: str) -> str:
    """File-name suffix of a condition: none for the baseline (the names `hedgesim run` uses)."""
    return "" if condition == "baseline" else f"_{slug(condition)}"


@contextlib.contextmanager
def _as_input_error(where: str) -> Iterator[None]:
    """Data that cannot be drawn (a state or condition not in it) is an input error, not a crash:
    the ``ValueError`` the plot functions raise becomes an InputError, printed without a
    traceback."""
    try:
        yield
    except ValueError as exc:
        raise InputError.single("hedgesim plot", str(exc), (where,)) from None


def _nonempty(df: Any) -> bool:
    return isinstance(df, pd.DataFrame) and not df.empty


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


def write_figures(
    jobs: Sequence[FigureJob],
    directory: str | Path,
    *,
    out: str | Path | None = None,
    fmt: str = "png",
    force: bool = False,
    locked: bool = False,
) -> list[Path]:
    """Draw ``jobs`` for the results in ``directory`` and write them; return the paths.

    ``out`` is one file (its extension .png/.svg/.pdf gives the format; exactly one figure must be
    drawn) or a directory (default ``DIR/figures``) where figures are written as
    ``<stem>.<fmt>``. ``locked``: the caller (``hedgesim run``) holds the directory's lock.
    Figures hedgesim drew may be redrawn; a file it did not write is never replaced
    (sim.results.outdir.claim_figures).
    """
    directory = Path(directory)
    if fmt not in FORMATS:
        raise InputError.single("--format", f"unknown format {fmt!r} (one of {FORMATS})")
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
    explicit = out_path == targets[0]
    with claim_figures(folder, targets, force=force, locked=locked, explicit=explicit):
        written = []
        for job, target in zip(jobs, targets, strict=True):
            with _as_input_error(job.stem):
                fig = job.build()
            written.append(save(fig, target))
    return written


def run_jobs(
    directory: Path,
    meta: Mapping[str, Any],
    states: pd.DataFrame | None,
    ties: pd.DataFrame | None,
    summary: pd.DataFrame | None,
    opts: Options,
) -> list[FigureJob]:
    """The figures a run supports (or the kind asked for), from its tables and run.json."""
    kind = opts.kind
    if kind in SWEEP_KINDS:
        raise InputError.single("--kind", f"{kind!r} needs a sweep directory; {directory} is a run")
    need = _Need(directory, kind)
    world: dict[str, Any] | None = meta.get("world")
    names = (
        dict(zip(world["ids"], world.get("names") or world["ids"], strict=True)) if world else {}
    )
    n_rep = meta.get("replications")
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
                    lambda sid=sid: plot_timeline(
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
            jobs.append(FigureJob(stem, lambda extra=extra: plot_network(ties, world, **extra)))
        else:
            jobs.append(
                FigureJob(
                    f"partners{_suffix(cond)}",
                    lambda: plot_partners(ties, world, condition=cond, n_replications=n_rep),
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
                        lambda sid=sid: plot_counterfactuals(summary, sid),
                    )
                )
    return jobs


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
        if c in RUN_COLUMNS or c.startswith("system."):
            continue
        head, _, tail = c.rpartition(".")
        if head in focal and tail in STATE_METRICS:
            continue
        out.append(c)
    return out


def read_indices(path: Path) -> pd.DataFrame:
    """Sensitivity indices from CSV or Parquet, wide or long (see plots.sensitivity_table)."""
    if not path.is_file():
        raise InputError.plain(str(path), "no such file")
    return pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)


def sweep_jobs(
    directory: Path,
    runs: pd.DataFrame | None,
    manifest: Mapping[str, Any],
    sensitivity: Callable[[], pd.DataFrame | None],
    opts: Options,
) -> list[FigureJob]:
    """The figures a sweep supports (or the kind asked for); ``sensitivity`` computes its indices
    when a figure needs them."""
    kind = opts.kind
    if kind in RUN_KINDS:
        raise InputError.single("--kind", f"{kind!r} needs a run directory; {directory} is a sweep")
    need = _Need(directory, kind)
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
                        lambda sid=sid: plot_phase(
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
                indices = sensitivity()
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
                        lambda sid=sid, label=label: plot_sensitivity(
                            indices, state=sid or None, output=label
                        ),
                    )
                )
    return jobs
