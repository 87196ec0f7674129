"""Outcome measures computed from a tie matrix: pure functions, no model, no I/O.

Why separate: what we *measure* must not leak into what agents *do*; keeping the measures here lets
the decision rule change without touching them and lets tests check them on hand-made matrices.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import connected_components

STATUSES: tuple[str, ...] = ("aligned", "non_aligned", "one_camp", "isolated")
ALIGNED, NON_ALIGNED, ONE_CAMP, ISOLATED = range(4)


def status(ties: np.ndarray, rival: np.ndarray) -> np.ndarray:
    """Alignment status code per state (see docs/DATA.md).

    ``rival`` is the boolean matrix of pairs counted as rival camps. A state is non-aligned when it
    has no alliance and two of its friends are rivals of each other: its friendships reach two
    competing camps.
    """
    friends = (ties == 1).astype(np.int32)
    allied = (ties == 2).any(axis=1)
    spans = ((friends @ rival.astype(np.int32)) * friends).any(axis=1)
    out = np.full(ties.shape[0], ISOLATED, dtype=np.int8)
    out[friends.any(axis=1)] = ONE_CAMP
    out[spans] = NON_ALIGNED
    out[allied] = ALIGNED
    return out


def hedging_index(ties: np.ndarray, rivalry: np.ndarray) -> np.ndarray:
    """How evenly a state's ties spread across rival camps, in [0, 1].

    With tie weights ``t`` (friendship 0.5, alliance 1) the index is ``t' R t / (sum(t)^2 - t't)``:
    the weighted share of pairs of partners that are rivals. 0 when all partners are at peace with
    each other (or there are fewer than two), 1 when every pair of partners are full rivals.
    """
    t = np.where(ties == 2, 1.0, np.where(ties == 1, 0.5, 0.0))
    num = np.einsum("ik,kl,il->i", t, rivalry, t)
    tot = t.sum(axis=1)
    den = tot**2 - (t**2).sum(axis=1)
    return np.divide(num, den, out=np.zeros_like(num), where=den > 0)


def blocs(ties: np.ndarray) -> np.ndarray:
    """Component label per state in the alliance graph (singletons get their own label)."""
    _, labels = connected_components(csr_array(ties == 2), directed=False)
    return labels


def system_row(ties: np.ndarray, statuses: np.ndarray, previous: np.ndarray | None) -> list[float]:
    """System metrics for one step, in the order of SYSTEM_COLUMNS."""
    n = ties.shape[0]
    upper = np.triu(ties, 1)
    labels = blocs(ties)
    sizes = np.bincount(labels)
    counts = np.bincount(statuses, minlength=4) / n
    turnover = 0 if previous is None else int((np.triu(previous, 1) != upper).sum())
    return [
        int((upper == 2).sum()),
        int((upper == 1).sum()),
        int((sizes >= 2).sum()),
        int(sizes.max()) if (sizes >= 2).any() else 0,
        *counts.tolist(),
        turnover,
    ]


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
