"""Tests for sim.landscape.solver: the exact landscape-theory solver (Axelrod & Bennett 1993).

Brute-force references below are deliberately naive Python (itertools.product, nested loops) so
that they share no code, and no vectorization tricks, with the module under test.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from sim.landscape.solver import (
    Landscape,
    asynchronous_descent,
    energies,
    energy,
    enumerate_landscape,
    frustration,
    frustrations,
    local_search_landscape,
    normalize_config,
    propensity_from_scale,
    read_propensity_csv,
    solve_landscape,
    steepest_descent,
    tolerance,
)

# --------------------------------------------------------------------------------------------
# Helpers: random instances and brute-force references
# --------------------------------------------------------------------------------------------


def random_instance(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    sizes = rng.lognormal(0.0, 0.7, size=n)
    a = rng.normal(size=(n, n))
    p = (a + a.T) / 2.0
    np.fill_diagonal(p, 0.0)
    return sizes, p


def brute_energy(x: tuple[int, ...], s: np.ndarray, p: np.ndarray) -> float:
    n = len(x)
    return sum(s[i] * s[j] * p[i, j] for i in range(n) for j in range(n) if i != j and x[i] != x[j])


def brute_landscape(
    s: np.ndarray, p: np.ndarray
) -> tuple[dict[tuple[int, ...], float], dict[tuple[int, ...], tuple[int, ...]]]:
    """All canonical configs -> energy, and config -> end point of steepest descent.

    The descent rule is written out from its definition: among switches with dE < -tol take the
    most negative; switches within tol of it tie and the lowest state index wins.
    """
    n = len(s)
    tol = 1e-12 * float(np.sum(np.abs(s[:, None] * s[None, :] * p)))
    configs = [(0, *rest) for rest in itertools.product((0, 1), repeat=n - 1)]
    e = {c: brute_energy(c, s, p) for c in configs}

    def canon(c: tuple[int, ...]) -> tuple[int, ...]:
        return tuple(1 - v for v in c) if c[0] == 1 else c

    def step(c: tuple[int, ...]) -> tuple[int, ...] | None:
        deltas = []
        for i in range(n):
            nb = canon(tuple(1 - v if k == i else v for k, v in enumerate(c)))
            deltas.append((e[nb] - e[c], nb))
        best = min(d for d, _ in deltas)
        if best >= -tol:
            return None
        for d, nb in deltas:
            if d < -tol and d <= best + tol:
                return nb
        raise AssertionError("unreachable")

    end = {}
    for c in configs:
        cur = c
        while (nxt := step(cur)) is not None:
            cur = nxt
        end[c] = cur
    return e, end


# --------------------------------------------------------------------------------------------
# Energy and frustration: hand-computed cases and identities
# --------------------------------------------------------------------------------------------


def test_energy_frustration_hand_computed_n3() -> None:
    # s = (1, 2, 3); p01 = 1, p02 = -1, p12 = 2; x = (0, 0, 1): state 2 alone.
    # Cross-bloc pairs: (0,2) and (1,2).
    # F0 = s2 p02 = 3 * -1 = -3;  F1 = s2 p12 = 3 * 2 = 6;  F2 = s0 p02 + s1 p12 = -1 + 4 = 3.
    # E = 2 * (s0 s2 p02 + s1 s2 p12) = 2 * (-3 + 12) = 18 = 1*(-3) + 2*6 + 3*3.
    s = np.array([1.0, 2.0, 3.0])
    p = np.array([[0, 1, -1], [1, 0, 2], [-1, 2, 0]], dtype=float)
    x = np.array([0, 0, 1])
    np.testing.assert_allclose(frustration(x, s, p), [-3.0, 6.0, 3.0])
    assert energy(x, s, p) == pytest.approx(18.0)


def test_energy_frustration_hand_computed_n4() -> None:
    # s = (1, 1, 2, 2); p01=1, p02=-2, p03=0.5, p12=1, p13=-1, p23=3; x = (0, 1, 0, 1).
    # Cross-bloc pairs: (0,1) (0,3) (1,2) (2,3); same-bloc (0,2) (1,3) do not count.
    # F0 = s1 p01 + s3 p03 = 1 + 1 = 2       F1 = s0 p01 + s2 p12 = 1 + 2 = 3
    # F2 = s1 p12 + s3 p23 = 1 + 6 = 7       F3 = s0 p03 + s2 p23 = 0.5 + 6 = 6.5
    # E = 2 * (1*1*1 + 1*2*0.5 + 1*2*1 + 2*2*3) = 2 * 16 = 32 = 2 + 3 + 2*7 + 2*6.5.
    s = np.array([1.0, 1.0, 2.0, 2.0])
    p = np.array(
        [[0, 1, -2, 0.5], [1, 0, 1, -1], [-2, 1, 0, 3], [0.5, -1, 3, 0]],
        dtype=float,
    )
    x = np.array([0, 1, 0, 1])
    np.testing.assert_allclose(frustration(x, s, p), [2.0, 3.0, 7.0, 6.5])
    assert energy(x, s, p) == pytest.approx(32.0)
    # Everyone together: no cross-bloc pairs, nobody frustrated.
    assert energy(np.zeros(4, int), s, p) == 0.0
    np.testing.assert_array_equal(frustration(np.zeros(4, int), s, p), np.zeros(4))


def test_enumerated_landscape_hand_computed_n3() -> None:
    # Unit sizes, p01 = 2, p02 = p12 = -1. Canonical configs (state 0 in bloc 0):
    #   000: E = 0;  010: 2*(2 - 1) = 2;  001: 2*(-1 - 1) = -4;  011: 2*(2 - 1) = 2.
    # 001 is the only minimum (its neighbours 011, 000 and 101 ~ 010 are all higher), so
    # every configuration descends to it: basin 4 of 4.
    s = np.ones(3)
    p = np.array([[0, 2, -1], [2, 0, -1], [-1, -1, 0]], dtype=float)
    land = enumerate_landscape(s, p)
    assert land.n_configs == 4
    assert len(land.minima) == 1
    m = land.minima[0]
    np.testing.assert_array_equal(m.config, [0, 0, 1])
    assert m.energy == pytest.approx(-4.0)
    assert land.global_energy == pytest.approx(-4.0)
    assert (m.basin, m.basin_share) == (4, 1.0)
    np.testing.assert_allclose(m.frustrations, [-1.0, -1.0, -2.0])


@pytest.mark.parametrize("seed", range(5))
def test_energy_is_size_weighted_frustration(seed: int) -> None:
    rng = np.random.default_rng(100 + seed)
    n = int(rng.integers(2, 12))
    s, p = random_instance(n, seed)
    x = rng.integers(0, 2, size=n)
    assert energy(x, s, p) == pytest.approx(float(s @ frustration(x, s, p)), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("seed", range(5))
def test_flip_changes_energy_by_twice_size_times_frustration_change(seed: int) -> None:
    rng = np.random.default_rng(200 + seed)
    n = 9
    s, p = random_instance(n, seed)
    x = rng.integers(0, 2, size=n)
    e0, f0 = energy(x, s, p), frustration(x, s, p)
    for i in range(n):
        y = x.copy()
        y[i] ^= 1
        d_e = energy(y, s, p) - e0
        d_f = frustration(y, s, p)[i] - f0[i]
        assert d_e == pytest.approx(2.0 * s[i] * d_f, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_complement_leaves_energy_and_frustration_unchanged(seed: int) -> None:
    rng = np.random.default_rng(300 + seed)
    s, p = random_instance(7, seed)
    x = rng.integers(0, 2, size=7)
    assert energy(1 - x, s, p) == pytest.approx(energy(x, s, p), rel=1e-12)
    np.testing.assert_allclose(frustration(1 - x, s, p), frustration(x, s, p), rtol=1e-12)


def test_vectorized_energies_and_frustrations_match_single() -> None:
    rng = np.random.default_rng(7)
    s, p = random_instance(10, 7)
    xs = rng.integers(0, 2, size=(50, 10))
    np.testing.assert_allclose(energies(xs, s, p), [energy(x, s, p) for x in xs], atol=1e-9)
    np.testing.assert_allclose(
        frustrations(xs, s, p), [frustration(x, s, p) for x in xs], atol=1e-9
    )


# --------------------------------------------------------------------------------------------
# Exact enumeration against brute force
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "seed"), [(2, 0), (3, 1), (4, 2), (5, 3), (6, 4), (7, 5), (8, 6)])
def test_enumeration_matches_brute_force(n: int, seed: int) -> None:
    s, p = random_instance(n, seed)
    e_ref, end_ref = brute_landscape(s, p)
    land = enumerate_landscape(s, p)
    assert land.method == "exact"
    assert (land.n_states, land.n_configs, land.n_samples) == (n, 2 ** (n - 1), 2 ** (n - 1))

    # Energies of all configurations (through the vectorized public API on every config).
    configs = np.array(list(e_ref))
    np.testing.assert_allclose(energies(configs, s, p), list(e_ref.values()), atol=1e-9)

    # Minima: exactly the brute-force fixed points, with brute-force energies and basins.
    ref_minima = {c for c in e_ref if end_ref[c] == c}
    got = {tuple(int(v) for v in m.config): m for m in land.minima}
    assert set(got) == ref_minima
    for c, m in got.items():
        assert m.energy == pytest.approx(e_ref[c], abs=1e-9)
        assert m.basin == sum(1 for v in end_ref.values() if v == c)
        assert m.basin_share == pytest.approx(m.basin / land.n_configs)
        np.testing.assert_allclose(m.frustrations, frustration(m.config, s, p))
    assert sum(m.basin for m in land.minima) == land.n_configs
    assert land.global_energy == pytest.approx(min(e_ref.values()), abs=1e-9)

    # Sorted by energy, then config.
    keys = [(m.energy, tuple(m.config)) for m in land.minima]
    assert keys == sorted(keys)


@pytest.mark.parametrize("seed", range(3))
def test_vectorized_steepest_descent_matches_enumeration_basins(seed: int) -> None:
    # Every configuration, descended by the field-based vectorized descent, must land on the
    # minimum whose basin the pointer-jumping enumeration put it in (basin sizes agree).
    n = 8
    s, p = random_instance(n, 40 + seed)
    land = enumerate_landscape(s, p)
    _, end_ref = brute_landscape(s, p)
    starts = np.array(list(end_ref))
    ends = steepest_descent(starts, s, p)
    ends = np.array([normalize_config(e) for e in ends])
    np.testing.assert_array_equal(ends, np.array(list(end_ref.values())))
    for m in land.minima:
        assert int(np.all(ends == m.config, axis=1).sum()) == m.basin


def test_ties_do_not_count_as_lowering() -> None:
    # All propensities zero: every switch has dE == 0, which does not lower E, so every
    # configuration is its own local minimum with a basin of one.
    land = enumerate_landscape(np.ones(4), np.zeros((4, 4)))
    assert len(land.minima) == land.n_configs == 8
    assert all(m.basin == 1 and m.energy == 0.0 for m in land.minima)
    # Equal energies: ordered lexicographically by config.
    configs = [tuple(int(v) for v in m.config) for m in land.minima]
    assert configs == sorted(configs)


def test_exact_ties_break_towards_lowest_index() -> None:
    # Integer instance with exact ties: unit sizes, p01 = p23 = 1, all other pairs 0. The two
    # minima 0000 and 0011 (canonical) both have E = 0. Start from 0101: E = 2 * (1 + 1) = 4,
    # and switching any one state gives E = 2, a four-way tie. Lowest index wins: state 0
    # switches (-> 1101), then states 2 and 3 tie at dE = -2 and state 2 wins (-> 1111 ~ 0000).
    # Choosing the highest index instead would have ended in 0100 -> 1100 ~ 0011.
    s = np.ones(4)
    p = np.zeros((4, 4))
    p[0, 1] = p[1, 0] = p[2, 3] = p[3, 2] = 1.0
    ends = steepest_descent(np.array([[0, 1, 0, 1]]), s, p)
    np.testing.assert_array_equal(ends, [[1, 1, 1, 1]])
    _, end_ref = brute_landscape(s, p)
    assert end_ref[(0, 1, 0, 1)] == (0, 0, 0, 0)
    land = enumerate_landscape(s, p)
    assert [tuple(m.config) for m in land.minima] == [(0, 0, 0, 0), (0, 0, 1, 1)]
    for m in land.minima:
        assert m.basin == sum(1 for v in end_ref.values() if v == tuple(m.config))


def test_tie_rule_decides_basin_sizes() -> None:
    # Unit sizes, propensities in {-1, 0, 1}: many exact ties in dE. Under lowest-index tie
    # breaking the 16 configurations split 10 / 5 / 1 over the three minima; breaking ties
    # towards the highest index would give 11 / 4 / 1, so this pins the documented rule.
    s = np.ones(5)
    p = np.array(
        [
            [0, 0, 0, -1, -1],
            [0, 0, -1, -1, 1],
            [0, -1, 0, 0, 1],
            [-1, -1, 0, 0, 1],
            [-1, 1, 1, 1, 0],
        ],
        dtype=float,
    )
    land = enumerate_landscape(s, p)
    basins = {tuple(int(v) for v in m.config): m.basin for m in land.minima}
    assert basins == {(0, 0, 1, 1, 1): 10, (0, 1, 0, 1, 1): 5, (0, 0, 0, 1, 0): 1}
    _, end_ref = brute_landscape(s, p)
    ends = steepest_descent(np.array(list(end_ref)), s, p)
    np.testing.assert_array_equal(
        np.array([normalize_config(e) for e in ends]), np.array(list(end_ref.values()))
    )


def test_two_cliques_split_at_global_minimum() -> None:
    # States 0-2 and 3-5 attract within their clique (+1) and repel across (-1). With unit
    # sizes the split has 9 cross pairs: E = 2 * 9 * (-1) = -18, the lowest possible energy.
    n = 6
    group = np.array([0, 0, 0, 1, 1, 1])
    p = np.where(group[:, None] == group[None, :], 1.0, -1.0)
    np.fill_diagonal(p, 0.0)
    land = enumerate_landscape(np.ones(n), p)
    assert len(land.global_minima) == 1
    best = land.minima[0]
    np.testing.assert_array_equal(best.config, group)
    assert best.energy == pytest.approx(-18.0)
    assert land.find(1 - group) == 0  # either labelling is found
    assert energy(np.zeros(n, int), np.ones(n), p) > best.energy


def test_enumerate_rejects_too_many_states() -> None:
    s, p = random_instance(6, 0)
    with pytest.raises(ValueError, match="local_search_landscape"):
        enumerate_landscape(s, p, max_exact=5)


# --------------------------------------------------------------------------------------------
# Dynamics and local search
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(6))
def test_asynchronous_descent_ends_in_enumerated_minimum(seed: int) -> None:
    s, p = random_instance(9, 500 + seed)
    land = enumerate_landscape(s, p)
    rng = np.random.default_rng(seed)
    start = rng.integers(0, 2, size=9)
    final, trace = asynchronous_descent(start, s, p, rng)
    k = land.find(final)
    assert k is not None
    assert trace[0] == pytest.approx(energy(start, s, p))
    assert trace[-1] == pytest.approx(land.minima[k].energy, abs=1e-9)
    assert np.all(np.diff(trace) < 0)  # every recorded switch strictly lowered E
    # No state can lower its own frustration at the end.
    f = frustration(final, s, p)
    flipped_f = np.array(
        [frustration(np.where(np.arange(9) == i, 1 - final, final), s, p)[i] for i in range(9)]
    )
    assert np.all(flipped_f >= f - 1e-9)


def test_asynchronous_descent_does_not_move_on_ties() -> None:
    # State 2 has no propensity to anyone: switching it leaves its frustration (and E) unchanged,
    # which does not count as lowering. Starting at a minimum, nobody moves, the run stops after
    # one sweep and the trace holds only the starting energy.
    p = np.zeros((3, 3))
    p[0, 1] = p[1, 0] = 1.0
    start = np.array([0, 0, 1])
    final, trace = asynchronous_descent(start, np.ones(3), p, np.random.default_rng(0))
    np.testing.assert_array_equal(final, start)
    np.testing.assert_array_equal(trace, [0.0])


def test_local_search_finds_exact_global_minimum() -> None:
    s, p = random_instance(10, 77)
    exact = enumerate_landscape(s, p)
    found = local_search_landscape(s, p, starts=500, rng=np.random.default_rng(3))
    assert found.method == "local_search"
    assert found.n_samples == 500
    assert found.n_configs == exact.n_configs
    assert sum(m.basin for m in found.minima) == 500
    assert found.global_energy == pytest.approx(exact.global_energy, abs=1e-9)
    np.testing.assert_array_equal(found.minima[0].config, exact.minima[0].config)
    # Every minimum found by sampling is a true (enumerated) minimum.
    assert all(exact.find(m.config) is not None for m in found.minima)


def test_solve_landscape_dispatches_by_size() -> None:
    s, p = random_instance(7, 8)
    assert solve_landscape(s, p).method == "exact"
    big = solve_landscape(s, p, max_exact=6, starts=300, rng=np.random.default_rng(0))
    assert isinstance(big, Landscape)
    assert big.method == "local_search"
    assert big.global_energy == pytest.approx(enumerate_landscape(s, p).global_energy)


# --------------------------------------------------------------------------------------------
# Validation and input helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sizes", "propensity", "match"),
    [
        ([1.0, 1.0], [[0.0, 1.0], [2.0, 0.0]], "symmetric"),
        ([1.0, 1.0], [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]], "square"),
        ([1.0, 1.0, 1.0], [[0.0, 1.0], [1.0, 0.0]], "3 sizes"),
        ([1.0, -1.0], [[0.0, 1.0], [1.0, 0.0]], "positive"),
        ([1.0, 0.0], [[0.0, 1.0], [1.0, 0.0]], "positive"),
        ([1.0, np.nan], [[0.0, 1.0], [1.0, 0.0]], "finite"),
        ([1.0, 1.0], [[0.0, np.inf], [np.inf, 0.0]], "finite"),
        ([1.0], [[0.0]], "at least 2"),
        ([[1.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]], "1-D"),
    ],
)
def test_validation_errors(sizes: list, propensity: list, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        enumerate_landscape(sizes, propensity)


def test_config_validation_and_diagonal_ignored() -> None:
    s = np.ones(3)
    p = np.array([[5.0, 1, 1], [1, 5.0, 1], [1, 1, 5.0]])
    with pytest.raises(ValueError, match="0 or 1"):
        energy([0, 2, 1], s, p)
    with pytest.raises(ValueError, match="length 3"):
        frustration([0, 1], s, p)
    # Diagonal never enters (d_ii = 0): same result as with a zero diagonal.
    p0 = p - 5.0 * np.eye(3)
    assert energy([0, 1, 1], s, p) == energy([0, 1, 1], s, p0) == pytest.approx(4.0)
    assert tolerance(s, p) == pytest.approx(1e-12 * 6.0)


def test_propensity_from_scale() -> None:
    survey = np.array([[5, 1, 3], [1, 5, 4], [3, 4, 5]], dtype=float)
    p = propensity_from_scale(survey, center=3.0, scale=2.0)
    np.testing.assert_allclose(p, [[0, -1, 0], [-1, 0, 0.5], [0, 0.5, 0]])
    with pytest.raises(ValueError, match="scale"):
        propensity_from_scale(survey, center=3.0, scale=0.0)


def test_csv_round_trip(tmp_path: Path) -> None:
    names = ["Iran", "Russia", "China", "USA"]
    s, p = random_instance(4, 11)
    path = tmp_path / "p.csv"
    lines = ["state," + ",".join(names)]
    lines += [
        nm + "," + ",".join(repr(float(v)) for v in row) for nm, row in zip(names, p, strict=True)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    got_names, got = read_propensity_csv(path)
    assert got_names == names
    np.testing.assert_array_equal(got, p)
    assert enumerate_landscape(s, got).global_energy == enumerate_landscape(s, p).global_energy


def test_csv_rows_reordered_to_header(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text(",A,B\nB,1,0\nA,0,1\n", encoding="utf-8")
    names, m = read_propensity_csv(path)
    assert names == ["A", "B"]
    np.testing.assert_array_equal(m, [[0, 1], [1, 0]])


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (",A,B\nA,0,x\nB,1,0\n", r"line 2 \(row 'A'\), column 'B': cannot parse 'x'"),
        (",A,B\nA,0,1\nC,1,0\n", r"missing rows: \['B'\], unknown rows: \['C'\]"),
        (",A,B\nA,0,1\nB,1\n", r"line 3: expected 3 cells"),
        (",A,A\nA,0,1\nA,1,0\n", "duplicate state names"),
        (",A,B\nA,0,nan\nB,1,0\n", "not finite"),
        ("", "empty"),
    ],
)
def test_csv_malformed(tmp_path: Path, text: str, match: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError, match=match) as info:
        read_propensity_csv(path)
    assert "bad.csv" in str(info.value)
