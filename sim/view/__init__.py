"""The browser view of one run (``hedgesim view``): Mesa's SolaraViz around ``AlignmentModel``.

Why Mesa's SolaraViz: it is what Mesa users know (step / play / pause / reset, model inputs in the
sidebar, components drawn from the model each step), so the view adds only what is hedgesim's: the
model's inputs (``sim.view.inputs``), the figures and text it draws (``sim.view.components``), and
the Solara page (``sim.view.app``). Nothing below this package imports it; it needs the optional
extra ``hedgesim[view]`` (solara), which only ``sim.view.app`` and ``sim.view.components`` import.
"""

SCENARIO_ENV = "HEDGESIM_VIEW_SCENARIO"
"""The environment variable that hands the scenario's path from ``hedgesim view`` to the page
(Solara imports ``sim/view/app.py`` in its own process)."""
