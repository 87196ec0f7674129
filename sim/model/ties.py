"""Tie levels as codes, and their weight: what every part of the model counts ties with.

The levels' names are the scenario format's (``sim.scenario.schema.LEVELS``: ``none``,
``friendship``, ``alliance``); here they are codes 0, 1, 2 and weights. Defined once, so the
decision rule (a partner's ties with one's rival, trust learning) and the measures (the hedging
index) cannot weigh a friendship differently.
"""

from __future__ import annotations

import numpy as np

NONE, FRIEND, ALLY = 0, 1, 2

TIE_WEIGHT = np.array([0.0, 0.5, 1.0])
"""τ: the weight of a tie level where a tie counts as involvement (docs/ODD.md §2): a friendship
half an alliance."""
