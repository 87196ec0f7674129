"""The counterfactual forest: a state's share of runs in each status, per condition, against the
baseline.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.experiments.stats import wilson
from sim.plots.style import (
    GREY,
    OKABE_ITO,
    STATUS_COLOURS,
    _filter,
    _new_figure,
    _root,
    _styled,
    condition_label,
)

# -------------------------------------------------------------------------------- counterfactuals


@_styled
def plot_counterfactuals(
    summary: pd.DataFrame,
    state: str | None = None,
    *,
    status: str = "non_aligned",
    name: str | None = None,
    baseline: str = "baseline",
    ax: Axes | None = None,
) -> Figure:
    """Forest plot: the focal state's share of runs in ``status`` with 95% intervals per condition.

    ``status``: a final status, or ``allied_stronger`` (ending allied with a stronger state).

    Why a forest plot: a counterfactual claim ("without historical distrust Iran allies") is a
    difference between shares measured with error; intervals next to a line at the baseline share
    let the reader judge which switched-off factor moves the outcome beyond noise. Rows are the
    baseline (top) then the conditions in table order. ``state`` may be omitted when the summary
    holds one state.
    """
    if state is None:
        present = sorted(map(str, pd.unique(summary["state"])))
        if len(present) != 1:
            raise ValueError(f"summary holds several states {present}: pass state=")
        state = present[0]
    df = _filter(summary, "summary table", state=state)
    if status == "allied_stronger" and "allied_with_stronger" in df.columns:
        # summary.csv keeps the share; its Wilson interval follows from the share and n
        k = (df["allied_with_stronger"] * df["n"]).round().astype(int)
        ci = [wilson(int(a), int(b)) for a, b in zip(k, df["n"], strict=True)]
        df = df.assign(
            share_allied_stronger=df["allied_with_stronger"],
            lo_allied_stronger=[c[0] for c in ci],
            hi_allied_stronger=[c[1] for c in ci],
        )
    cols = [f"share_{status}", f"lo_{status}", f"hi_{status}"]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"summary table lacks {missing}")
    conds = [str(c) for c in df["condition"]]
    if len(set(conds)) != len(conds):
        raise ValueError(f"summary has duplicate conditions for {state}: {conds}")
    first = [i for i, c in enumerate(conds) if c == baseline]
    rows = df.iloc[first + [i for i, c in enumerate(conds) if c != baseline]]
    share = rows[cols[0]].to_numpy(dtype=float)
    lo = rows[cols[1]].to_numpy(dtype=float)
    hi = rows[cols[2]].to_numpy(dtype=float)
    labels = [condition_label(str(c)) for c in rows["condition"]]
    is_base = (rows["condition"].astype(str) == baseline).to_numpy()
    y = np.arange(len(rows))
    if name is None:
        name = str(rows["name"].iloc[0]) if "name" in rows.columns else state

    own = ax is None
    if ax is None:
        fig = _new_figure(6.8, 1.6 + 0.38 * len(rows))
        ax = fig.subplots()
    else:
        fig = _root(ax)
    xerr = np.vstack([np.clip(share - lo, 0, None), np.clip(hi - share, 0, None)])
    for mask, colour, marker, label in (
        (is_base, OKABE_ITO["black"], "D", "baseline"),
        (
            ~is_base,
            STATUS_COLOURS.get(status, OKABE_ITO["vermillion"]),
            "o",
            "one factor (or group) switched off",
        ),
    ):
        if mask.any():
            ax.errorbar(
                share[mask],
                y[mask],
                xerr=xerr[:, mask],
                fmt=marker,
                color=colour,
                markersize=6,
                capsize=3,
                elinewidth=1.5,
                label=label,
            )
    if is_base.any():
        ax.axvline(
            share[is_base][0],
            color=GREY,
            linestyle=":",
            linewidth=1.2,
            zorder=0,
            label=f"baseline share ({share[is_base][0]:.0%})",
        )
    if {"k_" + status, "n"} <= set(rows.columns):
        k = rows[f"k_{status}"].to_numpy()
        n = rows["n"].to_numpy()
        for yi, ki, ni in zip(y, k, n, strict=True):
            ax.annotate(
                f"{int(ki)}/{int(ni)}",
                xy=(1.0, yi),
                xycoords=("axes fraction", "data"),
                xytext=(4, 0),
                textcoords="offset points",
                va="center",
                fontsize=7,
                color="#444444",
            )
    ax.set_yticks(y, labels)
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"share of replications ending {status.replace('_', '-')} (95% Wilson interval)")
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
    ax.set_axisbelow(True)
    if own:
        fig.legend(loc="outside lower center", ncols=3)
    else:
        ax.legend(loc="best")
    ax.set_title(f"{name}: counterfactuals — share {status.replace('_', '-')}")
    return fig
