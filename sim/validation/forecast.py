"""The Iran forecast: the Iran world run on from August 2021 (issue 11, item 4(c)).

Why a module of its own: the forecast is written down (docs/FORECAST.md) before it is compared
with what happened, so the part that *makes* the forecast must not need the observed outcomes.
:func:`run_forecast` runs ``scenarios/iran_2021_forecast.yaml`` (its exogenous post-2021 events
as data) and gives, per dyad and calendar year-end, the share of replications with no tie, a
friendship and an alliance, plus the focal state's status shares and alignment index;
:func:`score_dyads` (the comparison) scores those shares against an observed table by Brier
score and hits, and sim.validation.heldout prints it as test (c).

Seeds are the scenario's (``replication_seed(seed, r)``), so the figures equal those of
``hedgesim run scenarios/iran_2021_forecast.yaml`` with the same replications.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from sim.model.lockstep import simulate_many
from sim.model.metrics import STATUSES
from sim.model.seeds import replication_seed
from sim.model.world import compile_world
from sim.scenario.calendar import step_year
from sim.scenario.load import load_scenario
from sim.scenario.schema import LEVELS, SanctionsRegime, Scenario

# shipped in the package (see sim.validation.heldout)
FORECAST_SCENARIO = Path(__file__).parents[1] / "examples" / "iran_2021_forecast.yaml"
FORECAST_TARGETS = Path(__file__).parent / "targets" / "iran_2022_2024.csv"
FOCAL_DYADS = (("IRN", "RUS"), ("IRN", "CHN"), ("IRN", "SAU"))
HORIZONS = (2023, 2024)

# The sensitivity variant: Western sanctions on Iran from October 2022. Left out of the forecast
# scenario because they answer, in part, Iran's drone transfers to Russia (the Iran-Russia tie
# being forecast); shown beside it so the reader sees what they would change.
REACTIVE_IRAN_SANCTIONS = SanctionsRegime(
    name="EU and UK sanctions on Iran from October 2022",
    senders=["GBR", "FRA", "DEU"],  # EU cases sent by GBR, FRA, DEU (the scenario's rule)
    targets=["IRN"],
    # GSDB 1354, 1355 (EU), 1366 (UK), new in 2022: partial trade 0.2 + financial 0.3 + travel
    # 0.05 + other 0.05. They answer the repression of the September 2022 protests and the drone
    # transfers to Russia; GSDB does not say which case answers which.
    level=0.6,
    secondary=0.0,
    start=14,  # October 2022
)


@dataclass(frozen=True)
class Forecast:
    """What the replications say, by calendar year-end.

    ``dyads``: one row per unordered dyad (``a``, ``b`` in the world's order) and year-end
    (``year``, ``step``) with the shares ``p_none``, ``p_friendship``, ``p_alliance``.
    ``status``: per year-end, the focal state's status shares (one column per status) and its
    mean alignment index ``alignment``. ``records``: the runs themselves (for scoring with
    sim.validation.scoring without running them again).
    """

    scenario: Scenario
    replications: int
    focal: str
    dyads: pd.DataFrame
    status: pd.DataFrame
    records: list = field(default_factory=list)


def load_forecast_scenario(path: str | Path = FORECAST_SCENARIO) -> Scenario:
    """The forecast scenario (an InputError names the file and field if it is bad)."""
    return load_scenario(Path(path))


def with_reactive_sanctions(sc: Scenario) -> Scenario:
    """The sensitivity variant: ``sc`` plus the October 2022 EU/UK sanctions on Iran."""
    return sc.model_copy(update={"sanctions": [*sc.sanctions, REACTIVE_IRAN_SANCTIONS]})


def run_forecast(sc: Scenario, replications: int | None = None, focal: str = "IRN") -> Forecast:
    """Run ``sc`` (default: its own replications) and tabulate its year-end ties and the focal
    state's statuses."""
    if sc.start is None:
        raise ValueError("the forecast scenario needs a start (a calendar)")
    n = sc.replications if replications is None else replications
    world = compile_world(sc)
    seeds = [replication_seed(sc.seed, r) for r in range(n)]
    recs = simulate_many(world, sc, seeds, sc.params.steps)
    ties = np.stack([r.history_ties for r in recs])  # (R, P, N, N)
    steps = [int(s) for s in recs[0].history_steps]
    iu = np.triu_indices(world.n, 1)
    frames = []
    for k, s in enumerate(steps):
        t = ties[:, k][:, iu[0], iu[1]]  # (R, dyads)
        frames.append(
            pd.DataFrame(
                {
                    "a": [world.ids[i] for i in iu[0]],
                    "b": [world.ids[j] for j in iu[1]],
                    "year": step_year(sc.start, sc.step, s),
                    "step": s,
                    **{f"p_{lvl}": (t == v).mean(axis=0) for v, lvl in enumerate(LEVELS)},
                }
            )
        )
    dyads = pd.concat(frames, ignore_index=True)
    f = world.ids.index(focal)
    rows = []
    for s in steps:
        k = int(np.flatnonzero(recs[0].steps == s)[0])
        st = np.array([r.status[k, f] for r in recs])
        rows.append(
            {
                "year": step_year(sc.start, sc.step, s),
                "step": s,
                **{name: float((st == v).mean()) for v, name in enumerate(STATUSES)},
                "alignment": float(np.mean([r.alignment[k, f] for r in recs])),
            }
        )
    return Forecast(sc, n, focal, dyads, pd.DataFrame(rows), recs)


def dyad(fc: Forecast, a: str, b: str, year: int) -> pd.Series:
    """The row of dyad ``a``-``b`` (either order) at the last year-end of ``year``."""
    d = fc.dyads
    m = (((d.a == a) & (d.b == b)) | ((d.a == b) & (d.b == a))) & (d.year == year)
    if not m.any():
        raise KeyError(f"{a}-{b} {year}: not in the forecast")
    return d[m].sort_values("step").iloc[-1]


# --------------------------------------------------------------------------- the comparison


def brier_levels(p: np.ndarray, observed: np.ndarray) -> np.ndarray:
    """Three-level Brier score per row: ``sum_k (p_k - o_k)^2`` over none / friendship /
    alliance, ``p`` an (n, 3) array of shares, ``observed`` level indices (0, 1, 2). 0 is a sure
    hit, 2 a sure miss."""
    p = np.asarray(p, dtype=float)
    o = np.zeros_like(p)
    o[np.arange(len(p)), np.asarray(observed, dtype=int)] = 1.0
    return ((p - o) ** 2).sum(axis=1)


def score_dyads(fc: Forecast, targets: pd.DataFrame) -> pd.DataFrame:
    """Per observed dyad-year: the forecast shares, the observed level and the scores.

    ``targets`` has ``a, b, year, tie`` (tie one of LEVELS). Columns added: ``observed`` (level
    index), ``brier_tie`` (P(any tie) against tie / no tie), ``brier_alliance``, ``brier3``
    (three levels), ``hit`` (the most likely level is the observed one; ties between levels
    count as a miss), ``persist_level`` and ``persist_brier3`` (the start's ties carried: the
    step-0 level, scored the same way, for scale). Rows the forecast does not cover are dropped.
    """
    start = initial_levels(fc.scenario)
    out = []
    for r in targets.itertuples():
        try:
            row = dyad(fc, r.a, r.b, int(r.year))
        except KeyError:
            continue
        p = np.array([row.p_none, row.p_friendship, row.p_alliance])
        obs = LEVELS.index(r.tie)
        top = np.flatnonzero(p == p.max())
        before = start.get((r.a, r.b), start.get((r.b, r.a), 0))
        out.append(
            {
                "a": r.a,
                "b": r.b,
                "year": int(r.year),
                "p_none": p[0],
                "p_friendship": p[1],
                "p_alliance": p[2],
                "tie": r.tie,
                "observed": obs,
                "brier_tie": (p[1] + p[2] - (obs > 0)) ** 2,
                "brier_alliance": (p[2] - (obs == 2)) ** 2,
                "brier3": float(brier_levels(p[None, :], [obs])[0]),
                "hit": bool(len(top) == 1 and top[0] == obs),
                "persist_level": LEVELS[before],
                "persist_brier3": 0.0 if before == obs else 2.0,
            }
        )
    return pd.DataFrame(out)


def focal_rows(scored: pd.DataFrame) -> pd.DataFrame:
    """The rows of :func:`score_dyads` for the focal dyads (either order) at the horizons, in
    the order of ``FOCAL_DYADS`` and ``HORIZONS``."""
    order = {frozenset(d): k for k, d in enumerate(FOCAL_DYADS)}
    key = [order.get(frozenset((a, b)), -1) for a, b in zip(scored.a, scored.b, strict=True)]
    out = scored.assign(_k=key)
    out = out[(out._k >= 0) & out.year.isin(HORIZONS)]
    return out.sort_values(["_k", "year"]).drop(columns="_k").reset_index(drop=True)


def initial_levels(sc: Scenario) -> dict[tuple[str, str], int]:
    """The start's tie level per dyad: the ``ties`` field, and alliances among the founders of
    every treaty in force at step 0."""
    out: dict[tuple[str, str], int] = {}
    for a, row in sc.ties.items():
        for b, level in row.items():
            out[(a, b)] = LEVELS.index(level)
    for tr in sc.treaties:
        if tr.start == 0:
            for i, a in enumerate(tr.members):
                for b in tr.members[i + 1 :]:
                    out[(a, b)] = 2
    return out


# --------------------------------------------------------------------------- printing


def format_forecast(fc: Forecast, years: tuple[int, ...] = HORIZONS) -> str:
    """The forecast as Markdown: the focal dyads' level shares per horizon, the focal state's
    status shares and alignment index, and every other dyad of the focal state at the last
    horizon."""
    lines = [
        "| dyad | year-end | P(no tie) | P(friendship) | P(alliance) | P(any tie) |",
        "|---|---|---|---|---|---|",
    ]
    for a, b in FOCAL_DYADS:
        for y in years:
            r = dyad(fc, a, b, y)
            lines.append(
                f"| {a}–{b} | {y} | {r.p_none:.3f} | {r.p_friendship:.3f} | "
                f"{r.p_alliance:.3f} | {r.p_friendship + r.p_alliance:.3f} |"
            )
    lines += ["", "| year-end | " + " | ".join(STATUSES) + " | mean alignment index |",
              "|---" * (len(STATUSES) + 2) + "|"]  # fmt: skip
    for r in fc.status[fc.status.year.isin(years)].itertuples():
        shares = " | ".join(f"{getattr(r, s):.3f}" for s in STATUSES)
        lines.append(f"| {r.year} | {shares} | {r.alignment:.3f} |")
    last = years[-1]
    d = fc.dyads
    d = d[(d.year == last) & ((d.a == fc.focal) | (d.b == fc.focal))]
    d = d[d.step == d.step.max()]
    lines += ["", f"| {fc.focal} with | P(no tie) | P(friendship) | P(alliance) ({last}) |",
              "|---|---|---|---|"]  # fmt: skip
    for r in d.itertuples():
        other = r.b if r.a == fc.focal else r.a
        lines.append(f"| {other} | {r.p_none:.3f} | {r.p_friendship:.3f} | {r.p_alliance:.3f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """``python -m sim.validation.forecast [--reactive-sanctions] [-r N]``: print the forecast."""
    import argparse

    ap = argparse.ArgumentParser(description="The Iran forecast (docs/FORECAST.md)")
    ap.add_argument(
        "--reactive-sanctions",
        action="store_true",
        help="add the October 2022 EU/UK sanctions on Iran (the sensitivity variant)",
    )
    ap.add_argument("-r", "--replications", type=int, default=None)
    args = ap.parse_args(argv)
    sc = load_forecast_scenario()
    if args.reactive_sanctions:
        sc = with_reactive_sanctions(sc)
    fc = run_forecast(sc, args.replications)
    print(f"{sc.name}: {fc.replications} replications, seed {sc.seed}\n")
    print(format_forecast(fc))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
