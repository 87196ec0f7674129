"""``hedgesim fit RUN_DIR --targets FILE``: a run directory scored against observed ties.

Reads the run through sim.results.read (record, seal, checksums, ids: a damaged or edited run is
a one-line error here as everywhere else) and its ``tie_history`` table, scores it with
sim.validation.scoring, and writes ``fit.csv`` into the run directory (recorded as hedgesim's,
never over a file hedgesim did not write).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.errors import InputError
from sim.model.world import compile_world
from sim.results.atomic import file_sha256, writable_target, write_text
from sim.results.outdir import claim, conflicts, refuse_conflicts, register, survey
from sim.results.read import load_run
from sim.scenario.calendar import step_year, year_end_steps
from sim.scenario.schema import Scenario
from sim.validation.scoring import RunTies, format_report, read_targets, score_run


def _tie_history(d: Path, meta: dict[str, Any]) -> pd.DataFrame | None:
    """The run's ``tie_history`` table (None if the run has none), checked against the SHA-256
    that run.json records for it, like every other table (sim.results.read)."""
    path = d / f"tie_history.{meta.get('format', 'parquet')}"
    if not path.is_file():
        return None
    want = (meta.get("checksums") or {}).get(path.name)
    if want is not None and file_sha256(path) != want:
        raise InputError.plain(str(path), "damaged (its SHA-256 differs from the one recorded)")
    try:
        df = pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)
    except Exception as exc:  # a damaged file: pyarrow/pandas raise many kinds
        raise InputError.plain(str(path), f"unreadable table: {exc}") from None
    missing = {"condition", "replication", "step", "a", "b", "level"} - set(df.columns)
    if missing:
        raise InputError.plain(str(path), f"lacks column(s) {', '.join(sorted(missing))}")
    return df


def run_ties(run_dir: str | Path, condition: str = "baseline") -> RunTies:
    """Read a run directory's ties by year (``tie_history``; the final ``ties`` without one).

    The directory is read through sim.results.read (record, seal, checksums, ids), so a damaged or
    edited run is a one-line error here as everywhere else."""
    d = Path(run_dir)
    res = load_run(d)
    meta = res.meta
    try:  # as JSON: its mappings' keys are text (power series years included)
        sc = Scenario.model_validate_json(json.dumps(meta["scenario_resolved"]))
    except (KeyError, ValueError) as exc:
        raise InputError.plain(str(d / "run.json"), f"scenario_resolved: {exc}") from None
    if sc.start is None:
        raise InputError.plain(
            str(d),
            "the run's scenario has no start (YYYY-MM): its steps have no calendar years to "
            "match the targets; run it again with --set start=YYYY-MM",
        )
    world = compile_world(sc)
    if list(world.ids) != list(meta.get("world", {}).get("ids", [])):
        raise InputError.plain(str(d / "run.json"), "its world ids differ from its scenario's")
    index = {sid: i for i, sid in enumerate(world.ids)}
    hist = _tie_history(d, meta)
    source = "tie_history"
    if hist is None:
        hist = res.ties.assign(step=int(meta["steps"]))
        source = "ties"
    conditions = set(hist.condition.astype(str))
    if conditions and condition not in conditions:
        raise InputError.plain(
            str(d), f"no condition {condition!r} (has: {', '.join(sorted(conditions))})"
        )
    hist = hist[hist.condition.astype(str) == condition]
    reps = int(meta["replications"])
    # every year-end step (a step where no replication has any tie has no rows in the table)
    steps = (
        year_end_steps(sc.start, sc.step, int(meta["steps"]))
        if source == "tie_history"
        else [int(meta["steps"])]
    )
    n = world.n
    iu = np.triu_indices(n, 1)
    rows = []
    level = hist.level.astype(str)
    a = hist.a.astype(str).map(index).to_numpy()
    b = hist.b.astype(str).map(index).to_numpy()
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    for s in steps:
        at = hist.step.to_numpy() == s
        allied = np.zeros((n, n))
        tied = np.zeros((n, n))
        np.add.at(allied, (lo[at], hi[at]), (level[at] == "alliance").to_numpy())
        np.add.at(tied, (lo[at], hi[at]), 1.0)
        rows.append(
            pd.DataFrame(
                {
                    "year": step_year(sc.start, sc.step, s),
                    "step": s,
                    "i": iu[0],
                    "j": iu[1],
                    "p_alliance": allied[iu] / reps,
                    "p_tie": tied[iu] / reps,
                }
            )
        )
    probs = pd.concat(rows, ignore_index=True)
    # several kept steps in one calendar year (a run ending mid-year): keep the year's last
    probs = probs[probs.step == probs.groupby("year").step.transform("max")]
    return RunTies(world, sc, reps, probs.drop(columns="step").reset_index(drop=True), source)


def write_fit(run_dir: Path, rows: pd.DataFrame, locked: bool = False) -> Path:
    """Write ``fit.csv`` into a run directory and record it as hedgesim's (so ``--force`` may
    replace it later); never over a file hedgesim did not write. ``locked``: the caller
    (``hedgesim run``) already holds the directory's lock."""
    text = rows.to_csv(index=False, lineterminator="\n")
    target = run_dir / "fit.csv"
    if locked:
        refuse_conflicts(run_dir, conflicts(survey(run_dir), ["fit.csv"]), "fit table")
        write_text(writable_target(target), text)
        register(run_dir, ["fit.csv"])
    else:
        with claim(run_dir, ["fit.csv"], "fit"):
            write_text(writable_target(target), text)
    return target


def fit_run(
    run_dir: str | Path,
    targets_path: str | Path,
    condition: str = "baseline",
    locked: bool = False,
):
    """Score a run directory against a target table; write ``fit.csv`` there; return the report
    and its text."""

    targets = read_targets(targets_path)
    run = run_ties(run_dir, condition)
    rep = score_run(run, targets)
    header = (
        f"Fit of {Path(run_dir)} ({run.replications} replications, {run.source}) against "
        f"{targets.source} ({targets.kind}): {rep.matched} dyad-years matched"
    )
    text = format_report(rep, header)
    write_fit(Path(run_dir), rep.rows, locked)
    return rep, text
