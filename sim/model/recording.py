"""The compact record of a run: what the tables and outcomes are made of.

At each recorded step the recorder keeps a compact (int8) snapshot of the tie matrix — the model's
whole outcome state — and the step's turnover (two list appends: Mesa's ``DataCollector``, which
deep-copies each value it collects, cost ~4 us a step here, 2% of a 13-state run; the Mesa model
``AlignmentModel`` collects its agents with one). Everything else (statuses, hedging
indices, blocs, system shares) is computed once, vectorized over all recorded steps, when the run
ends: agent reporters would cost a Python call per agent per step, which in lock-step batches of
hundreds of replications would dominate the vectorized step (benchmarks/bench_run.py measures the
Mesa model's agent collection against this).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.model.metrics import (
    THRESHOLDS,
    alignment_index,
    allied_with_stronger,
    hedging_index,
    status,
    system_metrics,
)

if TYPE_CHECKING:
    from sim.model.dynamics import Dynamics

BLOCK_CELLS = 4_000_000  # tie cells measured per vectorized call (bounds memory in big worlds)


@dataclass
class RunRecord:
    """Everything one replication produced, as arrays (T recorded steps, N states)."""

    steps: np.ndarray  # (T,) int32
    system: np.ndarray  # (T, len(SYSTEM_COLUMNS)) float64
    status: np.ndarray  # (T, N) int8
    n_alliances: np.ndarray  # (T, N) int16
    n_friendships: np.ndarray  # (T, N) int16
    hedging: np.ndarray  # (T, N) float32
    alignment: np.ndarray  # (T, N) float32 alignment index
    allied_up: np.ndarray  # (T, N) bool: allied with a stronger state
    window_status: np.ndarray  # (len(THRESHOLDS), W, N) int8: statuses over the verdict window
    final_ties: np.ndarray  # (N, N) int8
    final_distrust: np.ndarray  # (N, N) float64
    final_power: np.ndarray  # (N,) float64
    final_members: np.ndarray  # (treaties, N) bool: treaty membership at the end
    history_steps: np.ndarray  # (P,) int32: year-end steps kept in full (empty: no calendar)
    history_ties: np.ndarray  # (P, N, N) int8: every tie at those steps
    calendar: tuple[str, str] | None = None  # the scenario's (start, step unit), if it has a start


def _changed_rows(T: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The tie rows of a stack of steps (S, N, N) that differ from the same state's row at the
    step before (all rows of the first step), as an (M, N) stack, and for every (step, state) the
    index of the row in it that holds its current ties, (S, N).

    A state's measures (status, hedging and alignment indices) depend on its own row of ties
    alone, and between two recorded steps most rows do not change (~15% do in the 194-state
    world): measuring only the changed rows, then spreading them, gives the same numbers for a
    fraction of the work — bit for bit, as each row's products and sums are its own.
    """
    changed = np.ones(T.shape[:2], dtype=bool)
    if len(T) > 1:
        np.any(T[1:] != T[:-1], axis=-1, out=changed[1:])
    ordinal = np.cumsum(changed.ravel()).reshape(changed.shape) - 1  # (S, N) index in rows
    # the last step at or before each step where the state's row changed
    last = np.maximum.accumulate(np.where(changed, np.arange(len(T))[:, None], 0), axis=0)
    source = np.take_along_axis(ordinal, last, axis=0)
    return T[changed], source


class Recorder:
    """Keeps the tie matrix of every recorded step; measures them all at the end."""

    def __init__(self, model: Dynamics, every: int) -> None:
        self.every = every
        self.window = model.params.verdict_window
        self.keep = set(model.history_steps)
        w = model.world
        self.calendar = None if w.start is None else (w.start, w.step)
        self.ties: list[np.ndarray] = []
        self.turnover: list[int | np.ndarray] = []
        self._last: np.ndarray | None = None  # the tie array last recorded, and its snapshot
        self._snapshot: np.ndarray | None = None
        self.steps: list[int] = []
        self.rivalry: list[np.ndarray] = []
        self.power: list[np.ndarray] = []

    def collect(self, model: Dynamics) -> None:
        ties = model.ties
        if ties is not self._last:  # a step that changes no tie keeps its array: so does this
            self._last, self._snapshot = ties, ties.astype(np.int8)  # 1 byte per pair and step
            self._snapshot.flags.writeable = False
        self.ties.append(self._snapshot)
        # ties whose level changed in the step just taken (0 at the start), per replication
        if ties is model.previous:
            model.turnover = 0 if ties.ndim == 2 else np.zeros(ties.shape[:-2], dtype=np.intp)
        elif ties.ndim == 2:
            model.turnover = np.count_nonzero(ties != model.previous) // 2
        else:
            changed = ties != model.previous
            model.turnover = changed.reshape((*changed.shape[:-2], -1)).sum(axis=-1) // 2
        self.turnover.append(model.turnover)
        self.steps.append(model.steps)
        self.rivalry.append(model.dyadic.rivalry)
        self.power.append(model.attrs.power)  # replaced, not edited, when power changes

    def record(self, model: Dynamics) -> RunRecord:
        """The record of a single run."""
        (only,) = self.records(model)
        return only

    def records(self, model: Dynamics) -> list[RunRecord]:
        """One record per replication (one for a single model, K for a lock-step batch)."""
        turnover = np.asarray(self.turnover, dtype=float)  # (T, *batch)
        return [
            self._measure(
                np.stack([t[k] for t in self.ties] if k else self.ties),  # (T, N, N) of one
                np.ascontiguousarray(turnover[(slice(None), *k)]),
                model.ties[k],
                model.dyadic.distrust[k],
                model.params.rival_threshold,
                model.attrs.power,
                model.members[k],
            )
            for k in np.ndindex(model.ties.shape[:-2])
        ]

    def _measure(
        self,
        T_all: np.ndarray,
        turnover: np.ndarray,
        final_ties: np.ndarray,
        final_distrust: np.ndarray,
        threshold: float,
        power: np.ndarray,
        members: np.ndarray,
    ) -> RunRecord:
        """Every metric of one replication, vectorized over its recorded steps."""
        stat, hedge, align, system = [], [], [], []
        start = 0
        while start < len(self.ties):
            # a block of consecutive recorded steps that share one rivalry matrix
            R = self.rivalry[start]
            stop = start + 1
            block = max(1, BLOCK_CELLS // T_all[0].size)
            while stop < len(self.ties) and stop - start < block and self.rivalry[stop] is R:
                stop += 1
            T = T_all[start:stop]
            rows, source = _changed_rows(T)
            st_rows = status(rows, threshold <= R)
            h_rows = hedging_index(rows, R)
            st = st_rows[source]
            stat.append(st)
            hedge.append(h_rows.astype(np.float32)[source])
            align.append(alignment_index(rows, R, h_rows).astype(np.float32)[source])
            start = stop
        # the system columns do not depend on rivalry beyond the statuses: blocks of steps
        # bounded by size alone (fewer calls than one per rivalry matrix; the same numbers)
        statuses = np.concatenate(stat)
        block = max(1, BLOCK_CELLS // T_all[0].size)
        for a in range(0, len(T_all), block):
            b = a + block
            system.append(system_metrics(T_all[a:b], statuses[a:b], turnover[a:b]))
        steps = np.array(self.steps, dtype=np.int32)
        up = np.empty(T_all.shape[:2], dtype=bool)
        a = 0
        while a < len(self.power):  # runs of recorded steps that share one power vector
            b = a + 1
            while b < len(self.power) and self.power[b] is self.power[a]:
                b += 1
            up[a:b] = allied_with_stronger(T_all[a:b], self.power[a])
            a = b
        window = np.flatnonzero(steps > steps[-1] - self.window)
        kept = np.array([k for k, t in enumerate(self.steps) if t in self.keep], dtype=np.intp)
        window_status = np.empty((len(THRESHOLDS), len(window), T_all.shape[-1]), np.int8)
        a = 0
        while a < len(window):  # runs of window steps that share one rivalry matrix
            R = self.rivalry[window[a]]
            b = a + 1
            while b < len(window) and self.rivalry[window[b]] is R:
                b += 1
            for k, th in enumerate(THRESHOLDS):
                window_status[k, a:b] = status(T_all[window[a:b]], th <= R)
            a = b
        return RunRecord(
            steps=steps,
            system=np.concatenate(system),
            status=statuses,
            n_alliances=(T_all == 2).sum(axis=-1, dtype=np.int16),
            n_friendships=(T_all == 1).sum(axis=-1, dtype=np.int16),
            hedging=np.concatenate(hedge),
            alignment=np.concatenate(align),
            allied_up=up,
            window_status=window_status,
            final_ties=final_ties.astype(np.int8),
            final_distrust=final_distrust.copy(),
            final_power=power.copy(),
            final_members=members.copy(),
            history_steps=steps[kept],
            history_ties=T_all[kept].astype(np.int8),
            calendar=self.calendar,
        )
