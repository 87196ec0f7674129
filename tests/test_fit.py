"""Fit metrics and baselines (sim.validation.fit) on constructed cases with known answers."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pandas as pd
import pytest

from sim.validation import fit


def _pairwise_auc(s: np.ndarray, y: np.ndarray) -> float:
    """The definition, pair by pair: the reference the rank formula must match."""
    pos, neg = s[y == 1], s[y == 0]
    wins = sum(1.0 if a > b else 0.5 if a == b else 0.0 for a, b in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


def test_auc_known_answers() -> None:
    y = np.array([0, 0, 1, 1])
    assert fit.auc([0.1, 0.2, 0.8, 0.9], y) == 1.0  # perfect ranking
    assert fit.auc([0.9, 0.8, 0.2, 0.1], y) == 0.0  # reversed
    assert fit.auc([0.5, 0.5, 0.5, 0.5], y) == 0.5  # all ties
    # positives {0.35, 0.8} vs negatives {0.1, 0.4}: 3 of 4 pairs ordered right.
    assert fit.auc([0.1, 0.4, 0.35, 0.8], y) == 0.75
    # one positive-negative tie counts one half: (1 + 0.5) / 2
    assert fit.auc([0.2, 0.5, 0.5], [0, 0, 1]) == 0.75


def test_auc_matches_pairwise_definition_with_ties() -> None:
    rng = np.random.default_rng(np.random.SeedSequence(5))
    for _ in range(20):
        n = int(rng.integers(2, 40))
        s = rng.integers(0, 5, size=n) / 4  # coarse scores: many ties
        y = rng.integers(0, 2, size=n)
        if y.min() == y.max():
            continue
        assert fit.auc(s, y) == pytest.approx(_pairwise_auc(s, y))


def test_auc_rejects_one_class() -> None:
    with pytest.raises(ValueError, match="needs both tied and untied dyads; got 0 tied"):
        fit.auc([0.1, 0.2], [0, 0])
    with pytest.raises(ValueError, match="0/1"):
        fit.auc([0.1, 0.2], [0, 2])


def test_brier_known_answers() -> None:
    y = np.array([0, 1, 1, 0, 1])
    assert fit.brier(np.full(5, 0.5), y) == 0.25
    assert fit.brier(y.astype(float), y) == 0.0
    assert fit.brier(1.0 - y, y) == 1.0
    assert fit.brier([0.2, 0.7, 0.9, 0.0, 0.4], y) == pytest.approx(
        (0.04 + 0.09 + 0.01 + 0.0 + 0.36) / 5
    )
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        fit.brier([1.2, 0.0], [1, 0])


def test_tie_share_threshold_and_expected() -> None:
    prob = [0.9, 0.5, 0.2, 0.7, 0.1]
    y = [1, 1, 1, 0, 0]
    share, expected = fit.tie_share(prob, y)
    assert share == pytest.approx(2 / 3)  # 0.9 and 0.5 reach the threshold
    assert expected == pytest.approx((0.9 + 0.5 + 0.2) / 3)
    s = fit.score(prob, y)
    assert (s.n, s.ties) == (5, 3)
    assert s.auc == pytest.approx(_pairwise_auc(np.array(prob), np.array(y)))


def _logit_data(n: int, beta: np.ndarray, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    X = pd.DataFrame(
        {
            "power_ratio": rng.uniform(0, 1, n),
            "rivalry": rng.binomial(1, 0.2, n).astype(float),
            "affinity": rng.normal(0, 1, n),
            "prior_tie": rng.binomial(1, 0.3, n).astype(float),
        }
    )
    z = beta[0] + X.to_numpy() @ beta[1:]
    y = rng.binomial(1, 1 / (1 + np.exp(-z)))
    return X, y


def test_logit_recovers_known_coefficients() -> None:
    # Data from a known logit; with n = 20,000 each estimate is within 4 of its standard
    # errors (which shrink as 1/sqrt(n)) of the truth; a wrong fit would miss by many.
    beta = np.array([-1.5, 0.8, -1.2, 0.6, 2.0])
    X, y = _logit_data(20_000, beta, seed=1)
    f = fit.fit_logit(X, y)
    assert not f.penalized and f.features == fit.DYADIC_FEATURES
    assert f.bse is not None
    assert np.all(np.abs(f.params - beta) < 4 * f.bse)
    assert np.all(f.bse < 0.1)  # and the tolerance is tight at this n


def test_logistic_baseline_fits_on_one_set_and_scores_another() -> None:
    beta = np.array([-1.5, 0.8, -1.2, 0.6, 2.0])
    train_X, train_y = _logit_data(5_000, beta, seed=2)
    test_X, test_y = _logit_data(5_000, beta, seed=3)
    f, s = fit.logistic_baseline(train_X, train_y, test_X, test_y)
    assert not f.penalized and f.n == 5_000
    truth = 1 / (1 + np.exp(-(beta[0] + test_X.to_numpy() @ beta[1:])))
    best = fit.score(truth, test_y)
    # Out of sample, the fitted baseline is as good as the true model up to noise.
    assert abs(s.auc - best.auc) < 0.01
    assert abs(s.brier - best.brier) < 0.005
    assert s.auc > 0.7


def test_logit_perfect_separation_uses_l2_penalty() -> None:
    X = pd.DataFrame({"prior_tie": [0, 0, 0, 0, 1, 1, 1, 1.0], "rivalry": [0, 1, 0, 1, 0, 1, 1, 0]})
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])  # prior_tie predicts every tie exactly
    f = fit.fit_logit(X, y, ["prior_tie", "rivalry"])
    assert f.penalized and "separation" in f.note and "L2" in f.note
    assert np.isfinite(f.params).all()
    p = f.predict(X)
    assert fit.auc(p, y) == 1.0  # still ranks every tie above every non-tie
    assert f.params[1] > 0


def test_logit_degenerate_inputs() -> None:
    X = pd.DataFrame({"power_ratio": [0.1, 0.5, 0.9, 0.3], "prior_tie": [0.0] * 4})
    with pytest.raises(ValueError, match="every dyad is untied"):
        fit.fit_logit(X, [0, 0, 0, 0])
    with pytest.raises(ValueError, match="missing feature columns"):
        fit.fit_logit(X, [0, 1, 0, 1], ["affinity"])
    # A constant column (no prior ties in a world built without them) is dropped, not fatal.
    beta = np.array([-0.5, 1.0, 0.0, 0.0, 0.0])
    Xr, yr = _logit_data(2_000, beta, seed=4)
    Xr["prior_tie"] = 0.0
    f = fit.fit_logit(Xr, yr)
    assert f.dropped == ("prior_tie",) and "prior_tie" not in f.features
    assert len(f.predict(Xr)) == 2_000


def test_persistence_baseline() -> None:
    prev = [1, 0, 1, 0, 1]
    cur = [1, 1, 0, 0, 1]
    p = fit.persistence(prev, cur)
    assert p.accuracy == pytest.approx(3 / 5)
    assert (p.formed, p.ended) == (1, 1)
    # prev as a 0/1 probability: ties {1: prev 1, 1: prev 0, 1: prev 1} vs non-ties {1, 0}
    assert p.scores.auc == pytest.approx(_pairwise_auc(np.array(prev, float), np.array(cur)))
    assert p.scores.brier == pytest.approx(2 / 5)
    assert math.isclose(p.scores.share_at_half, 2 / 3)
