"""Write validation/targets/iran_2005_2021.csv: observed ties of the Iran world, 2005-2021.

Why a script: each row of the target table must carry its source, and the treaty-alliance rows
must agree with ATOP. The spans below are the reviewable record (one line per dyad and span,
with the treaty or agreement and its date); the script expands them to one row per dyad-year,
checks every ``ATOP`` row against the vendored ATOP v5.1 data (so a typo cannot silently
contradict the dataset), and refuses overlapping spans.

Levels: ``alliance`` = a defence pledge (ATOP v5.1 through 2018; after 2018 a treaty known to
be in force); ``friendship`` = a treaty of friendship or a documented strategic-partnership
agreement without a defence pledge (ATOP's consultation/non-aggression obligations count here);
``none`` = neither, where the record is clear: an active strategic rivalry (Thompson, Sakuwa &
Suhas 2021), broken diplomatic relations or sanctions. ``judgement`` = 1 marks rows whose level
is our reading rather than a direct consequence of these rules (e.g. a de facto alliance without
a treaty, or "none" from the absence of any agreement). Dyads and years not listed are unknown
to the table, not "none": a fit skips them. See validation/targets/README.md.

Usage: python validation/targets/iran_targets.py [--out validation/targets/iran_2005_2021.csv]
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from sim import data  # noqa: E402

STATES = ("IRN", "RUS", "CHN", "USA", "IND", "ISR", "PAK", "SYR", "SAU", "GBR", "TUR", "DEU", "FRA")
FIRST, LAST = 2005, 2021
LEVELS = ("none", "friendship", "alliance")
BASES = ("ATOP", "treaty", "agreement", "rivalry", "record")

ATOP = "ATOP v5.1 defence pledge (either direction)"
NATO = "North Atlantic Treaty (Washington, 4 April 1949), in force; ATOP v5.1 ends in 2018"


@dataclass(frozen=True)
class Span:
    """One dyad at one level over ``first..last``, with its basis and source."""

    a: str
    b: str
    first: int
    last: int
    tie: str
    basis: str
    source: str
    judgement: int = 0


def _nato() -> list[Span]:
    members = ("USA", "GBR", "FRA", "DEU", "TUR")
    out: list[Span] = []
    for i, a in enumerate(members):
        for b in members[i + 1 :]:
            out.append(Span(a, b, 2005, 2018, "alliance", "ATOP", f"{ATOP}: NATO"))
            out.append(Span(a, b, 2019, 2021, "alliance", "treaty", NATO))
    return out


def _rivalry(a: str, b: str, first: int, name: str, last_source: int = 2020) -> list[Span]:
    """``none`` over the years of an active TSS rivalry, and 2021 by continuity (judgement:
    the book's coding stops at its publication in 2020)."""
    src = f"TSS strategic rivalry {name} (ongoing at publication, 2020); no alliance or partnership"
    return [
        Span(a, b, first, last_source, "none", "rivalry", src),
        Span(a, b, last_source + 1, LAST, "none", "rivalry", src + "; 2021 by continuity", 1),
    ]


SPANS: list[Span] = [
    *_nato(),
    # ---- treaty alliances outside NATO (ATOP)
    Span("USA", "PAK", 2005, 2018, "alliance", "ATOP",
         f"{ATOP}: one-way, the US pledges to Pakistan (the 1959 bilateral Agreement of "
         "Cooperation, as far as the dyad-year file shows; it carries no alliance id)"),
    Span("SYR", "SAU", 2005, 2011, "alliance", "ATOP",
         f"{ATOP}: Arab League Joint Defence and Economic Cooperation Treaty (1950)"),
    Span("SYR", "SAU", 2012, 2020, "none", "rivalry",
         "Syria suspended from the Arab League (16 November 2011); TSS strategic rivalry "
         "Saudi Arabia-Syria 2 (2011-)"),
    Span("SYR", "SAU", 2021, 2021, "none", "rivalry",
         "as 2012-2020; 2021 by continuity (relations restored only in 2023)", 1),
    # ---- Iran's dyads
    Span("IRN", "RUS", 2005, 2021, "friendship", "treaty",
         "Treaty on the Basis for Mutual Relations and the Principles of Cooperation "
         "(Moscow, 12 March 2001); ATOP v5.1 codes neutrality, non-aggression and consultation, "
         "no defence pledge"),
    Span("IRN", "CHN", 2016, 2021, "friendship", "agreement",
         "Comprehensive strategic partnership, joint statement of 23 January 2016 (Xi Jinping "
         "in Tehran); 25-year cooperation programme signed 27 March 2021"),
    Span("IRN", "SYR", 2005, 2005, "friendship", "record",
         "Iran-Syria partnership since 1980 (no treaty found before 2006)", 1),
    Span("IRN", "SYR", 2006, 2021, "alliance", "agreement",
         "Iran-Syria defence cooperation agreement (Tehran, 15 June 2006); Iranian military "
         "support of the Syrian government from 2011. ATOP v5.1 does not code a defence pledge",
         1),
    Span("IRN", "IND", 2016, 2021, "friendship", "agreement",
         "Chabahar port agreements (23 May 2016, with the India-Iran-Afghanistan transit "
         "agreement); cooperation short of a partnership treaty", 1),
    Span("IRN", "USA", 2005, 2021, "none", "record",
         "No diplomatic relations since April 1980; TSS strategic rivalry Iran-United States "
         "(1982-); US sanctions throughout (GSDB)"),
    Span("IRN", "ISR", 2005, 2021, "none", "record",
         "No relations since 1979; TSS strategic rivalry Iran-Israel (1979-)"),
    Span("IRN", "SAU", 2005, 2021, "none", "record",
         "TSS strategic rivalry Iran-Saudi Arabia (1979-); diplomatic relations severed "
         "3 January 2016 (restored 2023)"),
    *_rivalry("IRN", "TUR", 2011, "Iran-Turkey 2 (2011-)"),
    Span("IRN", "GBR", 2005, 2021, "none", "record",
         "No alliance or partnership agreement; UN (2006-2015) and EU sanctions (GSDB); "
         "British embassy stormed November 2011, reopened 2015", 1),
    Span("IRN", "DEU", 2005, 2021, "none", "record",
         "No alliance or partnership agreement; UN (2006-2015) and EU sanctions (GSDB)", 1),
    Span("IRN", "FRA", 2005, 2021, "none", "record",
         "No alliance or partnership agreement; UN (2006-2015) and EU sanctions (GSDB)", 1),
    Span("IRN", "PAK", 2005, 2021, "none", "record",
         "No alliance or partnership agreement found (CENTO ended 1979)", 1),
    # ---- the other major dyads
    Span("RUS", "CHN", 2005, 2021, "friendship", "treaty",
         "Treaty of Good-Neighbourliness and Friendly Cooperation (16 July 2001; extended "
         "28 June 2021); ATOP v5.1 codes non-aggression and consultation, no defence pledge"),
    Span("RUS", "IND", 2005, 2021, "friendship", "treaty",
         "Treaty of Friendship and Cooperation (28 January 1993); Declaration on Strategic "
         "Partnership (3 October 2000); ATOP v5.1 codes non-aggression and consultation"),
    Span("RUS", "SYR", 2005, 2014, "friendship", "treaty",
         "Soviet-Syrian Treaty of Friendship and Cooperation (8 October 1980), Russia as the "
         "continuing state; ATOP v5.1 codes non-aggression and consultation"),
    Span("RUS", "SYR", 2015, 2021, "alliance", "agreement",
         "Russian military intervention at the Syrian government's request from 30 September "
         "2015; Hmeimim air base agreement (26 August 2015); Tartus agreement (18 January 2017, "
         "49 years). No mutual-defence pledge in ATOP v5.1: a de facto alliance", 1),
    Span("CHN", "PAK", 2005, 2021, "friendship", "treaty",
         "Treaty of Friendship, Cooperation and Good-Neighbourly Relations (5 April 2005); "
         "'all-weather strategic cooperative partnership' (April 2015); ATOP v5.1 codes "
         "non-aggression and consultation, no defence pledge"),
    Span("CHN", "SAU", 2016, 2021, "friendship", "agreement",
         "Comprehensive strategic partnership established during Xi Jinping's visit to Riyadh "
         "(January 2016)"),
    Span("USA", "IND", 2005, 2021, "friendship", "agreement",
         "New Framework for the US-India Defense Relationship (28 June 2005); Major Defense "
         "Partner (2016); no defence pledge in ATOP v5.1"),
    Span("USA", "ISR", 2005, 2021, "friendship", "agreement",
         "No treaty alliance (none in ATOP v5.1); major non-NATO ally (1987); US-Israel "
         "Strategic Partnership Act (2014); security-assistance MOU (14 September 2016). Often "
         "called a de facto alliance: the level is a judgement", 1),
    Span("USA", "SAU", 2005, 2021, "friendship", "agreement",
         "No treaty alliance (none in ATOP v5.1); Crawford joint statement (25 April 2005) "
         "launching the US-Saudi strategic dialogue"),
    Span("USA", "SYR", 2005, 2021, "none", "record",
         "US sanctions throughout (Syria Accountability Act, 2004; GSDB); US embassy in "
         "Damascus closed February 2012"),
    *_rivalry("USA", "CHN", 2005, "China-United States 2 (1996-)"),
    *_rivalry("USA", "RUS", 2007, "Russia-United States (2007-)"),
    *_rivalry("IND", "PAK", 2005, "India-Pakistan (1947-)"),
    *_rivalry("ISR", "SYR", 2005, "Israel-Syria (1948-)"),
    *_rivalry("TUR", "SYR", 2011, "Turkey-Syria 2 (2011-)"),
    *_rivalry("SAU", "TUR", 2013, "Saudi Arabia-Turkey (2013-)"),
]  # fmt: skip


def build(spans: list[Span] = SPANS) -> pd.DataFrame:
    """Expand ``spans`` to one row per dyad-year and check them (see the module docstring)."""
    return expand(spans, FIRST, LAST, atop=True)


def expand(spans: list[Span], first: int, last: int, *, atop: bool) -> pd.DataFrame:
    """One row per dyad-year of ``spans``, sorted by dyad (COW codes) and year, checked: known
    states, levels and bases, years in ``first..last``, no dyad-year twice. With ``atop``, each
    row of a year ATOP v5.1 covers must agree with it (unless marked judgement); without (years
    after ATOP), no row may give ATOP as its basis. Shared with iran_forecast_targets.py."""
    rows: list[dict[str, object]] = []
    seen: set[tuple[str, str, int]] = set()
    for s in spans:
        if s.a not in STATES or s.b not in STATES or s.a == s.b:
            raise ValueError(f"{s.a}-{s.b}: both states must be among {STATES} and differ")
        if s.tie not in LEVELS or s.basis not in BASES or (s.basis == "ATOP" and not atop):
            raise ValueError(f"{s.a}-{s.b}: tie {s.tie!r} / basis {s.basis!r} not allowed")
        if not first <= s.first <= s.last <= last:
            raise ValueError(f"{s.a}-{s.b}: years {s.first}-{s.last} outside {first}-{last}")
        a, b = sorted((s.a, s.b), key=lambda x: (data.to_ccode(x), x))
        for year in range(s.first, s.last + 1):
            key = (a, b, year)
            if key in seen:
                raise ValueError(f"{a}-{b} {year}: two spans give this dyad-year")
            seen.add(key)
            if atop:
                _check_atop(s, a, b, year)
            rows.append(
                {"a": a, "b": b, "year": year, "tie": s.tie, "basis": s.basis,
                 "judgement": s.judgement, "source": s.source}
            )  # fmt: skip
    df = pd.DataFrame(rows)
    key = df.a.map(data.to_ccode) * 1000 + df.b.map(data.to_ccode)
    return df.assign(_k=key).sort_values(["_k", "year"]).drop(columns="_k").reset_index(drop=True)


def _check_atop(s: Span, a: str, b: str, year: int) -> None:
    """A row that claims ATOP has its defence pact there; a level in a year ATOP covers agrees
    with ATOP unless the row is marked judgement."""
    in_atop = year <= data.ATOP_YEARS.last and data.has_defence_pact(a, b, year)
    if s.basis == "ATOP" and not in_atop:
        raise ValueError(f"{a}-{b} {year}: basis ATOP but ATOP has no defence pact")
    if year <= data.ATOP_YEARS.last and in_atop != (s.tie == "alliance") and not s.judgement:
        raise ValueError(f"{a}-{b} {year}: level {s.tie} contradicts ATOP ({in_atop})")


def described(df: pd.DataFrame, out: Path) -> str:
    """The line a target script prints after writing ``df`` to ``out``."""
    return (
        f"{out}: {len(df)} dyad-years, {df.groupby(['a', 'b']).ngroups} dyads; "
        + ", ".join(f"{k} {v}" for k, v in df.tie.value_counts().items())
        + f"; {int(df.judgement.sum())} marked judgement"
    )


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("iran_2005_2021.csv"))
    args = ap.parse_args(argv)
    df = build()
    df.to_csv(args.out, index=False, lineterminator="\n")
    print(described(df, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
