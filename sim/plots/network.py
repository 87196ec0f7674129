"""The tie network at the end of a run and the partner matrix: who ends tied to whom, how often.

States sit on a circle ordered by rival camp (the leading eigenvector of the rivalry matrix), so
the camps face each other and a state that bridges them sits between them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import PercentFormatter

from sim.plots.style import (
    DRAWN_LEVELS,
    LEVEL_CMAPS,
    LEVEL_STYLE,
    _ink,
    _names,
    _new_figure,
    _root,
    _styled,
    condition_label,
)

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
    for level in DRAWN_LEVELS:
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
    for level in DRAWN_LEVELS:
        keep[level] = shares[level] >= threshold
    if not both:
        dominant_ally = shares["alliance"] >= shares["friendship"]
        keep["alliance"] &= dominant_ally
        keep["friendship"] &= ~dominant_ally
    drawn_both = keep["alliance"] & keep["friendship"]
    width = {"alliance": (1.2, 3.0), "friendship": (0.8, 1.7)}
    for level in DRAWN_LEVELS:
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
        im = ax.imshow(data, cmap=LEVEL_CMAPS[level], vmin=0.0, vmax=1.0, interpolation="nearest")
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
