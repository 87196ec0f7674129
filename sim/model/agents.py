"""The State agent: one country, its preferences, and its own row of perceptions and ties.

Why rows are views: the model keeps dyadic data in dense N×N arrays so the decision rule runs
vectorized; each agent's properties return numpy *views* of its row, so ``state.distrust`` is
always the state's current perception, read through the agent in the Mesa sense, never a copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.model.metrics import STATUSES
from sim.model.world import LEVELS

if TYPE_CHECKING:
    from sim.model.model import AlignmentModel


class State(mesa.Agent):
    """A state choosing, partner by partner, between no tie, friendship and alliance."""

    model: AlignmentModel

    def __init__(self, model: AlignmentModel, index: int) -> None:
        super().__init__(model)
        w = model.world
        self.index = index
        self.code = w.ids[index]
        self.name = w.names[index]
        self.power = float(w.power[index])
        self.preferences = {k: float(v[index]) for k, v in w.prefs.items()}

    @property
    def distrust(self) -> np.ndarray:
        """This state's current distrust of every other state (a live view)."""
        return self.model.dyadic.distrust[self.index]

    @property
    def ties(self) -> np.ndarray:
        """Current tie level with every other state (a live view; 0/1/2)."""
        return self.model.ties[self.index]

    @property
    def status(self) -> str:
        """Alignment status under the current ties."""
        return STATUSES[int(self.model.statuses[self.index])]

    def partners(self, level: str) -> list[str]:
        """Ids of the states this one is tied to at ``level`` ('friendship' or 'alliance')."""
        code = LEVELS.index(level)
        return [self.model.world.ids[j] for j in np.flatnonzero(self.ties == code)]

    def __repr__(self) -> str:
        return f"State({self.code}, {self.status})"
