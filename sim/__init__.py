"""hedgesim: an agent-based simulation of how states align.

States choose, pair by pair, between no tie, a non-binding friendship and a binding alliance.
The package asks one question with evidence: given sanctions pressure, historical distrust and
partners who hedge, does non-alignment emerge?
"""

__version__ = "0.1.0"
