"""Vendored international-relations data, read as package resources (issue 11).

Why one module: a world built from data must say which dataset, year and construction each
number came from, and the files must travel with the package (a wheel, a fresh clone) rather
than be found by path. Every other part of hedgesim asks this module; no file path to the data
appears anywhere else. The files, their sources, citations and terms are in README.md beside
this module, and scripts/vendor_data.py rebuilds them from the shared reference copies.

States are identified by Correlates of War (COW) codes (``ccode``) throughout; :func:`to_ccode`
turns an ISO3 code or COW abbreviation into one. A state or year a dataset does not cover
raises :class:`DataError` (a ``ValueError``) that names what does exist, so a caller (e.g.
``hedgesim build-world``) can print it as a one-line error.

Tables are read once and cached; every public function returns a fresh copy, so a caller that
edits its result cannot corrupt what the next caller sees.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources

import pandas as pd

__all__ = [
    "ATOP_YEARS",
    "CINC_YEARS",
    "IDEAL_YEARS",
    "RIVALRY_YEARS",
    "SANCTION_YEARS",
    "DataError",
    "StateId",
    "alliance_spells",
    "cinc",
    "cinc_series",
    "defence_pact_table",
    "defence_pact_years",
    "defence_pacts",
    "has_defence_pact",
    "ideal_points",
    "iso3",
    "rivalries",
    "sanctions",
    "states",
    "to_ccode",
]

StateId = str | int


class DataError(ValueError):
    """A state or year that the vendored data do not cover; the message names what exists."""


@dataclass(frozen=True)
class Coverage:
    """The years a dataset covers, inclusive, and the dataset's name for messages."""

    dataset: str
    first: int
    last: int

    def check(self, year: int) -> int:
        """Return ``year`` as an int if covered, else raise a DataError naming the span."""
        if isinstance(year, bool) or not isinstance(year, int):
            raise DataError(f"{self.dataset}: year must be a whole number, got {year!r}")
        if not self.first <= year <= self.last:
            raise DataError(
                f"{self.dataset} covers {self.first}-{self.last}; no data for year {year}"
            )
        return year


CINC_YEARS = Coverage("COW NMC v7.0 (CINC)", 1946, 2022)
ATOP_YEARS = Coverage("ATOP v5.1 (defence pacts)", 1946, 2018)
IDEAL_YEARS = Coverage("UNGA ideal points (Bailey, Strezhnev & Voeten, June 2024)", 1946, 2023)
# The book codes ongoing rivalries as ending in 2020 (its publication); nothing later is known.
RIVALRY_YEARS = Coverage("Strategic rivalries (Thompson, Sakuwa & Suhas 2021)", 1946, 2020)
SANCTION_YEARS = Coverage("GSDB release 4 (sanctions)", 1949, 2023)


@cache
def _table(name: str) -> pd.DataFrame:
    """Read one vendored CSV (gzip if it ends .gz) from the package; cached for the process."""
    resource = resources.files(__name__).joinpath(name)
    if not resource.is_file():
        raise DataError(
            f"the data file {name} is not installed with hedgesim (see sim/data/README.md: "
            "a dataset may have been removed at its owner's request)"
        )
    with resource.open("rb") as f:
        return pd.read_csv(f, compression="gzip" if name.endswith(".gz") else None)


# --------------------------------------------------------------------------- states


@lru_cache(maxsize=1)
def _states() -> pd.DataFrame:
    names = _table("states.csv")
    span = _table("cinc.csv.gz").groupby("ccode").year.agg(first_year="min", last_year="max")
    out = names.merge(span, left_on="ccode", right_index=True, how="left")
    return out.astype({"first_year": "Int64", "last_year": "Int64"})


def states() -> pd.DataFrame:
    """Every state in the vendored data: ``ccode, abb, iso3, name, first_year, last_year``.

    ``first_year``/``last_year`` are the first and last years the state has a CINC value in
    COW NMC v7.0 (1946-2022), i.e. its span as a system member in this period (a few states
    have gaps inside it, e.g. Kuwait's occupation; :func:`cinc` shows them). ``iso3`` is empty
    for states that no longer exist (e.g. the German Federal Republic, 260).
    """
    return _states().copy()


@lru_cache(maxsize=1)
def _lookup() -> tuple[dict[str, int], dict[str, int], set[int]]:
    s = _states()
    by_iso = {str(k): int(v) for k, v in zip(s.iso3, s.ccode, strict=True) if pd.notna(k)}
    by_abb = {str(k): int(v) for k, v in zip(s.abb, s.ccode, strict=True)}
    return by_iso, by_abb, set(int(c) for c in s.ccode)


def to_ccode(state: StateId) -> int:
    """The COW code of ``state``: an ISO3 code (``"IRN"``), a COW abbreviation (``"UKG"``) or
    a COW number (``630`` or ``"630"``).

    Why ISO3 first: scenarios name states by ISO3. Six strings are both an ISO3 code and a
    different state's COW abbreviation (AUS, CZE, KOR, MNG, SLV, SWZ); they mean the ISO3
    state (AUS is Australia, not Austria, whose ISO3 is AUT).
    """
    by_iso, by_abb, codes = _lookup()
    if isinstance(state, bool):
        raise DataError(f"unknown state {state!r}")
    if isinstance(state, int) or (isinstance(state, str) and state.strip().isdigit()):
        code = int(state)
        if code in codes:
            return code
        raise DataError(
            f"unknown COW state code {code}; the data know {len(codes)} codes "
            f"from {min(codes)} to {max(codes)} (see sim.data.states())"
        )
    if not isinstance(state, str):
        raise DataError(f"a state is an ISO3 code, COW abbreviation or COW number, not {state!r}")
    key = state.strip().upper()
    if key in by_iso:
        return by_iso[key]
    if key in by_abb:
        return by_abb[key]
    near = difflib.get_close_matches(key, sorted(by_iso), n=4, cutoff=0.5)
    hint = f"; did you mean {', '.join(near)}?" if near else ""
    raise DataError(
        f"unknown state {state!r}: not an ISO3 code or COW abbreviation of any of the "
        f"{len(codes)} states in the data{hint} (see sim.data.states())"
    )


def iso3(state: StateId) -> str:
    """The ISO3 code of ``state``, or its COW abbreviation when it has none (e.g. GFR, YAR).

    Why: a built scenario names its states by ISO3 so it reads like a hand-written one.
    """
    code = to_ccode(state)
    row = _states().set_index("ccode").loc[code]
    return str(row.iso3) if pd.notna(row.iso3) else str(row.abb)


def _codes(ids: Iterable[StateId]) -> list[int]:
    return [to_ccode(i) for i in ids]


# --------------------------------------------------------------------------- capabilities


def cinc(year: int) -> pd.Series:
    """CINC share of every system member in ``year`` (COW NMC v7.0), indexed by ``ccode``.

    CINC is the mean of a state's world shares of six material components; the shares sum to
    about 1.000-1.013 in a year (as in the COW file), so normalise if you need exactly 1.
    """
    year = CINC_YEARS.check(year)
    t = _table("cinc.csv.gz")
    return t.loc[t.year == year].set_index("ccode").cinc.copy()


def cinc_series(ids: Iterable[StateId], years: Iterable[int]) -> pd.DataFrame:
    """CINC for the given states (columns, by ccode) and years (rows); NaN where a state was
    not a system member that year (e.g. Germany, 255, before 1991).

    Unknown states and years outside 1946-2022 raise; why NaN rather than an error for a
    non-member year: a span (build-world 1985-1995) legitimately includes states that enter or
    leave, and the caller decides how to treat them.
    """
    codes = _codes(ids)
    ys = [CINC_YEARS.check(y) for y in years]
    t = _table("cinc.csv.gz")
    wide = t[t.ccode.isin(codes) & t.year.isin(ys)].pivot(
        index="year", columns="ccode", values="cinc"
    )
    return wide.reindex(index=ys, columns=codes)


# --------------------------------------------------------------------------- alliances


def defence_pact_years() -> pd.DataFrame:
    """All undirected ATOP v5.1 dyad-years with a defence pledge, 1946-2018.

    Columns ``year, ccode1, ccode2, pledge, clique`` with ``ccode1 < ccode2``. ``pledge`` is 3
    when both pledged defence, 1 when only ``ccode1`` pledged to ``ccode2``, 2 when only
    ``ccode2`` pledged (e.g. USA-Japan: the US pledges, Japan does not). ``clique`` is the size of
    the largest group of states, this dyad included, all pledged to one another that year: 2
    means the dyad is in no triangle (bilateral pacts only); k >= 3 means a multilateral
    structure of at least k members (NATO 2010: 28). It stands in for ATOP's alliance id and
    member count, which the dyad-year file does not carry (see README.md).
    """
    return _table("atop_defence.csv.gz").copy()


def defence_pacts(year: int) -> pd.DataFrame:
    """Undirected dyads with a defence pact (either direction) in ``year``: ``ccode1, ccode2,
    pledge, clique`` (see :func:`defence_pact_years`). Why either direction: hedgesim's
    alliance tie is symmetric, and an asymmetric guarantee (USA to Japan) is still a tie."""
    year = ATOP_YEARS.check(year)
    t = _table("atop_defence.csv.gz")
    return t.loc[t.year == year].drop(columns="year").reset_index(drop=True)


def has_defence_pact(a: StateId, b: StateId, year: int) -> bool:
    """Whether ``a`` and ``b`` share a defence pact (either direction) in ``year``."""
    lo, hi = sorted((to_ccode(a), to_ccode(b)))
    year = ATOP_YEARS.check(year)
    t = _table("atop_defence.csv.gz")
    return bool(((t.year == year) & (t.ccode1 == lo) & (t.ccode2 == hi)).any())


def defence_pact_table(ids: Iterable[StateId], years: Iterable[int]) -> pd.DataFrame:
    """Target table for fitting: every unordered dyad of ``ids`` in every year, with ``pact``
    1 if the two shared a defence pact (either direction) that year, else 0.

    Columns ``a, b, year, pact`` with ``a``/``b`` as ISO3 (COW abbreviation where a state has
    none), ordered by COW code. Why explicit zeros: ATOP lists only allied dyad-years, and a fit
    must score the dyads that were not allied too. A state that was not a system member in a
    year (no CINC that year) has no rows for that year.
    """
    codes = sorted(set(_codes(ids)))
    ys = sorted({ATOP_YEARS.check(y) for y in years})
    if len(codes) < 2:
        raise DataError("a target table needs at least two distinct states")
    t = _table("atop_defence.csv.gz")
    allied = set(zip(t.ccode1, t.ccode2, t.year, strict=True))
    c = _table("cinc.csv.gz")
    members = set(zip(c.ccode, c.year, strict=True))
    names = {code: iso3(code) for code in codes}
    rows = [
        (names[a], names[b], y, int((a, b, y) in allied))
        for y in ys
        for i, a in enumerate(codes)
        for b in codes[i + 1 :]
        if (a, y) in members and (b, y) in members
    ]
    return pd.DataFrame(rows, columns=["a", "b", "year", "pact"])


def spells(dyad_years: pd.DataFrame, last_year: int, members: set[tuple[int, int]]) -> pd.DataFrame:
    """Group dyad-years into spells of consecutive years; pure, so it can be tested alone.

    ``dyad_years`` has ``ccode1, ccode2, year`` (and optionally ``clique``); ``members`` is the
    set of ``(ccode, year)`` system memberships. A spell's ``outcome`` is ``"censored"`` if it
    reaches ``last_year`` (the data end; we do not know what came next), ``"state_exit"`` if
    either state is not a system member the year after (the dyad ended with a state, e.g. the
    GDR in 1990, not by a decision: also censoring for a break hazard), else ``"ended"``.
    ``left_truncated`` marks spells already running in the first data year (true start
    unknown).
    """
    d = dyad_years.sort_values(["ccode1", "ccode2", "year"]).reset_index(drop=True)
    first_year = int(d.year.min()) if len(d) else last_year
    same = (d.ccode1 == d.ccode1.shift()) & (d.ccode2 == d.ccode2.shift())
    new = ~(same & (d.year == d.year.shift() + 1))
    d["spell"] = new.cumsum()
    agg: dict[str, tuple[str, str]] = {
        "ccode1": ("ccode1", "first"),
        "ccode2": ("ccode2", "first"),
        "start": ("year", "min"),
        "end": ("year", "max"),
    }
    if "clique" in d:
        agg["clique_start"] = ("clique", "first")
        agg["clique_max"] = ("clique", "max")
    s = d.groupby("spell").agg(**agg).reset_index(drop=True)
    s["years"] = s.end - s.start + 1
    alive = [
        (a, e + 1) in members and (b, e + 1) in members
        for a, b, e in zip(s.ccode1, s.ccode2, s.end, strict=True)
    ]
    s["outcome"] = "ended"
    s.loc[~pd.Series(alive, index=s.index, dtype=bool), "outcome"] = "state_exit"
    s.loc[s.end >= last_year, "outcome"] = "censored"
    s["left_truncated"] = s.start <= first_year
    return s


@lru_cache(maxsize=1)
def _alliance_spells() -> pd.DataFrame:
    t = _table("atop_defence.csv.gz")
    c = _table("cinc.csv.gz")
    members = set(zip(c.ccode.astype(int), c.year.astype(int), strict=True))
    return spells(t, ATOP_YEARS.last, members)


def alliance_spells() -> pd.DataFrame:
    """Spells of consecutive years in which a dyad had a defence pact, 1946-2018.

    Columns ``ccode1, ccode2, start, end, clique_start, clique_max, years, outcome,
    left_truncated`` (see :func:`spells`). Spells reaching 2018 are censored; a one-year gap
    splits a spell in two (ATOP records the gap, so we do not bridge it).
    """
    return _alliance_spells().copy()


# --------------------------------------------------------------------------- preferences


def ideal_points(year: int) -> pd.DataFrame:
    """UNGA ideal points of the states that voted in ``year``'s session, indexed by ``ccode``:
    ``ideal`` (higher = closer to the US-led liberal order), ``q05``/``q95`` (the source's
    5-95% interval) and ``nvotes``. Why the interval: a distance between two states is only as
    sharp as their estimates. 1964 had no recorded votes and raises."""
    year = IDEAL_YEARS.check(year)
    t = _table("idealpoints.csv.gz")
    out = t.loc[t.year == year].set_index("ccode").drop(columns="year")
    if out.empty:
        raise DataError(f"{IDEAL_YEARS.dataset}: no session had recorded votes in {year}")
    return out.copy()


# --------------------------------------------------------------------------- rivalry


def rivalries(year: int) -> pd.DataFrame:
    """Strategic rivalries active in ``year`` (start <= year <= end), Thompson, Sakuwa & Suhas.

    Columns ``tssr_id, rivalry, ccode1, ccode2, start, end`` and 0/1 type flags ``positional,
    spatial, ideological, interventionary, principal, aprin``. ``end`` 2020 means ongoing at
    publication. Coverage stops in 2020 for that reason: later years raise.
    """
    year = RIVALRY_YEARS.check(year)
    t = _table("rivalries.csv")
    return t.loc[(t.start <= year) & (t.end >= year)].reset_index(drop=True)


# --------------------------------------------------------------------------- sanctions


def sanctions(year: int) -> pd.DataFrame:
    """GSDB release 4 sanctions in force in ``year``, one row per case, sender and target.

    Columns ``case_id, sender, sender_org, target, trade, descr_trade, arms, military,
    financial, travel, other, sender_mult``. ``sender``/``target`` are COW codes; a sender that
    is an organisation (EU, UN, ...) has an empty ``sender`` and its GSDB name in
    ``sender_org`` (GSDB does not expand organisations to members). ``descr_trade`` lists
    ``exp_compl``/``exp_part``/``imp_compl``/``imp_part`` (complete or partial export / import
    bans). Only rows whose target is a state are kept.
    """
    year = SANCTION_YEARS.check(year)
    t = _table("sanctions.csv.gz")
    out = t.loc[t.year == year].drop(columns="year").reset_index(drop=True)
    out["sender"] = out.sender.astype("Int64")
    out["sender_org"] = out.sender_org.fillna("")
    out["descr_trade"] = out.descr_trade.fillna("")
    return out
