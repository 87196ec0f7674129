"""Loading results back as pandas DataFrames (for notebooks, plots and analysis).

``load_run(DIR)`` reads a ``hedgesim run`` directory; ``load(DIR)`` reads either kind. Both go
through ``sim.loader``, which checks what it reads (one loader for every command).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

RUN_TABLES = ("system", "states", "ties")


@dataclass
class RunResults:
    """The tables of one run directory plus its metadata (run.json)."""

    system: pd.DataFrame
    states: pd.DataFrame
    ties: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def world(self) -> dict[str, Any]:
        return self.meta.get("world", {})


def load_run(directory: str | Path) -> RunResults:
    """Read a run directory written by ``hedgesim run`` (checked by ``sim.loader``)."""
    from sim.loader import load_run as _load

    return _load(directory)


def load(directory: str | Path) -> Any:
    """Load a run directory (``RunResults``) or a sweep directory (``sim.sweep.SweepData``)."""
    from sim.loader import load as _load

    return _load(directory)
