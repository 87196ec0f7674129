"""Target tables: the ATOP defence-pact grid (sim.data.defence_pact_table and its script) and the
sourced Iran table (validation/targets/iran_2005_2021.csv)."""

from __future__ import annotations

import runpy
from pathlib import Path

import pandas as pd
import pytest

from sim import data

ROOT = Path(__file__).resolve().parents[1]
TARGETS = ROOT / "validation" / "targets"


def test_defence_pact_table_has_every_dyad_with_explicit_zeros() -> None:
    t = data.defence_pact_table(["USA", "GBR", "CHN", "RUS", "JPN"], [2010, 2011])
    assert len(t) == 2 * 10  # 5 states: 10 dyads a year
    pact = {(r.a, r.b, r.year): r.pact for r in t.itertuples()}
    assert pact[("USA", "GBR", 2010)] == 1
    assert pact[("USA", "JPN", 2011)] == 1  # one-way pledge counts
    assert pact[("USA", "CHN", 2010)] == 0
    assert pact[("RUS", "CHN", 2010)] == 0  # a friendship treaty, no defence pledge
    assert t.pact.sum() == 4  # USA-GBR and USA-JPN in both years


def test_defence_pact_table_skips_non_members_and_checks_years() -> None:
    t = data.defence_pact_table(["USA", "DEU", 260], [1990, 1991])
    years = {(r.a, r.b): set() for r in t.itertuples()}
    for r in t.itertuples():
        years[(r.a, r.b)].add(r.year)
    assert years[("USA", "GFR")] == {1990}  # West Germany ends in 1990
    # COW NMC lists unified Germany (255) from 1990, the year of unification (3 October).
    assert years[("USA", "DEU")] == {1990, 1991}
    with pytest.raises(data.DataError, match="covers 1946-2018"):
        data.defence_pact_table(["USA", "GBR"], [2019])
    with pytest.raises(data.DataError, match="at least two"):
        data.defence_pact_table(["USA", "usa"], [2000])


def test_atop_target_script_writes_and_never_overwrites(tmp_path: Path) -> None:
    mod = runpy.run_path(str(TARGETS / "atop_targets.py"))
    out = tmp_path / "t.csv"
    assert mod["main"](["--top", "5", "--years", "2000-2001", "--out", str(out)]) == 0
    t = pd.read_csv(out)
    assert len(t) == 2 * 10 and set(t.columns) == {"a", "b", "year", "pact"}
    assert {"USA", "CHN", "RUS", "IND"} <= set(t.a) | set(t.b)  # top CINC states in 2000
    before = out.read_bytes()
    with pytest.raises(SystemExit):
        mod["main"](["--top", "5", "--years", "2000", "--out", str(out)])
    assert out.read_bytes() == before


# --------------------------------------------------------------------------- Iran table

IRAN = {"IRN", "RUS", "CHN", "USA", "IND", "ISR", "PAK", "SYR", "SAU", "GBR", "TUR", "DEU", "FRA"}


@pytest.fixture(scope="module")
def iran() -> pd.DataFrame:
    return pd.read_csv(TARGETS / "iran_2005_2021.csv")


def test_iran_table_is_well_formed(iran: pd.DataFrame) -> None:
    assert list(iran.columns) == ["a", "b", "year", "tie", "basis", "judgement", "source"]
    assert set(iran.a) | set(iran.b) <= IRAN
    assert iran.year.between(2005, 2021).all()
    assert set(iran.tie) <= {"none", "friendship", "alliance"}
    assert not iran.duplicated(["a", "b", "year"]).any()
    assert iran.source.str.len().min() > 20  # every row names its source
    assert (iran.a.map(data.to_ccode) < iran.b.map(data.to_ccode)).all()
    # every dyad involving Iran appears (some only for the years the record is clear)
    assert {b for a, b in zip(iran.a, iran.b, strict=True) if a == "IRN"} | {
        a for a, b in zip(iran.a, iran.b, strict=True) if b == "IRN"
    } == IRAN - {"IRN"}


def test_iran_table_agrees_with_atop(iran: pd.DataFrame) -> None:
    for r in iran[iran.year <= 2018].itertuples():
        pact = data.has_defence_pact(r.a, r.b, r.year)
        if r.basis == "ATOP":
            assert pact and r.tie == "alliance", (r.a, r.b, r.year)
        elif not r.judgement:
            assert pact == (r.tie == "alliance"), (r.a, r.b, r.year)


def test_iran_table_known_rows(iran: pd.DataFrame) -> None:
    tie = {(r.a, r.b, r.year): r.tie for r in iran.itertuples()}
    assert tie[("USA", "GBR", 2010)] == "alliance"
    assert tie[("USA", "TUR", 2020)] == "alliance"  # NATO after ATOP's end
    assert tie[("RUS", "IRN", 2005)] == "friendship"  # 2001 treaty
    assert tie[("IRN", "CHN", 2016)] == "friendship"  # January 2016 partnership
    assert ("IRN", "CHN", 2015) not in tie  # unclear before: left out, not "none"
    assert tie[("SYR", "SAU", 2011)] == "alliance" and tie[("SYR", "SAU", 2012)] == "none"
    assert tie[("USA", "IRN", 2015)] == "none"


def test_iran_table_regenerates_identically(iran: pd.DataFrame, tmp_path: Path) -> None:
    mod = runpy.run_path(str(TARGETS / "iran_targets.py"))
    out = tmp_path / "iran.csv"
    assert mod["main"](["--out", str(out)]) == 0
    assert out.read_bytes() == (TARGETS / "iran_2005_2021.csv").read_bytes()


def test_iran_spans_are_checked() -> None:
    mod = runpy.run_path(str(TARGETS / "iran_targets.py"))
    span = mod["Span"]
    with pytest.raises(ValueError, match="basis ATOP but ATOP has no defence pact"):
        mod["build"]([span("USA", "ISR", 2010, 2010, "alliance", "ATOP", "wrong")])
    with pytest.raises(ValueError, match="two spans give this dyad-year"):
        mod["build"](
            [
                span("USA", "IND", 2010, 2012, "friendship", "agreement", "a"),
                span("IND", "USA", 2012, 2013, "friendship", "agreement", "b"),
            ]
        )
    with pytest.raises(ValueError, match="contradicts ATOP"):
        mod["build"]([span("USA", "GBR", 2010, 2010, "friendship", "treaty", "wrong")])
    # years after ATOP (the forecast's targets): no row may claim it, and nothing is checked
    after = [span("USA", "GBR", 2022, 2022, "alliance", "ATOP", "wrong")]
    with pytest.raises(ValueError, match="basis 'ATOP' not allowed"):
        mod["expand"](after, 2022, 2024, atop=False)
    with pytest.raises(ValueError, match="outside 2022-2024"):
        mod["expand"]([span("USA", "GBR", 2021, 2022, "alliance", "treaty", "x")], 2022, 2024,
                      atop=False)  # fmt: skip
