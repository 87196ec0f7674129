"""Outcome measures on stacks of recorded steps (sim.model.metrics): the large-world path that
multiplies only the rows that changed since the step before must give exactly the product of
every row, and the measures built on it exactly what each step gives alone."""

from __future__ import annotations

import numpy as np
import pytest

from sim.model import metrics


def _stack(n: int, steps: int, seed: int) -> np.ndarray:
    """Tie matrices that change a few rows at a time, as a run's recorded steps do."""
    rng = np.random.default_rng(seed)
    ties = rng.integers(0, 3, (n, n))
    ties = np.triu(ties, 1) + np.triu(ties, 1).T
    out = [ties.copy()]
    for _ in range(steps - 1):
        if rng.random() < 0.6:  # some steps change nothing
            i, j = rng.integers(0, n, 2)
            if i != j:
                ties[i, j] = ties[j, i] = rng.integers(0, 3)
        out.append(ties.copy())
    return np.stack(out)


@pytest.mark.parametrize("n", [70, 130])
def test_rows_times_of_changed_rows_equals_the_full_product(n: int) -> None:
    rng = np.random.default_rng(n)
    stack = _stack(n, 40, seed=n)
    R = np.where(rng.random((n, n)) < 0.05, rng.random((n, n)), 0.0)
    assert n >= metrics.SPARSE_STEPS_MIN_STATES
    for x, m in ((metrics.TIE_WEIGHT[stack], R), ((stack == 1).astype(np.float32), R > 0.5)):
        m = m.astype(x.dtype)
        full = (x.reshape(-1, n) @ m).reshape(x.shape)
        assert np.array_equal(metrics._rows_times(x, m), full)
    # and every measure of the stack is each step's measure alone
    hedge = metrics.hedging_index(stack, R)
    status = metrics.status(stack, R > 0.5)
    for t in (0, 17, 39):
        assert np.array_equal(hedge[t], metrics.hedging_index(stack[t], R))
        assert np.array_equal(status[t], metrics.status(stack[t], R > 0.5))
