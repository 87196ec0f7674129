"""Estimate the exit costs of institutions against ATOP alliance durations (docs/ODD.md §10.3).

Why: treaties are sticky, and how sticky is a number the literature does not give in utility
units. Data give it indirectly: ATOP v5.1 records when defence pacts end. This script builds, from
data, the worlds of the 40 strongest states by CINC for three spans (1950-1970, 1970-1990,
1992-2010; the 1990-91 breakup is left out because states disappear), each with its real ATOP
alliances at the first year, runs them with the schema's defaults and a grid of exit costs, and
measures the yearly end hazard of the alliances present at the start — bilateral alliance ties
and treaty dyads apart. ATOP's hazard for the same dyads over the same years is the target; the
estimate is where the model's hazard crosses it, and the interval maps the observed count's exact
Poisson interval through the model's curve.

Prints the observed counts, one line per grid point, and the estimates.

Usage: python validation/exit_costs.py [--replications 30] [--grid 0.4,0.6,0.8,1.0,1.2]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from scipy.stats import chi2

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import sim.data as data  # noqa: E402
from sim.build_world import Request, build_world, top_states  # noqa: E402
from sim.patterns import simulate_runs  # noqa: E402
from sim.scenario import loads_scenario  # noqa: E402

SPANS = ((1950, 1970), (1970, 1990), (1992, 2010))
KINDS = ("bilateral", "treaty")


def observed(codes: list[int], first: int, last: int) -> dict[str, list[int]]:
    """ATOP ends and dyad-years at risk, per kind, for the dyads allied in ``first``."""
    p = data.defence_pact_years()
    years = set(zip(p.ccode1, p.ccode2, p.year, strict=True))
    start = p[(p.year == first) & p.ccode1.isin(codes) & p.ccode2.isin(codes)]
    out = {k: [0, 0] for k in KINDS}
    for row in start.itertuples():
        kind = "treaty" if row.clique >= 3 else "bilateral"
        for y in range(first + 1, last + 1):
            out[kind][1] += 1
            if (row.ccode1, row.ccode2, y) not in years:
                out[kind][0] += 1
                break
    return out


def simulated(text: str, exit_cost: float, replications: int) -> dict[str, list[float]]:
    """The model's ends and dyad-years at risk per replication, per kind, at one exit cost."""
    sc = loads_scenario(text, "exit-cost world")
    # alliances after the first year are what is being predicted: keep the treaties in force at
    # the start, without their recorded ends, and drop the later ones
    sc.treaties = [t.model_copy(update={"end": None}) for t in sc.treaties if t.start == 0]
    sc.mechanisms.institutions.exit_cost = exit_cost
    sc.mechanisms.institutions.treaty_exit_cost = exit_cost
    runs = simulate_runs(sc, replications)
    idx, n = runs.index, len(runs.index)
    fellows = np.zeros((n, n), dtype=bool)
    for tr in sc.treaties:
        m = [idx[s] for s in tr.members]
        fellows[np.ix_(m, m)] = True
    np.fill_diagonal(fellows, False)
    allied = runs.ties[0, 0] == 2
    year_ends = [k for k, s in enumerate(runs.steps) if s > 0 and s % 12 == 0]
    out = {}
    for kind, mask in (("bilateral", allied & ~fellows), ("treaty", allied & fellows)):
        ends = at_risk = 0
        for i, j in np.argwhere(np.triu(mask, 1)):
            alive = runs.ties[:, year_ends, i, j] == 2  # (R, years)
            dead = ~alive
            ended = dead.any(axis=1)
            ends += int(ended.sum())
            at_risk += int(np.where(ended, dead.argmax(axis=1) + 1, alive.shape[1]).sum())
        out[kind] = [ends / replications, at_risk / replications]
    return out


def poisson_interval(k: int, exposure: float) -> tuple[float, float]:
    """Exact 95% interval of a Poisson rate (Garwood)."""
    lo = chi2.ppf(0.025, 2 * k) / 2 if k else 0.0
    hi = chi2.ppf(0.975, 2 * (k + 1)) / 2
    return lo / exposure, hi / exposure


def crossing(grid: list[float], hazards: list[float], target: float) -> float | None:
    """The exit cost where the (decreasing) hazard curve crosses ``target``, linearly
    interpolated on the log hazard; None outside the grid."""
    points = list(zip(grid, hazards, strict=True))
    for (x0, h0), (x1, h1) in itertools.pairwise(points):
        if h0 >= target >= h1 and h0 > 0 and h1 > 0:
            t = (np.log(h0) - np.log(target)) / (np.log(h0) - np.log(h1))
            return x0 + t * (x1 - x0)
    return None


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--replications", type=int, default=30)
    ap.add_argument("--grid", default="0.4,0.6,0.8,1.0,1.2,1.5,2.0")
    args = ap.parse_args()
    grid = [float(x) for x in args.grid.split(",")]
    worlds, obs = [], {k: [0, 0] for k in KINDS}
    for first, last in SPANS:
        codes = top_states(40, first)
        worlds.append(build_world(Request(first, last, tuple(codes))))
        for k, (e, y) in observed(codes, first, last).items():
            obs[k][0] += e
            obs[k][1] += y
    print("ATOP v5.1, alliances of the top-40 worlds at the start of 1950-70, 1970-90, 1992-2010:")
    for k in KINDS:
        e, y = obs[k]
        lo, hi = poisson_interval(e, y)
        print(f"  {k:9s} {e:3d} ends in {y:5d} dyad-years: {e / y:.4f} a year [{lo:.4f}-{hi:.4f}]")
    curves = {k: [] for k in KINDS}
    print("model (defaults, exit cost for both kinds), yearly end hazard:")
    for x in grid:
        tot = {k: [0.0, 0.0] for k in KINDS}
        for text in worlds:
            for k, (e, y) in simulated(text, x, args.replications).items():
                tot[k][0] += e
                tot[k][1] += y
        for k in KINDS:
            curves[k].append(tot[k][0] / tot[k][1] if tot[k][1] else float("nan"))
        print(
            f"  exit cost {x:4.2f}: " + ", ".join(f"{k} {curves[k][-1]:.4f}" for k in KINDS),
            flush=True,
        )
    for k in KINDS:
        e, y = obs[k]
        lo, hi = poisson_interval(e, y)
        est = crossing(grid, curves[k], e / y)
        band = [crossing(grid, curves[k], h) for h in (hi, lo)]
        show = " - ".join("outside the grid" if b is None else f"{b:.2f}" for b in band)
        print(f"estimate, {k}: {'outside the grid' if est is None else f'{est:.2f}'} [{show}]")


if __name__ == "__main__":
    main()
