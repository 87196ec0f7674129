"""Data collection, kept apart from behaviour.

System metrics go through Mesa's ``DataCollector`` as model attributes (the idiomatic, cheap
path). Per-state metrics are written into preallocated numpy arrays instead of agent reporters: a
``DataCollector`` agent reporter costs a Python call per agent per step and deep-copies values,
which would dominate the cost of this model's vectorized step (ECOSYSTEM.md measurements).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import mesa
import numpy as np

from sim.metrics import SYSTEM_COLUMNS, hedging_index, system_row

if TYPE_CHECKING:
    from sim.model import AlignmentModel


@dataclass
class RunRecord:
    """Everything one replication produced, as arrays (T recorded steps, N states)."""

    steps: np.ndarray  # (T,) int32
    system: np.ndarray  # (T, len(SYSTEM_COLUMNS)) float64
    status: np.ndarray  # (T, N) int8
    n_alliances: np.ndarray  # (T, N) int16
    n_friendships: np.ndarray  # (T, N) int16
    hedging: np.ndarray  # (T, N) float32
    final_ties: np.ndarray  # (N, N) int8
    final_distrust: np.ndarray  # (N, N) float64


class Recorder:
    """Collects one row of system metrics and one row per state at each recorded step."""

    def __init__(self, model: AlignmentModel, every: int) -> None:
        self.every = every
        self.collector = mesa.DataCollector(model_reporters={c: c for c in SYSTEM_COLUMNS})
        self.steps: list[int] = []
        self.status: list[np.ndarray] = []
        self.n_all: list[np.ndarray] = []
        self.n_fr: list[np.ndarray] = []
        self.hedging: list[np.ndarray] = []

    def collect(self, model: AlignmentModel) -> None:
        ties = model.ties
        prev = None if not self.steps else model.previous
        for name, value in zip(SYSTEM_COLUMNS, system_row(ties, model.statuses, prev), strict=True):
            setattr(model, name, value)
        self.collector.collect(model)
        self.steps.append(model.steps)
        self.status.append(model.statuses.copy())
        self.n_all.append((ties == 2).sum(axis=1, dtype=np.int16))
        self.n_fr.append((ties == 1).sum(axis=1, dtype=np.int16))
        self.hedging.append(hedging_index(ties, model.dyadic.rivalry).astype(np.float32))

    def record(self, model: AlignmentModel) -> RunRecord:
        mv = self.collector.model_vars
        return RunRecord(
            steps=np.array(self.steps, dtype=np.int32),
            system=np.column_stack([np.asarray(mv[c], dtype=float) for c in SYSTEM_COLUMNS]),
            status=np.stack(self.status),
            n_alliances=np.stack(self.n_all),
            n_friendships=np.stack(self.n_fr),
            hedging=np.stack(self.hedging),
            final_ties=model.ties.copy(),
            final_distrust=model.dyadic.distrust.copy(),
        )
