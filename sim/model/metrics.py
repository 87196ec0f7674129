"""Outcome measures computed from tie matrices: pure functions, no model, no I/O.

Why separate: what we *measure* must not leak into what agents *do*; keeping the measures here lets
the decision rule change without touching them and lets tests check them on hand-made matrices.
Every function accepts one tie matrix (N, N) or a stack of them (T, N, N), so a run can measure all
its recorded steps in a few vectorized calls after it ends.
"""

from __future__ import annotations

import numpy as np

from sim.model.ties import TIE_WEIGHT

STATUSES: tuple[str, ...] = ("aligned", "non_aligned", "one_camp", "isolated")
ALIGNED, NON_ALIGNED, ONE_CAMP, ISOLATED = range(4)
OUTCOMES: tuple[str, ...] = (*STATUSES, "allied_stronger")
"""What a share of runs can count: a final status, or ending allied with a stronger state."""
THRESHOLDS: tuple[float, ...] = (0.4, 0.45, 0.5, 0.55, 0.6)
"""Rival thresholds over which every status verdict reports its stability."""
CLOSURE_MAX = 64  # up to this many states, blocs come from a matrix closure (faster)


def _rows_times(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``x @ m`` for a stack ``x`` (..., N, N): one matrix product over all rows at once, which
    is far faster than numpy's batched matmul of many small matrices."""
    n = x.shape[-1]
    return (x.reshape(-1, n) @ m).reshape(x.shape)


def status(ties: np.ndarray, rival: np.ndarray) -> np.ndarray:
    """Alignment status code per state (see docs/DATA.md); shape (..., N).

    ``rival`` is the boolean matrix of pairs counted as rival camps. A state is non-aligned when it
    has no alliance and two of its friends are rivals of each other: its friendships reach two
    competing camps.
    """
    friends = ties == 1
    f = friends.astype(np.float32)
    allied = (ties == 2).any(axis=-1)
    spans = (_rows_times(f, rival.astype(np.float32)) * f).any(axis=-1)
    out = np.full(ties.shape[:-1], ISOLATED, dtype=np.int8)
    out[friends.any(axis=-1)] = ONE_CAMP
    out[spans] = NON_ALIGNED
    out[allied] = ALIGNED
    return out


def hedging_index(ties: np.ndarray, rivalry: np.ndarray) -> np.ndarray:
    """How evenly a state's ties spread across rival camps, in [0, 1]; shape (..., N).

    With tie weights ``t`` (friendship 0.5, alliance 1) the index is ``t' R t / (sum(t)^2 - t't)``:
    the weighted share of pairs of partners that are rivals. 0 when all partners are at peace with
    each other (or there are fewer than two), 1 when every pair of partners are full rivals.
    """
    t = TIE_WEIGHT[ties]
    num = (_rows_times(t, rivalry) * t).sum(axis=-1)
    tot = t.sum(axis=-1)
    den = tot**2 - (t**2).sum(axis=-1)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def alignment_index(
    ties: np.ndarray, rivalry: np.ndarray, hedging: np.ndarray | None = None
) -> np.ndarray:
    """How firmly a state is aligned with one side, in [0, 1], with no threshold; shape (..., N).

    ``AI = (alliance weight / tie weight) * (1 - hedging index)``: the share of its ties that
    are binding, times how little they spread across rival camps. 1: allied, and all its
    partners at peace with each other; 0: no alliance (or no tie); in between, alliances mixed
    with friendships, or ties across rival camps. ``hedging``: the :func:`hedging_index` of the
    same ties, when the caller has it already (it is the costly part on large worlds).
    """
    t = TIE_WEIGHT[ties]
    tot = t.sum(axis=-1)
    binding = np.divide((ties == 2).sum(axis=-1), tot, out=np.zeros_like(tot), where=tot > 0)
    if hedging is None:
        hedging = hedging_index(ties, rivalry)
    return binding * (1.0 - hedging)


def allied_with_stronger(ties: np.ndarray, power: np.ndarray) -> np.ndarray:
    """Whether each state has an alliance with a state more powerful than itself (a junior
    partner in Morrow's sense); shape (..., N)."""
    stronger = power[None, :] > power[:, None]
    return ((ties == 2) & stronger).any(axis=-1)


def blocs(ties: np.ndarray) -> np.ndarray:
    """Component label per state in the alliance graph; shape (..., N).

    Labels are the smallest index in each component (singletons keep their own index). Min-label
    propagation with pointer jumping: for the few hundred states we model this is faster than
    building a sparse graph per step, and it runs on a whole stack of steps at once.
    """
    allied = ties == 2
    n = ties.shape[-1]
    labels = np.broadcast_to(np.arange(n), ties.shape[:-1]).copy()
    if not allied.any():
        return labels
    if n <= CLOSURE_MAX:
        # small worlds: transitive closure by repeated squaring, a few batched matrix products;
        # the first state each one reaches is the smallest index of its component
        reach = allied.astype(np.float32) + np.eye(n, dtype=np.float32)
        for _ in range(int(np.ceil(np.log2(n)))):
            reach = np.minimum(reach @ reach, 1.0)
        return (reach > 0).argmax(axis=-1)
    while True:
        neighbour_min = np.where(allied, labels[..., None, :], n).min(axis=-1)
        new = np.minimum(labels, neighbour_min)
        new = np.take_along_axis(new, new, axis=-1)  # follow labels to their own label
        if np.array_equal(new, labels):
            return labels
        labels = new


def bloc_sizes(labels: np.ndarray) -> np.ndarray:
    """(..., N) labels -> (..., N) size of the bloc with that label (0 for unused labels)."""
    n = labels.shape[-1]
    flat = labels.reshape(-1, n)
    offs = (np.arange(flat.shape[0]) * n)[:, None]
    counts = np.bincount((flat + offs).ravel(), minlength=flat.size)
    return counts.reshape(labels.shape)


SYSTEM_COLUMNS: tuple[str, ...] = (
    "n_alliances",
    "n_friendships",
    "n_blocs",
    "largest_bloc",
    "share_aligned",
    "share_non_aligned",
    "share_one_camp",
    "share_isolated",
    "turnover",
)


def system_metrics(ties: np.ndarray, statuses: np.ndarray, turnover: np.ndarray) -> np.ndarray:
    """(T, N, N) ties, (T, N) statuses, (T,) turnover -> (T, len(SYSTEM_COLUMNS))."""
    n = ties.shape[-1]
    allied = ties == 2
    n_all = allied.sum(axis=(-2, -1)) // 2
    n_fr = (ties == 1).sum(axis=(-2, -1)) // 2
    # alliances often stay put from one step to the next: measure blocs only where they changed
    flat = allied.reshape(len(ties), -1)
    changed = np.ones(len(ties), dtype=bool)
    changed[1:] = (flat[1:] != flat[:-1]).any(axis=1)
    distinct = bloc_sizes(blocs(np.where(allied[changed], 2, 0)))
    sizes = distinct[np.cumsum(changed) - 1]
    n_blocs = (sizes >= 2).sum(axis=-1)
    largest = np.where(n_blocs > 0, sizes.max(axis=-1), 0)
    shares = [(statuses == k).sum(axis=-1) / n for k in range(len(STATUSES))]
    return np.column_stack([n_all, n_fr, n_blocs, largest, *shares, turnover]).astype(float)
