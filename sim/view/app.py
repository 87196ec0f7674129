"""The Solara page of ``hedgesim view``: Mesa's SolaraViz around a :class:`ViewModel`.

``hedgesim view`` runs ``solara run`` on this file with the scenario's path in the environment
(``HEDGESIM_VIEW_SCENARIO``); Solara imports it and serves :func:`Page`. Each browser session
gets its own model (``use_memo``), so two tabs do not step each other's run.
"""

from __future__ import annotations

import os

import solara
from mesa.visualization import SolaraViz

from sim.scenario.load import load_scenario
from sim.scenario.schema import Scenario
from sim.view import SCENARIO_ENV
from sim.view.components import FocalTimeline, TieNetwork
from sim.view.inputs import ViewModel, view_inputs


def scenario() -> Scenario:
    """The scenario ``hedgesim view`` was given (it has been checked before the server starts)."""
    return load_scenario(os.environ[SCENARIO_ENV])


SCENARIO = scenario() if SCENARIO_ENV in os.environ else None


@solara.component
def Page() -> None:
    """One session's view: the model, its inputs, the clock, the network and the timeline."""
    sc = SCENARIO if SCENARIO is not None else scenario()
    model = solara.use_memo(lambda: ViewModel(sc), [])
    SolaraViz(
        model,
        components=[(TieNetwork, 0), (FocalTimeline, 0)],
        model_params=view_inputs(sc),
        name=f"hedgesim — {sc.name}",
    )
