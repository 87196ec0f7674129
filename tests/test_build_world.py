"""``hedgesim build-world`` (sim.scenario.build_world): built worlds load unchanged, carry the
data's known values, follow the documented constructions, and never overwrite a file hedgesim did
not write. Expected values are computed here from sim.data directly or are facts checkable outside
hedgesim (NATO membership, the 2011 rivalries, Syria's suspension from the Arab League)."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import yaml

from sim import data
from sim.__main__ import main
from sim.model.lockstep import simulate_many
from sim.model.seeds import replication_seed as seed_for
from sim.model.world import compile_world
from sim.scenario import build_world as bw
from sim.scenario import constructions, datasets
from sim.scenario.load import load_scenario

IRAN = "IRN,RUS,CHN,USA,IND,ISR,PAK,SYR,SAU,GBR,TUR,DEU,FRA"


def build(tmp_path: Path, *args: str, name: str = "w.yaml") -> Path:
    out = tmp_path / name
    assert main(["build-world", *args, "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def iran_span(tmp_path_factory):
    out = build(tmp_path_factory.mktemp("iran"), "--span", "2005-2021", "--states", IRAN)
    return out, load_scenario(out)


@pytest.mark.parametrize("year", [1950, 1980, 2010])
def test_top20_worlds_round_trip(tmp_path: Path, year: int) -> None:
    sc = load_scenario(build(tmp_path, "--year", str(year), "--top", "20"))
    cinc = data.cinc(year)
    top = cinc.sort_values(ascending=False).index[:20]
    assert set(sc.states) == {data.iso3(c) for c in top}
    assert (sc.start, sc.step, sc.params.steps, sc.replications) == (f"{year}-01", "month", 12, 100)
    for c in top:  # power is the year's CINC to 4 significant figures
        assert sc.states[data.iso3(c)].power == float(f"{cinc[c]:.4g}")
    # every alliance the file declares is an ATOP defence pact that year, and every ATOP pact
    # among the 20 is declared (as a bilateral tie or inside a treaty)
    declared = {frozenset((a, b)) for a, row in sc.ties.items() for b in row}
    for t in sc.treaties:
        declared |= {frozenset((a, b)) for a in t.members for b in t.members if a != b}
    ids = {c: data.iso3(c) for c in top}
    pacts = data.defence_pacts(year)
    atop = {
        frozenset((ids[a], ids[b]))
        for a, b in zip(pacts.ccode1, pacts.ccode2, strict=True)
        if a in ids and b in ids
    }
    assert declared == atop
    assert sc.focal == [] and not sc.events  # one year: no changes; no focal state by default


def test_known_values_2010_and_2016(tmp_path: Path) -> None:
    sc = load_scenario(build(tmp_path, "--year", "2010", "--top", "20"))
    nato = [t for t in sc.treaties if t.name == "NATO"]
    assert len(nato) == 1 and {"USA", "GBR", "FRA", "DEU", "ITA", "TUR", "CAN"} <= set(
        nato[0].members
    )
    assert "GBR" not in sc.ties.get("USA", {})  # via the treaty, not a bilateral tie
    assert not {"RUS", "CHN", "IND", "JPN", "BRA"} & set(nato[0].members)
    assert sc.ties["USA"]["JPN"] == "alliance"  # the bilateral (one-way) US guarantee
    sc16 = load_scenario(build(tmp_path, "--year", "2016", "--states", "CHN,USA", name="c.yaml"))
    assert sc16.states["CHN"].power == 0.2308
    rival = load_scenario(build(tmp_path, "--year", "2010", "--states", "IRN,ISR,USA", name="r"))
    assert rival.rivalry["IRN"]["ISR"] == 0.9  # a principal rivalry (TSS 2021)
    assert rival.rivalry["IRN"]["USA"] == 0.75  # asymmetric principal
    assert "ISR" not in rival.rivalry.get("USA", {})


def test_iran_span_power_series_events_treaties(iran_span) -> None:
    _, sc = iran_span
    assert (sc.start, sc.params.steps) == ("2005-01", 17 * 12)
    china = sc.states["CHN"]
    assert sorted(china.power_series) == list(range(2005, 2022))
    assert china.power_series[2016] == 0.2308 and china.power == float(
        f"{data.cinc(2005)[710]:.4g}"
    )
    # rivalries that begin inside the span are set events at January of their first year
    assert {(e.field, e.mode) for e in sc.events} == {("rivalry", "set")}
    starts = sorted(
        (e.step, a, b, v) for e in sc.events for a, row in e.changes.items() for b, v in row.items()
    )
    assert (25, "RUS", "USA", 0.75) in starts  # Russia-United States, 2007-
    assert (73, "IRN", "TUR", 0.6) in starts  # Iran-Turkey 2, 2011-
    assert (97, "SAU", "TUR", 0.6) in starts  # Saudi Arabia-Turkey, 2013-
    # NATO's five here form one treaty; the Arab League dyad Saudi Arabia-Syria ends with
    # Syria's suspension (November 2011): ATOP has no pledge in 2012, so January 2012 = step 85
    by_members = {frozenset(t.members): t for t in sc.treaties}
    assert frozenset({"USA", "GBR", "TUR", "DEU", "FRA"}) in by_members
    arab = by_members[frozenset({"SYR", "SAU"})]
    assert (arab.start, arab.end) == (0, 85)
    assert sc.ties == {"USA": {"PAK": "alliance"}}  # ATOP's one-way US pledge to Pakistan


def test_iran_span_interests_follow_the_formula(iran_span) -> None:
    _, sc = iran_span
    years = range(2005, 2022)
    frames = [data.ideal_points(y).ideal for y in years]
    sd = np.concatenate([f.to_numpy() for f in frames]).std(ddof=1)
    mean = {c: np.mean([f[c] for f in frames]) for c in (630, 652, 2, 365)}

    def c(a: int, b: int) -> float:
        return round(float(np.clip(1 - abs(mean[a] - mean[b]) / (2 * sd), -1, 1)), 2)

    assert sc.interests["IRN"]["SYR"] == c(630, 652)
    assert sc.interests["IRN"]["USA"] == c(630, 2) == -1.0
    assert sc.interests["RUS"]["USA"] == c(365, 2)
    values = [v for row in sc.interests.values() for v in row.values()]
    assert all(abs(v) >= 0.05 and v == round(v, 2) for v in values)


def test_iran_span_sanctions(iran_span) -> None:
    _, sc = iran_span
    us_iran = [r for r in sc.sanctions if r.senders == ["USA"] and r.targets == ["IRN"]]
    first = us_iran[0]
    # GSDB 2005: complete trade ban 0.4 + financial 0.3 + arms 0.1, in force from the start
    assert (first.level, first.start, first.secondary) == (0.8, 0, 0.2)
    p5 = {"USA", "GBR", "FRA", "RUS", "CHN"}
    un = [r for r in sc.sanctions if set(r.senders) == p5 and r.targets == ["IRN"]]
    assert min(r.start for r in un) == 13  # resolution 1737 (Dec 2006): GSDB year 2006
    eu = [r for r in sc.sanctions if r.senders == ["GBR", "DEU", "FRA"] and r.targets == ["IRN"]]
    assert eu  # the EU expanded to its members in this world
    # regimes of one sender set and target do not overlap in time, and each ends as the next
    # begins or at a gap
    for senders in ({"USA"}, {"GBR", "DEU", "FRA"}, p5):
        on_iran = [r for r in sc.sanctions if set(r.senders) == senders and r.targets == ["IRN"]]
        runs = sorted((r.start, r.end) for r in on_iran)
        for (_, e0), (s1, _) in itertools.pairwise(runs):
            assert e0 is not None and e0 <= s1


def test_sanction_level_construction() -> None:
    flags = {"trade": 1, "financial": 1, "arms": 1}
    assert constructions.sanction_level(flags, "exp_compl")[0] == 0.8
    assert constructions.sanction_level(flags, "exp_part,imp_part")[0] == 0.6
    every = {k: 1 for k in ("trade", "financial", "arms", "military", "travel", "other")}
    assert constructions.sanction_level(every, "imp_compl")[0] == 1.0  # 1.0 exactly: the cap binds
    assert constructions.sanction_level({"travel": 1}, "")[0] == 0.05
    assert datasets.eu_members(2010) >= {200, 255, 220} and 200 not in datasets.eu_members(2021)
    assert datasets.un_permanent_five(1960)[-1] == 713
    assert datasets.un_permanent_five(1990)[-1] == 710


def test_yaml_scalars_read_back_exactly() -> None:
    for x in (1e-6, 0.2308, 1.0, -0.35, 0.00001234):
        assert yaml.safe_load(bw.num(x)) == x
    for s in ("NO", "YES", "on", "IRN", "123"):
        assert yaml.safe_load(bw.key(s)) == s


def test_no_alliances_world_has_no_ties(tmp_path: Path) -> None:
    sc = load_scenario(build(tmp_path, "--year", "2010", "--top", "10", "--no-alliances"))
    assert not sc.ties and not sc.treaties


def test_errors_are_one_line_and_files_are_kept(tmp_path: Path, capsys) -> None:
    out = tmp_path / "mine.yaml"
    out.write_text("name: mine\n")
    cases = [
        (["--year", "2010", "--states", "IRN,IRX"], "unknown state 'IRX'"),
        (["--year", "2010", "--states", "IRN,GFR"], "not a system member in 2010"),
        (["--year", "2019", "--top", "5"], "first year must be in 1946-2018"),
        (["--span", "2010-2030", "--top", "5"], "last year must be in 2010-2022"),
        (["--year", "2010", "--top", "500"], "only 194 states in 2010"),
        (["--year", "2010", "--states", "IRN,RUS", "--focal", "USA"], "not among"),
        (["--year", "2010", "--states", "IRN,RUS", "--force"], "not written by hedgesim"),
        (["--year", "2010", "--states", "IRN,RUS"], "exists"),
    ]
    for args, message in cases:
        assert main(["build-world", *args, "--out", str(out)]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err and "Traceback" not in err
    assert out.read_text() == "name: mine\n"  # never overwritten
    built = build(tmp_path, "--year", "2010", "--states", "IRN,RUS", name="b.yaml")
    again = ["build-world", "--year", "2011", "--states", "IRN,USA", "-o", str(built)]
    assert main(again) == 2
    assert main([*again, "--force"]) == 0  # a built world may be replaced
    assert set(load_scenario(built).states) == {"IRN", "USA"}


def test_all_states_2010_builds_and_runs(tmp_path: Path) -> None:
    """Issue 11 item 6: the whole 2010 system (194 states in COW NMC) builds, loads, runs."""
    sc = load_scenario(build(tmp_path, "--year", "2010", "--all"))
    assert len(sc.states) == len(data.cinc(2010)) == 194
    world = compile_world(sc)
    (rec,) = simulate_many(world, sc, [seed_for(sc.seed, 0)], steps=12)
    assert list(rec.steps) == list(range(13)) and rec.final_ties.shape == (194, 194)
    assert np.array_equal(rec.final_ties, rec.final_ties.T)


def test_the_iran_scenario_uses_the_builders_constructions(iran_span) -> None:
    """scenarios/iran_2021.yaml applies build-world's rules by hand (docs/ODD.md §6): its power,
    power series, rivalries (with their start events) and interests are the builder's."""
    hand = load_scenario(Path(__file__).resolve().parents[1] / "scenarios" / "iran_2021.yaml")
    _, built = iran_span
    for sid, spec in hand.states.items():
        assert spec.power == built.states[sid].power, sid
        assert spec.power_series == built.states[sid].power_series, sid
    assert (
        compile_world(hand).dyads["interests"].tolist()
        == compile_world(built).dyads["interests"].tolist()
    )
    assert (
        compile_world(hand).dyads["rivalry"].tolist()
        == compile_world(built).dyads["rivalry"].tolist()
    )

    def rivalry_events(sc):
        w = compile_world(sc)
        return sorted(
            (c.step, w.ids[r], w.ids[k], v)
            for c in w.changes
            if c.field == "rivalry"
            for r, k, v in zip(c.rows, c.cols, c.values, strict=True)
        )

    assert rivalry_events(hand) == rivalry_events(built)


def test_no_alliance_changes_keeps_the_first_years_treaties_open_ended(tmp_path: Path) -> None:
    """For fitting: the 1950-1970 top-20 world has pacts that start in 1951, 1954 and 1961 and
    one that ends in 1965; with --no-alliance-changes only 1950's remain, with no end."""
    args = ("--span", "1950-1970", "--top", "20")
    full = load_scenario(build(tmp_path, *args))
    fixed = load_scenario(build(tmp_path, *args, "--no-alliance-changes", name="f.yaml"))
    later = [t for t in full.treaties if t.start > 0 or t.end is not None]
    assert later, "the test needs a world with alliance changes"
    assert [t.name for t in fixed.treaties] == [t.name for t in full.treaties if t.start == 0]
    assert all(t.start == 0 and t.end is None for t in fixed.treaties)
    assert fixed.ties == full.ties and fixed.events == full.events
