"""The view's figures, drawn from a running model: the tie network now, and the focal states'
path so far. Plain matplotlib (no solara), so they are tested without a browser.

Why reuse ``sim.plots.plot_network``: the view's network is the same figure as a run's final
network (same camp layout, line styles, node areas, focal outlines), only for the current step;
the model's ties are handed to it as a one-replication ties table.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.model.metrics import STATUSES
from sim.plots.network import camp_layout, plot_network
from sim.plots.style import STATUS_COLOURS, date_axis
from sim.scenario.calendar import date_label
from sim.scenario.schema import LEVELS

if TYPE_CHECKING:
    from sim.view.inputs import ViewModel


def ties_table(model: ViewModel) -> pd.DataFrame:
    """The model's ties now as ``sim.plots``' ties table (one replication, existing ties only)."""
    rows = model.tie_list()
    return pd.DataFrame(
        {
            "condition": ["baseline"] * len(rows),
            "replication": [0] * len(rows),
            "a": [a for a, _, _ in rows],
            "b": [b for _, b, _ in rows],
            "level": [lv for _, _, lv in rows],
        }
    )


def layout(model: ViewModel) -> np.ndarray:
    """Camp positions from the rivalry at step 0, kept for the whole run (and across resets of
    the same scenario) so that states do not jump when an event changes rivalry."""
    pos = getattr(model, "_layout", None)
    if pos is None:
        pos = camp_layout(model.world.dyads["rivalry"])
        model._layout = pos
    return pos


def _reused(model: ViewModel, attr: str, size: tuple[float, float]) -> Figure:
    """The model's figure for one view, cleared, made on first use.

    Why: drawing the two figures is nearly all of a step's cost in the view (the model's step
    takes about a millisecond). matplotlib caches text metrics per renderer and a figure keeps
    its renderer, so redrawing into the same figure skips most text layout; fixed margins
    instead of the constrained layout skip the layout solver. Together about 40% less time per
    step than new constrained figures (benchmarks/bench_view.py measures the rate)."""
    fig = getattr(model, attr, None)
    if fig is None:
        fig = Figure(figsize=size)
        setattr(model, attr, fig)
    else:
        fig.clear()
    return fig


def network_since(model: ViewModel) -> int:
    """The step since which the network looks as it does now: the first of the recorded steps
    (the view records every step) up to now whose ties and power equal the current ones.

    Why: in most steps no tie changes (~88% of the Iran scenario's), and the network figure costs
    ~150 ms to draw and encode; keyed on this step, the view redraws it only when it changes
    (benchmarks/bench_view.py). Read from the record, not from what the view last drew, so that
    steps the view skipped (a render interval above 1) still date the change right."""
    rec = model.recorder
    k = len(rec.steps) - 1
    ties, power = rec.ties[k], rec.power[k]
    while k > 0 and _same(rec.ties[k - 1], ties) and _same(rec.power[k - 1], power):
        k -= 1
    return int(rec.steps[k])


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    """Equal arrays (the record reuses an array while it does not change: usually ``is``)."""
    return a is b or np.array_equal(a, b)


def network_figure(model: ViewModel) -> Figure:
    """The tie network as it has been since :func:`network_since`: alliances solid, friendships
    dashed, node area ∝ power, focal states outlined, camps facing each other."""
    w = model.world
    world: dict[str, Any] = {
        "ids": w.ids,
        "names": w.names,
        "power": model.attrs.power,
        "focal": [w.ids[i] for i in w.focal],
        "rivalry": w.dyads["rivalry"],
    }
    fig = _reused(model, "_network_fig", (7.0, 6.4))
    fig.subplots_adjust(left=0.01, right=0.99, top=0.94, bottom=0.06)
    plot_network(ties_table(model), world, replication=0, pos=layout(model), ax=fig.subplots())
    since = network_since(model)
    when = None if w.start is None else date_label(w.start, w.step, since)
    fig.axes[0].set_title(f"Ties since step {since}" + (f" — {when}" if when else ""))
    return fig


def timeline_figure(model: ViewModel) -> Figure:
    """Each focal state's alignment index so far (a line), its status at each step (a coloured
    strip under it), and the scenario's events (dotted lines), over the scenario's whole span.

    The axes, events, labels and legend are drawn once per model; each later call only hands the
    line and the status strips their data so far. Why: clearing and rebuilding the axes (ticks,
    texts, the legend) was half of the figure's cost at every step of the view."""
    w = model.world
    steps = np.asarray(model.trace_steps)
    align = np.asarray(model.trace_align)  # (steps, focal)
    status = np.asarray(model.trace_status)
    x_of = date_axis(w.start, w.step)
    built = getattr(model, "_timeline_artists", None)
    if built is None:
        built = model._timeline_artists = _timeline_axes(model, x_of)
    fig, lines, strips = built
    x = x_of(steps)
    for k, line in enumerate(lines):
        line.set_data(x, align[:, k])
        for code, strip in enumerate(strips[k]):
            at = x[status[:, k] == code]
            strip.set_data(at, np.full(len(at), -0.08))
    return fig


def _timeline_axes(model: ViewModel, x_of: Any) -> tuple[Figure, list, list[list]]:
    """The timeline's figure with everything that does not change as the run advances, and the
    artists that do: one alignment line per focal state and one status strip per status."""
    w = model.world
    n_focal = len(w.focal)
    height = 1.6 + 1.3 * max(n_focal, 1)
    fig = _reused(model, "_timeline_fig", (7.0, height))
    fig.subplots_adjust(left=0.09, right=0.98, top=1 - 0.3 / height, bottom=0.7 / height)
    axes = fig.subplots(max(n_focal, 1), 1, sharex=True, squeeze=False)[:, 0]
    end = int(model.params.steps)
    events = [(ev.name, int(ev.step)) for ev in model.scenario.validated.events]
    lines, strips = [], []
    nothing = x_of(np.zeros(0, dtype=np.int64))
    for k, ax in enumerate(axes):
        if k < n_focal:
            lines.append(ax.plot(nothing, [], color="#000000", linewidth=1.4, label="alignment")[0])
            strips.append(
                [
                    ax.plot(
                        nothing, [], linestyle="none", marker="s", markersize=3.7,
                        markeredgewidth=0, color=STATUS_COLOURS[name],
                        label=name.replace("_", " "),
                    )[0]
                    for name in STATUSES
                ]
            )  # fmt: skip
            ax.set_title(f"{w.names[w.focal[k]]}: alignment index and status", loc="left")
        for _name, t in events:
            if 0 <= t <= end:
                ax.axvline(x_of([t])[0], color="#777777", linestyle=":", linewidth=0.9)
        ax.set_ylim(-0.15, 1.05)
        ax.set_xlim(x_of([0])[0], x_of([end])[0])
        ax.set_ylabel("index")
    if n_focal:
        axes[0].legend(loc="upper left", ncols=5, fontsize=7, frameon=False)
    axes[-1].set_xlabel("date" if w.start else "step")
    if events:
        fig.text(0.01, 0.0, f"dotted: {len(events)} scenario events", fontsize=7, color="#555555")
    return fig, lines, strips


def tie_summary(model: ViewModel) -> str:
    """Each state's ties now, one line per state, for reading (and testing) without the figure."""
    w = model.world
    lines = []
    for i, sid in enumerate(w.ids):
        parts = [
            f"{LEVELS[lv]} {w.ids[j]}" for j, lv in enumerate(model.ties[i]) if j != i and lv > 0
        ]
        lines.append(f"{sid}: " + (", ".join(parts) if parts else "no ties"))
    return "\n".join(lines)
