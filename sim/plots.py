"""Figures of hedgesim results, drawn from the tidy tables of docs/DATA.md.

Why this module is fussy: a figure is a finding someone may put in a paper or a briefing, so it must
be right and legible, not merely produced. Every function therefore

- takes result tables (``sim.results.read`` DataFrames or a run's ``run.json`` ``world`` dict), computes
  the plotted quantity itself from the raw rows (so the figure and the numbers cannot disagree),
- accepts an optional ``ax`` to draw into and returns the (root) ``Figure``,
- touches no global state: new figures are ``matplotlib.figure.Figure`` objects, never
  pyplot-managed (nothing to close, nothing leaks between calls), and the style is applied inside
  ``matplotlib.rc_context``, which restores ``rcParams`` on exit,
- uses one colour-blind-safe palette (Okabe & Ito 2008) and redundant encodings (alliance = solid,
  friendship = dashed) so no distinction rests on hue alone, and labels states by name.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure, SubFigure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator, PercentFormatter

from sim.results.atomic import atomic_path

__all__ = [
    "LEVEL_STYLE",
    "OKABE_ITO",
    "STATUSES",
    "STATUS_COLOURS",
    "alignment_timeline",
    "camp_coordinate",
    "camp_layout",
    "camp_order",
    "condition_label",
    "counterfactual_forest",
    "partner_matrix",
    "phase_diagram",
    "plot_counterfactuals",
    "plot_network",
    "plot_partners",
    "plot_phase",
    "plot_sensitivity",
    "plot_timeline",
    "save",
    "sensitivity_bars",
    "sensitivity_table",
    "tie_network",
    "tie_shares",
]

# --------------------------------------------------------------------------------------- style

OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}
GREY = "#999999"

#: Status order, bottom to top of a stack: binding ties first, no ties last (see docs/DATA.md).
STATUSES: tuple[str, ...] = ("aligned", "non_aligned", "one_camp", "isolated")
STATUS_COLOURS: dict[str, str] = {
    "aligned": OKABE_ITO["blue"],
    "non_aligned": OKABE_ITO["orange"],
    "one_camp": OKABE_ITO["sky_blue"],
    "isolated": "#BBBBBB",
}
STATUS_LABELS: dict[str, str] = {
    "aligned": "aligned (has an alliance)",
    "non_aligned": "non-aligned (friends in rival camps)",
    "one_camp": "one camp (friends in one camp only)",
    "isolated": "isolated (no ties)",
}
#: Alliance and friendship differ in colour *and* line style, everywhere.
LEVEL_STYLE: dict[str, dict[str, Any]] = {
    "alliance": {"color": OKABE_ITO["blue"], "linestyle": "-"},
    "friendship": {"color": OKABE_ITO["bluish_green"], "linestyle": "--"},
}
_LEVELS = ("alliance", "friendship")

# Sequential ColorBrewer maps in each level's hue, for shares in [0, 1] (white = never).
_LEVEL_CMAPS = {"alliance": mpl.colormaps["Blues"], "friendship": mpl.colormaps["Greens"]}
# Diverging purple (minority non-aligned) -> white (50%) -> orange (majority), orange = non-aligned.
_PHASE_CMAP = mpl.colormaps["PuOr_r"]

_RC: dict[str, Any] = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.prop_cycle": cycler(
        color=[
            OKABE_ITO[k]
            for k in (
                "blue",
                "orange",
                "bluish_green",
                "vermillion",
                "sky_blue",
                "reddish_purple",
                "yellow",
                "black",
            )
        ]
    ),
    "image.cmap": "cividis",
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    # Reproducible, editable vector output: stable SVG ids, TrueType (not Type 3) fonts in PDF.
    "svg.hashsalt": "hedgesim",
    "pdf.fonttype": 42,
    "ps.fonttype": 42,
    # Names are data, not markup: a state called "A $^^$ B" is drawn as written, never parsed as
    # mathtext (which fails at drawing time on anything that is not valid TeX).
    "text.parse_math": False,
}


def _styled[**P](fn: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw inside the house style; rc_context restores every rcParam afterwards."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with mpl.rc_context(_RC):
            return fn(*args, **kwargs)

    return wrapper


def _root(ax: Axes) -> Figure:
    """The top-level Figure of ``ax`` (which may sit in a SubFigure)."""
    fig: Any = ax.figure
    while isinstance(fig, SubFigure):
        fig = fig.figure
    if not isinstance(fig, Figure):  # pragma: no cover - an Axes always has a figure
        raise ValueError("ax is not attached to a figure")
    return fig


def _new_figure(width: float, height: float) -> Figure:
    """A figure that pyplot does not know about: nothing to close, nothing to leak."""
    return Figure(figsize=(width, height), layout="constrained")


def condition_label(condition: str) -> str:
    """Readable condition label: ``-historical_distrust+partner_hedging`` -> ``without ...``."""
    if condition.startswith("-"):
        parts = [p.replace("_", " ") for p in condition[1:].split("+") if p]
        return "without " + " + ".join(parts)
    return condition.replace("_", " ")


def _names(world: Mapping[str, Any] | None) -> dict[str, str]:
    if not world:
        return {}
    return dict(zip(world["ids"], world.get("names") or world["ids"], strict=True))


def _ink(dark: bool) -> str:
    """Annotation colour that stays legible on the cell behind it."""
    return "white" if dark else "black"


def _filter(df: pd.DataFrame, what: str, **eq: Any) -> pd.DataFrame:
    """Rows where every column equals the given value; a clear error naming what exists."""
    mask = np.ones(len(df), dtype=bool)
    for col, val in eq.items():
        if col not in df.columns:
            raise ValueError(f"{what}: no column {col!r} (columns: {list(df.columns)})")
        col_values = df[col].astype(str) if isinstance(val, str) else df[col]
        hit = (col_values == val).to_numpy()
        if not (mask & hit).any():
            have = sorted(map(str, pd.unique(df.loc[mask, col])))
            raise ValueError(f"{what}: no rows with {col} = {val!r} (available: {have})")
        mask &= hit
    return df.loc[mask]


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
        steps,
        *(shares[s].to_numpy() for s in STATUSES),
        labels=[STATUS_LABELS[s] for s in STATUSES],
        colors=[STATUS_COLOURS[s] for s in STATUSES],
        edgecolor="white",
        linewidth=0.3,
    )
    ax.set_ylim(0, 1)
    if len(steps) > 1:
        ax.set_xlim(steps.min(), steps.max())
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylabel("share of replications")
    ax.set_xlabel("step")
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
        x = mean.index.to_numpy()
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
            ties_ax.set_xlabel("step")
    return fig


# ----------------------------------------------------------------------------------- tie network


def camp_coordinate(rivalry: Any) -> np.ndarray:
    """One number per state that separates rival camps: negative one side, positive the other.

    Why this eigenvector: with hostility ``-R`` as a signed network, structural balance (Marvel,
    Kleinberg, Kleinberg & Strogatz 2011) splits it into two factions by the sign pattern of its
    leading eigenvector, i.e. the eigenvector of ``R``'s most negative eigenvalue. States with no
    rivalry get 0 (the middle). The sign is fixed so that the state with the largest magnitude (the
    first in scenario order on a tie) is negative, which makes the result deterministic.
    """
    r = np.asarray(rivalry, dtype=float)
    if r.ndim != 2 or r.shape[0] != r.shape[1]:
        raise ValueError(f"rivalry must be a square matrix, got shape {r.shape}")
    r = (r + r.T) / 2.0
    np.fill_diagonal(r, 0.0)
    n = r.shape[0]
    if n == 0 or not r.any():
        return np.zeros(n)
    _, vecs = np.linalg.eigh(r)
    x = vecs[:, 0].copy()
    x[np.abs(x) < 1e-9] = 0.0
    k = int(np.argmax(np.round(np.abs(x), 9)))
    if x[k] > 0:
        x = -x
    return x + 0.0  # no negative zeros


def camp_order(rivalry: Any) -> np.ndarray:
    """State indices sorted along the camp coordinate (scenario order breaks ties)."""
    x = np.round(camp_coordinate(rivalry), 9)
    return np.lexsort((np.arange(len(x)), x))


def camp_layout(rivalry: Any) -> np.ndarray:
    """Fixed positions on the unit circle, one camp on the left, its rivals on the right.

    Why a circle: no edge (a chord) can pass through a node, so ties stay readable; why ordered by
    camp: the camps appear as two sides and a state bridging them sits between them, at the top or
    bottom. Evenly spaced slots are sorted left to right (top first) and given to states in
    :func:`camp_order`. Returns an ``(N, 2)`` array; the same rivalry always gives the same layout.
    """
    order = camp_order(rivalry)
    n = len(order)
    theta = np.pi / 2 + 2 * np.pi * (np.arange(n) + 0.5) / n
    slots = np.column_stack([np.cos(theta), np.sin(theta)])
    slot_order = np.lexsort((-np.round(slots[:, 1], 9), np.round(slots[:, 0], 9)))
    pos = np.empty((n, 2))
    pos[order] = slots[slot_order]
    return pos


def tie_shares(
    ties: pd.DataFrame,
    ids: Sequence[str],
    *,
    condition: str = "baseline",
    replication: int | None = None,
    n_replications: int | None = None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Symmetric ``(alliance, friendship)`` share matrices over replications, and their count.

    ``ties`` holds only ties that exist (level > 0), so a replication that ended with no tie at all
    has no row: pass ``n_replications`` (``run.json``'s ``replications``) or the shares are computed
    over the replications that appear, and are too high.
    """
    index = {sid: i for i, sid in enumerate(ids)}
    n = len(ids)
    t = ties[ties["condition"].astype(str) == condition]
    if replication is not None:
        t = t[t["replication"] == replication]
        n_rep = 1
    else:
        n_rep = int(n_replications) if n_replications is not None else t["replication"].nunique()
    unknown = sorted((set(map(str, t["a"])) | set(map(str, t["b"]))) - set(index))
    if unknown:
        raise ValueError(f"ties name states not in the world: {unknown}")
    out = {}
    for level in _LEVELS:
        rows = t[t["level"].astype(str) == level]
        m = np.zeros((n, n))
        a = rows["a"].astype(str).map(index).to_numpy(dtype=int)
        b = rows["b"].astype(str).map(index).to_numpy(dtype=int)
        np.add.at(m, (a, b), 1.0)
        m = m + m.T
        out[level] = m / n_rep if n_rep else m
    if n_rep and (out["alliance"] + out["friendship"]).max(initial=0) > 1 + 1e-9:
        raise ValueError(
            f"a pair has more ties than the {n_rep} replications counted; "
            "pass n_replications (run.json 'replications') or check for duplicate rows"
        )
    return out["alliance"], out["friendship"], n_rep


def _segments(pos: np.ndarray, pairs: np.ndarray, offset: np.ndarray) -> np.ndarray:
    """Chords for index pairs, each shifted sideways by its ``offset`` (two levels side by side)."""
    p = pos[pairs[:, 0]]
    q = pos[pairs[:, 1]]
    d = q - p
    normal = np.column_stack([-d[:, 1], d[:, 0]])
    length = np.linalg.norm(normal, axis=1, keepdims=True)
    normal = np.divide(normal, length, out=np.zeros_like(normal), where=length > 0)
    shift = offset[:, None] * normal
    return np.stack([p + shift, q + shift], axis=1)


@_styled
def plot_network(
    ties: pd.DataFrame,
    world: Mapping[str, Any],
    *,
    condition: str = "baseline",
    replication: int | None = None,
    n_replications: int | None = None,
    min_share: float = 0.05,
    both: bool = False,
    pos: np.ndarray | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Final ties on a fixed camp layout: alliances solid and thick, friendships dashed.

    With ``replication`` the ties of that one run; otherwise ties aggregated over replications:
    each pair's line width and opacity grow with the share of runs ending with that tie, pairs
    under ``min_share`` are left out. By default each pair shows its dominant level (alliance on a
    tie); ``both=True`` draws both levels side by side. Node area grows with power; focal states
    have bold labels. ``pos`` (``(N, 2)``) overrides :func:`camp_layout` to match another figure.
    """
    ids = [str(i) for i in world["ids"]]
    names = _names(world)
    n = len(ids)
    power = np.asarray(world.get("power", np.ones(n)), dtype=float)
    focal = set(map(str, world.get("focal", ())))
    pos = camp_layout(world["rivalry"]) if pos is None else np.asarray(pos, dtype=float)
    if pos.shape != (n, 2):
        raise ValueError(f"pos must have shape ({n}, 2), got {pos.shape}")
    ally, friend, n_rep = tie_shares(
        ties, ids, condition=condition, replication=replication, n_replications=n_replications
    )

    if ax is None:
        fig = _new_figure(7.0, 6.4)
        ax = fig.subplots()
    else:
        fig = _root(ax)

    iu = np.triu_indices(n, 1)
    shares = {"alliance": ally[iu], "friendship": friend[iu]}
    pairs = np.column_stack(iu)
    keep: dict[str, np.ndarray] = {}
    threshold = max(min_share, 1e-12) if replication is None else 0.5
    for level in _LEVELS:
        keep[level] = shares[level] >= threshold
    if not both:
        dominant_ally = shares["alliance"] >= shares["friendship"]
        keep["alliance"] &= dominant_ally
        keep["friendship"] &= ~dominant_ally
    drawn_both = keep["alliance"] & keep["friendship"]
    width = {"alliance": (1.2, 3.0), "friendship": (0.8, 1.7)}
    for level in _LEVELS:
        sel = keep[level]
        s = shares[level][sel]
        offset = np.where(drawn_both[sel], 0.012 if level == "alliance" else -0.012, 0.0)
        segs = _segments(pos, pairs[sel], offset)
        colour = np.array(mpl.colors.to_rgba(LEVEL_STYLE[level]["color"]))
        rgba = np.tile(colour, (len(s), 1))
        rgba[:, 3] = 0.2 + 0.8 * s
        lc = LineCollection(
            list(segs),
            colors=rgba,
            linewidths=width[level][0] + width[level][1] * s,
            linestyles=LEVEL_STYLE[level]["linestyle"],
            capstyle="round",
            zorder=1 if level == "friendship" else 2,
            label=level,
        )
        lc.set_gid(level)
        ax.add_collection(lc)

    # Marker area grows with power, with a floor so the weakest state stays visible; the largest
    # marker shrinks with N so that neighbours on the circle (2π/N apart) do not overlap.
    unit_pt = 146.0  # points per data unit in the default figure
    s_max = min(1400.0, (0.8 * 2 * np.pi * unit_pt / max(n, 1)) ** 2)
    rel = power / power.max() if n and power.max() > 0 else np.ones(n)
    size = s_max * (0.06 + 0.94 * rel)
    edge = ["#000000" if sid in focal else "#555555" for sid in ids]
    sc = ax.scatter(
        pos[:, 0],
        pos[:, 1],
        s=size,
        c="#F2F2F2",
        edgecolors=edge,
        linewidths=[2.0 if sid in focal else 0.8 for sid in ids],
        zorder=3,
    )
    sc.set_gid("states")
    fontsize = float(np.clip(220 / max(n, 1), 5, 9))
    for i, sid in enumerate(ids):
        x, y = pos[i]
        r = 1.05 + math.sqrt(size[i]) / 2 / unit_pt
        ha = "right" if x < -0.2 else "left" if x > 0.2 else "center"
        va = "top" if y < -0.2 else "bottom" if y > 0.2 else "center"
        ax.text(
            r * x,
            r * y,
            names.get(sid, sid),
            ha=ha,
            va=va,
            fontsize=fontsize,
            fontweight="bold" if sid in focal else "normal",
            zorder=4,
        )
    ax.set_aspect("equal")
    ax.set_xlim(-1.55, 1.55)
    ax.set_ylim(-1.35, 1.35)
    ax.set_axis_off()

    legend = [
        Line2D([], [], linewidth=3.5, **LEVEL_STYLE["alliance"], label="alliance"),
        Line2D([], [], linewidth=1.8, **LEVEL_STYLE["friendship"], label="friendship"),
        Line2D(
            [],
            [],
            linestyle="",
            marker="o",
            markersize=9,
            markerfacecolor="#F2F2F2",
            markeredgecolor="#555555",
            label="state (area ∝ power)",
        ),
    ]
    if focal:
        legend.append(
            Line2D(
                [],
                [],
                linestyle="",
                marker="o",
                markersize=9,
                markerfacecolor="#F2F2F2",
                markeredgecolor="#000000",
                markeredgewidth=2.0,
                label="focal state",
            )
        )
    ax.legend(handles=legend, loc="lower center", bbox_to_anchor=(0.5, -0.06), ncols=len(legend))
    if replication is not None:
        what = f"final ties in replication {replication}"
    else:
        what = (
            f"final ties over {n_rep} replications (width and opacity = share of runs"
            f"{'' if both else ', dominant level'}, ≥ {min_share:.0%})"
        )
    ax.set_title(f"Tie network — {condition_label(condition)}\n{what}")
    return fig


# -------------------------------------------------------------------------------- partner matrix


@_styled
def plot_partners(
    ties: pd.DataFrame,
    world: Mapping[str, Any],
    *,
    condition: str = "baseline",
    n_replications: int | None = None,
    annotate: bool | None = None,
    order: Sequence[str] | None = None,
    ax: Axes | None = None,
) -> Figure:
    """How often each pair ends allied (upper triangle) and friendly (lower triangle).

    Why one matrix: the same pair's two shares sit mirror-images across the diagonal, so a reader
    sees at once whether a partnership is usually binding or usually loose. States are ordered by
    rival camp (:func:`camp_order`) so camps show as blocks; ``order`` (ids) overrides. Values are
    written in the cells when ``annotate`` (default: up to 20 states).
    """
    ids = [str(i) for i in world["ids"]]
    names = _names(world)
    ally, friend, n_rep = tie_shares(ties, ids, condition=condition, n_replications=n_replications)
    n = len(ids)
    if order is None:
        idx = camp_order(world["rivalry"])
    else:
        pos_of = {sid: i for i, sid in enumerate(ids)}
        missing = [s for s in order if s not in pos_of]
        if missing or len(order) != n:
            raise ValueError(f"order must list every state once (unknown: {missing})")
        idx = np.array([pos_of[s] for s in order])
    ally = ally[np.ix_(idx, idx)]
    friend = friend[np.ix_(idx, idx)]
    labels = [names.get(ids[i], ids[i]) for i in idx]

    if ax is None:
        side = min(max(4.5, 0.45 * n + 2.5), 16.0)
        fig = _new_figure(side + 1.6, side)
        ax = fig.subplots()
    else:
        fig = _root(ax)
    upper = np.triu(np.ones((n, n), dtype=bool), 1)
    lower = upper.T
    images = {}
    for level, mat, mask in (("alliance", ally, upper), ("friendship", friend, lower)):
        data = np.ma.masked_array(mat, mask=~mask)
        im = ax.imshow(data, cmap=_LEVEL_CMAPS[level], vmin=0.0, vmax=1.0, interpolation="nearest")
        im.set_gid(level)
        images[level] = im
    diag = np.ma.masked_array(np.zeros((n, n)), mask=~np.eye(n, dtype=bool))
    ax.imshow(diag, cmap=ListedColormap(["#E0E0E0"]), interpolation="nearest")
    for level, where in (("alliance", "upper triangle"), ("friendship", "lower triangle")):
        cb = fig.colorbar(
            images[level], ax=ax, shrink=0.7, pad=0.02, fraction=0.05, format=PercentFormatter(1.0)
        )
        cb.set_label(f"{level} share ({where})")
    if annotate is None:
        annotate = n <= 20
    if annotate:
        for i in range(n):
            for j in range(n):
                if i == j:
                    continue
                v = ally[i, j] if j > i else friend[i, j]
                ax.text(
                    j,
                    i,
                    f"{v:.0%}",
                    ha="center",
                    va="center",
                    fontsize=float(np.clip(90 / max(n, 1), 5, 8)),
                    color=_ink(v > 0.55),
                )
    ax.set_xticks(range(n), labels, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(n), labels)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_xlabel("partner")
    ax.set_ylabel("state")
    ax.set_title(
        f"Partner matrix — {condition_label(condition)}, {n_rep} replications\n"
        "upper triangle: share of runs ending allied; lower: ending as friends"
    )
    return fig


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


# ------------------------------------------------------------------------ sweep phase diagram


def _fmt(value: Any) -> str:
    """A parameter value for a label: floats to 4 significant digits (Morris/Sobol levels are
    thirds and the like, and 0.33333333333333337 helps no reader)."""
    if isinstance(value, float | np.floating):
        return f"{float(value):.4g}"
    return str(value)


@dataclass(frozen=True)
class _PhaseAxis:
    """A swept parameter mapped to cells: a key per run, cell centres and edges."""

    key: pd.Series
    centres: np.ndarray
    edges: np.ndarray
    ticklabels: list[str] | None = None  # None: automatic ticks
    binned: bool = False


def _phase_axis(values: pd.Series, max_levels: int, bins: int) -> _PhaseAxis:
    """Cells for one swept parameter.

    A grid design keeps its values (cell edges half-way between them); a sampled design with more
    than ``max_levels`` distinct values is binned into ``bins`` equal-width bins; a non-numeric
    parameter is placed at integer positions labelled by its values.
    """
    if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        cats = sorted(pd.unique(values.astype(str)))
        key = values.astype(str).map({c: i for i, c in enumerate(cats)}).astype(float)
        return _PhaseAxis(
            key, np.arange(len(cats), dtype=float), np.arange(len(cats) + 1) - 0.5, cats
        )
    v = values.astype(float)
    uniq = np.unique(v.dropna().to_numpy())
    if len(uniq) > max_levels:
        edges = np.linspace(uniq[0], uniq[-1], bins + 1)
        which = np.clip(np.searchsorted(edges, v.to_numpy(), side="right") - 1, 0, bins - 1)
        centres = (edges[:-1] + edges[1:]) / 2
        return _PhaseAxis(
            pd.Series(centres[which], index=values.index), centres, edges, binned=True
        )
    if len(uniq) == 1:
        half = 0.5 * abs(uniq[0]) if uniq[0] else 0.5
        return _PhaseAxis(v, uniq, np.array([uniq[0] - half, uniq[0] + half]), [_fmt(uniq[0])])
    mids = (uniq[:-1] + uniq[1:]) / 2
    edges = np.concatenate([[2 * uniq[0] - mids[0]], mids, [2 * uniq[-1] - mids[-1]]])
    # A grid's own values as ticks (a reader wants the design points, not round numbers).
    ticks = [_fmt(u) for u in uniq] if len(uniq) <= 12 else None
    return _PhaseAxis(v, uniq, edges, ticks)


def _focal_metric(runs: pd.DataFrame, state: str | None, metric: str) -> str:
    if state is not None:
        col = f"{state}.{metric}"
        if col not in runs.columns:
            raise ValueError(f"runs table has no column {col!r}")
        return col
    cands = [
        c
        for c in runs.columns
        if str(c).endswith(f".{metric}") and not str(c).startswith("system.")
    ]
    if len(cands) != 1:
        raise ValueError(f"pass state=: candidates for {metric!r} are {cands}")
    return str(cands[0])


@_styled
def plot_phase(
    runs: pd.DataFrame,
    x: str,
    y: str,
    *,
    state: str | None = None,
    facet: str | None = None,
    name: str | None = None,
    metric: str = "non_aligned",
    max_levels: int = 25,
    bins: int = 10,
    annotate: bool | None = None,
    pooled: Sequence[str] = (),
    ax: Axes | None = None,
) -> Figure:
    """Phase diagram: share of replications with the state non-aligned over two swept parameters.

    Why the 50% contour: it is the boundary where non-alignment becomes the majority outcome, the
    line a reader wants to locate. Each cell is the mean of ``<state>.<metric>`` (0/1) over the
    runs at that design point; cells without runs are grey. ``facet`` draws one panel per value of
    a third parameter, all on one colour scale. Grid designs keep their values; sampled designs
    with more than ``max_levels`` distinct values per axis are binned. ``pooled`` names other
    swept parameters the cells average over; the title says so, because a pooled share is a
    marginal, not the share at any one setting of them.
    """
    col = _focal_metric(runs, state, metric)
    state = state or col.rsplit(".", 1)[0]
    name = name or state
    for c in (x, y) + ((facet,) if facet else ()):
        if c not in runs.columns:
            raise ValueError(f"runs table has no parameter column {c!r}")
    if facet and ax is not None:
        raise ValueError("facet draws several panels: leave ax=None")
    ax_x = _phase_axis(runs[x], max_levels, bins)
    ax_y = _phase_axis(runs[y], max_levels, bins)
    cx, ex, cy, ey = ax_x.centres, ax_x.edges, ax_y.centres, ax_y.edges
    frame = pd.DataFrame({"x": ax_x.key, "y": ax_y.key, "v": runs[col].astype(float)})
    facets: list[Any] = [None]
    if facet:
        frame["f"] = runs[facet].to_numpy()
        facets = sorted(pd.unique(frame["f"]))

    if ax is None:
        ncols = min(len(facets), 3)
        nrows = math.ceil(len(facets) / ncols)
        fig = _new_figure(3.6 * ncols + 1.2, 3.3 * nrows + 0.5)
        axes = list(np.atleast_1d(fig.subplots(nrows, ncols, squeeze=False).ravel()))
        for extra in axes[len(facets) :]:
            extra.set_visible(False)
    else:
        fig = _root(ax)
        axes = [ax]
    if annotate is None:
        annotate = len(cx) * len(cy) <= 64
    mesh = None
    for panel, fval in zip(axes, facets, strict=False):
        sub = frame if fval is None else frame[frame["f"] == fval]
        grid = sub.groupby(["y", "x"])["v"].mean().unstack("x")
        grid = grid.reindex(index=cy, columns=cx)
        z = np.ma.masked_invalid(grid.to_numpy(dtype=float))
        panel.set_facecolor("#D9D9D9")
        mesh = panel.pcolormesh(
            ex, ey, z, cmap=_PHASE_CMAP, vmin=0.0, vmax=1.0, edgecolors="white", linewidth=0.3
        )
        mesh.set_gid("share")
        if len(cx) >= 2 and len(cy) >= 2:
            cs = panel.contour(cx, cy, z, levels=[0.5], colors=OKABE_ITO["black"], linewidths=1.8)
            cs.set_gid("contour50")
        if annotate:
            for iy, yv in enumerate(cy):
                for ix, xv in enumerate(cx):
                    if not np.ma.is_masked(z[iy, ix]):
                        v = float(z[iy, ix])
                        panel.text(
                            xv,
                            yv,
                            f"{v:.0%}",
                            ha="center",
                            va="center",
                            fontsize=7,
                            color=_ink(abs(v - 0.5) > 0.3),
                        )
        panel.set_xlim(ex[0], ex[-1])
        panel.set_ylim(ey[0], ey[-1])
        panel.set_xlabel(x + (" (binned)" if ax_x.binned else ""))
        panel.set_ylabel(y + (" (binned)" if ax_y.binned else ""))
        if ax_x.ticklabels is not None:
            panel.set_xticks(cx, ax_x.ticklabels)
        if ax_y.ticklabels is not None:
            panel.set_yticks(cy, ax_y.ticklabels)
        if fval is not None:
            panel.set_title(f"{facet} = {_fmt(fval)}")
    assert mesh is not None
    cb = fig.colorbar(mesh, ax=axes[: len(facets)], shrink=0.85, format=PercentFormatter(1.0))
    cb.set_label(f"share of replications {metric.replace('_', '-')} (black line: 50%)")
    cb.ax.axhline(0.5, color=OKABE_ITO["black"], linewidth=1.8)
    sizes = frame.groupby(["f", "y", "x"] if facet else ["y", "x"])["v"].count()
    lo, hi = int(sizes.min()), int(sizes.max())
    title = (
        f"{name}: share of replications ending {metric.replace('_', '-')}\n"
        f"{lo if lo == hi else f'{lo}–{hi}'} runs per cell"
    )
    if pooled:
        title += f", pooled over {', '.join(pooled)}"
    if facet:
        fig.suptitle(title)
    else:
        axes[0].set_title(title)
    return fig


# ---------------------------------------------------------------------------------- sensitivity


def sensitivity_table(indices: pd.DataFrame, state: str | None = None) -> pd.DataFrame:
    """Indices in wide form (``parameter, S1, S1_conf, ST, ...``) from either layout.

    Why two layouts: SALib results are naturally wide, while ``sim.experiments.analysis.sensitivity`` writes
    long rows ``state, parameter, index, value, conf`` (one per index, all states together).
    Second-order ``S2`` rows (pairs) are dropped: they are not a bar per parameter.
    """
    df = indices
    if "state" in df.columns:
        states = list(dict.fromkeys(map(str, df["state"])))
        if state is None:
            if len(states) != 1:
                raise ValueError(f"indices hold several states {states}: pass state=")
            state = states[0]
        df = _filter(df, "sensitivity indices", state=state)
    if {"index", "value"} <= set(df.columns):
        df = df[df["index"].astype(str) != "S2"]
        order = list(dict.fromkeys(map(str, df["parameter"])))
        long = df.assign(parameter=df["parameter"].astype(str), index=df["index"].astype(str))
        wide = long.pivot(index="parameter", columns="index", values="value")
        if "conf" in long.columns:
            conf = long.pivot(index="parameter", columns="index", values="conf")
            wide = wide.join(conf.add_suffix("_conf"))
        wide = wide.reindex(order)
        wide.columns.name = None
        out = wide.rename_axis("parameter").reset_index()
        if "note" in long.columns:
            notes = long["note"].dropna().astype(str).unique()
            out.attrs["note"] = "; ".join(notes)
        return out
    if "parameter" not in df.columns:
        df = df.rename_axis("parameter").reset_index()
    return df.assign(parameter=df["parameter"].astype(str))


@_styled
def plot_sensitivity(
    indices: pd.DataFrame,
    *,
    state: str | None = None,
    output: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bars of Sobol S1/ST or Morris μ*/σ per parameter, most influential on top, with 95% CIs.

    Why both indices side by side: S1 is a parameter's effect alone, ST includes its interactions,
    so a large gap flags interactions; for Morris, σ large against μ* flags non-linearity or
    interaction. Input: wide columns ``parameter`` (or the index) and either ``S1, S1_conf, ST,
    ST_conf`` or ``mu_star, mu_star_conf, sigma``; or the long rows of
    ``sim.experiments.analysis.sensitivity`` (``state`` picks one state). Negative S1 (sampling noise with too
    few runs) is drawn as is, next to a zero line, rather than hidden; indices that are undefined
    (a constant output) are reported in the axes instead of drawn as zeros.
    """
    df = sensitivity_table(indices, state).copy()
    if {"S1", "ST"} <= set(df.columns):
        method = "Sobol"
        bars = [
            ("S1", "S1_conf", "S1 (first order)", OKABE_ITO["blue"]),
            ("ST", "ST_conf", "ST (total)", OKABE_ITO["orange"]),
        ]
        sort_by, xlabel = "ST", "Sobol index (whiskers: 95% confidence intervals)"
    elif "mu_star" in df.columns:
        method = "Morris"
        bars = [("mu_star", "mu_star_conf", "μ* (mean |elementary effect|)", OKABE_ITO["blue"])]
        if "sigma" in df.columns:
            bars.append(("sigma", None, "σ (spread of effects)", OKABE_ITO["sky_blue"]))
        sort_by, xlabel = "mu_star", "elementary effect (whiskers: 95% confidence interval of μ*)"
    else:
        raise ValueError(
            "indices need columns S1, S1_conf, ST, ST_conf or mu_star, "
            f"mu_star_conf, sigma; got {list(df.columns)}"
        )
    note = df.attrs.get("note", "")
    df = df.sort_values(sort_by, ascending=False, kind="stable").reset_index(drop=True)
    n = len(df)
    y = np.arange(n, dtype=float)
    height = 0.8 / len(bars)

    own = ax is None
    if ax is None:
        fig = _new_figure(6.5, 1.8 + 0.42 * n * max(1, len(bars) * 0.6))
        ax = fig.subplots()
    else:
        fig = _root(ax)
    for k, (col, conf, label, colour) in enumerate(bars):
        offset = (k - (len(bars) - 1) / 2) * height
        err = None
        if conf is not None and conf in df.columns:
            err = np.abs(df[conf].to_numpy(dtype=float))
        ax.barh(
            y + offset,
            df[col].to_numpy(dtype=float),
            height=height * 0.92,
            xerr=err,
            color=colour,
            label=label,
            error_kw={"ecolor": "#333333", "capsize": 2.5, "elinewidth": 1.0},
        )
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, df["parameter"])
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameter")
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
    ax.set_axisbelow(True)
    if own:
        fig.legend(loc="outside lower center", ncols=len(bars))
    else:
        ax.legend(loc="best")
    if df[sort_by].isna().all():
        ax.text(
            0.5,
            0.5,
            "indices undefined" + (f": {note}" if note else ""),
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#444444",
        )
    ax.set_title(title or f"{method} sensitivity" + (f" of {output}" if output else ""))
    return fig


# ----------------------------------------------------------------------------------------- save

_FORMATS = {"png", "svg", "pdf"}


def save(fig: Figure, path: str | Path) -> Path:
    """Write ``fig`` as PNG (150 dpi), SVG or PDF by the file's extension, atomically.

    Why atomic: figures are regenerated in place next to the data; a reader (or a LaTeX build)
    must see the old file or the new one, never half of one. Vector output drops creation dates and
    uses a fixed SVG id salt so that the same figure gives the same bytes.
    """
    path = Path(path)
    ext = path.suffix.lower().lstrip(".")
    if ext not in _FORMATS:
        raise ValueError(f"unsupported figure format {path.suffix!r}: use .png, .svg or .pdf")
    metadata: dict[str, Any] = {"svg": {"Date": None}, "pdf": {"CreationDate": None}, "png": {}}[
        ext
    ]
    with mpl.rc_context(_RC), atomic_path(path) as tmp:
        fig.savefig(tmp, format=ext, dpi=150, metadata=metadata)
    return path


# ------------------------------------------------------------------------- descriptive aliases


def alignment_timeline(
    states: pd.DataFrame,
    state: str,
    *,
    condition: str = "baseline",
    names: Mapping[str, str] | None = None,
    **kwargs: Any,
) -> Figure:
    """:func:`plot_timeline` taking an id -> name mapping (as ``hedgesim run`` calls it)."""
    name = kwargs.pop("name", None) or (names or {}).get(state)
    return plot_timeline(states, state, condition=condition, name=name, **kwargs)


tie_network = plot_network
partner_matrix = plot_partners
counterfactual_forest = plot_counterfactuals
phase_diagram = plot_phase
sensitivity_bars = plot_sensitivity
