"""Estimates from the vendored data that the model uses as constants (issue 11).

Why here: the model's institutional stickiness (how hard an alliance is to leave) should match
how often real defence pacts end, and that number must be recomputable from the shipped data,
not copied from a note. The estimators are pure functions of a spell table so that a test can
check them on spells with a known answer; :func:`alliance_hazard_table` applies them to ATOP.

A *spell* is a run of consecutive years in which a dyad had a defence pact (see
:func:`sim.data.alliance_spells`). The per-year termination hazard is the exponential maximum-
likelihood estimate with right censoring, ``lambda = ended spells / spell-years at risk``: a
spell contributes each of its years as exposure and one event if it ended. Spells that reach
the data's last year (2018) or whose dyad ended because a state left the system are censored.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from sim import data


@dataclass(frozen=True)
class Hazard:
    """A constant-hazard (exponential) fit: ``rate`` per year with its exact 95% interval."""

    events: int
    exposure: float  # spell-years at risk
    rate: float
    low: float
    high: float

    @property
    def annual_probability(self) -> float:
        """P(a tie in force at the start of a year has ended by its end) = 1 - exp(-rate)."""
        return 1.0 - math.exp(-self.rate)

    @property
    def half_life(self) -> float:
        """Years until half of the ties in force would have ended at this rate."""
        return math.log(2) / self.rate if self.rate > 0 else math.inf


def exponential_hazard(exposure: float, events: int) -> Hazard:
    """MLE of a constant hazard from ``events`` ended spells over ``exposure`` spell-years.

    The interval is the exact (Garwood) Poisson interval for the event count divided by the
    exposure: events are Poisson with mean ``rate * exposure`` under the model, and the exact
    interval stays honest when there are few events (e.g. great-power pacts).
    """
    if exposure <= 0:
        raise ValueError(f"exposure must be positive, got {exposure}")
    if events < 0 or events > exposure:
        raise ValueError(f"events must be in [0, exposure], got {events} over {exposure}")
    low = stats.chi2.ppf(0.025, 2 * events) / 2 / exposure if events > 0 else 0.0
    high = stats.chi2.ppf(0.975, 2 * events + 2) / 2 / exposure
    return Hazard(int(events), float(exposure), events / exposure, float(low), float(high))


def spell_hazard(spells: pd.DataFrame) -> Hazard:
    """Exponential hazard of a spell table (``years`` and ``outcome`` columns); only
    ``outcome == "ended"`` counts as an event, all else is censored."""
    return exponential_hazard(float(spells.years.sum()), int((spells.outcome == "ended").sum()))


def dyad_years_at_risk(spells: pd.DataFrame) -> pd.DataFrame:
    """Expand spells to one row per spell-year: ``ccode1, ccode2, year, ends`` (``ends`` is true
    in the last year of a spell that ended). Why: subsets defined year by year (post-1990, both
    states in that year's top 40) cut spells, and the exponential MLE over the kept rows is
    ``ends.sum() / len(rows)`` (a piecewise-constant hazard with time-varying membership)."""
    n = spells.years.to_numpy()
    idx = np.repeat(np.arange(len(spells)), n)
    offset = np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)
    rows = spells.iloc[idx].reset_index(drop=True)
    year = rows.start.to_numpy() + offset
    ends = (year == rows.end.to_numpy()) & (rows.outcome.to_numpy() == "ended")
    return pd.DataFrame({"ccode1": rows.ccode1, "ccode2": rows.ccode2, "year": year, "ends": ends})


def km_median(durations: np.ndarray, ended: np.ndarray) -> float:
    """Kaplan-Meier median spell length in years (statsmodels' SurvfuncRight); ``inf`` when
    the survival curve never falls to one half (too few ends before censoring)."""
    durations = np.asarray(durations, dtype=float)
    ended = np.asarray(ended, dtype=int)
    if len(durations) == 0:
        raise ValueError("no spells")
    if ended.sum() == 0:
        return math.inf
    from statsmodels.duration.survfunc import SurvfuncRight

    sf = SurvfuncRight(durations, ended)
    below = np.flatnonzero(sf.surv_prob <= 0.5)
    return float(sf.surv_times[below[0]]) if len(below) else math.inf


def year_bootstrap_interval(
    at_risk: pd.DataFrame, replications: int = 2000, seed: int = 2018
) -> tuple[float, float]:
    """95% interval of ``ends.sum() / len(at_risk)`` resampling calendar years with replacement.

    Why: ends are clustered. When one multilateral pact ends, every member dyad ends in the
    same year (90 dyads in 1964, 19 when the WEU was dissolved in 2011), so the Poisson interval,
    which treats dyad ends as independent, is too narrow. Resampling whole years keeps each
    year's cluster together. Seeded through a numpy Generator, so it is reproducible.
    """
    by_year = at_risk.groupby("year").ends.agg(["sum", "size"])
    ev = by_year["sum"].to_numpy(dtype=float)
    ex = by_year["size"].to_numpy(dtype=float)
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    pick = rng.integers(0, len(ev), size=(replications, len(ev)))
    rates = ev[pick].sum(axis=1) / ex[pick].sum(axis=1)
    low, high = np.quantile(rates, [0.025, 0.975])
    return float(low), float(high)


@dataclass(frozen=True)
class HazardRow:
    """One line of the alliance hazard table."""

    subset: str
    hazard: Hazard
    boot_low: float  # 95% interval resampling calendar years (clustered ends)
    boot_high: float
    km_spells: int  # spells with an observed start used for the Kaplan-Meier median
    km_ended: int
    km_median: float


def _row(
    name: str,
    spells: pd.DataFrame,
    keep_year: Callable[[pd.DataFrame], pd.Series],
    keep_spell: Callable[[pd.DataFrame], pd.Series],
) -> HazardRow:
    at_risk = dyad_years_at_risk(spells)
    at_risk = at_risk[keep_year(at_risk)]
    h = exponential_hazard(float(len(at_risk)), int(at_risk.ends.sum()))
    boot = year_bootstrap_interval(at_risk)
    km = spells[~spells.left_truncated & keep_spell(spells)]
    ended = (km.outcome == "ended").to_numpy()
    med = km_median(km.years.to_numpy(), ended) if len(km) else math.nan
    return HazardRow(name, h, *boot, len(km), int(ended.sum()), med)


def top_cinc_members(n: int) -> set[tuple[int, int]]:
    """``(ccode, year)`` pairs of the ``n`` states with the highest CINC in each year."""
    c = data._table("cinc.csv.gz")
    top = c.sort_values(["year", "cinc"], ascending=[True, False]).groupby("year").head(n)
    return set(zip(top.ccode.astype(int), top.year.astype(int), strict=True))


def alliance_hazard_table(top_n: int = 40) -> list[HazardRow]:
    """Termination hazard of ATOP defence-pact dyads, 1946-2018, overall and by subset.

    Subsets: post-1990 (spell-years 1990 on; KM over spells starting 1990 on); both states in
    that year's top ``top_n`` by CINC (KM: both in the top at the spell's start); bilateral
    (the dyad in no triangle of mutually pledged states that year, clique 2) vs multilateral
    (clique >= 3; KM classifies a spell by its first year). Kaplan-Meier uses only spells whose
    start is observed (not already running in 1946).
    """
    s = data.alliance_spells()
    top = top_cinc_members(top_n)

    def both_top(df: pd.DataFrame, year_col: str) -> pd.Series:
        yrs = df[year_col].astype(int)
        a = [(int(c), y) in top for c, y in zip(df.ccode1, yrs, strict=True)]
        b = [(int(c), y) in top for c, y in zip(df.ccode2, yrs, strict=True)]
        return pd.Series(np.logical_and(a, b), index=df.index)

    cl = data.defence_pact_years().set_index(["ccode1", "ccode2", "year"]).clique

    def clique_of(df: pd.DataFrame) -> pd.Series:
        keys = pd.MultiIndex.from_arrays([df.ccode1, df.ccode2, df.year])
        return pd.Series(cl.reindex(keys).to_numpy(), index=df.index)

    every: Callable[[pd.DataFrame], pd.Series] = lambda df: pd.Series(True, index=df.index)  # noqa: E731
    return [
        _row("all, 1946-2018", s, every, every),
        _row("1990-2018", s, lambda d: d.year >= 1990, lambda d: d.start >= 1990),
        _row(
            f"both in top {top_n} by CINC",
            s,
            lambda d: both_top(d, "year"),
            lambda d: both_top(d, "start"),
        ),
        _row(
            "bilateral (clique 2)",
            s,
            lambda d: clique_of(d) == 2,
            lambda d: d.clique_start == 2,
        ),
        _row(
            "multilateral (clique >= 3)",
            s,
            lambda d: clique_of(d) >= 3,
            lambda d: d.clique_start >= 3,
        ),
        _row(
            f"bilateral, both in top {top_n}",
            s,
            lambda d: (clique_of(d) == 2) & both_top(d, "year"),
            lambda d: (d.clique_start == 2) & both_top(d, "start"),
        ),
    ]
