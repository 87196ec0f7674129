"""Exact solver for Axelrod & Bennett's landscape theory of aggregation (1993).

The theory
----------
``N`` states with sizes ``s_i > 0`` and a symmetric propensity matrix ``p`` (``p_ij > 0``: drawn
together, ``p_ij < 0``: pushed apart) are split into two blocs. A *configuration* ``x`` gives
each state a bloc, 0 or 1, and ``d_ij = 1`` when ``i`` and ``j`` sit in different blocs.

* Frustration of state ``i``: ``F_i = sum_j s_j p_ij d_ij``.
* Energy: ``E = sum_i sum_j s_i s_j p_ij d_ij`` over **ordered** pairs ``(i, j)``, so every
  unordered pair is counted twice. This is Axelrod & Bennett's convention and gives the identity
  ``E = sum_i s_i F_i``. (Halve ``E`` for the unordered-pair convention; minima are unaffected.)

Why a selfish switch lowers the energy
--------------------------------------
When state ``i`` switches sides only the distances ``d_ij`` (and ``d_ji``) in its own row and
column flip, ``d -> 1 - d``. Its frustration changes by ``dF_i = sum_j s_j p_ij (1 - 2 d_ij)``.
Those same pairs appear in ``E`` twice, once as ``(i, j)`` weighted ``s_i s_j p_ij`` and once as
``(j, i)`` with the same weight because ``p`` is symmetric, so::

    dE = 2 * sum_j s_i s_j p_ij (1 - 2 d_ij) = 2 * s_i * dF_i.

As ``s_i > 0``, a switch that lowers the switching state's own frustration lowers ``E`` by
exactly ``2 s_i`` times as much: selfish moves are energy descent, and a configuration from which
no single state wants to move is a local minimum of ``E``.

Relabelling and codes
---------------------
Swapping the names of the two blocs changes nothing (``d`` is invariant), so configurations are
counted up to relabelling by fixing state 0 in bloc 0: there are ``2**(N-1)`` of them. Internally
a configuration is the integer *code* ``m`` whose bit ``k`` is the bloc of state ``k + 1``.
Switching state ``i >= 1`` is ``m ^ (1 << (i - 1))``; switching state 0 gives a configuration
whose canonical form is the complement of every other state, ``m ^ (2**(N-1) - 1)``.

Ties and tolerance
------------------
All "does this switch lower E?" decisions use one absolute tolerance,
``tol = REL_TOL * sum_ij |s_i s_j p_ij|`` with ``REL_TOL = 1e-12``: the total absolute weight
bounds ``|E|``, so rounding noise in any computed ``dE`` is far below ``tol``, while a genuine
improvement is far above it. A switch *lowers* ``E`` only if ``dE < -tol``; a switch with
``dE == 0`` (up to ``tol``) does **not** count, so plateaus are local minima and results do not
depend on rounding. Steepest descent takes the switch with the most negative ``dE``; switches
within ``tol`` of the most negative are ties, resolved towards the lowest state index.

Why one module, over 500 lines: the derivation above is what every function relies on (the
energy identity, the tolerance, the tie rule); enumeration, descent and local search are checked
against each other (tests/test_landscape.py), and kept in one file they stay one argument.
"""

from __future__ import annotations

import csv
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

__all__ = [
    "REL_TOL",
    "Landscape",
    "LocalMinimum",
    "asynchronous_descent",
    "energies",
    "energy",
    "enumerate_landscape",
    "frustration",
    "frustrations",
    "local_search_landscape",
    "normalize_config",
    "propensity_from_scale",
    "read_propensity_csv",
    "solve_landscape",
    "steepest_descent",
    "tolerance",
]

REL_TOL = 1e-12
"""Relative tolerance for "a switch lowers E"; see the module docstring."""

_SYMMETRY_RTOL = 1e-9
_CHUNK_ROWS = 1 << 16  # rows per block in vectorized M x N work: 65536 * N floats at most

Method = Literal["exact", "local_search"]


# --------------------------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------------------------


def _validate(sizes: ArrayLike, propensity: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Check inputs and return ``(s, p)`` as float64 with ``p`` exactly symmetric, zero diagonal.

    The diagonal is ignored rather than rejected because ``d_ii = 0`` means it never enters the
    theory, and survey matrices often carry a "self" score there. Near-symmetric input (up to
    rounding, e.g. read from a CSV) is averaged with its transpose so that every later
    computation sees an exactly symmetric matrix; the ``dE = 2 s_i dF_i`` identity relies on it.
    """
    s = np.asarray(sizes, dtype=float)
    if s.ndim != 1:
        raise ValueError(f"sizes must be a 1-D array, got shape {s.shape}")
    n = s.shape[0]
    if n < 2:
        raise ValueError(f"need at least 2 states, got {n}")
    if not np.all(np.isfinite(s)):
        raise ValueError("sizes must be finite (found NaN or inf)")
    if np.any(s <= 0):
        bad = np.flatnonzero(s <= 0).tolist()
        raise ValueError(f"sizes must be strictly positive; non-positive at indices {bad}")
    p = np.asarray(propensity, dtype=float)
    if p.ndim != 2 or p.shape[0] != p.shape[1]:
        raise ValueError(f"propensity must be a square 2-D matrix, got shape {p.shape}")
    if p.shape[0] != n:
        raise ValueError(f"propensity is {p.shape[0]}x{p.shape[1]} but there are {n} sizes")
    if not np.all(np.isfinite(p)):
        raise ValueError("propensity must be finite (found NaN or inf)")
    scale = max(1.0, float(np.max(np.abs(p))))
    asym = np.abs(p - p.T)
    if np.max(asym) > _SYMMETRY_RTOL * scale:
        i, j = np.unravel_index(int(np.argmax(asym)), asym.shape)
        raise ValueError(
            f"propensity must be symmetric: p[{i},{j}]={p[i, j]!r} but p[{j},{i}]={p[j, i]!r}"
        )
    p = 0.5 * (p + p.T)
    np.fill_diagonal(p, 0.0)
    return s, p


def _as_config(config: ArrayLike, n: int) -> np.ndarray:
    """Return ``config`` as an int8 0/1 vector of length ``n`` or raise ValueError."""
    x = np.asarray(config)
    if x.ndim != 1 or x.shape[0] != n:
        raise ValueError(f"config must be a 1-D array of length {n}, got shape {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("config entries must be 0 or 1 (bloc labels)")
    return x.astype(np.int8)


def _as_configs(configs: ArrayLike, n: int) -> np.ndarray:
    """Return ``configs`` as an int8 0/1 matrix of shape ``(M, n)`` or raise ValueError."""
    x = np.asarray(configs)
    if x.ndim != 2 or x.shape[1] != n:
        raise ValueError(f"configs must be a 2-D array of shape (M, {n}), got shape {x.shape}")
    if not np.all((x == 0) | (x == 1)):
        raise ValueError("config entries must be 0 or 1 (bloc labels)")
    return x.astype(np.int8)


def _weights(s: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Pair weights ``W_ij = s_i s_j p_ij``; ``E = sum_ij W_ij d_ij``."""
    return s[:, None] * s[None, :] * p


def tolerance(sizes: ArrayLike, propensity: ArrayLike) -> float:
    """The absolute energy tolerance used for every "does a switch lower E" decision."""
    s, p = _validate(sizes, propensity)
    return _tol(_weights(s, p))


def _tol(w: np.ndarray) -> float:
    return REL_TOL * float(np.sum(np.abs(w)))


def normalize_config(config: ArrayLike) -> np.ndarray:
    """Canonical form up to relabelling: complement the configuration if state 0 is in bloc 1."""
    x = np.asarray(config).astype(np.int8)
    if x.ndim != 1 or x.shape[0] == 0:
        raise ValueError(f"config must be a non-empty 1-D array, got shape {x.shape}")
    return (1 - x) if x[0] == 1 else x.copy()


# --------------------------------------------------------------------------------------------
# Energy and frustration
# --------------------------------------------------------------------------------------------


def energy(config: ArrayLike, sizes: ArrayLike, propensity: ArrayLike) -> float:
    """Energy ``E = sum_{i,j} s_i s_j p_ij d_ij`` over ordered pairs (each pair counted twice)."""
    s, p = _validate(sizes, propensity)
    x = _as_config(config, s.shape[0])
    d = x[:, None] != x[None, :]
    return float(np.sum(_weights(s, p) * d))


def frustration(config: ArrayLike, sizes: ArrayLike, propensity: ArrayLike) -> np.ndarray:
    """Frustrations ``F_i = sum_j s_j p_ij d_ij`` of every state in one configuration."""
    s, p = _validate(sizes, propensity)
    x = _as_config(config, s.shape[0])
    d = x[:, None] != x[None, :]
    return (p * d) @ s


def energies(configs: ArrayLike, sizes: ArrayLike, propensity: ArrayLike) -> np.ndarray:
    """Energies of many configurations (rows of an ``M x N`` 0/1 matrix), vectorized.

    Uses ``d_ij = x_i + x_j - 2 x_i x_j``, so ``E = 2 x.r - 2 x'Wx`` with ``r = W 1``: two
    matrix products per block of rows instead of an ``N x N`` comparison per configuration.
    """
    s, p = _validate(sizes, propensity)
    x = _as_configs(configs, s.shape[0])
    w = _weights(s, p)
    r = w.sum(axis=1)
    out = np.empty(x.shape[0])
    for lo in range(0, x.shape[0], _CHUNK_ROWS):
        xb = x[lo : lo + _CHUNK_ROWS].astype(float)
        out[lo : lo + _CHUNK_ROWS] = 2.0 * (xb @ r) - 2.0 * np.einsum("mi,mi->m", xb @ w, xb)
    return out


def frustrations(configs: ArrayLike, sizes: ArrayLike, propensity: ArrayLike) -> np.ndarray:
    """Frustrations for many configurations: ``(M, N)`` output for ``(M, N)`` 0/1 input."""
    s, p = _validate(sizes, propensity)
    x = _as_configs(configs, s.shape[0]).astype(float)
    ps = p * s[None, :]  # ps[i, j] = p_ij s_j
    y = x @ ps.T  # y[m, i] = sum_j p_ij s_j x_j
    return x * ps.sum(axis=1)[None, :] + y - 2.0 * x * y


def _flip_deltas(x: np.ndarray, w: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``dE`` for switching each state, for each row of the 0/1 float matrix ``x``.

    ``dE_i = 2 (r_i - 2 g_i)`` where ``g_i = sum_j W_ij d_ij`` is the weight of ``i``'s
    cross-bloc ties: ``g_i = h_i`` if ``x_i = 0`` and ``r_i - h_i`` if ``x_i = 1``, ``h = x W``.
    """
    h = x @ w
    g = np.where(x > 0.5, r[None, :] - h, h)
    return 2.0 * (r[None, :] - 2.0 * g)


def _choose_flip(delta: np.ndarray, tol: float) -> np.ndarray:
    """Index of the steepest lowering switch per row, or -1 where no switch lowers E.

    Ties (switches within ``tol`` of the most negative) go to the lowest index.
    """
    dmin = delta.min(axis=1)
    ok = (delta < -tol) & (delta <= dmin[:, None] + tol)
    return np.where(ok.any(axis=1), np.argmax(ok, axis=1), -1)


# --------------------------------------------------------------------------------------------
# Result types
# --------------------------------------------------------------------------------------------


def _frozen_array(a: np.ndarray) -> np.ndarray:
    a = np.array(a, copy=True)
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class LocalMinimum:
    """One local minimum of the energy landscape.

    ``config`` is normalized (state 0 in bloc 0). ``basin`` counts the configurations (up to
    relabelling) whose deterministic steepest descent ends here; for ``local_search`` landscapes
    it counts random starts instead. ``basin_share`` is ``basin`` over the matching denominator
    (``Landscape.n_samples``). Arrays are read-only so the frozen dataclass really is immutable.
    Equality compares values (arrays elementwise); hashing uses the configuration.
    """

    config: np.ndarray
    energy: float
    frustrations: np.ndarray
    basin: int
    basin_share: float

    def __post_init__(self) -> None:
        object.__setattr__(self, "config", _frozen_array(np.asarray(self.config, dtype=np.int8)))
        object.__setattr__(self, "frustrations", _frozen_array(np.asarray(self.frustrations)))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LocalMinimum):
            return NotImplemented
        return (
            np.array_equal(self.config, other.config)
            and self.energy == other.energy
            and np.array_equal(self.frustrations, other.frustrations)
            and self.basin == other.basin
            and self.basin_share == other.basin_share
        )

    def __hash__(self) -> int:
        return hash((self.config.tobytes(), self.energy))

    def blocs(self) -> tuple[list[int], list[int]]:
        """State indices in bloc 0 and in bloc 1."""
        return np.flatnonzero(self.config == 0).tolist(), np.flatnonzero(self.config).tolist()

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly representation."""
        return {
            "config": self.config.tolist(),
            "energy": self.energy,
            "frustrations": self.frustrations.tolist(),
            "basin": self.basin,
            "basin_share": self.basin_share,
        }


@dataclass(frozen=True)
class Landscape:
    """All local minima of a landscape (``exact``) or those found by sampling (``local_search``).

    ``n_configs`` is always the size of the configuration space, ``2**(N-1)``. ``n_samples`` is
    the denominator of ``basin_share``: ``n_configs`` for exact enumeration, the number of random
    starts for local search. ``minima`` are sorted by energy, then lexicographically by config.
    ``global_energy`` is exact for ``exact`` and the best found for ``local_search``.
    """

    n_states: int
    n_configs: int
    minima: list[LocalMinimum]
    global_energy: float
    method: Method
    n_samples: int
    tolerance: float

    @property
    def global_minima(self) -> list[LocalMinimum]:
        """Minima whose energy ties the global energy (within the tolerance)."""
        return [m for m in self.minima if m.energy <= self.global_energy + self.tolerance]

    def find(self, config: ArrayLike) -> int | None:
        """Index in ``minima`` of ``config`` (either labelling), or None if it is not listed."""
        x = normalize_config(config)
        for k, m in enumerate(self.minima):
            if np.array_equal(m.config, x):
                return k
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly representation."""
        return {
            "n_states": self.n_states,
            "n_configs": self.n_configs,
            "n_samples": self.n_samples,
            "method": self.method,
            "global_energy": self.global_energy,
            "tolerance": self.tolerance,
            "minima": [m.to_dict() for m in self.minima],
        }


def _build_minima(
    configs: np.ndarray,
    counts: np.ndarray,
    n_samples: int,
    s: np.ndarray,
    p: np.ndarray,
) -> list[LocalMinimum]:
    """LocalMinimum records for normalized ``configs`` (K x N), sorted by energy then config.

    Energies and frustrations are recomputed from the configurations with the direct formulas so
    that reported numbers do not depend on which solver found the minimum.
    """
    if configs.shape[0] == 0:
        return []
    e = energies(configs, s, p)
    f = frustrations(configs, s, p)
    # np.lexsort: last key is primary -> energy first, then config columns left to right.
    order = np.lexsort([*configs.T[::-1], e])
    return [
        LocalMinimum(
            config=configs[k],
            energy=float(e[k]),
            frustrations=f[k],
            basin=int(counts[k]),
            basin_share=float(counts[k]) / n_samples,
        )
        for k in order
    ]


# --------------------------------------------------------------------------------------------
# Exact enumeration
# --------------------------------------------------------------------------------------------


def _bit_matrix(n_bits: int) -> np.ndarray:
    """``(2**n_bits, n_bits)`` float matrix whose row ``m`` holds the bits of ``m`` (LSB first)."""
    codes = np.arange(1 << n_bits, dtype=np.int64)
    return ((codes[:, None] >> np.arange(n_bits)) & 1).astype(float)


def _all_energies(w: np.ndarray) -> np.ndarray:
    """Energy of every code ``m`` in ``[0, 2**(N-1))``, fully vectorized.

    With state 0 fixed in bloc 0, ``E(x) = 2 x.r - 2 x'Wx`` involves only the ``N-1`` free
    states. Split them into low bits (``l``) and high bits (``h``), ``m = h * 2**L + l``::

        E[h, l] = A[l] + B[h] - 4 * (X_L W_LH X_H')[l, h]

    where ``A``/``B`` hold each half's own terms. The cross term is one matrix product of a
    ``2**L x L`` and an ``L x 2**H`` matrix, so the work is ``O(2**(N-1) * N/2)`` flops with
    nothing larger than the ``2**(N-1)`` result in memory (16 MB at N = 22).
    """
    n = w.shape[0]
    free = n - 1
    low = free // 2
    high = free - low
    wf = w[1:, 1:]
    rf = w.sum(axis=1)[1:]
    xl = _bit_matrix(low)
    xh = _bit_matrix(high)
    w_ll, w_hh, w_lh = wf[:low, :low], wf[low:, low:], wf[:low, low:]
    a = 2.0 * (xl @ rf[:low]) - 2.0 * np.einsum("mi,mi->m", xl @ w_ll, xl)
    b = 2.0 * (xh @ rf[low:]) - 2.0 * np.einsum("mi,mi->m", xh @ w_hh, xh)
    cross = (xh @ w_lh.T) @ xl.T  # (2**H, 2**L): entry [h, l] = x_l' W_LH x_h
    e = b[:, None] + a[None, :] - 4.0 * cross
    return e.reshape(-1)


def _neighbour_delta(e: np.ndarray, i: int) -> np.ndarray:
    """``E[code after switching state i] - E[code]`` for every code, without fancy indexing.

    Switching state ``i >= 1`` toggles bit ``i - 1``: viewing ``E`` as ``(-1, 2, 2**(i-1))``
    and reversing the middle axis pairs every code with its partner. Switching state 0 maps
    ``m`` to ``m ^ (2**(N-1) - 1) = M - 1 - m``, i.e. the reversed array.
    """
    if i == 0:
        return e[::-1] - e
    view = e.reshape(-1, 2, 1 << (i - 1))
    return (view[:, ::-1, :] - view).reshape(-1)


def enumerate_landscape(
    sizes: ArrayLike, propensity: ArrayLike, *, max_exact: int = 22
) -> Landscape:
    """Enumerate every configuration (up to relabelling) and return all local minima.

    Steps, each vectorized over all ``2**(N-1)`` codes with Python loops only over states:

    1. energies of all codes (:func:`_all_energies`);
    2. for every state, ``dE`` of switching it (array views, :func:`_neighbour_delta`); a code
       is a local minimum when no ``dE < -tol``;
    3. deterministic steepest descent as a successor array ``next[m]`` (``m`` itself at a
       minimum), then pointer jumping ``next = next[next]`` until fixed: each round doubles the
       number of descent steps covered, so it takes ``log2(longest descent)`` rounds;
    4. basins are the counts of codes whose final pointer lands on each minimum.

    Descent cannot cycle: a chosen step has ``E[next] - E[m] < -tol < 0`` in the very array
    being compared, so energy strictly decreases along every path.

    Memory is about 60 bytes per code (about 130 MB at N = 22). Raises ValueError above
    ``max_exact`` states; use :func:`local_search_landscape` or :func:`solve_landscape` there.
    """
    s, p = _validate(sizes, propensity)
    n = s.shape[0]
    if n > max_exact:
        raise ValueError(
            f"exact enumeration of {n} states needs 2**{n - 1} configurations, above "
            f"max_exact={max_exact}; use local_search_landscape() (or solve_landscape(), which "
            f"dispatches by size), or raise max_exact if you have the memory"
        )
    w = _weights(s, p)
    tol = _tol(w)
    n_configs = 1 << (n - 1)
    e = _all_energies(w)

    # Pass 1: most negative dE per code. Pass 2: lowest state index tying it (within tol).
    dmin = np.full(n_configs, np.inf)
    for i in range(n):
        np.minimum(dmin, _neighbour_delta(e, i), out=dmin)
    is_min = dmin >= -tol
    choice = np.full(n_configs, -1, dtype=np.int64)
    threshold = np.minimum(dmin + tol, -tol)  # a chosen switch must tie the best and lower E
    for i in range(n):
        take = (choice < 0) & ~is_min & (_neighbour_delta(e, i) <= threshold)
        choice[take] = i
    codes = np.arange(n_configs, dtype=np.int64)
    flip_mask = np.where(choice == 0, n_configs - 1, np.left_shift(1, np.maximum(choice - 1, 0)))
    nxt = np.where(is_min, codes, codes ^ flip_mask)
    del choice, flip_mask, dmin, threshold

    while True:
        jumped = nxt[nxt]
        if np.array_equal(jumped, nxt):
            break
        nxt = jumped

    minima_codes = np.flatnonzero(is_min)
    counts = np.bincount(nxt, minlength=n_configs)[minima_codes]
    configs = np.zeros((minima_codes.size, n), dtype=np.int8)
    configs[:, 1:] = (minima_codes[:, None] >> np.arange(n - 1)) & 1
    minima = _build_minima(configs, counts, n_configs, s, p)
    return Landscape(
        n_states=n,
        n_configs=n_configs,
        minima=minima,
        global_energy=minima[0].energy,
        method="exact",
        n_samples=n_configs,
        tolerance=tol,
    )


# --------------------------------------------------------------------------------------------
# Descent dynamics and local search
# --------------------------------------------------------------------------------------------


def steepest_descent(
    configs: ArrayLike, sizes: ArrayLike, propensity: ArrayLike, *, max_steps: int | None = None
) -> np.ndarray:
    """Run deterministic steepest descent from each row of ``configs`` (``M x N``), vectorized.

    Same rule as :func:`enumerate_landscape`: switch the state with the most negative ``dE``
    (ties within ``tol`` to the lowest index) until no switch lowers ``E``. Rows are returned in
    the labelling they started in (not normalized). One Python iteration per descent *step*,
    advancing all still-moving rows at once.
    """
    s, p = _validate(sizes, propensity)
    n = s.shape[0]
    x = _as_configs(configs, n).copy()
    w = _weights(s, p)
    r = w.sum(axis=1)
    tol = _tol(w)
    limit = max_steps if max_steps is not None else (1 << min(n - 1, 40)) + 1
    active = np.arange(x.shape[0])
    steps = 0
    while active.size:
        if steps >= limit:
            raise RuntimeError(f"steepest descent did not settle within {limit} steps")
        delta = _flip_deltas(x[active].astype(float), w, r)
        k = _choose_flip(delta, tol)
        moving = k >= 0
        active, k = active[moving], k[moving]
        x[active, k] ^= 1
        steps += 1
    return x


def asynchronous_descent(
    config: ArrayLike,
    sizes: ArrayLike,
    propensity: ArrayLike,
    rng: np.random.Generator,
    *,
    max_sweeps: int = 100_000,
) -> tuple[np.ndarray, np.ndarray]:
    """Selfish asynchronous dynamics: the rule the simulation's bloc mode follows.

    Each sweep activates the states in a fresh random order (``rng.permutation``); an activated
    state switches sides if that lowers its own frustration, i.e. ``2 s_i dF_i < -tol`` (the
    same test as ``dE < -tol``, see the module docstring). The run stops after a sweep with no
    switch, which is exactly a local minimum of ``E``.

    Returns ``(final_config, energy_trace)``: the final configuration in the labelling it
    reached (not normalized; use :func:`normalize_config` to compare with ``Landscape.minima``)
    and the energy at the start and after every switch, which never increases.
    """
    s, p = _validate(sizes, propensity)
    n = s.shape[0]
    x = _as_config(config, n).copy()
    w = _weights(s, p)
    tol = _tol(w)
    rowsum = p @ s  # sum_j s_j p_ij: frustration of i if everyone else were on the other side
    trace = [energy(x, s, p)]
    for _ in range(max_sweeps):
        switched = False
        for i in rng.permutation(n):
            d = x != x[i]
            f_i = float(np.dot(p[i] * s, d))
            d_f = rowsum[i] - 2.0 * f_i  # frustration after switching minus before
            if 2.0 * s[i] * d_f < -tol:
                x[i] ^= 1
                trace.append(energy(x, s, p))
                switched = True
        if not switched:
            return x, np.asarray(trace)
    raise RuntimeError(f"asynchronous descent did not settle within {max_sweeps} sweeps")


def local_search_landscape(
    sizes: ArrayLike, propensity: ArrayLike, *, starts: int, rng: np.random.Generator
) -> Landscape:
    """Estimate the landscape from ``starts`` uniform random configurations.

    Each start is run through :func:`steepest_descent` (vectorized over starts); the distinct
    minima reached are reported, with ``basin`` = number of starts that reached each and
    ``basin_share = basin / starts`` (an unbiased estimate of the exact basin share under the
    same descent rule). Minima with small basins may be missed and ``global_energy`` is the best
    found, not a guarantee.
    """
    s, p = _validate(sizes, propensity)
    if not isinstance(starts, int | np.integer) or starts < 1:
        raise ValueError(f"starts must be a positive integer, got {starts!r}")
    n = s.shape[0]
    x0 = rng.integers(0, 2, size=(int(starts), n), dtype=np.int8)
    final = steepest_descent(x0, s, p)
    final[final[:, 0] == 1] ^= 1  # normalize: state 0 in bloc 0
    configs, counts = np.unique(final, axis=0, return_counts=True)
    minima = _build_minima(configs, counts, int(starts), s, p)
    return Landscape(
        n_states=n,
        n_configs=1 << (n - 1),
        minima=minima,
        global_energy=minima[0].energy,
        method="local_search",
        n_samples=int(starts),
        tolerance=_tol(_weights(s, p)),
    )


def solve_landscape(
    sizes: ArrayLike,
    propensity: ArrayLike,
    *,
    rng: np.random.Generator | None = None,
    starts: int = 2000,
    max_exact: int = 22,
) -> Landscape:
    """Exact enumeration up to ``max_exact`` states, local search above.

    ``rng`` only matters for local search; when omitted there, ``np.random.default_rng(0)`` is
    used so that results are reproducible by default (pass your own Generator to vary it).
    """
    s, p = _validate(sizes, propensity)
    if s.shape[0] <= max_exact:
        return enumerate_landscape(s, p, max_exact=max_exact)
    return local_search_landscape(
        s, p, starts=starts, rng=rng if rng is not None else np.random.default_rng(0)
    )


# --------------------------------------------------------------------------------------------
# Input helpers
# --------------------------------------------------------------------------------------------


def propensity_from_scale(matrix: ArrayLike, *, center: float, scale: float = 1.0) -> np.ndarray:
    """Recentre a rating matrix into propensities: ``(x - center) / scale``, diagonal zeroed.

    A 1-5 affinity survey with ``center=3`` maps "neutral" to 0, so indifferent pairs exert no
    pull, "very close" to +2 and "hostile" to -2. ``scale`` only rescales the energy and leaves
    the minima unchanged; it is there to keep magnitudes comparable across instruments.
    """
    m = np.asarray(matrix, dtype=float)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be square 2-D, got shape {m.shape}")
    if not (math.isfinite(center) and math.isfinite(scale)) or scale <= 0:
        raise ValueError(f"center must be finite and scale positive, got {center=}, {scale=}")
    out = (m - center) / scale
    np.fill_diagonal(out, 0.0)
    return out


def read_propensity_csv(path: str | Path) -> tuple[list[str], np.ndarray]:
    """Read a labelled square matrix: state names as header row and as first column.

    The top-left cell is free (blank or a label). Rows may come in any order as long as they
    name exactly the header's states; they are reordered to the header order. Symmetry is not
    checked here (the solvers do that) so that asymmetric surveys can be read and symmetrized.
    Errors name the file, the 1-based line number and the column's state name.
    """
    path = Path(path)
    with path.open(newline="", encoding="utf-8-sig") as fh:
        rows = [
            (k, row) for k, row in enumerate(csv.reader(fh), start=1) if any(map(str.strip, row))
        ]
    if not rows:
        raise ValueError(f"{path}: file is empty")
    header_line, header = rows[0]
    names = [c.strip() for c in header[1:]]
    if not names:
        raise ValueError(f"{path}: line {header_line}: header row lists no state names")
    _check_names(path, header_line, "header row", names)
    n = len(names)
    values: dict[str, list[float]] = {}
    row_names: list[str] = []
    for line, row in rows[1:]:
        cells = [c.strip() for c in row]
        if len(cells) != n + 1:
            raise ValueError(
                f"{path}: line {line}: expected {n + 1} cells (name + {n} values), got {len(cells)}"
            )
        name = cells[0]
        row_names.append(name)
        parsed = []
        for col, cell in zip(names, cells[1:], strict=True):
            try:
                v = float(cell)
            except ValueError:
                raise ValueError(
                    f"{path}: line {line} (row {name!r}), column {col!r}: "
                    f"cannot parse {cell!r} as a number"
                ) from None
            if not math.isfinite(v):
                raise ValueError(
                    f"{path}: line {line} (row {name!r}), column {col!r}: value {cell!r} "
                    f"is not finite"
                )
            parsed.append(v)
        values[name] = parsed
    _check_names(path, None, "first column", row_names)
    if set(row_names) != set(names):
        missing = sorted(set(names) - set(row_names))
        extra = sorted(set(row_names) - set(names))
        raise ValueError(
            f"{path}: row names (first column) must match the header names; "
            f"missing rows: {missing}, unknown rows: {extra}"
        )
    matrix = np.array([values[name] for name in names], dtype=float)
    return names, matrix


def _check_names(path: Path, line: int | None, where: str, names: Sequence[str]) -> None:
    """Reject blank and duplicated state names, which would make the matrix ambiguous."""
    loc = f"{path}: line {line}" if line is not None else f"{path}"
    if any(not nm for nm in names):
        raise ValueError(f"{loc}: blank state name in {where}")
    dupes = sorted(nm for nm, k in Counter(names).items() if k > 1)
    if dupes:
        raise ValueError(f"{loc}: duplicate state names in {where}: {dupes}")
