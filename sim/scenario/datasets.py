"""What a world built from data covers: the request (years, states, step), the states it may
hold, and the fixed numbers of the constructions (sim.scenario.constructions).

Why the constants live here: every construction's number (rivalry levels, sanction weights, the
EU's and the UN Security Council's members by year) is named once, next to where it comes from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim import data
from sim.scenario.calendar import step_of_month

FIRST_YEAR, LAST_FIRST_YEAR = data.ATOP_YEARS.first, data.ATOP_YEARS.last
LAST_YEAR = data.CINC_YEARS.last  # a span may run on past ATOP (pacts then stay at 2018's)

RIVALRY_PRINCIPAL, RIVALRY_APRIN, RIVALRY_OTHER = 0.9, 0.75, 0.6
INTERESTS_MIN = 0.05
SECONDARY = 0.2
POWER_FLOOR = 1e-6  # the schema's lowest power (relative powers stay inside (0, 1))
SEED = 1

TRADE_COMPLETE, TRADE_PARTIAL = 0.4, 0.2
SANCTION_WEIGHTS = {"financial": 0.3, "arms": 0.1, "military": 0.1, "travel": 0.05, "other": 0.05}

# EU (EEC from 1958) membership by COW code: first and last year as a member. Why here: GSDB
# names the EU as one sender and does not expand it; these are the accession treaties' dates.
# The UK left on 31 January 2020 but applied EU sanctions through the transition to 31 December
# 2020, so 2020 counts. 260 is West Germany (to 1990), 255 unified Germany.
EU_MEMBERS: dict[int, tuple[int, int]] = {
    211: (1958, 9999), 220: (1958, 9999), 260: (1958, 1990), 255: (1991, 9999),
    325: (1958, 9999), 212: (1958, 9999), 210: (1958, 9999),
    390: (1973, 9999), 205: (1973, 9999), 200: (1973, 2020),
    350: (1981, 9999), 235: (1986, 9999), 230: (1986, 9999),
    305: (1995, 9999), 375: (1995, 9999), 380: (1995, 9999),
    352: (2004, 9999), 316: (2004, 9999), 366: (2004, 9999), 310: (2004, 9999),
    367: (2004, 9999), 368: (2004, 9999), 338: (2004, 9999), 290: (2004, 9999),
    317: (2004, 9999), 349: (2004, 9999),
    355: (2007, 9999), 360: (2007, 9999), 344: (2013, 9999),
}  # fmt: skip


def un_permanent_five(year: int) -> tuple[int, ...]:
    """COW codes of the UN Security Council's permanent members in ``year``: the USA, the UK,
    France, the USSR/Russia (COW 365 for both) and China's seat, held by the Republic of China
    (713) until resolution 2758 (25 October 1971), by the People's Republic (710) from 1972."""
    return (2, 200, 220, 365, 713 if year < 1972 else 710)


def eu_members(year: int) -> set[int]:
    """COW codes of the EU (EEC) members in ``year``."""
    return {c for c, (a, b) in EU_MEMBERS.items() if a <= year <= b}


# Multilateral pacts recognised by a signature: states that only this pact makes mutual allies.
# A clique containing every signature state (and inside the pact's years) takes the pact's name;
# any other clique is named after its members. Why a signature: our ATOP copy has no alliance id.
KNOWN_PACTS: tuple[tuple[str, frozenset[int], int, int], ...] = (
    ("NATO", frozenset({2, 20, 200}), 1949, 9999),  # USA, Canada, UK
    ("NATO", frozenset({2, 200, 325}), 1949, 9999),  # USA, UK, Italy
    ("NATO", frozenset({2, 200, 260}), 1955, 1990),  # USA, UK, West Germany
    ("NATO", frozenset({2, 200, 255}), 1990, 9999),  # USA, UK, Germany
    ("Warsaw Pact", frozenset({365, 290, 315}), 1955, 1991),  # USSR, Poland, Czechoslovakia
    ("Rio Treaty", frozenset({2, 140, 160}), 1947, 9999),  # USA, Brazil, Argentina
    ("Arab League pact", frozenset({651, 670, 663}), 1950, 9999),  # Egypt, Saudi Arabia, Jordan
    ("CSTO", frozenset({365, 371, 705}), 1992, 9999),  # Russia, Armenia, Kazakhstan
    ("SEATO", frozenset({2, 840, 800}), 1955, 1977),  # USA, Philippines, Thailand
)


@dataclass(frozen=True)
class Request:
    """What to build: the years (inclusive), the states (COW codes, in order) and options."""

    first: int
    last: int
    states: tuple[int, ...]
    step: str = "month"
    focal: tuple[int, ...] = ()
    alliances: bool = True
    alliance_changes: bool = True  # later treaties and scheduled ends (off: they are predicted)
    name: str | None = None
    command: str = ""

    @property
    def years(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def steps(self) -> int:
        per_year = {"month": 12, "year": 1}[self.step]
        return per_year * (self.last - self.first + 1)

    @property
    def start(self) -> str:
        return f"{self.first}-01"

    def january(self, year: int) -> int:
        """The step at which a change dated January ``year`` applies (0 for the first year)."""
        return 0 if year <= self.first else step_of_month(self.start, self.step, year)

    @property
    def span(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


# --------------------------------------------------------------------------- choosing states


def check_years(first: int, last: int) -> None:
    """The first year must have ATOP data (1946-2018); a span may run to CINC's last year."""
    if not FIRST_YEAR <= first <= LAST_FIRST_YEAR:
        raise data.DataError(
            f"the first year must be in {FIRST_YEAR}-{LAST_FIRST_YEAR} (ATOP v5.1 defence "
            f"pacts give the initial alliances), got {first}"
        )
    if not first <= last <= LAST_YEAR:
        raise data.DataError(
            f"the last year must be in {first}-{LAST_YEAR} (COW NMC v7.0 CINC ends in "
            f"{LAST_YEAR}), got {last}"
        )


def members(year: int) -> pd.Series:
    """CINC of every system member in ``year``, highest first (ties by COW code)."""
    c = data.cinc(year)
    return c.iloc[np.lexsort((c.index.to_numpy(), -c.to_numpy()))]


def top_states(n: int, year: int) -> list[int]:
    """The ``n`` states with the highest CINC in ``year``."""
    c = members(year)
    if n > len(c):
        raise data.DataError(f"--top {n}: COW NMC v7.0 has only {len(c)} states in {year}")
    return [int(x) for x in c.index[:n]]


def all_states(year: int) -> list[int]:
    """Every system member in ``year`` (every state with a CINC), highest CINC first."""
    return [int(x) for x in members(year).index]


def resolve_states(ids: Iterable[data.StateId], year: int, at_least: int = 2) -> list[int]:
    """COW codes of ``ids`` (ISO3, COW abbreviation or number), checked to be members in
    ``year`` and listed once each (at least ``at_least`` of them)."""
    out: list[int] = []
    seen: dict[int, str] = {}
    present = set(data.cinc(year).index)
    span = data.states().set_index("ccode")
    for sid in ids:
        code = data.to_ccode(sid)
        if code in seen:
            raise data.DataError(f"{sid!r} and {seen[code]!r} are the same state ({code})")
        seen[code] = str(sid)
        if code not in present:
            row = span.loc[code]
            gap = pd.notna(row.first_year) and row.first_year <= year <= row.last_year
            raise data.DataError(
                f"{sid} ({row['name']}) is not a system member in {year}: COW NMC v7.0 has it "
                f"{row.first_year}-{row.last_year}" + (f", with a gap in {year}" if gap else "")
            )
        out.append(code)
    if len(out) < at_least:
        raise data.DataError(f"give at least {at_least} states")
    return out
