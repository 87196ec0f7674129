"""Compile a validated scenario into dense numpy arrays.

Why dense: states are few (5–200), every decision looks at whole rows of dyadic data, and an N×N
array makes the per-step update a handful of vectorized operations instead of N² Python calls.
Index ``i`` is the position of a state in the scenario's ``states`` mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.schema import DYADIC_FIELDS, SYMMETRIC_FIELDS, Scenario

LEVELS: tuple[str, ...] = ("none", "friendship", "alliance")
NONE, FRIEND, ALLY = 0, 1, 2


@dataclass(frozen=True)
class Regime:
    """A sanctions regime as index arrays."""

    name: str
    senders: np.ndarray
    targets: np.ndarray
    level: float
    secondary: float
    start: int
    end: int | None

    def active(self, step: int) -> bool:
        return self.start <= step and (self.end is None or step < self.end)


@dataclass(frozen=True)
class Change:
    """A scheduled change of one dyadic field (an event), as index arrays."""

    name: str
    step: int
    until: int | None
    field: str
    mode: str
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray


@dataclass
class World:
    """Everything the model needs, in arrays. Built once per scenario, shared by replications."""

    ids: list[str]
    names: list[str]
    power: np.ndarray  # (N,) capability share
    security: np.ndarray  # (N,) preference weights
    autonomy: np.ndarray
    options: np.ndarray
    interest_weight: np.ndarray
    hedging_weight: np.ndarray  # (N,) sensitivity to partners' hedging
    distrust_weight: np.ndarray  # (N,) weight of its historical distrust
    dyads: dict[str, np.ndarray]  # field -> (N, N), rows perceive columns
    ties: np.ndarray  # (N, N) int8 initial levels, symmetric
    regimes: list[Regime]
    changes: list[Change]
    focal: list[int]
    index: dict[str, int] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return len(self.ids)


def _dense(
    table: dict[str, dict[str, float]], index: dict[str, int], symmetric: bool
) -> np.ndarray:
    n = len(index)
    out = np.zeros((n, n))
    for a, row in table.items():
        for b, v in row.items():
            out[index[a], index[b]] = v
            if symmetric:
                out[index[b], index[a]] = v
    return out


def compile_world(sc: Scenario) -> World:
    """Scenario (validated) -> World of arrays."""
    ids = list(sc.states)
    index = {sid: i for i, sid in enumerate(ids)}
    specs = list(sc.states.values())
    dyads = {f: _dense(getattr(sc, f), index, f in SYMMETRIC_FIELDS) for f in DYADIC_FIELDS}
    n = len(ids)
    ties = np.zeros((n, n), dtype=np.int8)
    for a, row in sc.ties.items():
        for b, level in row.items():
            ties[index[a], index[b]] = ties[index[b], index[a]] = LEVELS.index(level)
    regimes = [
        Regime(
            r.name,
            np.array([index[s] for s in r.senders], dtype=np.intp),
            np.array([index[s] for s in r.targets], dtype=np.intp),
            r.level,
            r.secondary,
            r.start,
            r.end,
        )
        for r in sc.sanctions
    ]
    changes = []
    for ev in sc.events:
        rows, cols, vals = [], [], []
        for a, row in ev.changes.items():
            for b, v in row.items():
                rows.append(index[a])
                cols.append(index[b])
                vals.append(v)
                if ev.field in SYMMETRIC_FIELDS:
                    rows.append(index[b])
                    cols.append(index[a])
                    vals.append(v)
        changes.append(
            Change(
                ev.name,
                ev.step,
                ev.until,
                ev.field,
                ev.mode,
                np.array(rows, dtype=np.intp),
                np.array(cols, dtype=np.intp),
                np.array(vals, dtype=float),
            )
        )
    return World(
        ids=ids,
        names=[s.name for s in specs],
        power=np.array([s.power for s in specs]),
        security=np.array([s.preferences.security for s in specs]),
        autonomy=np.array([s.preferences.autonomy for s in specs]),
        options=np.array([s.preferences.options for s in specs]),
        interest_weight=np.array([s.preferences.interests for s in specs]),
        hedging_weight=np.array([s.preferences.hedging for s in specs]),
        distrust_weight=np.array([s.preferences.distrust for s in specs]),
        dyads=dyads,
        ties=ties,
        regimes=regimes,
        changes=changes,
        focal=[index[f] for f in sc.focal],
        index=index,
    )
