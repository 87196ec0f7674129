"""Shares of replications and their intervals: the statistics every report uses.

Why Wilson: shares near 0 or 1 are common here (a state that almost always hedges), where the
normal-approximation interval overshoots [0, 1] and under-covers; scipy's
``binomtest(...).proportion_ci(method="wilson")`` gives the Wilson score interval directly.
"""

from __future__ import annotations

import math

from scipy.stats import binomtest


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of ``k`` successes in ``n`` trials (NaN, NaN when ``n`` is 0)."""
    if n <= 0:
        return (math.nan, math.nan)
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def newcombe_difference(k1: int, n1: int, k0: int, n0: int) -> tuple[float, float, float]:
    """Difference p1 - p0 with Newcombe's hybrid Wilson interval (his method 10).

    Counterfactuals reuse the baseline's seeds, so the two shares are positively correlated and
    this unpaired interval is conservative: a difference it calls significant is.
    """
    p1, p0 = k1 / n1, k0 / n0
    l1, u1 = wilson(k1, n1)
    l0, u0 = wilson(k0, n0)
    d = p1 - p0
    return d, d - math.hypot(p1 - l1, u0 - p0), d + math.hypot(u1 - p1, p0 - l0)
