"""The alignment timeline of one state: status shares over time, and its tie counts."""

from __future__ import annotations

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.model.metrics import STATUSES
from sim.plots.style import (
    LEVEL_STYLE,
    STATUS_COLOURS,
    STATUS_LABELS,
    _filter,
    _new_figure,
    _root,
    _styled,
    condition_label,
)

# ------------------------------------------------------------------------------ alignment timeline


@_styled
def plot_timeline(
    states: pd.DataFrame,
    state: str,
    *,
    condition: str = "baseline",
    name: str | None = None,
    show_ties: bool | None = None,
    ax: Axes | None = None,
    ties_ax: Axes | None = None,
) -> Figure:
    """Share of replications in which ``state`` is in each status at each step (stacked areas).

    Why shares of replications: the model is stochastic, so the finding is a distribution over
    seeded runs, not one trajectory. With ``show_ties`` the state's alliance and friendship counts
    are drawn too (mean line and 10-90% band across replications): the status alone hides whether
    a state is non-aligned with two friends or with ten.

    ``show_ties`` defaults to True when this function makes the figure (a second panel) or when
    ``ties_ax`` is given, and to False when only ``ax`` is given; ``show_ties=True`` with only
    ``ax`` draws the counts on a twin y-axis.
    """
    df = _filter(states, "states table", condition=condition, state=state)
    status = df["status"].astype(str)
    unknown = sorted(set(status) - set(STATUSES))
    if unknown:
        raise ValueError(f"unknown status values {unknown}; expected {list(STATUSES)}")
    counts = pd.crosstab(df["step"].to_numpy(), status.to_numpy()).reindex(
        columns=list(STATUSES), fill_value=0
    )
    counts = counts.sort_index()
    n_per_step = counts.sum(axis=1)
    shares = counts.div(n_per_step, axis=0)
    steps = shares.index.to_numpy()
    name = name or state
    # tables of a scenario with a calendar carry each step's date: the time axis shows dates
    dated = "date" in df.columns
    when = df.groupby("step")["date"].first() if dated else None
    xlabel = "date" if dated else "step"

    def x_of(s: np.ndarray) -> np.ndarray:
        if when is None:
            return s
        return pd.to_datetime(when.reindex(s)).to_numpy()

    if show_ties is None:
        show_ties = ax is None or ties_ax is not None
    own_panels = ax is None and show_ties
    twin = False
    if ax is None:
        fig = _new_figure(7.5, 5.6 if show_ties else 3.6)
        if show_ties:
            ax, ties_ax = fig.subplots(2, 1, sharex=True, height_ratios=[3, 2])
        else:
            ax = fig.subplots()
    else:
        fig = _root(ax)
        if show_ties and ties_ax is None:
            ties_ax, twin = ax.twinx(), True
            ties_ax.spines["right"].set_visible(True)

    ax.stackplot(
        x_of(steps),
        *(shares[s].to_numpy() for s in STATUSES),
        labels=[STATUS_LABELS[s] for s in STATUSES],
        colors=[STATUS_COLOURS[s] for s in STATUSES],
        edgecolor="white",
        linewidth=0.3,
    )
    ax.set_ylim(0, 1)
    if len(steps) > 1:
        ax.set_xlim(x_of(steps)[0], x_of(steps)[-1])
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of replications")
    ax.set_xlabel(xlabel)
    handles, labels = ax.get_legend_handles_labels()
    # Legend top-to-bottom in the same order as the stack reads top-to-bottom.
    ax.legend(
        handles[::-1], labels[::-1], loc="upper left", bbox_to_anchor=(1.01, 1.0), title="status"
    )
    lo, hi = int(n_per_step.min()), int(n_per_step.max())
    n_text = f"n = {hi}" if lo == hi else f"n = {lo}–{hi}"
    ax.set_title(
        f"{name}: alignment status over time — {condition_label(condition)}, {n_text} replications"
    )

    if show_ties and ties_ax is not None:
        grouped = df.groupby("step")[["n_alliances", "n_friendships"]]
        mean = grouped.mean().sort_index()
        q10 = grouped.quantile(0.10).sort_index()
        q90 = grouped.quantile(0.90).sort_index()
        x = x_of(mean.index.to_numpy())
        for col, level in (("n_alliances", "alliance"), ("n_friendships", "friendship")):
            style = LEVEL_STYLE[level]
            ties_ax.fill_between(
                x,
                q10[col].to_numpy(),
                q90[col].to_numpy(),
                facecolor=mpl.colors.to_rgba(style["color"], 0.15),
                edgecolor=mpl.colors.to_rgba(style["color"], 0.7),
                linestyle=style["linestyle"],
                linewidth=0.7,
                label=f"{level}s, 10–90% of replications",
            )
            ties_ax.plot(
                x,
                mean[col].to_numpy(),
                color=style["color"],
                linestyle=style["linestyle"],
                linewidth=1.8,
                label=f"{level}s, mean",
            )
        ties_ax.set_ylabel(f"ties of {name}")
        ties_ax.set_ylim(bottom=0)
        ties_ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        anchor = (1.12, 0.45) if twin else (1.01, 1.0)
        ties_ax.legend(loc="upper left", bbox_to_anchor=anchor)
        if own_panels:
            ax.set_xlabel("")
            ax.tick_params(labelbottom=False)
            ties_ax.set_xlabel(xlabel)
    return fig
