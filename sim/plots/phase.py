"""The phase diagram of a sweep: a focal state's outcome share over two swept parameters."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

from sim.plots.style import (
    OKABE_ITO,
    PHASE_CMAP,
    _ink,
    _new_figure,
    _root,
    _styled,
)

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
            ex, ey, z, cmap=PHASE_CMAP, vmin=0.0, vmax=1.0, edgecolors="white", linewidth=0.3
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
