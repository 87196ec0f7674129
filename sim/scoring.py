"""Scoring a run against observed ties: ``hedgesim fit RUN_DIR --targets FILE`` (issue 11).

Why a module apart from :mod:`sim.fit`: that one holds the metrics, pure functions of arrays;
this one knows the files — a run directory (``run.json`` and its ``tie_history`` table), a target
table (ATOP ``a, b, year, pact`` or the Iran table's ``a, b, year, tie, ...``) — and matches them
by calendar year, so the metrics stay testable on constructed cases and this stays thin.

Per period (calendar year) it scores three predictors of "is this dyad allied this year":

- **model**: the share of the run's replications in which the dyad is allied at the last step
  of that year (the baseline condition);
- **logistic**: the peer baseline of :func:`sim.fit.fit_logit` on the dyadic inputs (power
  ratio, rivalry, affinity, prior tie), fitted on the first scored year and applied to the
  later ones (its first-year row is in-sample, and marked so);
- **persistence**: "this year's ties = last year's" (the target's previous year where it has
  one, else the run's initial ties).

The logistic and persistence know last year's observed ties; the model knows only its start.
That is the issue's design: persistence is the bar for *change*, the logistic the peer a
mechanism model should beat without being told the answer a year ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim import fit
from sim.errors import InputError
from sim.schema import FIELD_RANGES, Scenario
from sim.world import LEVELS, World, compile_world, step_of_month, year_end_steps

PREDICTORS = ("model", "logistic", "persistence")
COLUMNS = (
    "year",
    "measure",
    "predictor",
    "n",
    "ties",
    "auc",
    "brier",
    "share_at_half",
    "expected_share",
    "note",
)


# --------------------------------------------------------------------------- calendar


def step_year(start: str, step: str, t: int) -> int:
    """Calendar year of step ``t`` (step 0 is the start; step ``t >= 1`` the period
    ``start + (t - 1)`` steps, as in sim.world.step_of_month)."""
    y0, m0 = (int(x) for x in start.split("-"))
    k = max(0, t - 1)
    if step == "month":
        return y0 + (m0 - 1 + k) // 12
    if step == "year":
        return y0 + k
    return (date(y0, m0, 1) + timedelta(days=7 * k)).year


# --------------------------------------------------------------------------- targets


@dataclass(frozen=True)
class Targets:
    """Observed ties by dyad and year: ``a, b, year, alliance`` (0/1) and ``tie`` (0/1: any tie,
    NaN when the table says nothing about friendships, as ATOP does not)."""

    table: pd.DataFrame
    kind: str  # "ATOP" (a, b, year, pact) or "levels" (a, b, year, tie, ...)
    source: str


def read_targets(path: str | Path) -> Targets:
    """Read a target table; bad files raise an InputError naming the file and what is wrong."""
    p = Path(path)
    src = str(p)
    if not p.is_file():
        raise InputError.plain(src, "target table not found")
    try:
        df = pd.read_csv(p)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise InputError.plain(src, f"not a readable CSV table: {exc}") from None
    cols = set(df.columns)
    if not {"a", "b", "year"} <= cols or not ({"pact"} & cols or {"tie"} & cols):
        raise InputError.plain(
            src,
            "expected columns a, b, year and pact (ATOP table) or tie (none/friendship/alliance)"
            f"; got {', '.join(map(str, df.columns))}",
        )
    if df.empty:
        raise InputError.plain(src, "the table has no rows")
    year = pd.to_numeric(df.year, errors="coerce")
    if year.isna().any() or (year != year.round()).any():
        row = int(year.isna().to_numpy().argmax()) + 2
        raise InputError.single(src, "must be a whole number", ("year",), line=row)
    out = pd.DataFrame({"a": df.a.astype(str), "b": df.b.astype(str), "year": year.astype(int)})
    if "pact" in cols:
        pact = pd.to_numeric(df.pact, errors="coerce")
        if not pact.isin([0, 1]).all():
            row = int((~pact.isin([0, 1])).to_numpy().argmax()) + 2
            raise InputError.single(src, "must be 0 or 1", ("pact",), line=row)
        out["alliance"] = pact.astype(int)
        out["tie"] = np.nan
        kind = "ATOP"
    else:
        bad = ~df.tie.isin(LEVELS)
        if bad.any():
            row = int(bad.to_numpy().argmax()) + 2
            raise InputError.single(
                src,
                f"must be one of {', '.join(LEVELS)}, got {df.tie[bad].iloc[0]!r}",
                ("tie",),
                line=row,
            )
        out["alliance"] = (df.tie == "alliance").astype(int)
        out["tie"] = (df.tie != "none").astype(float)
        kind = "levels"
    if (out.a == out.b).any():
        raise InputError.plain(src, "a dyad names the same state twice")
    return Targets(out, kind, src)


# --------------------------------------------------------------------------- the run


@dataclass(frozen=True)
class RunTies:
    """Per calendar year, every dyad's share of replications allied and tied (any level)."""

    world: World
    scenario: Scenario
    replications: int
    probs: pd.DataFrame  # year, i, j (world indices, i < j), p_alliance, p_tie
    source: str  # "tie_history" or "ties" (final step only)


def ties_from_records(world: World, sc: Scenario, records: list) -> RunTies:
    """The same per-year shares straight from in-memory run records (``history_ties``), for
    callers that run replications themselves (hedgesim validate --heldout)."""
    if sc.start is None:
        raise ValueError("the scenario has no start: no calendar years")
    steps = [int(s) for s in records[0].history_steps]
    allied = np.mean([r.history_ties == 2 for r in records], axis=0)  # (P, N, N)
    tied = np.mean([r.history_ties > 0 for r in records], axis=0)
    iu = np.triu_indices(world.n, 1)
    frames = [
        pd.DataFrame(
            {
                "year": step_year(sc.start, sc.step, s),
                "step": s,
                "i": iu[0],
                "j": iu[1],
                "p_alliance": allied[k][iu],
                "p_tie": tied[k][iu],
            }
        )
        for k, s in enumerate(steps)
    ]
    probs = pd.concat(frames, ignore_index=True)
    probs = probs[probs.step == probs.groupby("year").step.transform("max")]
    return RunTies(world, sc, len(records), probs.drop(columns="step"), "records")


def _tie_history(d: Path, meta: dict[str, Any]) -> pd.DataFrame | None:
    """The run's ``tie_history`` table (None if the run has none), checked against the SHA-256
    that run.json records for it, like every other table (sim.loader)."""
    from sim.atomic import file_sha256

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

    The directory is read through sim.loader (record, seal, checksums, ids), so a damaged or
    edited run is a one-line error here as everywhere else."""
    from sim.loader import load_run

    d = Path(run_dir)
    res = load_run(d)
    meta = res.meta
    try:
        sc = Scenario.model_validate(meta["scenario_resolved"])
    except (KeyError, ValueError) as exc:
        raise InputError.plain(str(d / "run.json"), f"scenario_resolved: {exc}") from None
    if sc.start is None:
        raise InputError.plain(
            str(d),
            "the run's scenario has no start (YYYY-MM): its steps have no calendar years to "
            "match the targets; run it again with --set start=YYYY-MM",
        )
    world = compile_world(sc)
    if list(world.ids) != list(res.world.get("ids", [])):
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


# --------------------------------------------------------------------------- dyadic inputs


def world_at(world: World, step: int) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Power and dyadic data in force at ``step`` (events and power series applied in order,
    reverted after ``until``, clipped to each field's range) — what the model sees then."""
    power = world.power.copy()
    dyads = {k: v.copy() for k, v in world.dyads.items()}
    for ch in sorted(world.changes, key=lambda c: c.step):
        if ch.step > step or ch.field.startswith("preferences."):
            continue
        if ch.until is not None and ch.until <= step:
            continue  # applied and reverted before ``step``: nothing left of it
        lo, hi = FIELD_RANGES[ch.field]
        if ch.per_state:
            old = power[ch.rows]
            power[ch.rows] = np.clip(ch.values if ch.mode == "set" else old + ch.values, lo, hi)
        else:
            arr = dyads[ch.field]
            old = arr[ch.rows, ch.cols]
            new = ch.values if ch.mode == "set" else old + ch.values
            arr[ch.rows, ch.cols] = np.clip(new, lo, hi)
    return power, dyads


def initial_alliances(world: World) -> np.ndarray:
    """Alliances at step 0: the initial ties plus every pair of founders of a treaty in force."""
    allied = world.ties == 2
    for tr in world.treaties:
        if tr.start == 0:
            m = np.zeros(world.n, dtype=bool)
            m[tr.members] = True
            allied |= m[:, None] & m[None, :]
    np.fill_diagonal(allied, False)
    return allied


def dyad_features(world: World, start: str, step: str, year: int) -> pd.DataFrame:
    """The logistic baseline's inputs for every dyad ``i < j`` in January of ``year``:
    ``power_ratio`` (weaker / stronger power), ``rivalry`` and ``affinity`` (the interest
    compatibility plus the affinity field, clipped to [-1, 1]: in a built world, the UN
    ideal-point compatibility)."""
    t = 0 if f"{year}-01" <= start else step_of_month(start, step, year)
    power, dyads = world_at(world, t)
    i, j = np.triu_indices(world.n, 1)
    p1, p2 = power[i], power[j]
    return pd.DataFrame(
        {
            "i": i,
            "j": j,
            "power_ratio": np.minimum(p1, p2) / np.maximum(p1, p2),
            "rivalry": np.maximum(dyads["rivalry"][i, j], dyads["rivalry"][j, i]),
            "affinity": np.clip(dyads["interests"][i, j] + dyads["affinity"][i, j], -1, 1),
        }
    )


# --------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class FitReport:
    """Per-year scores (``rows``, long format: one row per year, measure and predictor) and
    what was matched."""

    rows: pd.DataFrame
    matched: int
    unmatched_states: list[str]
    outside_years: int
    run_source: str
    logit_note: str


def _scores_row(year: Any, measure: str, predictor: str, prob, labels, note: str = "") -> dict:
    s = fit.score(np.asarray(prob, dtype=float), np.asarray(labels, dtype=int))
    return {
        "year": year,
        "measure": measure,
        "predictor": predictor,
        "n": s.n,
        "ties": s.ties,
        "auc": s.auc,
        "brier": s.brier,
        "share_at_half": s.share_at_half,
        "expected_share": s.expected_share,
        "note": note,
    }


def _prior_ties(
    m: pd.DataFrame, known: dict, label: str, start: np.ndarray, prior: str, first: int
) -> list[float]:
    """The tie the baselines take as known before each row's year (see ``score_run``): the
    target's label the year before (``previous``) or in the first year (``start``), else the
    run's initial tie."""
    out = []
    for i, j, y in zip(m.i, m.j, m.year, strict=True):
        r = known.get((i, j, y - 1) if prior == "previous" or y == first else (i, j, first))
        value = getattr(r, label) if r is not None else np.nan
        out.append(float(value) if pd.notna(value) else float(start[i, j]))
    return out


def score_run(run: RunTies, targets: Targets, prior: str = "previous") -> FitReport:
    """Match target rows to the run's dyad-years and score the three predictors per year.

    ``prior`` is what the baselines know of past ties: ``"previous"`` (``hedgesim fit``) the
    observed ties of the year before, i.e. one-year-ahead forecasts; ``"start"`` (the held-out
    tests) only the first scored year's, carried forward — the same horizon as the model, which
    runs free from its start. The pooled row covers the years after the first (the logistic's
    training year) for every predictor."""
    if prior not in ("previous", "start"):
        raise ValueError(f"prior must be 'previous' or 'start', not {prior!r}")
    world = run.world
    index = {sid: k for k, sid in enumerate(world.ids)}
    t = targets.table
    known = t.a.isin(index) & t.b.isin(index)
    unmatched = sorted(set(t.a[~t.a.isin(index)]) | set(t.b[~t.b.isin(index)]))
    t = t[known].copy()
    ia, ib = t.a.map(index).to_numpy(), t.b.map(index).to_numpy()
    t["i"], t["j"] = np.minimum(ia, ib), np.maximum(ia, ib)
    t = t.drop_duplicates(["i", "j", "year"], keep="last")
    years = sorted(set(run.probs.year) & set(t.year))
    outside = int((~t.year.isin(years)).sum())
    if not years:
        raise InputError.plain(
            targets.source,
            f"no target year falls inside the run ({run.probs.year.min()}-"
            f"{run.probs.year.max()}) for its states",
        )
    start = run.scenario.start or ""
    prev = {(r.i, r.j, r.year): r for r in t.itertuples()}
    init = initial_alliances(world)
    init_tie = init | (world.ties > 0)
    merged = t[t.year.isin(years)].merge(run.probs, on=["year", "i", "j"], how="left")
    feats = pd.concat(
        [dyad_features(world, start, run.scenario.step, y).assign(year=y) for y in years]
    )
    merged = merged.merge(feats, on=["year", "i", "j"], how="left")
    measures = [("alliance", "alliance", "p_alliance", init)]
    if targets.kind == "levels":
        measures.append(("tie", "tie", "p_tie", init_tie))
    rows: list[dict] = []
    notes = []
    for measure, label, pcol, start_ties in measures:
        m = merged.dropna(subset=[label]).copy()
        m[label] = m[label].astype(int)
        train_year = years[0]
        m["prior_tie"] = _prior_ties(m, prev, label, start_ties, prior, train_year)
        train = m[m.year == train_year]
        logit: fit.LogitFit | None
        try:
            logit = fit.fit_logit(train, train[label], fit.DYADIC_FEATURES)
            notes.append(
                f"{measure}: fitted on {train_year} ({len(train)} dyads)"
                + ("; L2-penalised (no maximum-likelihood fit)" if logit.penalized else "")
                + (
                    f"; constant inputs left out: {', '.join(logit.dropped)}"
                    if logit.dropped
                    else ""
                )
            )
        except ValueError as exc:
            logit = None
            notes.append(f"{measure}: no logistic baseline ({exc})")
        pooled = f"{years[1]}-{years[-1]}" if len(years) > 2 else None
        for y in [*years, pooled] if pooled else years:
            g = m[m.year != train_year] if y == pooled else m[m.year == y]
            if g.empty:
                continue
            rows.append(_scores_row(y, measure, "model", g[pcol], g[label]))
            if logit is not None:
                note = "in-sample (training year)" if y == train_year else ""
                rows.append(_scores_row(y, measure, "logistic", logit.predict(g), g[label], note))
            rows.append(_scores_row(y, measure, "persistence", g.prior_tie, g[label]))
    out = pd.DataFrame(rows, columns=list(COLUMNS))
    return FitReport(out, len(merged), unmatched, outside, run.source, "; ".join(notes))


def format_report(rep: FitReport, header: str = "") -> str:
    """The per-year table as text: one block per measure, model | logistic | persistence."""
    lines = [header] if header else []
    for measure, g in rep.rows.groupby("measure", sort=False):
        lines.append(
            f"{'P(alliance)' if measure == 'alliance' else 'P(any tie)'} per dyad vs observed "
            f"{measure}: AUC / Brier / share of target ties reproduced (p >= 0.5)"
        )
        head = f"{'year':>9} {'dyads':>6} {'ties':>5}"
        for p in PREDICTORS:
            head += f" | {p:^20}"
        lines.append(head)
        for year, h in g.groupby("year", sort=False):
            by = {r.predictor: r for r in h.itertuples()}
            first = next(iter(by.values()))
            line = f"{year!s:>9} {first.n:>6} {first.ties:>5}"
            for p in PREDICTORS:
                r = by.get(p)
                line += " | " + (
                    f"{_f(r.auc)} {_f(r.brier)} {_f(r.share_at_half)}"
                    + ("*" if r is not None and r.note.startswith("in-sample") else " ")
                    if r is not None
                    else f"{'-':^20}"
                )
            lines.append(line)
        lines.append("")
    lines.append(f"logistic: {rep.logit_note}; * in-sample.")
    extra = []
    if rep.unmatched_states:
        extra.append(f"target states not in the world: {', '.join(rep.unmatched_states)}")
    if rep.outside_years:
        extra.append(f"{rep.outside_years} target rows outside the run's years")
    if extra:
        lines.append("skipped: " + "; ".join(extra) + ".")
    return "\n".join(lines)


def _f(x: float) -> str:
    return "  nan" if x is None or not np.isfinite(x) else f"{x:5.3f}"[:5]


def write_fit(run_dir: Path, rows: pd.DataFrame, locked: bool = False) -> Path:
    """Write ``fit.csv`` into a run directory and record it as hedgesim's (so ``--force`` may
    replace it later); never over a file hedgesim did not write. ``locked``: the caller
    (``hedgesim run``) already holds the directory's lock."""
    from sim.atomic import writable_target, write_text
    from sim.outdir import claim, conflicts, refuse_conflicts, register, survey

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
