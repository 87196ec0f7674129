"""Bloc mode (sim.landscape.bloc) against the exact landscape solver (sim.landscape.solver):
issue 5, part 5.

The bloc mode is the alliance-only, two-bloc limit of hedgesim. These tests hold it to landscape
theory: runs end only in enumerated local minima, the energy never rises along a run, bloc labels
do not matter, and, from uniform random blocs, end states occur as often as the exact absorption
probabilities of the same random-activation dynamic (sim.landscape.bloc.reach_probabilities)
say — and not as often as steepest-descent basins say, which is a different dynamic. The command
line and the CSV propensity input are checked end to end.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from sim.__main__ import main
from sim.errors import InputError
from sim.landscape import solver as ls
from sim.landscape.bloc import BlocModel, BlocState, propensity_matrix, reach_probabilities
from sim.model.seeds import replication_seed as seed_for
from sim.model.world import compile_world
from sim.scenario.load import load_scenario

ROOT = Path(__file__).resolve().parents[1]
IRAN = ROOT / "scenarios" / "iran_2021.yaml"
EUROPE = ROOT / "scenarios" / "europe_1936.yaml"


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def random_instance(n: int, k: int, root: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """Seeded random landscape: lognormal sizes, symmetric normal propensities."""
    rng = np.random.default_rng(seed_for(root, k))
    sizes = rng.lognormal(0.0, 0.5, n)
    a = rng.normal(size=(n, n))
    p = (a + a.T) / 2.0
    np.fill_diagonal(p, 0.0)
    return sizes, p


def multi_minimum_instance() -> tuple[np.ndarray, np.ndarray]:
    """First seeded N=9 landscape with >= 3 minima, none rarer than 2 %, basins != reach.

    Same construction as validation/bridge.py (root 2024), so docs/VALIDATION.md reports the
    same instance. The basin/reach gap (total variation >= 0.1) is what lets the chi-square test
    tell the right end-state distribution from the wrong one.
    """
    for k in range(1000):
        sizes, p = random_instance(9, k, root=2024)
        land, reach = reach_probabilities(sizes, p)
        basin = np.array([m.basin_share for m in land.minima])
        if len(land.minima) >= 3 and reach.min() >= 0.02 and np.abs(reach - basin).sum() >= 0.2:
            return sizes, p
    raise AssertionError("no suitable instance")


def scenario_landscape(path: Path) -> tuple[list[str], np.ndarray, np.ndarray]:
    sc = load_scenario(path)
    sizes = np.array([s.power for s in sc.states.values()])
    return list(sc.states), sizes, propensity_matrix(sc, path.parent)


def chi_square(counts: np.ndarray, probs: np.ndarray) -> float:
    """Pearson chi-square p-value, pooling minima whose expected count is below 5."""
    exp = probs * counts.sum()
    big = exp >= 5
    obs = [*counts[big], counts[~big].sum()] if (~big).any() else list(counts)
    ex = [*exp[big], exp[~big].sum()] if (~big).any() else list(exp)
    return float(stats.chisquare(obs, ex).pvalue)


def end_counts(
    sizes: np.ndarray, p: np.ndarray, land: ls.Landscape, runs: int, root: int
) -> np.ndarray:
    counts = np.zeros(len(land.minima), dtype=int)
    for r in range(runs):
        k = land.find(BlocModel(sizes, p, rng=seed_for(root, r)).run())
        assert k is not None, f"run {r} ended outside the enumerated minima"
        counts[k] += 1
    return counts


# --------------------------------------------------------------------------------------------
# Every end state is a solver minimum
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [4, 6, 8, 10])
def test_random_runs_end_in_enumerated_minima(n: int) -> None:
    reached_other = False
    for k in range(4):
        sizes, p = random_instance(n, k)
        land = ls.enumerate_landscape(sizes, p)
        for r in range(30):
            model = BlocModel(sizes, p, rng=seed_for(100 + n, 100 * k + r))
            final = model.run()
            assert not model.running and model.stable()
            idx = land.find(final)
            assert idx is not None, f"instance {k}, run {r}: {final} is not a local minimum"
            assert ls.energy(final, sizes, p) == pytest.approx(land.minima[idx].energy)
            reached_other |= idx > 0
    if n >= 8:  # not vacuous: some runs end in a minimum that is not the global one
        assert reached_other


def test_every_start_ends_in_a_minimum() -> None:
    """Exhaustively: from each of the 2**6 starting blocs, a run ends in an enumerated minimum."""
    sizes, p = random_instance(6, 3)
    land = ls.enumerate_landscape(sizes, p)
    for code in range(1 << 6):
        start = (code >> np.arange(6)) & 1
        final = BlocModel(sizes, p, initial=start, rng=seed_for(11, code)).run()
        assert land.find(final) is not None
        if land.find(start) is not None:  # a minimum is never left
            assert np.array_equal(final, start)


@pytest.mark.parametrize("path", [IRAN, EUROPE], ids=["iran_2021", "europe_1936"])
def test_scenario_runs_end_in_enumerated_minima(path: Path) -> None:
    _, sizes, p = scenario_landscape(path)
    land = ls.enumerate_landscape(sizes, p)
    counts = end_counts(sizes, p, land, 60, root=5)
    assert counts.sum() == 60


def test_europe_1936_propensity_is_four_times_the_derived_one() -> None:
    """The scenario's header promises one construction read two ways; hold it to that."""
    sc = load_scenario(EUROPE)
    d = compile_world(sc).dyads
    derived = d["interests"] - d["rivalry"] - (d["distrust"] + d["distrust"].T) / 2.0
    np.fill_diagonal(derived, 0.0)
    explicit = propensity_matrix(sc, EUROPE.parent)
    assert np.count_nonzero(explicit) > 100
    np.testing.assert_allclose(explicit, 4.0 * derived, atol=1e-12)


# --------------------------------------------------------------------------------------------
# Energy never rises; labels do not matter
# --------------------------------------------------------------------------------------------


def test_energy_never_rises_at_any_activation(monkeypatch: pytest.MonkeyPatch) -> None:
    """Spy on every activation: a switch lowers E by exactly 2 s_i dF_i, a non-switch keeps it."""
    seen: list[tuple[float, float, bool, float]] = []
    original = BlocState.step

    def spy(self: BlocState) -> None:
        m = self.model
        before, bloc = m.energy(), self.bloc
        d_f = self.frustration(1 - self.bloc) - self.frustration()
        original(self)
        after = m.energy()
        switched = self.bloc != bloc
        seen.append((before, after, switched, 2.0 * m.sizes[self.index] * d_f))

    monkeypatch.setattr(BlocState, "step", spy)
    _, iran_s, iran_p = scenario_landscape(IRAN)
    for sizes, p in [random_instance(8, 1), random_instance(10, 2), (iran_s, iran_p)]:
        for r in range(10):
            BlocModel(sizes, p, rng=seed_for(3, r)).run()
    assert sum(s for _, _, s, _ in seen) > 100  # many switches were checked
    for before, after, switched, expected in seen:
        scale = max(1.0, abs(before))
        if switched:
            assert after < before
            assert after - before == pytest.approx(expected, rel=1e-9, abs=1e-12 * scale)
        else:
            assert after == pytest.approx(before, rel=0, abs=1e-12 * scale)


def test_energy_trace_is_non_increasing() -> None:
    for k in range(5):
        sizes, p = random_instance(10, k)
        model = BlocModel(sizes, p, rng=seed_for(9, k))
        final = model.run()
        trace = np.asarray(model.energy_trace)
        assert len(trace) >= 2  # random starts are almost never already a minimum
        assert np.all(np.diff(trace) < 0)  # one entry per step with a switch: strictly lower
        assert trace[-1] == pytest.approx(ls.energy(final, sizes, p))


def test_swapping_bloc_labels_changes_nothing() -> None:
    sizes, p = random_instance(9, 4)
    codes = np.arange(1 << 9)
    configs = ((codes[:, None] >> np.arange(9)) & 1).astype(np.int8)
    np.testing.assert_allclose(
        ls.energies(configs, sizes, p), ls.energies(1 - configs, sizes, p), rtol=1e-12, atol=1e-12
    )
    np.testing.assert_allclose(
        ls.frustrations(configs, sizes, p), ls.frustrations(1 - configs, sizes, p), atol=1e-12
    )
    land = ls.enumerate_landscape(sizes, p)
    rng = np.random.default_rng(seed_for(21, 0))
    for r in range(20):
        start = rng.integers(0, 2, 9)
        a = BlocModel(sizes, p, initial=start, rng=seed_for(22, r))
        b = BlocModel(sizes, p, initial=1 - start, rng=seed_for(22, r))
        end_a, end_b = a.run(), b.run()
        # same activation draws, mirrored blocs: mirrored end, same path in energy
        np.testing.assert_array_equal(end_a, 1 - end_b)
        np.testing.assert_allclose(a.energy_trace, b.energy_trace, rtol=1e-12)
        assert a.switches == b.switches
        assert land.find(end_a) == land.find(end_b) is not None


# --------------------------------------------------------------------------------------------
# End-state frequencies: reach probabilities, not basins
# --------------------------------------------------------------------------------------------


def test_end_state_frequencies_match_reach_probabilities() -> None:
    """Chi-square goodness of fit with the test's tolerance set by the sample size.

    2000 runs: alpha = 0.001 for the overall fit, and each minimum's share within 4 binomial
    standard errors of its exact probability. The same runs must *reject* the steepest-descent
    basin shares, which shows the test has the power to notice a wrong distribution.
    """
    sizes, p = multi_minimum_instance()
    land, reach = reach_probabilities(sizes, p)
    basin = np.array([m.basin_share for m in land.minima])
    assert len(land.minima) >= 3
    runs = 2000
    counts = end_counts(sizes, p, land, runs, root=31)
    freq = counts / runs
    se = np.sqrt(reach * (1 - reach) / runs)
    assert np.all(np.abs(freq - reach) <= 4 * se + 1 / runs), (freq, reach)
    assert chi_square(counts, reach) > 1e-3
    assert chi_square(counts, basin) < 1e-6


# --------------------------------------------------------------------------------------------
# The command line and the CSV input
# --------------------------------------------------------------------------------------------


def _write_landscape_scenario(path: Path, sizes: np.ndarray, p: np.ndarray) -> list[str]:
    ids = [f"S{i}" for i in range(len(sizes))]
    power = sizes / sizes.max()  # a common scale leaves every minimum unchanged
    lines = ["name: multi", "states:"]
    for sid, w in zip(ids, power, strict=True):
        lines += [f"  {sid}:", f"    name: State {sid}", f"    power: {float(w)!r}"]
    lines += ["landscape:", "  propensity:"]
    for i, a in enumerate(ids):
        row = ", ".join(f"{b}: {float(p[i, j])!r}" for j, b in enumerate(ids) if j > i)
        if row:
            lines.append(f"    {a}: {{{row}}}")
    path.write_text("\n".join(lines) + "\n")
    return ids


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_landscape_command_prints_and_writes_every_minimum(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sizes, p = multi_minimum_instance()
    scen = tmp_path / "multi.yaml"
    ids = _write_landscape_scenario(scen, sizes, p)
    out = tmp_path / "minima.csv"
    assert main(["landscape", str(scen), "--runs", "200", "--csv", str(out)]) == 0
    text = capsys.readouterr().out

    sc = load_scenario(scen)
    s = np.array([x.power for x in sc.states.values()])
    land, reach = reach_probabilities(s, propensity_matrix(sc, tmp_path))
    assert f"{len(land.minima)} local minima" in text
    rows = _read_csv(out)
    assert len(rows) == len(land.minima)
    for k, (row, m) in enumerate(zip(rows, land.minima, strict=True)):
        assert f"#{k + 1}  E = {m.energy:.6g}" in text
        assert int(row["minimum"]) == k + 1
        assert float(row["energy"]) == pytest.approx(m.energy, rel=1e-12)
        assert float(row["basin_share"]) == pytest.approx(m.basin_share)
        assert float(row["reach_share"]) == pytest.approx(reach[k])
        a, b = m.blocs()
        assert set(row["bloc_a"].split("; ")) == {f"State {ids[i]}" for i in a}
        assert set(filter(None, row["bloc_b"].split("; "))) == {f"State {ids[i]}" for i in b}
        for i, sid in enumerate(ids):
            assert float(row[f"F_{sid}"]) == pytest.approx(m.frustrations[i], abs=1e-12)
    sim = np.array([float(r["simulated_share"]) for r in rows])
    assert sim.sum() == pytest.approx(1.0)  # no run ended outside the minima
    assert "outside the enumerated minima" not in text
    assert np.all(np.abs(sim - reach) <= 4.5 * np.sqrt(reach * (1 - reach) / 200) + 1 / 200)


SURVEY = [  # a 1-5 affinity survey, symmetric, neutral = 3
    [0, 5, 1, 1],
    [5, 0, 1, 2],
    [1, 1, 0, 5],
    [1, 2, 5, 0],
]


def _write_csv_scenario(tmp_path: Path, header: list[str], row_order: list[str]) -> Path:
    names = ["A", "B", "C", "D"]
    data = tmp_path / "data"
    data.mkdir(exist_ok=True)
    with (data / "survey.csv").open("w", newline="") as fh:
        wr = csv.writer(fh)
        wr.writerow(["", *header])
        for r in row_order:
            i = names.index(r) if r in names else 0
            wr.writerow([r, *(SURVEY[i][names.index(c) if c in names else 0] for c in header)])
    scen = tmp_path / "survey.yaml"
    power = {"A": 0.4, "B": 0.3, "C": 0.2, "D": 0.1}
    lines = ["name: survey", "states:"]
    for s in names:
        lines += [f"  {s}:", f"    name: Country {s}", f"    power: {power[s]}"]
    lines += ["landscape:", "  csv: data/survey.csv", "  center: 3", "  unit: 2"]
    scen.write_text("\n".join(lines) + "\n")
    return scen


def test_propensity_csv_is_reordered_and_recentred(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scen = _write_csv_scenario(tmp_path, ["D", "B", "A", "C"], ["C", "A", "D", "B"])
    sc = load_scenario(scen)
    expected = (np.array(SURVEY, dtype=float) - 3.0) / 2.0
    np.fill_diagonal(expected, 0.0)
    np.testing.assert_array_equal(propensity_matrix(sc, scen.parent), expected)

    # end to end, from another working directory: the CSV path is relative to the scenario
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    out = tmp_path / "survey_minima.csv"
    assert main(["landscape", str(scen), "--csv", str(out)]) == 0
    land = ls.enumerate_landscape([0.4, 0.3, 0.2, 0.1], expected)
    rows = _read_csv(out)
    assert [float(r["energy"]) for r in rows] == pytest.approx([m.energy for m in land.minima])
    # A-B and C-D are drawn together (5 on the survey), every cross pair pushed apart: two blocs
    assert len(rows) == 1
    assert {rows[0]["bloc_a"], rows[0]["bloc_b"]} == {
        "Country A; Country B",
        "Country C; Country D",
    }
    capsys.readouterr()


def test_propensity_csv_with_other_states_is_an_input_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    scen = _write_csv_scenario(tmp_path, ["A", "B", "C", "E"], ["A", "B", "C", "E"])
    sc = load_scenario(scen)
    with pytest.raises(InputError, match="differ from the scenario"):
        propensity_matrix(sc, scen.parent)
    assert main(["landscape", str(scen), "--csv", str(tmp_path / "x.csv")]) == 2
    assert "survey.csv" in capsys.readouterr().err
