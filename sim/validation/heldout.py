"""Held-out tests: ``hedgesim validate --heldout`` (issue 11, item 4).

Why: a mechanism model earns trust by explaining alliances it was not fitted to, and by doing
better than a simple statistical peer. Three tests, each scored with sim.validation.fit's metrics
against the logistic peer and persistence:

- **(a) structure only.** The world of a held-out year (the top N states by CINC, built from
  data) starts with *no* ties and runs to its steady state; the simulated alliance probability
  per dyad (share of replications and of the last years' year-ends with an alliance) is scored
  against ATOP that year. The peer is the logistic regression on power ratio, rivalry and
  affinity *without* the prior tie, fitted on an earlier year (2000 -> 2010, 2010 -> 2018).
  Persistence (the earlier year's ATOP ties) is shown for scale: it knows the answer's past.
- **(a') transitions.** The same kind of world from its real ties in 2011, run to 2018: the
  2018 alliance probability against ATOP 2018, against persistence (2011's ties) and the
  logistic *with* the prior tie, fitted on the same seven-year horizon earlier (2004 -> 2011);
  plus formation and termination (AUC among the dyads unallied / allied in 2011).
- **(b) the Iran world**, 2005-2021, against validation/targets/iran_2005_2021.csv, with the
  baselines given the 2005 ties only (the horizon the model has).
- **(c) a forecast**: the Iran world run on from August 2021 to December 2024
  (scenarios/iran_2021_forecast.yaml, observed 2021 ties, the exogenous post-2021 events as data;
  sim.validation.forecast) against validation/targets/iran_2022_2024.csv, written after the
  forecast (docs/FORECAST.md). The baselines know the 2021 ties only: persistence carries them,
  the logistic is fitted on 2021.

Nothing here is tuned: every world comes from sim.scenario.build_world with the schema's defaults.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim import data
from sim.errors import InputError
from sim.model.lockstep import simulate_many
from sim.model.seeds import replication_seed
from sim.model.world import compile_world
from sim.scenario.build_world import build_world
from sim.scenario.datasets import Request, top_states
from sim.scenario.load import load_scenario, loads_scenario
from sim.scenario.schema import Scenario
from sim.validation import fit, forecast
from sim.validation.scoring import (
    Targets,
    dyad_features,
    read_targets,
    score_run,
    ties_from_records,
)

# shipped in the package: sim/examples links to scenarios/, sim/validation/targets to
# validation/targets/
IRAN_SCENARIO = Path(__file__).parents[1] / "examples" / "iran_2021.yaml"
IRAN_TARGETS = Path(__file__).parent / "targets" / "iran_2005_2021.csv"
IRAN_STATES = (
    "IRN", "RUS", "CHN", "USA", "IND", "ISR", "PAK", "SYR", "SAU", "GBR", "TUR", "DEU", "FRA"
)  # fmt: skip
STRUCTURE = ((2000, 2010), (2010, 2018))
TRANSITION = (2004, 2011, 2018)  # logistic fitted 2004 -> 2011, test 2011 -> 2018
NO_PRIOR = ("power_ratio", "rivalry", "affinity")


@dataclass(frozen=True)
class Size:
    """How big the held-out runs are.

    ``settle_years``: the structure runs last this long (monthly steps). Why 50 years: from no
    ties, the default rule's alliances settle at 1-2 per run within the first years, and
    friendships, the slowest variable, rise for about 40 years and then change by under 1% per
    decade (measured over 100 years on both held-out worlds; the table's notes print the last two
    decades every time, so a drift would show). ``window_years``: the year-ends averaged at the
    end (smoother probabilities than one snapshot).
    ``forecast_replications``: runs of the forecast (c), a 13-state, 40-step world that costs
    about 5 ms a run; the full size is the scenario's own 200 (the figures of docs/FORECAST.md).
    """

    name: str
    top: int
    replications: int
    settle_years: int
    window_years: int
    forecast_replications: int = 200


FULL = Size("full", 40, 20, 50, 10)
QUICK = Size("quick", 12, 2, 6, 2, 4)


@dataclass(frozen=True)
class Row:
    """One predictor on one test."""

    test: str
    predictor: str
    n: int
    ties: int
    auc: float
    brier: float
    share_at_half: float
    expected_share: float
    note: str = ""

    @classmethod
    def of(cls, test: str, predictor: str, prob, labels, note: str = "") -> Row:
        s = fit.score(np.asarray(prob, dtype=float), np.asarray(labels, dtype=int))
        return cls(test, predictor, s.n, s.ties, s.auc, s.brier, s.share_at_half,
                   s.expected_share, note)  # fmt: skip


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame([r.__dict__ for r in self.rows])


# --------------------------------------------------------------------------- worlds


def _world(year: int, last: int, states: list[int], alliances: bool, steps: int | None = None):
    sc = loads_scenario(
        build_world(Request(year, last, tuple(states), alliances=alliances)),
        f"<built world {year}-{last}>",
    )
    if steps is not None:
        sc.params.steps = steps  # the year-end history follows params.steps
    return sc, compile_world(sc)


def _run(sc: Scenario, world, size: Size) -> list:
    seeds = [replication_seed(sc.seed, r) for r in range(size.replications)]
    return simulate_many(world, sc, seeds, sc.params.steps)


def _atop(ids: list[str], year: int) -> np.ndarray:
    """(N, N) 0/1: ATOP defence pact (either direction) in ``year``, by the world's ids."""
    pacts = data.defence_pacts(year)
    code = {data.to_ccode(s): k for k, s in enumerate(ids)}
    out = np.zeros((len(ids), len(ids)), dtype=int)
    for a, b in zip(pacts.ccode1, pacts.ccode2, strict=True):
        if a in code and b in code:
            out[code[a], code[b]] = out[code[b], code[a]] = 1
    return out


def _members(ids: list[str], year: int) -> np.ndarray:
    present = set(data.cinc(year).index)
    return np.array([data.to_ccode(s) in present for s in ids])


def _features(sc: Scenario, world, year: int) -> pd.DataFrame:
    assert sc.start is not None
    return dyad_features(world, sc.start, sc.step, year)


# --------------------------------------------------------------------------- (a)


def structure_test(train: int, test: int, size: Size, report: Report) -> None:
    """(a): the held-out year's world from no ties to steady state vs ATOP that year."""
    label = f"(a) {test}, no initial ties"
    sc, world = _world(test, test, top_states(size.top, test), False, 12 * size.settle_years)
    recs = _run(sc, world, size)
    w = size.window_years
    allied = np.mean([r.history_ties[-w:] == 2 for r in recs], axis=(0, 1))
    feats = _features(sc, world, test)
    i, j = feats.i.to_numpy(), feats.j.to_numpy()
    y = _atop(world.ids, test)[i, j]
    report.rows.append(
        Row.of(label, "model", allied[i, j], y, f"mean over {len(recs)} runs x last {w} years")
    )
    tsc, tworld = _world(train, train, top_states(size.top, train), False)
    tf = _features(tsc, tworld, train)
    ty = _atop(tworld.ids, train)[tf.i, tf.j]
    try:
        logit = fit.fit_logit(tf, ty, NO_PRIOR)
        report.rows.append(
            Row.of(label, "logistic", logit.predict(feats), y, f"no prior tie; fitted on {train}")
        )
    except ValueError as exc:
        report.notes.append(f"{label}: no logistic baseline ({exc})")
    was = _members(world.ids, train)
    prior = _atop(world.ids, train) * (was[:, None] & was[None, :])
    report.rows.append(
        Row.of(label, "persistence", prior[i, j], y, f"ATOP {train}: knows the past ties")
    )
    counts = np.array([[(h == 2).sum() / 2 for h in r.history_ties] for r in recs]).mean(axis=0)
    friends = np.array([[(h == 1).sum() / 2 for h in r.history_ties] for r in recs]).mean(axis=0)
    if len(counts) >= 2 * w:
        report.notes.append(
            f"{label}: {world.n} states, {sc.params.steps} monthly steps; mean alliances per run "
            f"at year-ends {len(counts) - 2 * w + 1}-{len(counts) - w}: "
            f"{counts[-2 * w : -w].mean():.2f}, {len(counts) - w + 1}-{len(counts)}: "
            f"{counts[-w:].mean():.2f} (ATOP {test}: {int(y.sum())}); friendships "
            f"{friends[-2 * w : -w].mean():.1f} -> {friends[-w:].mean():.1f}"
        )


# --------------------------------------------------------------------------- (a')


def transition_test(size: Size, report: Report) -> None:
    """(a'): from the real 2011 ties to 2018, vs persistence and the logistic with prior tie."""
    fit_from, first, last = TRANSITION
    label = f"(a') {first}->{last} from real ties"
    sc, world = _world(first, last, top_states(size.top, first), True)
    recs = _run(sc, world, size)
    allied_end = np.mean([r.history_ties[-1] == 2 for r in recs], axis=0)
    alive = _members(world.ids, last)
    feats = _features(sc, world, first)
    keep = alive[feats.i] & alive[feats.j]
    feats = feats[keep]
    i, j = feats.i.to_numpy(), feats.j.to_numpy()
    before = _atop(world.ids, first)[i, j]
    y = _atop(world.ids, last)[i, j]
    preds: dict[str, np.ndarray] = {"model": allied_end[i, j], "persistence": before.astype(float)}
    notes = {"model": f"{len(recs)} runs, {sc.params.steps} monthly steps",
             "persistence": f"ATOP {first}"}  # fmt: skip
    tsc, tworld = _world(fit_from, fit_from, top_states(size.top, fit_from), False)
    tf = _features(tsc, tworld, fit_from)
    both = _members(tworld.ids, first)
    tf = tf[both[tf.i] & both[tf.j]].assign(
        prior_tie=lambda f: _atop(tworld.ids, fit_from)[f.i, f.j]
    )
    ty = _atop(tworld.ids, first)[tf.i, tf.j]
    try:
        logit = fit.fit_logit(tf, ty, fit.DYADIC_FEATURES)
        preds["logistic"] = logit.predict(feats.assign(prior_tie=before))
        notes["logistic"] = f"with prior tie; fitted {fit_from}->{first}" + (
            " (L2, separation)" if logit.penalized else ""
        )
    except ValueError as exc:
        report.notes.append(f"{label}: no logistic baseline ({exc})")
    for name in ("model", "logistic", "persistence"):
        if name in preds:
            report.rows.append(Row.of(label, name, preds[name], y, notes[name]))
    formed, ended = int(((before == 0) & (y == 1)).sum()), int(((before == 1) & (y == 0)).sum())
    for sub, mask, target, word in (
        ("formation", before == 0, y, f"{formed} formed"),
        ("termination", before == 1, 1 - y, f"{ended} ended"),
    ):
        for name in ("model", "logistic", "persistence"):
            if name not in preds:
                continue
            p = preds[name][mask] if sub == "formation" else 1.0 - preds[name][mask]
            report.rows.append(
                Row.of(f"(a') {sub} {first}->{last}", name, p, target[mask],
                       f"{int(mask.sum())} dyads {'un' if sub == 'formation' else ''}allied "
                       f"in {first}; {word}")
            )  # fmt: skip
    report.notes.append(
        f"{label}: {world.n} states; alliances in ATOP {first}: {int(before.sum())}, {last}: "
        f"{int(y.sum())}; mean simulated alliances at the end {allied_end[i, j].sum():.1f}"
    )


# --------------------------------------------------------------------------- (b)


def iran_scenario(size: Size) -> tuple[Scenario, str]:
    """The shipped Iran scenario (with a 2005-01 start if it has none), or, if it does not load
    with this version's schema, the same 13 states built from data for 2005-2021."""
    try:
        sc = load_scenario(IRAN_SCENARIO)
        how = f"scenarios/{IRAN_SCENARIO.name}"
        if sc.start is None:
            sc = sc.model_copy(update={"start": "2005-01", "step": "month"})
            how += " with start 2005-01"
        return sc, how
    except InputError as exc:
        first = exc.problems[0] if exc.problems else ""
        states = tuple(data.to_ccode(s) for s in IRAN_STATES)
        sc = loads_scenario(build_world(Request(2005, 2021, states)), "<built Iran world>")
        return sc, (
            f"built from data (hedgesim build-world --span 2005-2021 --states "
            f"{','.join(IRAN_STATES)}), because {IRAN_SCENARIO.name} does not load: {first}"
        )


def iran_test(size: Size, report: Report) -> None:
    """(b): the Iran world against its sourced target table, the baselines given 2005 only."""
    sc, how = iran_scenario(size)
    world = compile_world(sc)
    recs = _run(sc, world, size)
    run = ties_from_records(world, sc, recs)
    rep = score_run(run, read_targets(IRAN_TARGETS), prior="start")
    pooled = [y for y in rep.rows.year.unique() if isinstance(y, str)]
    if not pooled:
        raise InputError.plain(str(IRAN_TARGETS), "the Iran run covers fewer than three years")
    span = pooled[0]
    for r in rep.rows[rep.rows.year == span].itertuples():
        what = "alliance" if r.measure == "alliance" else "any tie"
        report.rows.append(
            Row(f"(b) Iran {span}, {what}", r.predictor, r.n, r.ties, r.auc, r.brier,
                r.share_at_half, r.expected_share,
                "2005 ties carried" if r.predictor == "persistence" else r.note)
        )  # fmt: skip
    report.notes.append(
        f"(b) world: {how}; {len(recs)} runs x {sc.params.steps} steps; logistic: {rep.logit_note}"
    )


# --------------------------------------------------------------------------- (c)


def forecast_targets() -> Targets:
    """The observed ties the forecast is scored on: the 2021 rows of the Iran table (what the
    baselines may know: the start) and the 2022-2024 table."""
    before = read_targets(IRAN_TARGETS)
    after = read_targets(forecast.FORECAST_TARGETS)
    table = pd.concat([before.table[before.table.year == 2021], after.table], ignore_index=True)
    return Targets(table, "levels", f"{IRAN_TARGETS.name} (2021) + {after.source}")


def forecast_test(size: Size, report: Report) -> None:
    """(c): the forecast from August 2021 against what happened in 2022-2024."""
    sc = forecast.load_forecast_scenario()
    fc = forecast.run_forecast(sc, size.forecast_replications)
    recs = fc.records
    rep = score_run(ties_from_records(compile_world(sc), sc, recs), forecast_targets(), "start")
    span = next(y for y in rep.rows.year.unique() if isinstance(y, str))
    for r in rep.rows[rep.rows.year == span].itertuples():
        what = "alliance" if r.measure == "alliance" else "any tie"
        report.rows.append(
            Row(f"(c) Iran forecast {span}, {what}", r.predictor, r.n, r.ties, r.auc, r.brier,
                r.share_at_half, r.expected_share,
                "2021 ties carried" if r.predictor == "persistence" else r.note)
        )  # fmt: skip
    observed = pd.read_csv(forecast.FORECAST_TARGETS)
    scored = forecast.score_dyads(fc, observed)
    focal = forecast.focal_rows(scored)
    report.notes.append(
        f"(c) {sc.name}: {len(recs)} runs x {sc.params.steps} steps from 2021-09; focal dyads "
        "(observed; P(none/friendship/alliance); three-level Brier): "
        + "; ".join(
            f"{r.a}-{r.b} {r.year} {r.tie} ({r.p_none:.2f}/{r.p_friendship:.2f}/"
            f"{r.p_alliance:.2f}; {r.brier3:.2f})"
            for r in focal.itertuples()
        )
        + f"; hits over all {len(scored)} dyad-years {int(scored.hit.sum())}, "
        f"persistence {int((scored.persist_brier3 == 0).sum())}"
    )


# --------------------------------------------------------------------------- all of it


def run(size: Size = FULL) -> Report:
    """Every held-out test at ``size``."""
    report = Report()
    for train, test in STRUCTURE:
        structure_test(train, test, size, report)
    transition_test(size, report)
    iran_test(size, report)
    forecast_test(size, report)
    return report


def _f(x: float) -> str:
    return "   -" if not np.isfinite(x) else f"{x:.3f}"


def format_table(report: Report, markdown: bool = False) -> str:
    """The table: test, predictor, dyads, ties, AUC, Brier, share reproduced (p >= 0.5), mean
    p over the true ties; then the notes."""
    head = ("test", "predictor", "dyads", "ties", "AUC", "Brier", "share", "mean p", "note")
    rows = [
        (r.test, r.predictor, str(r.n), str(r.ties), _f(r.auc), _f(r.brier),
         _f(r.share_at_half), _f(r.expected_share), r.note)
        for r in report.rows
    ]  # fmt: skip
    if markdown:
        lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines += ["", *[f"- {n}" for n in report.notes]]
        return "\n".join(lines)
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(head[:-1])]
    fmt = "  ".join(f"{{:{'<' if k < 2 else '>'}{w}}}" for k, w in enumerate(widths))
    lines = [fmt.format(*head[:-1]) + "  note"]
    last = None
    for r in rows:
        if last is not None and r[0] != last:
            lines.append("")
        lines.append(fmt.format(*r[:-1]) + f"  {r[-1]}")
        last = r[0]
    lines += ["", "AUC: 0.5 = no better than chance, '-' = undefined (one outcome only). "
              "share: target ties with p >= 0.5; mean p: mean probability over them.", "",
              *report.notes]  # fmt: skip
    return "\n".join(lines)
