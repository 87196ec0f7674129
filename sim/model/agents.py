"""The State agent: one country, what it is, and what it has become at the last recorded step.

The decision rule runs on whole rows of dense arrays (sim.model.decision), so an agent does not
decide in a ``step()`` of its own; it is the state as Mesa users read it. Its measured attributes
(``status``, ``alignment_index``, ``hedging_index``, ``n_alliances``, ``n_friendships``,
``allied_stronger``) are set by the model at every recorded step, which is what the model's
``datacollector`` collects per agent (``get_agent_vars_dataframe()``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.scenario.schema import LEVELS

if TYPE_CHECKING:
    from sim.model.model import AlignmentModel

AGENT_REPORTERS: tuple[str, ...] = (
    "status",
    "alignment_index",
    "hedging_index",
    "n_alliances",
    "n_friendships",
    "allied_stronger",
)
"""The attributes the model's DataCollector records for every state at every recorded step."""


class State(mesa.Agent):
    """A state choosing, partner by partner, between no tie, friendship and alliance.

    Attributes:
        index: its position in the world's arrays (the scenario's order of states).
        code: its id in the scenario (``IRN``).
        name: its name.
        status: ``aligned``, ``non_aligned``, ``one_camp`` or ``isolated`` (docs/ODD.md §7.14).
        alignment_index: how firmly it is aligned with one side, in [0, 1].
        hedging_index: how evenly its ties spread across rival camps, in [0, 1].
        n_alliances, n_friendships: its ties at each level.
        allied_stronger: whether it is allied with a more powerful state (a junior partner).
    """

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int) -> None:
        super().__init__(model)
        w = model.world
        self.index = index
        self.code = w.ids[index]
        self.name = w.names[index]
        self.status = ""
        self.alignment_index = 0.0
        self.hedging_index = 0.0
        self.n_alliances = 0
        self.n_friendships = 0
        self.allied_stronger = False

    @property
    def power(self) -> float:
        """Its capability share now (events and power series change it)."""
        return float(self.model.attrs.power[self.index])

    @property
    def preferences(self) -> dict[str, float]:
        """Its preference weights now (events may change them)."""
        return {k: float(v[self.index]) for k, v in self.model.attrs.prefs.items()}

    @property
    def ties(self) -> np.ndarray:
        """Its tie level (0 none, 1 friendship, 2 alliance) with every state, now.

        The model replaces its arrays each step: read the property again after a step."""
        return self.model.ties[self.index]

    @property
    def distrust(self) -> np.ndarray:
        """Its distrust of every state, now (read again after a step, as :attr:`ties`)."""
        return self.model.dyadic.distrust[self.index]

    def partners(self, level: str) -> list[str]:
        """Ids of the states this one is tied to at ``level`` ('friendship' or 'alliance')."""
        code = LEVELS.index(level)
        return [self.model.world.ids[j] for j in np.flatnonzero(self.ties == code)]

    def __repr__(self) -> str:
        return f"State({self.code}, {self.status})"
