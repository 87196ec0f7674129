"""Compile a validated scenario into dense numpy arrays.

Why dense: states are few (5–200), every decision looks at whole rows of dyadic data, and an N×N
array makes the per-step update a handful of vectorized operations instead of N² Python calls.
Index ``i`` is the position of a state in the scenario's ``states`` mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.scenario.calendar import step_of_month
from sim.scenario.schema import (
    DYADIC_FIELDS,
    LEVELS,
    PREFERENCES,
    STATE_FIELDS,
    STEP_YEARS,
    SYMMETRIC_FIELDS,
    Scenario,
)


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
    in_force_years: float = 0.0

    def active(self, step: int) -> bool:
        return self.start <= step and (self.end is None or step < self.end)


@dataclass(frozen=True)
class TreatySpec:
    """A treaty as index arrays: who founded it, when it is in force, whether others may join."""

    name: str
    members: np.ndarray
    start: int
    end: int | None
    open: bool

    def in_force(self, step: int) -> bool:
        return self.start <= step and (self.end is None or step < self.end)


@dataclass(frozen=True)
class Change:
    """A scheduled change of one field (an event), as index arrays.

    Dyadic fields change cells ``(rows[k], cols[k])``; state fields (``power``,
    ``preferences.NAME``) change entries ``rows[k]`` and leave ``cols`` empty.
    """

    name: str
    step: int
    until: int | None
    field: str
    mode: str
    rows: np.ndarray
    cols: np.ndarray
    values: np.ndarray

    @property
    def per_state(self) -> bool:
        return self.field in STATE_FIELDS


@dataclass
class World:
    """Everything the model needs, in arrays. Built once per scenario, shared by replications."""

    ids: list[str]
    names: list[str]
    power: np.ndarray  # (N,) capability share at step 0 (events and power series change it)
    prefs: dict[str, np.ndarray]  # preference name -> (N,) weights at step 0
    dyads: dict[str, np.ndarray]  # field -> (N, N), rows perceive columns
    ties: np.ndarray  # (N, N) int8 initial levels, symmetric
    regimes: list[Regime]
    treaties: list[TreatySpec]
    changes: list[Change]
    focal: list[int]
    step_years: float = 1 / 12  # length of one step in years
    step: str = "month"  # the scenario's step unit
    start: str | None = None  # calendar month of step 0 and 1 (YYYY-MM), if declared
    index: dict[str, int] = field(default_factory=dict)
    # what the decision rule computes from this world's data alone (sim.model.decision), shared
    # by every run of it in this process; keyed by the data's content, so never stale
    cache: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def n(self) -> int:
        return len(self.ids)

    def __getstate__(self) -> dict:
        """Pickled (to a worker) without the cache: it is rebuilt where the runs are."""
        state = self.__dict__.copy()
        state["cache"] = {}
        return state


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


def _power_changes(sc: Scenario, index: dict[str, int]) -> list[Change]:
    """The states' power series as ``set`` events at the first step of each year: one event per
    year for all the states with a value that year (one array update per year, not one per
    state)."""
    by_step: dict[int, tuple[list[int], list[float], int]] = {}
    for sid, spec in sc.states.items():
        for year, value in sorted(spec.power_series.items()):
            assert sc.start is not None  # cross_check requires it
            step = step_of_month(sc.start, sc.step, year)
            rows, values, _ = by_step.setdefault(step, ([], [], year))
            rows.append(index[sid])
            values.append(value)
    return [
        Change(
            f"power series in {year}",
            step,
            None,
            "power",
            "set",
            np.array(rows, dtype=np.intp),
            np.zeros(0, dtype=np.intp),
            np.array(values, dtype=float),
        )
        for step, (rows, values, year) in sorted(by_step.items())
    ]


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
            r.in_force_years,
        )
        for r in sc.sanctions
    ]
    treaties = [
        TreatySpec(
            t.name, np.array([index[s] for s in t.members], dtype=np.intp), t.start, t.end, t.open
        )
        for t in sc.treaties
    ]
    changes = _power_changes(sc, index)
    for ev in sc.events:
        rows, cols, vals = [], [], []
        for a, row in ev.changes.items():
            if not isinstance(row, dict):  # a state field: one value per state
                rows.append(index[a])
                vals.append(row)
                continue
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
        prefs={p: np.array([getattr(s.preferences, p) for s in specs]) for p in PREFERENCES},
        dyads=dyads,
        ties=ties,
        regimes=regimes,
        treaties=treaties,
        changes=changes,
        focal=[index[f] for f in sc.focal],
        step_years=STEP_YEARS[sc.step],
        step=sc.step,
        start=sc.start,
        index=index,
    )
