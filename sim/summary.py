"""Statistics over replications: shares with Wilson intervals, counterfactual differences.

Why Wilson: shares near 0 or 1 are common here (a state that almost always hedges), where the
normal-approximation interval overshoots [0, 1]; scipy's ``binomtest(...).proportion_ci`` gives the
Wilson score interval directly.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.stats import binomtest

from sim.metrics import NON_ALIGNED, STATUSES, THRESHOLDS
from sim.recording import RunRecord
from sim.world import World

Z95 = 1.959963984540054


def wilson(k: int, n: int) -> tuple[float, float]:
    """95% Wilson score interval for k successes in n trials."""
    if n == 0:
        return (math.nan, math.nan)
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=0.95, method="wilson")
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


@dataclass
class FocalOutcome:
    """What happened to one focal state in one condition, over its replications."""

    condition: str
    state: str
    name: str
    n: int
    counts: dict[str, int]
    friends: Counter[str]
    allies: Counter[str]
    window: dict[str, float]  # status -> mean share of the verdict window's steps
    window_steps: int  # steps in the verdict window
    by_threshold: dict[float, int]  # rival threshold -> runs non-aligned at the last step
    allied_up: int  # runs ending allied with a stronger state
    alignment: float  # mean alignment index at the last step

    def share(self, status: str) -> float:
        return self.counts[status] / self.n if self.n else math.nan

    def interval(self, status: str) -> tuple[float, float]:
        return wilson(self.counts[status], self.n)

    def threshold_range(self) -> tuple[float, float]:
        """Lowest and highest non-aligned share over the rival thresholds of THRESHOLDS."""
        shares = [k / self.n for k in self.by_threshold.values()]
        return min(shares), max(shares)

    def row(self) -> dict[str, object]:
        out: dict[str, object] = {
            "condition": self.condition,
            "state": self.state,
            "name": self.name,
            "n": self.n,
        }
        for s in STATUSES:
            lo, hi = self.interval(s)
            out[f"k_{s}"] = self.counts[s]
            out[f"share_{s}"] = self.share(s)
            out[f"lo_{s}"] = lo
            out[f"hi_{s}"] = hi
        for s in STATUSES:
            out[f"window_{s}"] = self.window[s]
        for th, k in self.by_threshold.items():
            out[f"non_aligned_at_{th:g}"] = k / self.n
        out["allied_with_stronger"] = self.allied_up / self.n
        out["alignment_index"] = self.alignment
        return out


def focal_outcomes(
    world: World, condition: str, records: Sequence[RunRecord], states: Sequence[int]
) -> list[FocalOutcome]:
    """Final status counts, window shares, threshold stability and partners of focal states."""
    out = []
    for i in states:
        final = np.array([r.status[-1, i] for r in records], dtype=int)
        counts = {s: int((final == k).sum()) for k, s in enumerate(STATUSES)}
        friends: Counter[str] = Counter()
        allies: Counter[str] = Counter()
        for r in records:
            row = r.final_ties[i]
            friends.update(world.ids[j] for j in np.flatnonzero(row == 1))
            allies.update(world.ids[j] for j in np.flatnonzero(row == 2))
        main = THRESHOLDS.index(min(THRESHOLDS, key=lambda t: abs(t - 0.5)))
        win = np.stack([r.window_status[main, :, i] for r in records]) if records else None
        window = {
            s: float((win == k).mean()) if win is not None else math.nan
            for k, s in enumerate(STATUSES)
        }
        by_threshold = {
            th: int(sum(r.window_status[k, -1, i] == NON_ALIGNED for r in records))
            for k, th in enumerate(THRESHOLDS)
        }
        up = sum(bool(r.allied_up[-1, i]) for r in records)
        align = float(np.mean([r.alignment[-1, i] for r in records])) if records else math.nan
        out.append(
            FocalOutcome(
                condition,
                world.ids[i],
                world.names[i],
                len(records),
                counts,
                friends,
                allies,
                window,
                int(win.shape[1]) if win is not None else 0,
                by_threshold,
                up,
                align,
            )
        )
    return out


def pct(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{100 * x:5.1f}%"


def _partners(counter: Counter[str], n: int, k: int = 6) -> str:
    items = [f"{sid} {100 * c / n:.0f}%" for sid, c in counter.most_common(k)]
    return ", ".join(items) if items else "none"


def alliances_elsewhere(
    world: World, records: Sequence[RunRecord], focal: Sequence[int]
) -> tuple[float, Counter[str]]:
    """Share of runs with an alliance between two non-focal states, and how often each such
    pair is allied at the end."""
    f = set(focal)
    pairs: Counter[str] = Counter()
    with_any = 0
    for r in records:
        a, b = np.nonzero(np.triu(r.final_ties == 2, 1))
        found = False
        for x, y in zip(a.tolist(), b.tolist(), strict=True):
            if x in f or y in f:
                continue
            pairs[f"{world.ids[x]}-{world.ids[y]}"] += 1
            found = True
        with_any += found
    return (with_any / len(records) if records else math.nan), pairs


def verdict(o: FocalOutcome) -> str:
    """The one-line answer to the user's question for one state, with its robustness: the share
    over the last steps and over the range of rival thresholds."""
    lo, hi = o.interval("non_aligned")
    share = o.share("non_aligned")
    word = "emerges" if lo > 0.5 else ("does not emerge" if hi < 0.5 else "is undecided")
    t_lo, t_hi = o.threshold_range()
    same = all(
        ("emerges" if s > 0.5 else "does not emerge")
        == ("emerges" if share > 0.5 else "does not emerge")
        for s in (t_lo, t_hi)
    )
    return (
        f"{o.name}: non-alignment {word}: non-aligned at the last step in {100 * share:.0f}% "
        f"[{100 * lo:.0f}-{100 * hi:.0f}%] of {o.n} runs, in {100 * o.window['non_aligned']:.0f}% "
        f"of the last {o.window_steps} steps; at rival thresholds "
        f"{THRESHOLDS[0]:g}-{THRESHOLDS[-1]:g}: {100 * t_lo:.0f}-{100 * t_hi:.0f}% "
        f"({'stable' if same else 'the verdict depends on the threshold'})"
    )


def format_summary(
    world: World,
    results: Mapping[str, Sequence[RunRecord]],
    outcomes: Mapping[str, list[FocalOutcome]],
    factors: Mapping[str, tuple[str, ...]],
    header: str,
) -> str:
    """Readable text: per focal state its outcome, partners, verdict and counterfactual table."""
    lines = [header, ""]
    base = outcomes["baseline"]
    for o in base:
        lines.append(f"{o.name} ({o.state}), baseline, {o.n} runs — status at the last step:")
        for s in STATUSES:
            lo, hi = o.interval(s)
            lines.append(f"  {s:<12} {pct(o.share(s))}  [{pct(lo)} – {pct(hi)}]")
        lines.append(f"  friends: {_partners(o.friends, o.n)}")
        lines.append(f"  allies:  {_partners(o.allies, o.n)}")
        lo, hi = wilson(o.allied_up, o.n)
        lines.append(
            f"  allied with a stronger state (a great-power alliance, Morrow's junior partner): "
            f"{pct(o.allied_up / o.n).strip()} [{pct(lo).strip()} – {pct(hi).strip()}]"
        )
        lines.append(
            f"  mean alignment index {o.alignment:.2f} (0: no alliance; 1: allied, all partners "
            "in one camp)"
        )
        lines.append("  " + verdict(o))
        lines.append("")
    share, pairs = alliances_elsewhere(world, results["baseline"], world.focal)
    lines.append(
        f"Alliances between non-focal states exist at the end of {pct(share).strip()} of "
        f"baseline runs; most frequent: {_partners(pairs, len(results['baseline']), 6)}"
    )
    if len(outcomes) > 1:
        lines += [
            "",
            "Counterfactuals: share non-aligned (difference to baseline, 95% interval), share "
            "aligned, share allied with a stronger state",
        ]
        for k, o in enumerate(base):
            lines.append(f"  {o.name}:")
            lines.append(
                f"    {'condition':<34} {'non-aligned':>11}  {'[95% CI]':>17}  "
                f"{'difference':>10}  {'[95% CI]':>17}  {'aligned':>7}  {'stronger':>8}"
            )
            for label, outs in outcomes.items():
                c = outs[k]
                kn = c.counts["non_aligned"]
                lo, hi = c.interval("non_aligned")
                row = f"    {label:<34} {pct(c.share('non_aligned')):>11}  [{pct(lo)}–{pct(hi)}]"
                if label != "baseline":
                    d, dlo, dhi = newcombe_difference(kn, c.n, o.counts["non_aligned"], o.n)
                    row += f"  {100 * d:+9.1f}  [{100 * dlo:+6.1f} – {100 * dhi:+6.1f}]"
                else:
                    row += " " * 31
                row += f"  {pct(c.share('aligned')):>7}  {pct(c.allied_up / c.n):>8}"
                lines.append(row)
            lines.append("    partners at the end (share of runs with a friendship / an alliance):")
            for label, outs in outcomes.items():
                c = outs[k]
                lines.append(
                    f"    {label:<34} friends {_partners(c.friends, c.n, 4)}; "
                    f"allies {_partners(c.allies, c.n, 3)}"
                )
            off = {lab: f for lab, f in factors.items() if len(f) > 1}
            for lab, f in off.items():
                lines.append(f"    ({lab} switches off: {', '.join(f)})")
    return "\n".join(lines)
