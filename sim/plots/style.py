"""The look of every figure: one colour-blind-safe palette (Okabe & Ito 2008), redundant
encodings (alliance = solid, friendship = dashed), names instead of ids, and saving.

Status order, bottom to top of a stack, is ``sim.model.metrics.STATUSES``: binding ties first, no
ties last (docs/DATA.md).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
from cycler import cycler
from matplotlib.axes import Axes
from matplotlib.figure import Figure, SubFigure

from sim.results.atomic import atomic_path

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
DRAWN_LEVELS = ("alliance", "friendship")

# Sequential ColorBrewer maps in each level's hue, for shares in [0, 1] (white = never).
LEVEL_CMAPS = {"alliance": mpl.colormaps["Blues"], "friendship": mpl.colormaps["Greens"]}
# Diverging purple (minority non-aligned) -> white (50%) -> orange (majority), orange = non-aligned.
PHASE_CMAP = mpl.colormaps["PuOr_r"]

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


def date_axis(start: str | None, step: str) -> Callable[[Any], np.ndarray]:
    """Steps -> x values: dates (first day of each step's period) when the scenario has a
    calendar (``start``), else the steps themselves. Why: a reader thinks "March 2007", not
    "step 27"; matplotlib labels ``datetime64`` values as dates by itself."""
    if start is None:
        return lambda steps: np.asarray(steps)
    from sim.scenario.calendar import step_dates

    return lambda steps: step_dates(start, step, np.asarray(steps, dtype=np.int64))
