"""Every table hedgesim writes, built from run records (docs/DATA.md).

* a run directory (``hedgesim run``): ``system``, ``states``, ``ties`` and, for scenarios with a
  calendar, ``tie_history`` — every condition and replication, in order;
* a sweep's part files: ``runs`` (one row per run: its id, cell, seed, swept values and final
  outcomes) and ``steps`` (the same outcomes at every recorded step), laid out by :class:`Layout`.

Pure functions of records and layouts: no file is opened here (sim.results.store writes).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa

from sim._version import __version__
from sim.model.metrics import ALIGNED, NON_ALIGNED, STATUSES, SYSTEM_COLUMNS
from sim.scenario.schema import LEVELS

if TYPE_CHECKING:
    from sim.model.recording import RunRecord

RUN_COLUMNS: tuple[str, ...] = ("run_id", "run_index", "cell", "replication", "seed")
"""The columns that identify a sweep run (then come the swept values and the outcomes)."""
STATE_TYPES: dict[str, pa.DataType] = {
    "status": pa.string(),
    "non_aligned": pa.int8(),
    "aligned": pa.int8(),
    "n_alliances": pa.int32(),
    "n_friendships": pa.int32(),
    "hedging_index": pa.float32(),
    "alignment_index": pa.float32(),
    "allied_stronger": pa.int8(),
}
"""The outcome columns ``<ID>.<metric>`` of each reported state in a sweep's tables, in order."""
STATE_METRICS: tuple[str, ...] = tuple(STATE_TYPES)
INT_SYSTEM = frozenset({"n_alliances", "n_friendships", "n_blocs", "largest_bloc", "turnover"})
_ARROW = {"bool": pa.bool_(), "int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}

# ------------------------------------------------------------------------------------------------
# A run directory
# ------------------------------------------------------------------------------------------------


def _dict(values: Sequence[str], codes: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(list(values)))


def run_tables(
    ids: Sequence[str], results: Mapping[str, Sequence[RunRecord]]
) -> dict[str, pa.Table]:
    """System, states and final-ties tables (and tie_history, for a calendar) of every
    condition and replication, in order: ``results`` maps condition labels to records."""
    labels = list(results)
    sys_parts, st_parts, tie_parts = [], [], []
    n = len(ids)
    iu = np.triu_indices(n, 1)
    for c, label in enumerate(labels):
        for rep, rec in enumerate(results[label]):
            sys_parts.append((c, rep, rec.steps, rec.system))
            st_parts.append((c, rep, rec))
            lv = rec.final_ties[iu]
            keep = lv > 0
            tie_parts.append((c, rep, iu[0][keep], iu[1][keep], lv[keep]))
    cond_names = labels

    def cat(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype)

    # system
    sys_cols: dict[str, Any] = {
        "condition": _dict(
            cond_names, cat([np.full(len(s), c) for c, _, s, _ in sys_parts], np.int32)
        ),
        "replication": cat([np.full(len(s), r) for _, r, s, _ in sys_parts], np.int32),
        "step": cat([s for _, _, s, _ in sys_parts], np.int32),
    }
    sysm = np.concatenate([m for *_, m in sys_parts]) if sys_parts else np.zeros((0, 9))
    for k, name in enumerate(SYSTEM_COLUMNS):
        is_share = name.startswith("share")
        sys_cols[name] = sysm[:, k] if is_share else sysm[:, k].astype(np.int32)
    # states
    cond, rep_, step, state, status, n_all, n_fr, hedge, align, up = ([] for _ in range(10))
    for c, r, rec in st_parts:
        t = len(rec.steps)
        cond.append(np.full(t * n, c))
        rep_.append(np.full(t * n, r))
        step.append(np.repeat(rec.steps, n))
        state.append(np.tile(np.arange(n), t))
        status.append(rec.status.ravel())
        n_all.append(rec.n_alliances.ravel())
        n_fr.append(rec.n_friendships.ravel())
        hedge.append(rec.hedging.ravel())
        align.append(rec.alignment.ravel())
        up.append(rec.allied_up.ravel())
    st_cols = {
        "condition": _dict(cond_names, cat(cond, np.int32)),
        "replication": cat(rep_, np.int32),
        "step": cat(step, np.int32),
        "state": _dict(list(ids), cat(state, np.int32)),
        "status": _dict(STATUSES, cat(status, np.int32)),
        "n_alliances": cat(n_all, np.int16),
        "n_friendships": cat(n_fr, np.int16),
        "hedging_index": cat(hedge, np.float32),
        "alignment_index": cat(align, np.float32),
        "allied_stronger": cat(up, np.bool_),
    }
    tie_cols = {
        "condition": _dict(
            cond_names, cat([np.full(len(a), c) for c, _, a, _, _ in tie_parts], np.int32)
        ),
        "replication": cat([np.full(len(a), r) for _, r, a, _, _ in tie_parts], np.int32),
        "a": _dict(list(ids), cat([a for _, _, a, _, _ in tie_parts], np.int32)),
        "b": _dict(list(ids), cat([b for _, _, _, b, _ in tie_parts], np.int32)),
        "level": _dict(LEVELS, cat([v for *_, v in tie_parts], np.int32)),
    }
    out = {
        "system": pa.table(sys_cols),
        "states": pa.table(st_cols),
        "ties": pa.table(tie_cols),
    }
    history = tie_history(ids, results)
    if history is not None:
        out["tie_history"] = history
    calendar = next((rec.calendar for recs in results.values() for rec in recs), None)
    if calendar is not None:
        for name in ("system", "states", "tie_history"):
            if name in out:
                out[name] = with_dates(out[name], *calendar)
    return out


def with_dates(table: pa.Table, start: str, step: str) -> pa.Table:
    """``table`` with a ``date`` column after ``step``: the first day of each step's period
    (sim.scenario.calendar), so a reader need not know the scenario's start and step length."""
    from sim.scenario.calendar import step_dates

    dates = step_dates(start, step, table.column("step").to_numpy())
    at = table.schema.get_field_index("step") + 1
    return table.add_column(at, "date", pa.array(dates, pa.date32()))


def tie_history(ids: Sequence[str], results: Mapping[str, Sequence[RunRecord]]) -> pa.Table | None:
    """Every tie at the last step of each calendar year (scenarios with a ``start``), per
    condition and replication: what ``hedgesim fit`` scores against yearly data."""
    labels = list(results)
    if not any(len(rec.history_steps) for recs in results.values() for rec in recs):
        return None
    iu = np.triu_indices(len(ids), 1)
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("c", "r", "s", "a", "b", "v")}
    for c, label in enumerate(labels):
        for r, rec in enumerate(results[label]):
            for s, ties in zip(rec.history_steps, rec.history_ties, strict=True):
                lv = ties[iu]
                keep = lv > 0
                k = int(keep.sum())
                cols["c"].append(np.full(k, c))
                cols["r"].append(np.full(k, r))
                cols["s"].append(np.full(k, s))
                cols["a"].append(iu[0][keep])
                cols["b"].append(iu[1][keep])
                cols["v"].append(lv[keep])

    def cat(key: str) -> np.ndarray:
        return np.concatenate(cols[key]).astype(np.int32)

    return pa.table(
        {
            "condition": _dict(labels, cat("c")),
            "replication": cat("r"),
            "step": cat("s"),
            "a": _dict(list(ids), cat("a")),
            "b": _dict(list(ids), cat("b")),
            "level": _dict(LEVELS, cat("v")),
        }
    )


def world_info(world: Any) -> dict[str, Any]:
    """What plots need to draw the world: ids, names, power, rivalry, focal states."""
    return {
        "ids": world.ids,
        "names": world.names,
        "power": world.power.tolist(),
        "rivalry": world.dyads["rivalry"].round(6).tolist(),
        "focal": [world.ids[i] for i in world.focal],
    }


# ------------------------------------------------------------------------------------------------
# A sweep's part files
# ------------------------------------------------------------------------------------------------


def run_id(cell_hash: str, seed: int, version: str = __version__) -> str:
    """Deterministic id of a sweep run: its resolved scenario, its seed and the model version."""
    return hashlib.sha256(f"{cell_hash}:{seed}:{version}".encode()).hexdigest()[:20]


@dataclass(frozen=True)
class Layout:
    """What a runs/steps row holds: swept columns with their types, the states reported."""

    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    states: tuple[str, ...]

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any]) -> Layout:
        d = manifest["design"]
        return cls(
            tuple(d["columns"]),
            tuple(d["dtypes"][c] for c in d["columns"]),
            tuple(manifest["scenario"]["states_reported"]),
        )

    def metric_fields(self) -> list[pa.Field]:
        out = []
        for sid in self.states:
            out += [pa.field(f"{sid}.{m}", t) for m, t in STATE_TYPES.items()]
        out += [
            pa.field(f"system.{c}", pa.int32() if c in INT_SYSTEM else pa.float64())
            for c in SYSTEM_COLUMNS
        ]
        return out

    def runs_schema(self) -> pa.Schema:
        head = [pa.field(c, pa.string() if c == "run_id" else pa.int64()) for c in RUN_COLUMNS]
        params = [pa.field(c, _ARROW[t]) for c, t in zip(self.columns, self.dtypes, strict=True)]
        return pa.schema(head + params + self.metric_fields())

    def steps_schema(self) -> pa.Schema:
        head = [
            pa.field("run_id", pa.string()),
            pa.field("run_index", pa.int64()),
            pa.field("step", pa.int64()),
        ]
        return pa.schema(head + self.metric_fields())


def _param_array(values: list[Any], dtype: str) -> pa.Array:
    if dtype == "string":
        values = [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values]
    return pa.array(values, type=_ARROW[dtype])


def _metric_columns(rec: Any, idx: list[int]) -> list[np.ndarray]:
    """Every metric column of a run over its recorded steps, in ``Layout.metric_fields`` order."""
    out: list[np.ndarray] = []
    names = np.array(STATUSES, dtype=object)
    for i in idx:
        code = rec.status[:, i]
        out += [
            names[code],
            (code == NON_ALIGNED).astype(np.int8),
            (code == ALIGNED).astype(np.int8),
            rec.n_alliances[:, i].astype(np.int32),
            rec.n_friendships[:, i].astype(np.int32),
            rec.hedging[:, i].astype(np.float32),
            rec.alignment[:, i].astype(np.float32),
            rec.allied_up[:, i].astype(np.int8),
        ]
    for j, c in enumerate(SYSTEM_COLUMNS):
        col = rec.system[:, j]
        out.append(np.rint(col).astype(np.int32) if c in INT_SYSTEM else col.astype(np.float64))
    return out


@dataclass(frozen=True)
class SweepRun:
    """One finished sweep run, as its rows need it."""

    run_id: str
    run_index: int
    cell: int
    replication: int
    seed: int  # seed_value of its SeedSequence
    values: Mapping[str, Any]  # the cell's swept values
    record: RunRecord
    positions: tuple[int, ...]  # the reported states' positions in its world


_ID = pa.dictionary(pa.int32(), pa.string())
TIES_SCHEMA = pa.schema(
    [
        pa.field("run_index", pa.int64()),
        pa.field("step", pa.int64()),
        pa.field("a", _ID),
        pa.field("b", _ID),
        pa.field("level", _ID),
    ]
)
"""A sweep's ``ties`` parts: every kept tie of every run (``a`` before ``b`` in scenario order)."""


def sweep_ties_table(
    ids: Sequence[str], runs: Sequence[SweepRun], when: str, level: str
) -> pa.Table:
    """The ``ties`` rows of a chunk of sweep runs: each run's ties at its last step
    (``when="final"``) or at the last step of every calendar year and the last step
    (``"yearly"``: the run's ``tie_history``), friendships and alliances (``level="any"``) or
    alliances only (``"alliance"``). Why a table of its own: scoring a sweep against dyadic data
    (ATOP, sim.validation.estimate) needs who is tied to whom, which the per-state ``runs``
    columns do not say."""
    iu = np.triu_indices(len(ids), 1)
    low = 2 if level == "alliance" else 1
    parts: dict[str, list[np.ndarray]] = {k: [] for k in ("r", "s", "a", "b", "v")}
    for r in runs:
        rec = r.record
        if when == "yearly":
            snaps = zip(rec.history_steps, rec.history_ties, strict=True)
        else:
            snaps = iter([(rec.steps[-1], rec.final_ties)])
        for step, ties in snaps:
            lv = ties[iu]
            keep = lv >= low
            k = int(keep.sum())
            parts["r"].append(np.full(k, r.run_index, dtype=np.int64))
            parts["s"].append(np.full(k, int(step), dtype=np.int64))
            parts["a"].append(iu[0][keep])
            parts["b"].append(iu[1][keep])
            parts["v"].append(lv[keep])

    def cat(key: str, dtype: Any) -> np.ndarray:
        return np.concatenate(parts[key]).astype(dtype) if parts[key] else np.zeros(0, dtype)

    return pa.Table.from_arrays(
        [
            pa.array(cat("r", np.int64)),
            pa.array(cat("s", np.int64)),
            _dict(list(ids), cat("a", np.int32)),
            _dict(list(ids), cat("b", np.int32)),
            _dict(LEVELS, cat("v", np.int32)),
        ],
        schema=TIES_SCHEMA,
    )


def sweep_tables(
    layout: Layout, runs: Sequence[SweepRun], with_steps: bool
) -> tuple[pa.Table, pa.Table | None]:
    """The ``runs`` rows (final outcomes) and, ``with_steps``, the ``steps`` rows (outcomes at
    every recorded step) of a chunk of sweep runs."""
    metric_fields = layout.metric_fields()
    finals: list[list[np.ndarray]] = []
    steps_parts: list[tuple[str, int, np.ndarray, list[np.ndarray]]] = []
    for r in runs:
        cols = _metric_columns(r.record, list(r.positions))
        finals.append([c[-1:] for c in cols])
        if with_steps:
            steps_parts.append((r.run_id, r.run_index, r.record.steps, cols))
    arrays: list[pa.Array] = [
        pa.array([r.run_id for r in runs], pa.string()),
        pa.array([r.run_index for r in runs], pa.int64()),
        pa.array([r.cell for r in runs], pa.int64()),
        pa.array([r.replication for r in runs], pa.int64()),
        pa.array([r.seed for r in runs], pa.int64()),
        *(
            _param_array([r.values.get(c) for r in runs], t)
            for c, t in zip(layout.columns, layout.dtypes, strict=True)
        ),
        *(
            pa.array(np.concatenate([m[j] for m in finals]), type=f.type)
            for j, f in enumerate(metric_fields)
        ),
    ]
    runs_table = pa.Table.from_arrays(arrays, schema=layout.runs_schema())
    if not with_steps:
        return runs_table, None
    t_len = [len(s) for _, _, s, _ in steps_parts]
    steps_table = pa.Table.from_arrays(
        [
            pa.array(np.repeat([p[0] for p in steps_parts], t_len), pa.string()),
            pa.array(np.repeat([p[1] for p in steps_parts], t_len), pa.int64()),
            pa.array(np.concatenate([p[2] for p in steps_parts]), pa.int64()),
            *(
                pa.array(np.concatenate([p[3][j] for p in steps_parts]), type=f.type)
                for j, f in enumerate(metric_fields)
            ),
        ],
        schema=layout.steps_schema(),
    )
    return runs_table, steps_table
