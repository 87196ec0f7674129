"""Fit metrics for scoring simulated ties against observed ones, and the two peer baselines.

Why this module: issue 11 scores hedgesim on data it was not fitted to, against a simple
statistical model as the peer to beat. These are pure functions of arrays (no model, no run
directory), so each can be checked on a constructed case with a known answer:

- :func:`auc`: probability that a random tied dyad gets a higher score than a random untied one
  (Mann-Whitney form, ties counted half), i.e. how well the simulated alliance probability ranks
  the dyads that really were allied;
- :func:`brier`: mean squared error of the probability, which also punishes miscalibration;
- :func:`tie_share`: the share of target ties the simulation reproduces, at a 0.5 threshold and
  as the expected share (mean probability over the true ties);
- :func:`fit_logit` / :func:`logistic_baseline`: the peer, a logistic regression on the same
  dyadic inputs (power ratio, rivalry, affinity, prior tie), fitted on one set and scored on
  another (statsmodels, which the project also uses for exact McNemar tests, Holm correction
  and Wilson intervals);
- :func:`persistence`: the baseline for change, "next period's ties = this period's".
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy.stats import rankdata

__all__ = [
    "DYADIC_FEATURES",
    "FitScores",
    "LogitFit",
    "auc",
    "brier",
    "fit_logit",
    "logistic_baseline",
    "persistence",
    "score",
    "tie_share",
]

# The inputs the issue names for the peer baseline, in the order a dyad table should give them.
DYADIC_FEATURES: tuple[str, ...] = ("power_ratio", "rivalry", "affinity", "prior_tie")

# L2 penalty (statsmodels elastic-net ``alpha``, per observation) used when the plain maximum-
# likelihood fit does not exist (perfect separation) or does not converge. With this scale the
# penalty acts like a Gaussian prior of variance 1 / (n * alpha) on each slope: it keeps the
# coefficients finite while barely moving a fit that exists.
SEPARATION_L2 = 0.01


def _binary(labels: ArrayLike, name: str = "labels") -> np.ndarray:
    y = np.asarray(labels)
    if y.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {y.shape}")
    if not np.isin(y, (0, 1)).all():
        raise ValueError(f"{name} must be 0/1 (no tie / tie)")
    return y.astype(bool)


def _probabilities(prob: ArrayLike, n: int) -> np.ndarray:
    p = np.asarray(prob, dtype=float)
    if p.shape != (n,):
        raise ValueError(f"probabilities have shape {p.shape}, labels have ({n},)")
    if not np.isfinite(p).all():
        raise ValueError("probabilities must be finite numbers")
    return p


def auc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve: P(score of a random positive > score of a random negative),
    counting equal scores as one half (the Mann-Whitney U statistic over n_pos * n_neg).

    Raises ``ValueError`` when all labels are equal: the AUC is then undefined, and reporting 0.5
    would hide that the period had nothing to discriminate.
    """
    y = _binary(labels)
    s = _probabilities(scores, len(y))
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise ValueError(f"AUC needs both tied and untied dyads; got {n_pos} tied, {n_neg} untied")
    ranks = rankdata(s)  # average ranks: a tie between a positive and a negative counts 1/2
    u = ranks[y].sum() - n_pos * (n_pos + 1) / 2
    return float(u / (n_pos * n_neg))


def brier(prob: ArrayLike, labels: ArrayLike) -> float:
    """Mean squared difference between the probability of a tie and the 0/1 outcome."""
    y = _binary(labels)
    p = _probabilities(prob, len(y))
    if len(y) == 0:
        raise ValueError("no dyads to score")
    if ((p < 0) | (p > 1)).any():
        raise ValueError("probabilities must lie in [0, 1]")
    return float(np.mean((p - y) ** 2))


def tie_share(prob: ArrayLike, labels: ArrayLike, threshold: float = 0.5) -> tuple[float, float]:
    """Share of the target ties reproduced: ``(share with prob >= threshold, mean prob)`` over
    the dyads whose label is 1. Why both: the thresholded share is what a reader of a single
    forecast sees; the expected share does not jump when a probability crosses 0.5."""
    y = _binary(labels)
    p = _probabilities(prob, len(y))
    if not y.any():
        raise ValueError("no target ties to reproduce")
    hit = p[y]
    return float(np.mean(hit >= threshold)), float(np.mean(hit))


@dataclass(frozen=True)
class FitScores:
    """The per-period scores that ``hedgesim fit`` reports for one predictor."""

    n: int
    ties: int
    auc: float
    brier: float
    share_at_half: float
    expected_share: float


def score(prob: ArrayLike, labels: ArrayLike) -> FitScores:
    """All the metrics for one predictor on one period (AUC is NaN if all labels are equal)."""
    y = _binary(labels)
    p = _probabilities(prob, len(y))
    try:
        a = auc(p, y)
    except ValueError:
        a = float("nan")
    share, expected = tie_share(p, y) if y.any() else (float("nan"), float("nan"))
    return FitScores(len(y), int(y.sum()), a, brier(p, y), share, expected)


@dataclass(frozen=True)
class LogitFit:
    """A fitted logistic baseline: ``P(tie) = 1 / (1 + exp(-(params[0] + X @ params[1:])))``.

    ``penalized`` is true when the plain maximum-likelihood fit did not exist (perfect or
    quasi-perfect separation) or did not converge and the L2-penalised fit was used instead;
    ``note`` says why. ``dropped`` lists constant feature columns that were left out (e.g.
    ``prior_tie`` in a world built with no initial ties): they carry no information and would
    make the design singular.
    """

    features: tuple[str, ...]
    params: np.ndarray
    bse: np.ndarray | None
    penalized: bool
    note: str
    n: int
    dropped: tuple[str, ...] = ()

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        """P(tie) for each row of ``X`` (which must have the fitted feature columns)."""
        missing = [f for f in self.features if f not in X.columns]
        if missing:
            raise ValueError(f"missing feature columns {missing}; the fit used {self.features}")
        z = self.params[0] + X[list(self.features)].to_numpy(dtype=float) @ self.params[1:]
        return 1.0 / (1.0 + np.exp(-z))


def fit_logit(
    X: pd.DataFrame, y: ArrayLike, features: Sequence[str] | None = None, l2: float = 0.0
) -> LogitFit:
    """Fit the logistic baseline by maximum likelihood (statsmodels ``Logit``).

    If the MLE does not exist (perfect separation: e.g. ``prior_tie`` predicts every tie) or the
    optimiser does not converge, refit with a small L2 penalty on the slopes
    (``SEPARATION_L2``, intercept unpenalised) and say so in ``note``; pass ``l2 > 0`` to always
    use the penalised fit. Degenerate inputs (one class only, no rows, non-finite values)
    raise ``ValueError`` with the reason.
    """
    import statsmodels.api as sm
    from statsmodels.tools.sm_exceptions import (
        ConvergenceWarning,
        PerfectSeparationError,
        PerfectSeparationWarning,
    )

    cols = list(features) if features is not None else list(X.columns)
    missing = [f for f in cols if f not in X.columns]
    if missing:
        raise ValueError(f"missing feature columns {missing}")
    yy = _binary(y).astype(float)
    if len(yy) != len(X):
        raise ValueError(f"{len(X)} rows of features but {len(yy)} labels")
    if len(yy) == 0:
        raise ValueError("no dyads to fit")
    if yy.min() == yy.max():
        kind = "tied" if yy[0] else "untied"
        raise ValueError(f"every dyad is {kind}: a logistic baseline needs both outcomes")
    values = X[cols].to_numpy(dtype=float)
    if not np.isfinite(values).all():
        raise ValueError("feature values must be finite numbers")
    constant = [c for c, col in zip(cols, values.T, strict=True) if np.ptp(col) == 0]
    keep = [c for c in cols if c not in constant]
    design = sm.add_constant(X[keep].to_numpy(dtype=float), has_constant="add")
    note = ""
    if l2 <= 0:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("error", PerfectSeparationWarning)
                warnings.simplefilter("error", ConvergenceWarning)
                res = sm.Logit(yy, design).fit(disp=0, maxiter=200)
            if not res.mle_retvals.get("converged", True):
                raise ConvergenceWarning("did not converge")
            return LogitFit(
                tuple(keep), np.asarray(res.params), np.asarray(res.bse), False, "", len(yy),
                tuple(constant),
            )  # fmt: skip
        except (PerfectSeparationWarning, PerfectSeparationError) as exc:
            note = f"perfect separation ({exc}); "
        except (ConvergenceWarning, np.linalg.LinAlgError) as exc:
            note = f"maximum likelihood failed ({exc}); "
        l2 = SEPARATION_L2
    alpha = np.full(design.shape[1], l2)
    alpha[0] = 0.0  # never shrink the intercept: it carries the base rate of ties
    glm = sm.GLM(yy, design, family=sm.families.Binomial())
    res = glm.fit_regularized(alpha=alpha, L1_wt=0.0)
    note += f"L2-penalised fit, alpha={l2:g} per observation on the slopes"
    return LogitFit(tuple(keep), np.asarray(res.params), None, True, note, len(yy), tuple(constant))


def logistic_baseline(
    train_X: pd.DataFrame,
    train_y: ArrayLike,
    test_X: pd.DataFrame,
    test_y: ArrayLike,
    features: Sequence[str] = DYADIC_FEATURES,
) -> tuple[LogitFit, FitScores]:
    """Fit on one set (a training year or span), score on another (a held-out year)."""
    fit = fit_logit(train_X, train_y, features)
    return fit, score(fit.predict(test_X), test_y)


@dataclass(frozen=True)
class Persistence:
    """How "next period's ties = this period's" does: ``scores`` treats the old tie (0/1) as
    the probability; ``accuracy`` is the share of dyads whose state it gets right; ``formed``
    and ``ended`` count the changes it misses by construction."""

    scores: FitScores
    accuracy: float
    formed: int
    ended: int


def persistence(previous: ArrayLike, current: ArrayLike) -> Persistence:
    """Score the persistence baseline on one transition between two periods."""
    prev = _binary(previous, "previous ties")
    cur = _binary(current, "current ties")
    if prev.shape != cur.shape:
        raise ValueError(f"previous has {prev.size} dyads, current {cur.size}")
    return Persistence(
        score(prev.astype(float), cur),
        float(np.mean(prev == cur)),
        int((~prev & cur).sum()),
        int((prev & ~cur).sum()),
    )
