"""The vendored data loader (sim.data) and the alliance hazard estimator (sim.data.estimates).

Known values are checked against facts an analyst can verify outside hedgesim (NATO membership,
the USA-Japan guarantee, COW's published CINC), and the estimators against constructed spells
whose answer is worked out by hand in each test.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import data
from sim.data import estimates

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


# --------------------------------------------------------------------------- states


def test_to_ccode_accepts_iso3_cow_abbreviation_and_number() -> None:
    assert data.to_ccode("IRN") == 630
    assert data.to_ccode("gbr") == 200  # ISO3, case-insensitive
    assert data.to_ccode("UKG") == 200  # COW abbreviation
    assert data.to_ccode(365) == data.to_ccode("630") - 265 == 365
    # ISO3 wins where a string is also another state's COW abbreviation.
    assert data.to_ccode("AUS") == 900  # Australia (COW's AUS is Austria)
    assert data.to_ccode("AUT") == 305
    assert data.to_ccode("SRB") == 345  # the documented recode


def test_unknown_state_raises_naming_near_matches() -> None:
    with pytest.raises(data.DataError, match=r"unknown state 'IRX'.*did you mean.*IRN"):
        data.to_ccode("IRX")
    with pytest.raises(data.DataError, match="unknown COW state code 999"):
        data.to_ccode(999)
    with pytest.raises(ValueError):  # DataError is a ValueError for library callers
        data.to_ccode(3.5)  # type: ignore[arg-type]


def test_states_table_is_consistent() -> None:
    s = data.states()
    assert s.ccode.is_unique
    assert s.iso3.dropna().is_unique
    usa = s.set_index("ccode").loc[2]
    assert (usa.iso3, usa.first_year, usa.last_year) == ("USA", 1946, 2022)
    gfr = s.set_index("ccode").loc[260]
    assert pd.isna(gfr.iso3) and (gfr.first_year, gfr.last_year) == (1955, 1990)
    assert data.iso3(260) == "GFR" and data.iso3("UKG") == "GBR"


# --------------------------------------------------------------------------- CINC


def test_china_cinc_2016() -> None:
    # COW NMC v7.0 gives China 0.230825 in 2016 (v6.0 had 0.23062; v7 revised it slightly).
    assert data.cinc(2016)[710] == pytest.approx(0.230825, abs=5e-6)
    assert data.cinc(2016)[2] == pytest.approx(0.13325, abs=5e-5)


def test_cinc_series_and_year_errors() -> None:
    wide = data.cinc_series(["USA", "DEU"], [1989, 1991])
    assert list(wide.columns) == [2, 255] and list(wide.index) == [1989, 1991]
    assert math.isnan(wide.loc[1989, 255])  # unified Germany (255) is a member from 1991
    assert wide.loc[1991, 255] > 0.02
    with pytest.raises(data.DataError, match=r"covers 1946-2022; no data for year 2030"):
        data.cinc(2030)
    with pytest.raises(data.DataError, match="unknown state"):
        data.cinc_series(["USA", "XXX"], [2000])


def test_cinc_shares_sum_near_one() -> None:
    # The COW file's documented property: about 1.000-1.013 after 1946.
    for year in (1950, 1990, 2022):
        assert 0.99 < data.cinc(year).sum() < 1.02


# --------------------------------------------------------------------------- ATOP


def test_usa_gbr_defence_pact_2010_is_nato() -> None:
    assert data.has_defence_pact("USA", "GBR", 2010)
    assert data.has_defence_pact("GBR", "USA", 2010)  # undirected
    row = data.defence_pacts(2010).query("ccode1 == 2 and ccode2 == 200").iloc[0]
    assert row.pledge == 3  # both pledged
    assert row.clique == 28  # NATO had 28 members in 2010
    assert not data.has_defence_pact("USA", "GBR", 1948)  # before the 1949 treaty


def test_one_way_pledge_usa_japan() -> None:
    row = data.defence_pacts(2010).query("ccode1 == 2 and ccode2 == 740").iloc[0]
    assert row.pledge == 1  # the US (lower code) pledged; Japan did not
    assert row.clique == 2  # a bilateral treaty, in no triangle
    with pytest.raises(data.DataError, match=r"ATOP v5.1 .* covers 1946-2018"):
        data.defence_pacts(2019)


def test_alliance_spells_on_known_cases() -> None:
    s = data.alliance_spells().set_index(["ccode1", "ccode2"])
    usa_gbr = s.loc[(2, 200)]
    assert (usa_gbr.start, usa_gbr.end, usa_gbr.outcome) == (1949, 2018, "censored")
    # Sino-Soviet treaty: China's 1980 withdrawal ends the spell.
    ussr_prc = s.loc[(365, 710)]
    assert (ussr_prc.end, ussr_prc.outcome) == (1980, "ended")
    # GDR left the system in 1990: its Warsaw Pact dyads end by state exit, not by a decision;
    # Albania (339) left the Pact in 1968, which is a real end.
    gdr = data.alliance_spells().query("ccode1 == 265").set_index("ccode2")
    assert set(gdr.drop(index=339).outcome) == {"state_exit"}
    assert set(gdr.drop(index=339).end) == {1990}
    assert (gdr.loc[339].end, gdr.loc[339].outcome) == (1968, "ended")


def test_spells_split_gaps_and_censor() -> None:
    dy = pd.DataFrame(
        {
            "ccode1": [1, 1, 1, 1, 2, 2, 3],
            "ccode2": [5, 5, 5, 5, 6, 6, 7],
            "year": [2000, 2001, 2003, 2004, 2004, 2005, 2001],
        }
    )
    members = {(c, y) for c in (1, 2, 3, 5, 6) for y in range(2000, 2007)} | {(7, 2001)}
    s = data.spells(dy, last_year=2005, members=members)
    got = {(r.ccode1, r.start, r.end, r.years, r.outcome, r.left_truncated) for r in s.itertuples()}
    assert got == {
        (1, 2000, 2001, 2, "ended", True),  # gap in 2002 splits the spell
        (1, 2003, 2004, 2, "ended", False),
        (2, 2004, 2005, 2, "censored", False),  # reaches the data's last year
        (3, 2001, 2001, 1, "state_exit", False),  # state 7 gone in 2002
    }


# --------------------------------------------------------------------------- others


def test_ideal_points() -> None:
    ip = data.ideal_points(2023)
    assert ip.loc[2, "ideal"] == pytest.approx(2.50, abs=0.01)
    assert ip.loc[710, "ideal"] == pytest.approx(-0.80, abs=0.01)
    assert (ip.q05 <= ip.ideal).all() and (ip.ideal <= ip.q95).all()
    with pytest.raises(data.DataError, match="no session had recorded votes in 1964"):
        data.ideal_points(1964)


def test_rivalries_active_2015_include_usa_russia() -> None:
    r = data.rivalries(2015)
    pairs = set(zip(r.ccode1, r.ccode2, strict=True))
    assert (2, 365) in pairs and (2, 630) in pairs and (750, 770) in pairs
    r95 = data.rivalries(1995)
    assert (2, 365) not in set(zip(r95.ccode1, r95.ccode2, strict=True))  # 1990-2006: none
    with pytest.raises(data.DataError, match="covers 1946-2020"):
        data.rivalries(2021)


def test_iran_sanctioned_by_us_in_2012() -> None:
    s = data.sanctions(2012)
    iran = s[s.target == 630]
    assert 2 in set(iran.sender.dropna())
    assert {"EU", "UN"} <= set(iran.sender_org)
    us = iran[iran.sender == 2]
    assert us.financial.max() == 1 and us.trade.max() == 1
    assert "exp_compl" in ",".join(us.descr_trade)


def test_missing_data_file_is_a_clear_error() -> None:
    with pytest.raises(data.DataError, match="not installed with hedgesim"):
        data._table("no_such_file.csv")


def test_results_are_copies() -> None:
    first = data.cinc(2000)
    first[:] = 0.0
    assert data.cinc(2000).sum() > 0.9


@pytest.mark.skipif(not (SHARED / "README.md").exists(), reason="shared/data not beside the repo")
def test_vendor_script_rebuilds_identical_files(tmp_path: Path) -> None:
    import runpy

    mod = runpy.run_path(str(ROOT / "scripts" / "vendor_data.py"))
    assert mod["main"](["--source", str(SHARED), "--out", str(tmp_path)]) == 0
    pkg = ROOT / "sim" / "data"
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(p.name for p in pkg.glob("*.csv*"))
    for name in names:
        assert (tmp_path / name).read_bytes() == (pkg / name).read_bytes(), name


# --------------------------------------------------------------------------- hazard estimator


def _spells(years: list[int], outcomes: list[str]) -> pd.DataFrame:
    n = len(years)
    return pd.DataFrame(
        {
            "ccode1": range(n),
            "ccode2": range(100, 100 + n),
            "start": [2000] * n,
            "end": [2000 + y - 1 for y in years],
            "years": years,
            "outcome": outcomes,
            "left_truncated": [False] * n,
        }
    )


def test_exponential_hazard_known_answer() -> None:
    s = _spells([2, 3, 5, 4], ["ended", "ended", "ended", "censored"])
    h = estimates.spell_hazard(s)
    assert (h.events, h.exposure) == (3, 14.0)
    assert h.rate == pytest.approx(3 / 14)
    assert h.annual_probability == pytest.approx(1 - math.exp(-3 / 14))
    assert h.low < h.rate < h.high
    # State exits are censored, not events.
    assert estimates.spell_hazard(_spells([4], ["state_exit"])).events == 0
    # With no events the exact upper bound is -ln(0.025) / exposure.
    h0 = estimates.exponential_hazard(10.0, 0)
    assert h0.rate == 0 and h0.high == pytest.approx(-math.log(0.025) / 10)
    assert math.isinf(h0.half_life)


def test_exponential_hazard_recovers_simulated_rate() -> None:
    # Geometric spells with per-year end probability p, censored at 30 years: the estimate of
    # p (events / years at risk) is within 4 standard errors of the truth, se = sqrt(p/T).
    rng = np.random.default_rng(np.random.SeedSequence(11))
    p, n = 0.05, 4000
    length = rng.geometric(p, size=n)
    years = np.minimum(length, 30)
    ended = length <= 30
    s = _spells(list(years), ["ended" if e else "censored" for e in ended])
    h = estimates.spell_hazard(s)
    assert abs(h.rate - p) < 4 * math.sqrt(p / h.exposure)


def test_dyad_years_at_risk_and_kaplan_meier() -> None:
    s = _spells([1, 2, 3, 4, 5], ["ended", "ended", "censored", "ended", "ended"])
    at_risk = estimates.dyad_years_at_risk(s)
    assert len(at_risk) == 15 and at_risk.ends.sum() == 4
    assert set(at_risk[at_risk.ends].year) == {2000, 2001, 2003, 2004}
    # KM: S(1)=4/5, S(2)=4/5*3/4=0.6, censored at 3, S(4)=0.6*1/2=0.3, so the median is 4.
    ended = (s.outcome == "ended").to_numpy()
    assert estimates.km_median(s.years.to_numpy(), ended) == 4
    assert estimates.km_median(np.array([1, 2, 3, 4, 5]), np.ones(5, bool)) == 3
    # One end in three leaves S at 2/3 for ever: the median is never reached.
    assert math.isinf(estimates.km_median(np.array([1, 5, 6]), np.array([True, False, False])))


def test_year_bootstrap_is_seeded_and_brackets_rate() -> None:
    s = _spells([2, 3, 5, 4, 6, 1], ["ended", "ended", "ended", "censored", "ended", "ended"])
    at_risk = estimates.dyad_years_at_risk(s)
    a = estimates.year_bootstrap_interval(at_risk, replications=500, seed=3)
    b = estimates.year_bootstrap_interval(at_risk, replications=500, seed=3)
    assert a == b
    assert a[0] <= at_risk.ends.mean() <= a[1]


def test_alliance_hazard_table_is_consistent_with_spells() -> None:
    rows = {r.subset: r for r in estimates.alliance_hazard_table(40)}
    overall = rows["all, 1946-2018"].hazard
    assert overall == estimates.spell_hazard(data.alliance_spells())
    bi, multi = rows["bilateral (clique 2)"].hazard, rows["multilateral (clique >= 3)"].hazard
    assert bi.events + multi.events == overall.events
    assert bi.exposure + multi.exposure == overall.exposure
    # The documented finding: bilateral pacts end faster than multilateral ones, beyond noise.
    assert bi.low > multi.high
