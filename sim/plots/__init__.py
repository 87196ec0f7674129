"""Figures of hedgesim results, drawn from the tidy tables of docs/DATA.md.

Why this package is fussy: a figure is a finding someone may put in a paper or a briefing, so it
must be right and legible, not merely produced. Every function therefore

- takes result tables (``RunResult`` / ``sim.load`` DataFrames, or a run's ``run.json``
  ``world`` dict), computes the plotted quantity itself from the raw rows (so the figure and the
  numbers cannot disagree),
- accepts an optional ``ax`` to draw into and returns the (root) ``Figure``,
- touches no global state: new figures are ``matplotlib.figure.Figure`` objects, never
  pyplot-managed (nothing to close, nothing leaks between calls), and the style is applied inside
  ``matplotlib.rc_context``, which restores ``rcParams`` on exit,
- uses one colour-blind-safe palette (Okabe & Ito 2008) and redundant encodings (alliance = solid,
  friendship = dashed) so no distinction rests on hue alone, and labels states by name.

One module per figure (timeline, network and partner matrix, counterfactuals, phase, sensitivity),
the shared look in ``style``, and in ``figures`` which figures a run or sweep supports and how
they are written into its folder.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "plot_counterfactuals": "counterfactuals",
    "camp_coordinate": "network",
    "camp_layout": "network",
    "camp_order": "network",
    "plot_network": "network",
    "plot_partners": "network",
    "tie_shares": "network",
    "plot_phase": "phase",
    "plot_sensitivity": "sensitivity",
    "sensitivity_table": "sensitivity",
    "LEVEL_STYLE": "style",
    "OKABE_ITO": "style",
    "STATUS_COLOURS": "style",
    "condition_label": "style",
    "save": "style",
    "plot_timeline": "timeline",
}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    """The figure functions, imported when first used (matplotlib loads only then)."""
    if name in _LAZY:
        return getattr(importlib.import_module(f"sim.plots.{_LAZY[name]}"), name)
    raise AttributeError(f"module 'sim.plots' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
