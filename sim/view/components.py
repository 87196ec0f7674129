"""The view's Solara components, written as Mesa's examples write them: a function of the model
that reads ``update_counter`` (so SolaraViz redraws it after each step) and renders a figure.
"""

from __future__ import annotations

import solara
from mesa.visualization.utils import update_counter

from sim.view.figures import network_figure, network_since, tie_summary, timeline_figure
from sim.view.inputs import ViewModel


@solara.component
def TieNetwork(model: ViewModel) -> None:
    """The step and its date, the tie network now, and each state's ties as text (readable by
    screen readers, and by the browser tests)."""
    update_counter.get()
    when = model.date()
    text = f"Step {model.steps} of {model.params.steps}" + (f" · {when}" if when else "")
    solara.Text(text, classes=["hedgesim-clock"], style={"font-size": "1.3em"})
    # redraw when the network changes or the model is reset, not after every step
    key = [network_since(model), id(model)]
    fig = solara.use_memo(lambda: network_figure(model), key)
    solara.FigureMatplotlib(fig, format="png", dependencies=key)
    with solara.Details("Ties as text"):
        solara.v.Html(tag="pre", children=[tie_summary(model)], class_="hedgesim-ties")


@solara.component
def FocalTimeline(model: ViewModel) -> None:
    """The focal states' alignment index and status so far, with the scenario's events."""
    update_counter.get()
    key = [model.steps, id(model)]
    fig = solara.use_memo(lambda: timeline_figure(model), key)
    solara.FigureMatplotlib(fig, format="png", dependencies=key)
