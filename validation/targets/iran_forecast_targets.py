"""Write validation/targets/iran_2022_2024.csv: observed ties of the Iran world, 2022-2024.

Why: the forecast of docs/FORECAST.md (held-out test (c)) is scored against what happened after
August 2021. Written *after* the forecast was committed. Same conventions as
``iran_targets.py`` (levels, bases, ``judgement``; see validation/targets/README.md), with one
rule for which dyads are listed: **all twelve of Iran's dyads, and every dyad with a tie in the
2021 rows of iran_2005_2021.csv** (so the rows are not picked by where the model does well or
badly). ATOP v5.1 ends in 2018, so no row here is checked against it: an ``alliance`` needs a
defence pledge known to be in force (NATO) or is a marked judgement (a de facto alliance).

Usage: python validation/targets/iran_forecast_targets.py [--out FILE] (never overwrites)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[2]
for p in (ROOT, Path(__file__).resolve().parent):
    if str(p) not in sys.path:  # run as a plain script from anywhere
        sys.path.insert(0, str(p))

from iran_targets import NATO, Span, described, expand  # noqa: E402

FIRST, LAST = 2022, 2024
NEW_TREATY_2025 = (
    "the Treaty on Comprehensive Strategic Partnership signed in Moscow on 17 January 2025 (after "
    "the horizon) has no mutual-defence clause, only a pledge not to help an aggressor"
)
ASSAD = (
    "until the fall of the Assad government on 8 December 2024 (2024 coded by its first "
    "eleven months)"
)


def _nato() -> list[Span]:
    members = ("USA", "GBR", "FRA", "DEU", "TUR")
    return [
        Span(a, b, FIRST, LAST, "alliance", "treaty", NATO)
        for i, a in enumerate(members)
        for b in members[i + 1 :]
    ]


SPANS: list[Span] = [
    # ---- Iran's twelve dyads
    Span("IRN", "RUS", FIRST, LAST, "friendship", "treaty",
         "Treaty on the Basis for Mutual Relations (12 March 2001) in force; military cooperation "
         "(Iranian drones for Russia from August 2022) without a defence pledge; " + NEW_TREATY_2025
         + ". Read as friendship, not a de facto alliance: a judgement", 1),
    Span("IRN", "CHN", FIRST, LAST, "friendship", "agreement",
         "Comprehensive strategic partnership (23 January 2016) and 25-year cooperation programme "
         "(27 March 2021) in force; Raisi's state visit to Beijing (14-16 February 2023); no "
         "defence pledge"),
    Span("IRN", "SAU", 2022, 2022, "none", "record",
         "Diplomatic relations severed since 3 January 2016; Baghdad talks from April 2021 without "
         "agreement; TSS strategic rivalry Iran-Saudi Arabia (1979-)"),
    Span("IRN", "SAU", 2023, LAST, "friendship", "agreement",
         "China-brokered joint trilateral statement (Beijing, 10 March 2023): relations resumed, "
         "embassies reopened (June-August 2023), the Security Cooperation Agreement of 17 April "
         "2001 and the General Cooperation Agreement of 27 May 1998 reactivated. Read as a "
         "friendship (cooperation agreements short of a partnership treaty, as Iran-India's "
         "Chabahar agreements); the other reading, 'none' (relations only, the rivalry not "
         "coded as ended), is scored too in docs/FORECAST.md", 1),
    Span("IRN", "SYR", FIRST, LAST, "alliance", "agreement",
         "Iran-Syria defence agreement (15 June 2006) and Iranian military support of the Syrian "
         "government " + ASSAD + "; no defence pledge in ATOP v5.1 (a de facto alliance)", 1),
    Span("IRN", "IND", FIRST, LAST, "friendship", "agreement",
         "Chabahar port agreements (2016); ten-year contract for India to run the Shahid Beheshti "
         "terminal (13 May 2024); cooperation short of a partnership treaty", 1),
    Span("IRN", "USA", FIRST, LAST, "none", "record",
         "No diplomatic relations since April 1980; TSS strategic rivalry Iran-United States; US "
         "sanctions throughout (GSDB 1255, 1256 and later cases)"),
    Span("IRN", "ISR", FIRST, LAST, "none", "record",
         "No relations since 1979; TSS strategic rivalry Iran-Israel; direct strikes on each other "
         "in April and October 2024"),
    Span("IRN", "TUR", FIRST, LAST, "none", "rivalry",
         "TSS strategic rivalry Iran-Turkey 2 (2011-, ongoing at publication, 2020) by "
         "continuity; no alliance or partnership", 1),
    Span("IRN", "GBR", FIRST, LAST, "none", "record",
         "No alliance or partnership agreement; UK sanctions on Iran from October 2022 (GSDB 1366)",
         1),
    Span("IRN", "DEU", FIRST, LAST, "none", "record",
         "No alliance or partnership agreement; EU sanctions on Iran from October 2022 (GSDB "
         "1354, 1355)", 1),
    Span("IRN", "FRA", FIRST, LAST, "none", "record",
         "No alliance or partnership agreement; EU sanctions on Iran from October 2022 (GSDB "
         "1354, 1355)", 1),
    Span("IRN", "PAK", FIRST, LAST, "none", "record",
         "No alliance or partnership agreement found; exchange of strikes on each other's "
         "territory, 16-18 January 2024", 1),
    # ---- every other dyad tied in 2021
    *_nato(),
    Span("RUS", "SYR", FIRST, LAST, "alliance", "agreement",
         "Russian military presence at the Syrian government's request (Hmeimim, Tartus) " + ASSAD
         + "; no mutual-defence pledge: a de facto alliance", 1),
    Span("RUS", "CHN", FIRST, LAST, "friendship", "treaty",
         "Treaty of Good-Neighbourliness and Friendly Cooperation (2001, extended 28 June 2021); "
         "joint statement of 4 February 2022 ('friendship without limits'); no defence pledge"),
    Span("RUS", "IND", FIRST, LAST, "friendship", "treaty",
         "Treaty of Friendship and Cooperation (1993) and strategic partnership (2000) in force; "
         "annual summit in Moscow, 8-9 July 2024"),
    Span("CHN", "PAK", FIRST, LAST, "friendship", "treaty",
         "Treaty of Friendship, Cooperation and Good-Neighbourly Relations (2005) in force; no "
         "defence pledge"),
    Span("CHN", "SAU", FIRST, LAST, "friendship", "agreement",
         "Comprehensive strategic partnership (2016); Comprehensive Strategic Partnership "
         "Agreement signed during Xi Jinping's visit to Riyadh (8 December 2022)"),
    Span("USA", "ISR", FIRST, LAST, "friendship", "agreement",
         "No treaty alliance; security-assistance MOU (2016) in force; US military support after "
         "7 October 2023. Often called a de facto alliance: the level is a judgement", 1),
    Span("USA", "SAU", FIRST, LAST, "friendship", "agreement",
         "No treaty alliance; strategic partnership (Jeddah communique of 15 July 2022, Biden's "
         "visit)"),
    Span("USA", "IND", FIRST, LAST, "friendship", "agreement",
         "Major Defense Partner (2016); initiative on Critical and Emerging Technology (January "
         "2023); no defence pledge"),
]  # fmt: skip


def build(spans: list[Span] = SPANS) -> pd.DataFrame:
    """One row per dyad-year, checked: known states, known levels and bases (no ATOP: it ends in
    2018), years in range, no dyad-year twice."""
    return expand(spans, FIRST, LAST, atop=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("iran_2022_2024.csv"))
    args = ap.parse_args(argv)
    if args.out.exists():
        print(f"{args.out}: exists; not overwritten (remove it or give another --out)")
        return 2
    df = build()
    df.to_csv(args.out, index=False, lineterminator="\n")
    print(described(df, args.out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
