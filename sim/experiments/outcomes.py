"""What a run found: each focal state's outcome per condition, its verdict, and the text report.

Two steps, one source: :func:`outcome_rows` measures the records once (status shares with Wilson
intervals, the verdict window, the rival thresholds, alliances with stronger states, the alignment
index) into the rows of ``summary.csv``; :func:`summary_text` writes the report from those rows
and the ``ties`` table alone, so a run just finished and a run loaded from disk print the same
report (``summary.txt``, ``sim.load(DIR).summary()``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments.stats import newcombe_difference, wilson
from sim.model.metrics import NON_ALIGNED, STATUSES, THRESHOLDS
from sim.model.recording import RunRecord

MAIN_THRESHOLD = THRESHOLDS.index(min(THRESHOLDS, key=lambda t: abs(t - 0.5)))


def outcome_rows(
    ids: Sequence[str],
    names: Sequence[str],
    condition: str,
    records: Sequence[RunRecord],
    states: Sequence[int],
) -> list[dict[str, Any]]:
    """One row per state in ``states`` (indices): counts and shares of each final status with
    their Wilson intervals, the mean share over the verdict window, the non-aligned share at each
    rival threshold, the share allied with a stronger state, the mean alignment index."""
    out = []
    n = len(records)
    for i in states:
        final = np.array([r.status[-1, i] for r in records], dtype=int)
        row: dict[str, Any] = {"condition": condition, "state": ids[i], "name": names[i], "n": n}
        for k, s in enumerate(STATUSES):
            c = int((final == k).sum())
            lo, hi = wilson(c, n)
            row[f"k_{s}"] = c
            row[f"share_{s}"] = c / n if n else math.nan
            row[f"lo_{s}"] = lo
            row[f"hi_{s}"] = hi
        win = np.stack([r.window_status[MAIN_THRESHOLD, :, i] for r in records]) if n else None
        for k, s in enumerate(STATUSES):
            row[f"window_{s}"] = float((win == k).mean()) if win is not None else math.nan
        for k, th in enumerate(THRESHOLDS):
            hits = int(sum(r.window_status[k, -1, i] == NON_ALIGNED for r in records))
            row[f"non_aligned_at_{th:g}"] = hits / n
        row["allied_with_stronger"] = sum(bool(r.allied_up[-1, i]) for r in records) / n
        row["alignment_index"] = (
            float(np.mean([r.alignment[-1, i] for r in records])) if n else math.nan
        )
        out.append(row)
    return out


# ------------------------------------------------------------------------------------------------
# Verdicts
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Verdict:
    """Does non-alignment emerge for a state? The answer with its robustness.

    ``word`` is *emerges* when the Wilson lower bound of the non-aligned share at the last step
    exceeds 0.5, *does not emerge* when the upper bound is below 0.5, else *is undecided*;
    ``window`` the share over the last ``window_steps`` steps; ``at_thresholds`` the lowest and
    highest share over the rival thresholds 0.4-0.6 (``stable`` when the verdict is the same at
    both ends); ``allied_stronger`` the share of runs ending allied with a stronger state.
    """

    state: str
    name: str
    condition: str
    n: int
    word: str
    share: float
    interval: tuple[float, float]
    window: float
    window_steps: int
    at_thresholds: tuple[float, float]
    stable: bool
    allied_stronger: float

    @property
    def emerges(self) -> bool:
        return self.word == "emerges"

    def __str__(self) -> str:
        lo, hi = self.interval
        t_lo, t_hi = self.at_thresholds
        return (
            f"{self.name}: non-alignment {self.word}: non-aligned at the last step in "
            f"{100 * self.share:.0f}% [{100 * lo:.0f}-{100 * hi:.0f}%] of {self.n} runs, in "
            f"{100 * self.window:.0f}% of the last {self.window_steps} steps; at rival "
            f"thresholds {THRESHOLDS[0]:g}-{THRESHOLDS[-1]:g}: {100 * t_lo:.0f}-{100 * t_hi:.0f}% "
            f"({'stable' if self.stable else 'the verdict depends on the threshold'})"
        )


def verdict(row: Mapping[str, Any], window_steps: int) -> Verdict:
    """The verdict of one row of :func:`outcome_rows` (one state, one condition)."""
    n = int(row["n"])
    share = row["k_non_aligned"] / n
    lo, hi = wilson(int(row["k_non_aligned"]), n)
    word = "emerges" if lo > 0.5 else ("does not emerge" if hi < 0.5 else "is undecided")
    shares = [float(row[f"non_aligned_at_{th:g}"]) for th in THRESHOLDS]
    t_lo, t_hi = min(shares), max(shares)

    def side(s: float) -> bool:
        return s > 0.5

    return Verdict(
        state=str(row["state"]),
        name=str(row["name"]),
        condition=str(row["condition"]),
        n=n,
        word=word,
        share=share,
        interval=(lo, hi),
        window=float(row["window_non_aligned"]),
        window_steps=window_steps,
        at_thresholds=(t_lo, t_hi),
        stable=side(t_lo) == side(share) and side(t_hi) == side(share),
        allied_stronger=float(row["allied_with_stronger"]),
    )


# ------------------------------------------------------------------------------------------------
# The text report
# ------------------------------------------------------------------------------------------------


def pct(x: float) -> str:
    return "  n/a" if math.isnan(x) else f"{100 * x:5.1f}%"


def _partners(items: list[tuple[str, int]], n: int, k: int = 6) -> str:
    shown = [f"{sid} {100 * c / n:.0f}%" for sid, c in items[:k]]
    return ", ".join(shown) if shown else "none"


def _most_common(key: pd.DataFrame, label: pd.Series) -> list[tuple[str, int]]:
    """Counts of ``label`` per key (one per replication), most frequent first; ties in the order
    of first appearance (``collections.Counter.most_common``'s order)."""
    if key.empty:
        return []
    df = pd.DataFrame({"rep": key["replication"].to_numpy(), "order": key["order"].to_numpy()})
    df["label"] = label.to_numpy()
    g = df.groupby("label", sort=False).agg(count=("rep", "size"), first=("rep", "min"))
    first_order = df.sort_values(["rep", "order"]).drop_duplicates("label").set_index("label")
    g["order"] = first_order["order"].reindex(g.index)
    g = g.sort_values(["count", "first", "order"], ascending=[False, True, True], kind="stable")
    return [(str(i), int(c)) for i, c in zip(g.index, g["count"], strict=True)]


def partners(
    ties: pd.DataFrame, ids: Sequence[str], condition: str, state: str, level: str
) -> list[tuple[str, int]]:
    """``state``'s partners at ``level`` at the end of ``condition``'s runs: (id, runs)."""
    a, b = ties["a"].astype(str), ties["b"].astype(str)
    sel = (ties["condition"].astype(str) == condition) & (ties["level"].astype(str) == level)
    sel &= (a == state) | (b == state)
    sub = ties[sel]
    other = np.where(a[sel] == state, b[sel], a[sel])
    index = {sid: k for k, sid in enumerate(ids)}
    key = pd.DataFrame(
        {"replication": sub["replication"].to_numpy(), "order": [index[o] for o in other]}
    )
    return _most_common(key, pd.Series(other))


def alliances_elsewhere(
    ties: pd.DataFrame, ids: Sequence[str], focal: Sequence[str], n: int
) -> tuple[float, list[tuple[str, int]]]:
    """Share of baseline runs with an alliance between two non-focal states, and how often each
    such pair is allied at the end."""
    a, b = ties["a"].astype(str), ties["b"].astype(str)
    f = set(focal)
    sel = (ties["condition"].astype(str) == "baseline") & (ties["level"].astype(str) == "alliance")
    sel &= ~a.isin(f) & ~b.isin(f)
    sub = ties[sel]
    index = {sid: k for k, sid in enumerate(ids)}
    order = [index[x] * len(ids) + index[y] for x, y in zip(a[sel], b[sel], strict=True)]
    key = pd.DataFrame({"replication": sub["replication"].to_numpy(), "order": order})
    pairs = _most_common(key, pd.Series([f"{x}-{y}" for x, y in zip(a[sel], b[sel], strict=True)]))
    share = sub["replication"].nunique() / n if n else math.nan
    return share, pairs


def summary_text(
    outcomes: pd.DataFrame,
    ties: pd.DataFrame,
    meta: Mapping[str, Any],
    window_steps: int,
) -> str:
    """The report of a run: per focal state its outcome, partners and verdict, and, with
    counterfactuals, a table of their differences to the baseline.

    Args:
        outcomes: the rows of :func:`outcome_rows` (``summary.csv``).
        ties: the final ties of every run (the ``ties`` table).
        meta: run.json's content (scenario, seeds, conditions, the world's ids).
        window_steps: the recorded steps in the verdict window.
    """
    ids = list(meta["world"]["ids"])
    focal = list(meta["world"]["focal"])
    header = (
        f"Scenario {meta['scenario']} ({meta['scenario_hash']}): {meta['replications']} "
        f"replications x {meta['steps']} steps, seed {meta['seed']}, "
        f"{len(meta['conditions'])} condition(s), {meta['workers']} worker(s), "
        f"{meta['elapsed_seconds']:.1f} s"
    )
    lines = [header, ""]
    rows = {c: g.reset_index(drop=True) for c, g in outcomes.groupby("condition", sort=False)}
    base = rows["baseline"]
    for _, o in base.iterrows():
        n, sid = int(o["n"]), str(o["state"])
        lines.append(f"{o['name']} ({sid}), baseline, {n} runs — status at the last step:")
        for s in STATUSES:
            lines.append(
                f"  {s:<12} {pct(o[f'share_{s}'])}  [{pct(o[f'lo_{s}'])} – {pct(o[f'hi_{s}'])}]"
            )
        lines.append(
            f"  friends: {_partners(partners(ties, ids, 'baseline', sid, 'friendship'), n)}"
        )
        lines.append(f"  allies:  {_partners(partners(ties, ids, 'baseline', sid, 'alliance'), n)}")
        up = round(o["allied_with_stronger"] * n)
        lo, hi = wilson(up, n)
        lines.append(
            f"  allied with a stronger state (a great-power alliance, Morrow's junior partner): "
            f"{pct(up / n).strip()} [{pct(lo).strip()} – {pct(hi).strip()}]"
        )
        lines.append(
            f"  mean alignment index {o['alignment_index']:.2f} (0: no alliance; 1: allied, all "
            "partners in one camp)"
        )
        lines.append("  " + str(verdict(o, window_steps)))
        lines.append("")
    n_base = int(meta["replications"])
    share, pairs = alliances_elsewhere(ties, ids, focal, n_base)
    lines.append(
        f"Alliances between non-focal states exist at the end of {pct(share).strip()} of "
        f"baseline runs; most frequent: {_partners(pairs, n_base, 6)}"
    )
    if len(rows) > 1:
        lines += [
            "",
            "Counterfactuals: share non-aligned (difference to baseline, 95% interval), share "
            "aligned, share allied with a stronger state",
        ]
        factors = {c["label"]: tuple(c["switched_off"]) for c in meta["conditions"]}
        for k, o in base.iterrows():
            lines.append(f"  {o['name']}:")
            lines.append(
                f"    {'condition':<34} {'non-aligned':>11}  {'[95% CI]':>17}  "
                f"{'difference':>10}  {'[95% CI]':>17}  {'aligned':>7}  {'stronger':>8}"
            )
            for label, g in rows.items():
                c = g.iloc[k]
                kn, n = int(c["k_non_aligned"]), int(c["n"])
                lo, hi = wilson(kn, n)
                row = f"    {label:<34} {pct(kn / n):>11}  [{pct(lo)}–{pct(hi)}]"
                if label != "baseline":
                    d, dlo, dhi = newcombe_difference(kn, n, int(o["k_non_aligned"]), int(o["n"]))
                    row += f"  {100 * d:+9.1f}  [{100 * dlo:+6.1f} – {100 * dhi:+6.1f}]"
                else:
                    row += " " * 31
                row += f"  {pct(c['share_aligned']):>7}  {pct(c['allied_with_stronger']):>8}"
                lines.append(row)
            lines.append("    partners at the end (share of runs with a friendship / an alliance):")
            sid = str(o["state"])
            for label, g in rows.items():
                n = int(g.iloc[k]["n"])
                fr = partners(ties, ids, label, sid, "friendship")
                al = partners(ties, ids, label, sid, "alliance")
                lines.append(
                    f"    {label:<34} friends {_partners(fr, n, 4)}; allies {_partners(al, n, 3)}"
                )
            for lab, f in factors.items():
                if len(f) > 1:
                    lines.append(f"    ({lab} switches off: {', '.join(f)})")
    return "\n".join(lines)
