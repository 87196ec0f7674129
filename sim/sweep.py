"""Batch sweeps: run every cell of a design many times, streaming results to disk, resumable.

What this does better than Mesa's ``batch_run``, NetLogo's BehaviorSpace and EMA Workbench:

* **Deterministic runs.** Run ``i`` (cells numbered in design order, replications inside a cell) is
  seeded by ``seed_for(root, i)`` and identified by a hash of its resolved scenario, its seed and
  the model version, so results are the same whatever the backend, worker count, chunk size or
  resume history.
* **Streaming, flat memory.** Runs go to workers in chunks; at most a bounded window of chunks is in
  flight; each finished chunk is written at once (atomically) as its own ``part-*`` file and
  forgotten. Nothing accumulates in the parent.
* **Crash-safe resume.** Only the parent writes, one file per chunk, via temp file + rename, the
  ``steps`` part before the ``runs`` part (the runs part is the commit). ``kill -9`` at any moment
  loses at most the chunks in flight; re-running the same command skips every run on disk.
* **Any executor.** A ``ProcessPoolExecutor`` locally, Dask (``Client.get_executor()``) on a
  cluster, or any ``concurrent.futures.Executor`` handed in.

Layout of an output directory: docs/DATA.md ("hedgesim sweep output directory").
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import multiprocessing
import os
import platform
import re
import sys
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import pyarrow as pa

import sim
from sim.atomic import encode_table, sealed, table_suffix, write_bytes, write_json, write_table
from sim.errors import InputError
from sim.metrics import ALIGNED, NON_ALIGNED, STATUSES, SYSTEM_COLUMNS
from sim.runner import default_workers, process_pool, seed_for, seed_value, simulate_many
from sim.scenario import scenario_hash, split_path, validate_document
from sim.schema import Scenario
from sim.sweepspec import Design, build_design, load_spec, resolve_document
from sim.world import World, compile_world

MANIFEST = "manifest.json"
RUNS = "runs"
STEPS = "steps"
FORMATS = ("parquet", "csv")
MANIFEST_KIND = "hedgesim-sweep"
MANIFEST_VERSION = 1
PART_RE = re.compile(r"^part-(\d{10})\.(parquet|csv)$")
FINAL_ONLY = 2**62
"""``record_every`` that records nothing but the initial and the final state."""

INT_SYSTEM = frozenset({"n_alliances", "n_friendships", "n_blocs", "largest_bloc", "turnover"})
STATE_METRICS: tuple[str, ...] = (
    "status",
    "non_aligned",
    "aligned",
    "n_alliances",
    "n_friendships",
    "hedging_index",
    "alignment_index",
    "allied_stronger",
)
_ARROW = {"bool": pa.bool_(), "int64": pa.int64(), "float64": pa.float64(), "string": pa.string()}


class SweepError(Exception):
    """A sweep that cannot start or go on (directory conflict, failed run, missing backend).

    ``code`` is the exit status the CLI uses: 2 for a usage problem the user must fix before
    re-running, 3 for a run that failed (as ``hedgesim run``), 1 for a worker that died.
    """

    def __init__(self, message: str, code: int = 1) -> None:
        super().__init__(message)
        self.code = code


class RunFailed(RuntimeError):
    """A run raised inside a worker; the message names the run, its cell and replication."""


# ------------------------------------------------------------------------------------------------
# Table layout
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """What a runs/steps row holds: swept columns with their types, the states reported."""

    columns: tuple[str, ...]
    dtypes: tuple[str, ...]
    states: tuple[str, ...]

    @classmethod
    def of(cls, design: Design) -> Layout:
        return cls(
            tuple(design.columns),
            tuple(design.dtypes[c] for c in design.columns),
            tuple(reported_states(design.base)),
        )

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
            out += [
                pa.field(f"{sid}.status", pa.string()),
                pa.field(f"{sid}.non_aligned", pa.int8()),
                pa.field(f"{sid}.aligned", pa.int8()),
                pa.field(f"{sid}.n_alliances", pa.int32()),
                pa.field(f"{sid}.n_friendships", pa.int32()),
                pa.field(f"{sid}.hedging_index", pa.float32()),
                pa.field(f"{sid}.alignment_index", pa.float32()),
                pa.field(f"{sid}.allied_stronger", pa.int8()),
            ]
        out += [
            pa.field(f"system.{c}", pa.int32() if c in INT_SYSTEM else pa.float64())
            for c in SYSTEM_COLUMNS
        ]
        return out

    def runs_schema(self) -> pa.Schema:
        head = [
            pa.field("run_id", pa.string()),
            pa.field("run_index", pa.int64()),
            pa.field("cell", pa.int64()),
            pa.field("replication", pa.int64()),
            pa.field("seed", pa.int64()),
        ]
        params = [pa.field(c, _ARROW[t]) for c, t in zip(self.columns, self.dtypes, strict=True)]
        return pa.schema(head + params + self.metric_fields())

    def steps_schema(self) -> pa.Schema:
        head = [
            pa.field("run_id", pa.string()),
            pa.field("run_index", pa.int64()),
            pa.field("step", pa.int64()),
        ]
        return pa.schema(head + self.metric_fields())


def reported_states(sc: Scenario) -> list[str]:
    """The focal states, or every state when the scenario names none."""
    return list(sc.focal) or list(sc.states)


def run_id(cell_hash: str, seed: int, version: str = sim.__version__) -> str:
    """Deterministic id of a run: resolved scenario, seed and model version."""
    return hashlib.sha256(f"{cell_hash}:{seed}:{version}".encode()).hexdigest()[:20]


def _param_array(values: list[Any], dtype: str) -> pa.Array:
    if dtype == "string":
        values = [None if v is None else v if isinstance(v, str) else json.dumps(v) for v in values]
    return pa.array(values, type=_ARROW[dtype])


# ------------------------------------------------------------------------------------------------
# Worker side
# ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkTask:
    """A chunk of runs, self-contained so any executor on any machine can run it."""

    base_doc: dict[str, Any]
    cells: tuple[tuple[int, dict[str, Any], str], ...]  # (cell, values, expected scenario hash)
    runs: tuple[int, ...]  # run indices, ascending
    replications: int
    root: int
    record_every: int | None
    version: str
    layout: Layout
    fmt: str = "parquet"


@dataclass
class ChunkResult:
    """A finished chunk as the bytes of its part files, encoded by the worker (in parallel), so
    the coordinating process that writes every chunk only moves bytes."""

    first: int
    runs: bytes
    steps: bytes | None
    rows: int
    seconds: float


_PREPARED: OrderedDict[str, tuple[World, Scenario]] = OrderedDict()
_PREPARED_MAX = 32


def _prepare(
    base: dict[str, Any], cell: int, values: dict[str, Any], expected: str
) -> tuple[World, Scenario]:
    """Resolve and compile one cell, once per worker process (cached by scenario hash)."""
    hit = _PREPARED.get(expected)
    if hit is not None:
        _PREPARED.move_to_end(expected)
        return hit
    doc = resolve_document(base, [(split_path(k), v) for k, v in values.items()])
    sc = validate_document(doc, f"<sweep cell {cell}>")
    got = scenario_hash(sc)
    if got != expected:
        raise RunFailed(
            f"cell {cell}: this worker resolves the scenario to hash {got}, the client to "
            f"{expected}; are client and workers running the same hedgesim version?"
        )
    out = (compile_world(sc), sc)
    _PREPARED[expected] = out
    if len(_PREPARED) > _PREPARED_MAX:
        _PREPARED.popitem(last=False)
    return out


def run_chunk(task: ChunkTask) -> ChunkResult:
    """Worker entry point: run a chunk and return its rows as Arrow tables (built here, in
    parallel, so the parent only writes)."""
    if multiprocessing.parent_process() is not None:  # a worker (Dask's too): not the caller
        from sim.lifeline import one_blas_thread

        one_blas_thread()
    if task.version != sim.__version__:
        raise RunFailed(
            f"worker runs hedgesim {sim.__version__}, the sweep was planned with {task.version}"
        )
    t0 = time.perf_counter()
    lay = task.layout
    cells = {c: (values, h) for c, values, h in task.cells}
    runs: dict[str, list[Any]] = {
        k: [] for k in ("run_id", "run_index", "cell", "replication", "seed")
    }
    params: dict[str, list[Any]] = {c: [] for c in lay.columns}
    metrics: list[list[np.ndarray]] = []  # per run: one array per metric column, final row
    steps_parts: list[tuple[str, int, np.ndarray, list[np.ndarray]]] = []
    every = task.record_every or FINAL_ONLY
    for cell, group in _by_cell(task.runs, task.replications):
        values, expected = cells[cell]
        world, sc = _prepare(task.base_doc, cell, values, expected)
        seqs = [seed_for(task.root, r) for r in group]
        try:
            recs = simulate_many(world, sc, seqs, steps=None, record_every=every)
        except Exception as exc:
            raise _failure(exc, group, task.replications, cell, values) from None
        idx = [world.index[s] for s in lay.states]
        for r, seq, rec in zip(group, seqs, recs, strict=True):
            seed = seed_value(seq)
            rid = run_id(expected, seed, task.version)
            cols = _metric_columns(rec, idx)
            metrics.append([c[-1:] for c in cols])
            if task.record_every is not None:
                steps_parts.append((rid, r, rec.steps, cols))
            runs["run_id"].append(rid)
            runs["run_index"].append(r)
            runs["cell"].append(cell)
            runs["replication"].append(r % task.replications)
            runs["seed"].append(seed)
            for c in lay.columns:
                params[c].append(values.get(c))
    metric_fields = lay.metric_fields()
    arrays: list[pa.Array] = [
        pa.array(runs["run_id"], pa.string()),
        *(pa.array(runs[k], pa.int64()) for k in ("run_index", "cell", "replication", "seed")),
        *(_param_array(params[c], t) for c, t in zip(lay.columns, lay.dtypes, strict=True)),
        *(
            pa.array(np.concatenate([m[j] for m in metrics]), type=f.type)
            for j, f in enumerate(metric_fields)
        ),
    ]
    runs_table = pa.Table.from_arrays(arrays, schema=lay.runs_schema())
    steps_table = None
    if task.record_every is not None:
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
            schema=lay.steps_schema(),
        )
    return ChunkResult(
        task.runs[0],
        encode_table(runs_table, task.fmt),
        None if steps_table is None else encode_table(steps_table, task.fmt),
        runs_table.num_rows,
        time.perf_counter() - t0,
    )


def _failure(
    exc: Exception, group: list[int], replications: int, cell: int, values: dict[str, Any]
) -> RunFailed:
    """Name the failed run (the batch knows which when the model says so), its cell and cause."""
    at = getattr(exc, "replication", None)
    bad = group if at is None else [group[at]]
    first, last = bad[0], bad[-1]
    where = ", ".join(f"{k}={v!r}" for k, v in values.items())
    if first == last:
        which = f"run {first} (cell {cell}: {where}; replication {first % replications})"
    else:
        which = (
            f"one of runs {first}–{last} (cell {cell}: {where}; replications "
            f"{first % replications}–{last % replications})"
        )
    return RunFailed(f"{which} failed: {type(exc).__name__}: {exc}")


def _by_cell(runs: Sequence[int], replications: int) -> Iterator[tuple[int, list[int]]]:
    """Consecutive runs of the same cell, as (cell, runs): each group runs in lock-step."""
    group: list[int] = []
    for r in runs:
        if group and r // replications != group[0] // replications:
            yield group[0] // replications, group
            group = []
        group.append(r)
    if group:
        yield group[0] // replications, group


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


def _noop() -> int:
    return os.getpid()


# ------------------------------------------------------------------------------------------------
# The output directory
# ------------------------------------------------------------------------------------------------


def _parts(directory: Path) -> dict[int, Path]:
    """Committed part files by first run index (temp files, starting with '.', are ignored)."""
    out: dict[int, Path] = {}
    if directory.is_dir():
        for p in directory.iterdir():
            m = PART_RE.match(p.name)
            if m:
                out[int(m.group(1))] = p
    return out


class Store:
    """One sweep output directory: manifest, part files, lock."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / MANIFEST
        self.runs_dir = self.root / RUNS
        self.steps_dir = self.root / STEPS
        self._lock: Any = None
        self._created = (False, False)  # (the directory, its lock file) made by this lock()

    # -- locking: one writer per directory; any death of its holder releases it ----------------
    def lock(self) -> None:
        from sim.outdir import Busy, DirLock

        if os.path.lexists(self.root) and self.root.is_symlink() and not self.root.exists():
            raise SweepError(
                f"{self.root}: is a broken symbolic link (to {os.readlink(self.root)})", code=2
            )
        if self.root.exists() and not self.root.is_dir():
            raise SweepError(f"{self.root}: exists and is not a directory", code=2)
        from sim.outdir import LOCK_NAME

        self._created = (not self.root.exists(), not os.path.lexists(self.root / LOCK_NAME))
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            self._lock = DirLock(self.root, "sweep").acquire()
        except Busy as exc:
            raise SweepError(
                f"{self.root}: another hedgesim process ({exc.holder}) is writing here; "
                "--force does not stop a running process",
                code=2,
            ) from None
        except OSError as exc:
            raise SweepError(
                f"{self.root}: cannot write here ({exc.strerror or exc})", code=2
            ) from None

    def unlock(self, wrote: bool = True) -> None:
        """Release the lock; a sweep refused before it wrote anything (``wrote=False``) leaves
        no trace (neither the lock file nor a directory it created)."""
        if self._lock is not None:
            path = self._lock.path
            self._lock.release()
            self._lock = None
            root_new, lock_new = self._created
            if lock_new and not wrote:
                path.unlink(missing_ok=True)
                if root_new:
                    with contextlib.suppress(OSError):
                        self.root.rmdir()

    # -- contents -------------------------------------------------------------------------------
    def read_manifest(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.manifest_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, json.JSONDecodeError) as exc:
            raise SweepError(f"{self.manifest_path}: unreadable manifest ({exc})", code=2) from None

    def run_parts(self) -> dict[int, Path]:
        return _parts(self.runs_dir)

    def step_parts(self) -> dict[int, Path]:
        return _parts(self.steps_dir)

    def clear(self) -> list[str]:
        """Remove a previous sweep's files — only those hedgesim wrote (the manifest's list, part
        files, their checksums) — and return the entries kept (files hedgesim did not write)."""
        from sim.outdir import remove_owned, survey

        c = survey(self.root)
        if c.kind is None:  # parts without a manifest: hedgesim's by their names in its layout
            c.kind = "sweep"
        self.manifest_path.unlink(missing_ok=True)  # first: a half-cleared dir is not resumable
        remove_owned(c)
        return c.kept()

    def write(self, result: ChunkResult, fmt: str) -> None:
        """Write a finished chunk: steps first, then the checksums of both, then runs (the
        commit). A loader verifies each part against its checksums, so a damaged part is found
        and named instead of read as if it were right."""
        name = f"part-{result.first:010d}{table_suffix(fmt)}"
        if result.steps is not None:
            write_bytes(self.steps_dir / name, result.steps)
        sums = {
            "runs": hashlib.sha256(result.runs).hexdigest(),
            "steps": None if result.steps is None else hashlib.sha256(result.steps).hexdigest(),
        }
        write_bytes(self.runs_dir / f".part-{result.first:010d}.sha256", json.dumps(sums).encode())
        write_bytes(self.runs_dir / name, result.runs)

    def drop(self, first: int) -> list[Path]:
        """Remove one chunk's files (a damaged part, on ``--repair``): its runs part, steps part
        and checksums, whatever their format. Returns what was removed."""
        gone = []
        for d in (self.runs_dir, self.steps_dir):
            for suffix in (".parquet", ".csv"):
                p = d / f"part-{first:010d}{suffix}"
                if p.is_file() and not p.is_symlink():
                    p.unlink()
                    gone.append(p)
        sums = self.runs_dir / f".part-{first:010d}.sha256"
        if sums.is_file():
            sums.unlink()
            gone.append(sums)
        return gone


# ------------------------------------------------------------------------------------------------
# Manifest and identity
# ------------------------------------------------------------------------------------------------


def fingerprint(design: Design) -> str:
    """What makes two sweeps the same: model version, resolved cells, values, seeds, recording."""
    blob = json.dumps(
        {
            "version": sim.__version__,
            "root": design.root_seed,
            "replications": design.spec.replications,
            "record_every": design.spec.record_every,
            "columns": design.columns,
            "dtypes": design.dtypes,
            "cells": design.cells,
            "hashes": design.cell_hashes,
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


def versions() -> dict[str, str]:
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    """Looked up once per process (reading package metadata costs ~10 ms a time)."""
    out = {"hedgesim": sim.__version__, "python": platform.python_version()}
    for pkg in ("mesa", "numpy", "scipy", "SALib", "pandas", "pyarrow", "pydantic"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            out[pkg] = metadata.version(pkg)
    return tuple(out.items())


def _manifest(design: Design, fmt: str) -> dict[str, Any]:
    spec = design.spec
    return {
        "kind": MANIFEST_KIND,
        "manifest_version": MANIFEST_VERSION,
        "fingerprint": fingerprint(design),
        "name": spec.name,
        "spec_file": str(Path(spec.source).resolve()),
        "scenario_file": str(Path(spec.scenario_source).resolve()),
        "spec": spec.raw,
        "scenario": {
            "name": design.base.name,
            "hash": scenario_hash(design.base),
            "ids": list(design.base.states),
            "names": [s.name for s in design.base.states.values()],
            "focal": list(design.base.focal),
            "states_reported": reported_states(design.base),
        },
        "design": {
            "sampler": spec.sampler,
            "n": spec.n,
            "second_order": spec.second_order if spec.sampler == "sobol" else None,
            "levels": spec.levels if spec.sampler == "morris" else None,
            "problem": design.problem,
            "parameters": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "values": list(p.values) if p.values is not None else None,
                    "bounds": list(p.bounds) if p.bounds is not None else None,
                }
                for p in spec.parameters
            ],
            "n_cases": len(spec.cases),
            "columns": design.columns,
            "dtypes": design.dtypes,
            "cells": design.cells,
            "cell_hashes": design.cell_hashes,
        },
        "replications": spec.replications,
        "steps": design.base.params.steps,
        "record_every": spec.record_every,
        "root_seed": design.root_seed,
        "seeding": "run i uses SeedSequence(root_seed, spawn_key=(i,)); "
        "i = cell * replications + replication",
        "n_cells": design.n_cells,
        "n_runs": design.n_runs,
        "format": fmt,
        "checksums": "sha256",
        "versions": versions(),
        "command": None,
        "created": _now(),
        "invocations": [],
        "complete": False,
    }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _conflict(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Why a directory's manifest describes another sweep, in the user's terms."""
    if old.get("kind") != MANIFEST_KIND:
        return "its manifest.json is not a hedgesim sweep manifest"
    ov, nv = old.get("versions", {}).get("hedgesim"), new["versions"]["hedgesim"]
    if ov != nv:
        return f"it was written by hedgesim {ov}, this is {nv}"
    for key, what in (
        ("n_cells", "cells"),
        ("replications", "replications"),
        ("root_seed", "root seed"),
        ("record_every", "recording"),
    ):
        if old.get(key) != new[key]:
            return f"{what}: {old.get(key)} there, {new[key]} here"
    if old.get("design", {}).get("columns") != new["design"]["columns"]:
        return "it sweeps other parameters"
    if old.get("design", {}).get("cells") != new["design"]["cells"]:
        return "its parameter values differ"
    return "the scenario differs"


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------


@dataclass
class SweepReport:
    """What one invocation did."""

    out: Path
    n_runs: int
    already: int
    ran: int
    seconds: float
    parts: int
    warnings: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)  # entries hedgesim did not write (--force)
    notes: list[str] = field(default_factory=list)  # what resuming found, ignored or repaired


MAX_CHUNK = 64
"""Runs per task at most by default: a kill loses at most the chunks in flight."""


def plan_chunks(
    pending: np.ndarray, chunk: int, replications: int = 1, *, guided: int | None = None
) -> Iterator[np.ndarray]:
    """Pending runs in chunks of at most ``chunk``, cut at cell boundaries where a cell fits.

    The replications of one cell inside a chunk run in lock-step (sim.lockstep), several times
    faster per run than one by one, so a chunk should hold whole cells rather than the tail of
    one and the head of the next; a cell larger than a chunk is cut into near-equal pieces (10
    runs, chunk 8: 5 + 5, not 8 + 2). With ``guided=slots`` (the default when no ``--chunk`` is
    given) chunks shrink as the sweep nears its end, each at most a third of the remaining runs
    per slot (guided scheduling): big chunks early mean few part files for the coordinating
    process to write, small ones late mean no worker waits long for the last. Which runs share a
    chunk never changes a result.
    """
    pending = np.asarray(pending)
    floor = min(chunk, max(replications, 8))

    def limit(remaining: int) -> int:
        return chunk if guided is None else max(floor, min(chunk, remaining // (3 * guided)))

    cuts = np.flatnonzero(np.diff(pending // replications)) + 1
    current: list[np.ndarray] = []
    size = emitted = 0
    cap = limit(len(pending))
    for group in np.split(pending, cuts):
        for piece in np.array_split(group, max(1, -(-len(group) // cap))):
            if not len(piece):
                continue
            if size and size + len(piece) > cap:
                yield np.concatenate(current)
                emitted += size
                current, size = [], 0
                cap = limit(len(pending) - emitted)
            current.append(piece)
            size += len(piece)
    if size:
        yield np.concatenate(current)


def _task(design: Design, runs: np.ndarray, layout: Layout, fmt: str = "parquet") -> ChunkTask:
    reps = design.spec.replications
    cells = sorted({int(r) // reps for r in runs})
    return ChunkTask(
        base_doc=design.base_doc,
        cells=tuple((c, design.cells[c], design.cell_hashes[c]) for c in cells),
        runs=tuple(int(r) for r in runs),
        replications=reps,
        root=design.root_seed,
        record_every=design.spec.record_every,
        version=sim.__version__,
        layout=layout,
        fmt=fmt,
    )


def _drive(
    tasks: Iterable[ChunkTask],
    submit: Callable[[ChunkTask], Future[ChunkResult]],
    window: int,
    take: Callable[[ChunkResult], None],
) -> None:
    """Keep at most ``window`` tasks in flight; hand each result over as soon as it is done."""
    pending: set[Future[ChunkResult]] = set()

    def settle() -> None:
        nonlocal pending
        done, pending = wait(pending, return_when=FIRST_COMPLETED)
        failure: BaseException | None = None
        for f in done:  # write every good result before reporting a failure
            exc = f.exception()
            if exc is None:
                take(f.result())
            elif failure is None:
                failure = exc
        if failure is not None:
            raise failure

    try:
        for task in tasks:
            while len(pending) >= window:
                settle()
            pending.add(submit(task))
        while pending:
            settle()
    except BaseException:
        for f in pending:
            f.cancel()
        raise


def _local_executor(workers: int) -> ProcessPoolExecutor:
    """A process pool (``sim.runner.process_pool``: fork when the parent has no threads, else
    forkserver, so a sweep started from a notebook kernel cannot deadlock)."""
    ex = process_pool(workers)  # workers ignore Ctrl-C and die with this process
    ex.submit(_noop).result()  # start the workers now, before any thread (tqdm, arrow) exists
    return ex


def dask_executor(scheduler: str | None, workers: int) -> tuple[Executor, int, Callable[[], None]]:
    """``distributed.Client(ADDR).get_executor()``, or a LocalCluster when no address.

    ``scheduler`` is an address (``tcp://host:8786``) or the path of a scheduler file written by
    ``dask scheduler --scheduler-file`` (the usual way on SLURM).

    Returns the executor, its number of worker slots, and a function that closes everything.
    """
    try:
        import logging

        from distributed import Client, LocalCluster
    except ImportError:
        raise SweepError(
            "--backend dask needs Dask's distributed scheduler: pip install 'hedgesim[dask]'",
            code=2,
        ) from None
    cluster = None
    if scheduler:
        try:
            if Path(scheduler).is_file():  # a scheduler file (dask scheduler --scheduler-file)
                client = Client(scheduler_file=scheduler, timeout="30s")
            else:
                client = Client(scheduler, timeout="30s")
        except (OSError, ValueError) as exc:
            raise SweepError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}", code=2
            ) from None
    else:
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.ERROR,
        )
        client = Client(cluster)
    slots = max(1, sum(client.nthreads().values()))

    def close() -> None:
        client.close()
        if cluster is not None:
            cluster.close()

    return client.get_executor(pure=False), slots, close


def _resume_state(
    store: Store, found: Any, manifest: dict[str, Any], force: bool, repair: bool
) -> tuple[dict[str, Any] | None, list[str], list[str], np.ndarray]:
    """What is already on disk for this sweep: the old manifest (for its history), the entries
    kept by ``--force``, notes for the user, and the mask of runs done (every part checked by
    ``sim.loader``; damaged parts refused, or dropped with ``repair``)."""
    from sim.loader import REPAIR_HINT, check_sweep
    from sim.loader import read_manifest as checked_manifest

    kept: list[str] = []
    notes: list[str] = []
    old = found.meta if found.kind == "sweep" else None
    has_parts = bool(store.run_parts() or store.step_parts())
    if old is not None and old.get("fingerprint") != manifest["fingerprint"]:
        if not force:
            raise SweepError(
                f"{store.root} holds a different sweep ({_conflict(old, manifest)}); "
                "use --force to replace what hedgesim wrote there (files it did not write "
                "are kept), or choose another --out",
                code=2,
            )
        kept, old = store.clear(), None
    elif old is None and has_parts:
        if force:
            kept = store.clear()
        elif not repair:
            raise SweepError(
                f"{store.root} holds sweep results without a manifest.json; --repair keeps the "
                "parts that belong to this sweep (each run's id is checked) and runs the rest, "
                "--force replaces them",
                code=2,
            )
    elif force:
        kept = found.kept()
    if old is not None:
        try:
            checked_manifest(store.root)
        except InputError as exc:
            if not repair:
                raise SweepError(
                    f"{exc}; run the sweep command again with --repair to rewrite it from the "
                    "sweep file",
                    code=2,
                ) from None
            notes.append(f"{store.manifest_path}: rewritten from the sweep file ({exc})")
        if old.get("format", "parquet") != manifest["format"]:
            raise SweepError(
                f"{store.root} was written as {old.get('format')}; re-run with "
                f"--format {old.get('format')} to resume it (or --force to start over)",
                code=2,
            )
    files = (old or {}).get("files")
    if not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        files = sorted(found.owned) if old is not None else []
    manifest["files"] = sorted(set(files) | {MANIFEST})
    chk = check_sweep(store.root, manifest, columns=[], steps_mode="verify")
    if chk.damaged and not repair:
        try:
            chk.raise_damaged(REPAIR_HINT)
        except InputError as exc:
            raise SweepError(str(exc), code=2) from None
    for first, why in chk.damaged.items():
        store.drop(first)
        path, _, reason = why.partition(": ")
        notes.append(f"dropped {path} ({reason}); its runs run again")
    for p in [*chk.orphans, *chk.debris]:  # a killed sweep's unfinished chunks
        p.unlink(missing_ok=True)
    notes += [w for w in chk.warnings if "never committed" not in w]
    assert chk.done is not None
    return old, kept, notes, chk.done


def run_sweep(
    spec_path: str | Path,
    out: str | Path,
    **kwargs: Any,
) -> SweepReport:
    """Read a sweep spec, expand it and run it into ``out`` (see :func:`execute`)."""
    spec = load_spec(spec_path)
    design = build_design(spec)
    report = execute(design, out, **kwargs)
    report.warnings = [str(w) for w in spec.warnings]
    return report


def execute(
    design: Design,
    out: str | Path,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    executor: Executor | None = None,
    chunk: int | None = None,
    fmt: str = "parquet",
    force: bool = False,
    progress: bool = True,
    command: Sequence[str] | None = None,
    window: int | None = None,
    repair: bool = False,
) -> SweepReport:
    """Run every run of ``design`` not yet in ``out``.

    ``executor`` (any ``concurrent.futures.Executor``) overrides ``backend``; ``workers=1`` with
    the local backend runs in this process. Raises SweepError if ``out`` holds another sweep
    (unless ``force``), if a run fails (finished chunks stay on disk: fix and re-run to resume),
    or if a part on disk is damaged (unless ``repair``: then its runs are run again).
    """
    if fmt not in FORMATS:
        raise SweepError(f"unknown format {fmt!r} (expected {' or '.join(FORMATS)})", code=2)
    if chunk is not None and chunk < 1:
        raise SweepError(f"--chunk must be ≥ 1, got {chunk}", code=2)
    if workers is not None and workers < 1:
        raise SweepError(f"--workers must be ≥ 1, got {workers}", code=2)
    if backend not in ("local", "dask"):
        raise SweepError(f"unknown backend {backend!r} (expected local or dask)", code=2)
    t0 = time.perf_counter()
    store = Store(out)
    store.lock()
    wrote = False
    closers: list[Callable[[], None]] = [lambda: store.unlock(wrote)]
    kept: list[str] = []
    try:
        from sim.outdir import survey

        found = survey(store.root)
        if found.kind in ("run", "mixed"):
            raise SweepError(
                f"{store.root} holds a hedgesim run (run.json); hedgesim sweep never replaces a "
                "run's results: choose another --out",
                code=2,
            )
        if MANIFEST in found.foreign:
            raise SweepError(
                f"{store.manifest_path}: not a hedgesim sweep manifest ({found.why[MANIFEST]}); "
                "hedgesim will not replace it: move it or choose another --out (if it is this "
                "sweep's damaged manifest, delete it and resume with --repair)",
                code=2,
            )
        manifest = _manifest(design, fmt)
        old, kept, notes, done = _resume_state(store, found, manifest, force, repair)
        if old is not None:
            manifest["created"] = old.get("created", manifest["created"])
            manifest["command"] = old.get("command")
            history = old.get("invocations")
            manifest["invocations"] = list(history) if isinstance(history, list) else []
        if manifest["command"] is None:
            manifest["command"] = list(command) if command is not None else sys.argv
        invocation: dict[str, Any] = {
            "command": list(command) if command is not None else sys.argv,
            "started": _now(),
            "backend": "executor" if executor is not None else backend,
            "workers": workers,
            "chunk": chunk,
        }
        manifest["invocations"].append(invocation)

        # Executors first: forked workers must not inherit threads started below.
        slots = workers or default_workers()
        own: Executor | None = None
        in_process = False
        if executor is None and backend == "dask":
            executor, slots, close = dask_executor(scheduler, slots)
            closers.append(close)
        elif executor is None and slots <= 1:
            in_process = True
        elif executor is None:
            own = executor = _local_executor(slots)
            closers.append(lambda: own.shutdown(wait=False, cancel_futures=True))

        reps = design.spec.replications
        already = int(done.sum())
        invocation["runs_before"] = already
        wrote = True
        write_json(store.manifest_path, sealed(manifest))

        pending = np.flatnonzero(~done)
        layout = Layout.of(design)
        tasks = (
            _task(design, runs, layout, fmt)
            for runs in plan_chunks(
                pending, chunk or MAX_CHUNK, reps, guided=None if chunk else slots
            )
        )
        parts = 0

        bar = _progress(design.n_runs, already, progress)

        def take(res: ChunkResult) -> None:
            nonlocal parts
            store.write(res, fmt)
            parts += 1
            bar.update(res.rows)

        try:
            if not len(pending):
                pass
            elif in_process:
                for t in tasks:
                    take(run_chunk(t))
            else:
                assert executor is not None
                ex = executor
                _drive(tasks, lambda t: ex.submit(run_chunk, t), window or 2 * slots + 1, take)
        except (RunFailed, BrokenExecutor) as exc:
            why = (
                str(exc)
                if isinstance(exc, RunFailed)
                else (f"a worker process died ({exc}); out of memory?")
            )
            raise SweepError(
                f"{why}\n{parts} chunks were written by this invocation; fix "
                "the cause and re-run the same command to resume",
                code=3 if isinstance(exc, RunFailed) else 1,
            ) from None
        finally:
            bar.close()
        if own is not None:
            own.shutdown(wait=True)

        ran = len(pending)
        invocation["finished"] = _now()
        invocation["runs_after"] = already + ran
        manifest["complete"] = True
        write_json(store.manifest_path, sealed(manifest))
        return SweepReport(
            store.root,
            design.n_runs,
            already,
            ran,
            time.perf_counter() - t0,
            parts,
            kept=kept,
            notes=notes,
        )
    finally:
        for fn in reversed(closers):
            fn()


class _NoBar:
    def update(self, n: int) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int, initial: int, enabled: bool) -> Any:
    """tqdm on stderr, only when wanted and stderr is a terminal (logs stay clean)."""
    if not enabled or not sys.stderr.isatty():
        return _NoBar()
    from tqdm import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="run",
        file=sys.stderr,
        dynamic_ncols=True,
        smoothing=0.05,
    )


# ------------------------------------------------------------------------------------------------
# Loading and exporting
# ------------------------------------------------------------------------------------------------


class SweepData(NamedTuple):
    """A sweep on disk: ``runs`` (one row per run), ``steps`` (or None), ``manifest``, and
    ``warnings`` about what the loader found and ignored (files of unexpected names, steps parts
    of chunks that never committed, cells that resolve to the same scenario)."""

    runs: Any  # pandas.DataFrame
    steps: Any  # pandas.DataFrame | None
    manifest: dict[str, Any]
    warnings: list[str] = []  # noqa: RUF012 - a NamedTuple default, never mutated


def read_manifest(directory: str | Path) -> dict[str, Any]:
    """The sweep's manifest, checked (``sim.loader.read_manifest``)."""
    from sim.loader import read_manifest as _read

    return _read(directory)


def runs_table(directory: str | Path, columns: Sequence[str] | None = None) -> pa.Table:
    """All committed runs as one Arrow table, sorted by run index (each run once, checked)."""
    df = load_sweep(directory, columns).runs
    return pa.Table.from_pandas(df, preserve_index=False)


def load_sweep(directory: str | Path, columns: Sequence[str] | None = None) -> SweepData:
    """Load a sweep directory as pandas DataFrames (works on an unfinished sweep too).

    ``columns`` restricts the runs table (``run_id`` and ``run_index`` are always kept). Steps are
    read only for runs whose runs part is committed, so a killed sweep never shows half a chunk.
    Every part is checked (``sim.loader``): a damaged one is an InputError naming it.
    """
    from sim.loader import load_sweep as _load

    return _load(directory, columns)


def export_sweep(
    directory: str | Path,
    fmt: str = "csv",
    out: str | Path | None = None,
    warn: Callable[[str], None] = lambda w: None,
) -> list[Path]:
    """Write the runs (and steps) tables as single files ``runs.<fmt>`` / ``steps.<fmt>``.

    Into the sweep's directory by default (recorded in its manifest), or into ``out``; a file of
    that name which hedgesim did not write is never replaced.
    """
    from sim.outdir import claim

    if fmt not in FORMATS:
        raise SweepError(f"unknown format {fmt!r}", code=2)
    data = load_sweep(directory)
    for w in data.warnings:
        warn(w)
    dest = Path(out) if out is not None else Path(directory)
    frames = [(n, df) for n, df in (("runs", data.runs), ("steps", data.steps)) if df is not None]
    written = []
    with claim(dest, [f"{name}.{fmt}" for name, _ in frames], "export"):
        for name, df in frames:
            table = pa.Table.from_pandas(df, preserve_index=False)
            written.append(write_table(dest / name, table, fmt))
    return written


def cell_values(manifest: dict[str, Any]) -> Any:
    """The design as a DataFrame: one row per cell, one column per swept path."""
    import pandas as pd

    d = manifest["design"]
    df = pd.DataFrame(d["cells"], columns=d["columns"])
    df.index.name = "cell"
    return df
