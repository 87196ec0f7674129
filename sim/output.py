"""Turning run records into the tidy tables of docs/DATA.md and writing them safely.

Why a guard on the output directory: a user who points two different scenarios at the same
``--out`` must not lose the first one's results silently; an identical re-run may overwrite (it
writes the same numbers), anything else needs ``--force``.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata as md
import os
import platform
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim import __version__
from sim.atomic import file_sha256, sealed, write_json, write_table
from sim.errors import InputError
from sim.metrics import STATUSES, SYSTEM_COLUMNS
from sim.outdir import LOCK_NAME, TEMP_RE, DirLock
from sim.recording import RunRecord
from sim.world import LEVELS, World

MARKER = "run.json"


def versions() -> dict[str, str]:
    """Versions of the packages that decide results (recorded with every output)."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    out = {"hedgesim": __version__, "python": platform.python_version()}
    for pkg in ("mesa", "numpy", "scipy", "pydantic", "pyarrow", "pandas"):
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover - dependency missing
            out[pkg] = "missing"
    return tuple(out.items())


@dataclass
class RunDir:
    """A run's output directory, locked for this run, and what was found there."""

    out: Path
    lock: DirLock
    planned: list[str]
    kept: list[str] = field(default_factory=list)  # entries hedgesim did not write (kept)
    removed: list[str] = field(default_factory=list)  # a previous run's files (with --force)
    files: list[str] = field(default_factory=list)  # all hedgesim's files here: run.json's list


def run_files(fmt: str) -> list[str]:
    """The files ``hedgesim run`` may write (figures are added as they are drawn; the
    tie_history table only for scenarios with a calendar)."""
    tables = ("system", "states", "ties", "tie_history")
    return [MARKER, *(f"{t}.{fmt}" for t in tables), "summary.csv", "summary.txt"]


def prepare_out_dir(
    out: Path,
    identity: str,
    force: bool,
    kind: str = "run",
    *,
    fmt: str = "parquet",
    figures: bool = True,
) -> RunDir:
    """Create or reuse ``out`` for a run and lock it; refuse to touch anyone else's files.

    An identical re-run may overwrite its own outputs (it writes the same numbers). A different
    run needs ``--force``, which removes only what hedgesim wrote there (run.json's file list) and
    keeps everything else. A planned output whose name is taken by a file hedgesim did not write,
    a sweep's directory, or a directory another hedgesim process is writing is always refused.
    """
    from sim.atomic import writable_target
    from sim.outdir import (
        Busy,
        DirLock,
        conflicts,
        figure_conflicts,
        refuse_conflicts,
        remove_owned,
        survey,
    )

    if os.path.lexists(out) and out.is_symlink() and not out.exists():
        raise InputError.plain(str(out), f"is a broken symbolic link (to {os.readlink(out)})")
    if out.exists() and not out.is_dir():
        raise InputError.plain(str(out), "exists and is not a directory")
    existed = out.is_dir()
    lock_existed = existed and os.path.lexists(out / LOCK_NAME)
    try:
        out.mkdir(parents=True, exist_ok=True)
        lock = DirLock(out, kind).acquire()
    except Busy as exc:
        raise InputError.plain(
            str(out),
            f"another hedgesim process ({exc.holder}) is writing here; --force does not stop a "
            "running process: wait for it to finish or choose another --out",
        ) from None
    except OSError as exc:
        raise InputError.plain(str(out), f"cannot write here: {exc.strerror or exc}") from None
    try:
        c = survey(out)
        if c.kind in ("sweep", "mixed"):
            raise InputError.plain(
                str(out),
                "holds a hedgesim sweep (manifest.json); hedgesim run never replaces a sweep's "
                "results: choose another --out",
            )
        if c.foreign:
            raise InputError.plain(
                str(out / c.foreign[0]),
                "is not a record hedgesim wrote (not a hedgesim run.json); hedgesim will not "
                "replace it: move it or choose another --out",
            )
        same = c.kind == "run" and (c.meta or {}).get("identity") == identity
        ours = [f for f in c.present_owned() if f != LOCK_NAME]
        kept = c.kept()
        if not same and not force and (ours or kept):
            what = "a different scenario or settings" if c.kind == "run" else "other files"
            raise InputError.plain(
                str(out),
                f"output directory holds {what}; choose another --out, or pass --force to "
                "replace what hedgesim wrote there (files it did not write are kept)",
            )
        planned = run_files(fmt)
        taken = conflicts(c, planned) + (figure_conflicts(c) if figures else [])
        refuse_conflicts(out, taken)
        for rel in planned:
            writable_target(out / rel)
        removed: list[str] = []
        # claim the directory before any work: a run killed later leaves a marker that says so
        claim = {"identity": identity, "status": "running", "kind": kind}
        write_json(out / MARKER, {**claim, "files": sorted(set(ours) | set(planned))})
        if force and not same:
            removed = remove_owned(c, keep=[MARKER])
        else:  # debris of a killed run: our temporaries only
            removed = [r for r in ours if TEMP_RE.match(Path(r).name)]
            for r in removed:
                (out / r).unlink(missing_ok=True)
        files = sorted((set(ours) - set(removed)) | set(planned))
        write_json(out / MARKER, {**claim, "files": files})
    except BaseException:
        lock.release()
        if not existed:
            with contextlib.suppress(OSError):
                (out / LOCK_NAME).unlink()
                out.rmdir()
        elif not lock_existed:
            with contextlib.suppress(OSError):
                (out / LOCK_NAME).unlink()
        raise
    return RunDir(out, lock, planned, kept, removed, files)


PER_RUN_BYTES = 24_576
PER_STATE_STEP_BYTES = 128
"""Memory a ``hedgesim run`` holds per replication and condition until it writes its tables:
records, the tables built from them and their encodings. Calibrated on the shipped scenarios
(measured: toy world about 66 KB, Iran 318-357 KB per replication with the alignment index and
year-end ties; the estimate is 3-30% above) — ``tests/test_unbounded.py`` measures real runs and
fails if the model starts recording more than this covers."""


def estimate_bytes(
    n_states: int, steps: int, record_every: int, runs: int, history: int = 0
) -> int:
    """Bytes ``hedgesim run`` needs to hold ``runs`` replications x conditions in memory;
    ``history``: year-end steps whose full tie matrix is kept (calendar scenarios)."""
    recorded = steps // record_every + 1 + (1 if steps % record_every else 0)
    per_run = (
        PER_RUN_BYTES
        + PER_STATE_STEP_BYTES * recorded * n_states
        + 16 * n_states**2  # final ties, distrust
        + 2 * history * n_states**2  # year-end tie matrices and their table
    )
    return runs * per_run


def available_bytes() -> int | None:
    """Memory available to a new allocation now (Linux MemAvailable), or None if unknown."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(need: int, available: int | None, what: str) -> None:
    """Refuse, before any work, a run whose results would not fit in memory."""
    if available is None or need <= 0.8 * available:
        return
    raise InputError.plain(
        what,
        f"would hold about {need / 1e9:.1f} GB of results in memory, more than this machine can "
        f"spare ({available / 1e9:.1f} GB available); use fewer replications or conditions, "
        "--record-every K to record every K-th step, or hedgesim sweep, which streams runs to "
        "disk",
    )


def _dict(values: Sequence[str], codes: np.ndarray) -> pa.DictionaryArray:
    return pa.DictionaryArray.from_arrays(pa.array(codes, pa.int32()), pa.array(list(values)))


def tables(world: World, results: Mapping[str, Sequence[RunRecord]]) -> dict[str, pa.Table]:
    """System, states and final-ties tables for every condition and replication."""
    labels = list(results)
    sys_parts, st_parts, tie_parts = [], [], []
    n = world.n
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
        "state": _dict(world.ids, cat(state, np.int32)),
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
        "a": _dict(world.ids, cat([a for _, _, a, _, _ in tie_parts], np.int32)),
        "b": _dict(world.ids, cat([b for _, _, _, b, _ in tie_parts], np.int32)),
        "level": _dict(LEVELS, cat([v for *_, v in tie_parts], np.int32)),
    }
    out = {
        "system": pa.table(sys_cols),
        "states": pa.table(st_cols),
        "ties": pa.table(tie_cols),
    }
    history = tie_history(world, results)
    if history is not None:
        out["tie_history"] = history
    return out


def tie_history(world: World, results: Mapping[str, Sequence[RunRecord]]) -> pa.Table | None:
    """Every tie at the last step of each calendar year (scenarios with a ``start``), per
    condition and replication: what ``hedgesim fit`` scores against yearly data."""
    labels = list(results)
    if not any(len(rec.history_steps) for recs in results.values() for rec in recs):
        return None
    iu = np.triu_indices(world.n, 1)
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
            "a": _dict(world.ids, cat("a")),
            "b": _dict(world.ids, cat("b")),
            "level": _dict(LEVELS, cat("v")),
        }
    )


def world_info(world: World) -> dict[str, Any]:
    """What plots need to draw the world: ids, names, power, rivalry, focal states."""
    return {
        "ids": world.ids,
        "names": world.names,
        "power": world.power.tolist(),
        "rivalry": world.dyads["rivalry"].round(6).tolist(),
        "focal": [world.ids[i] for i in world.focal],
    }


def write_run(
    out: Path,
    world: World,
    results: Mapping[str, Sequence[RunRecord]],
    summary_rows: list[dict[str, Any]],
    meta: dict[str, Any],
    fmt: str,
    files: Sequence[str] = (),
) -> dict[str, Path]:
    """Write every table, the summary and, last, run.json (its presence marks completion).

    run.json lists the files hedgesim wrote (``files``: what ``--force`` may replace), the SHA-256
    of each table (``checksums``: a loader tells a damaged table from a good one) and is sealed
    with a checksum of its own content.
    """
    paths = {}
    for name, table in tables(world, results).items():
        paths[name] = write_table(out / name, table, fmt)
    paths["summary"] = write_table(out / "summary", pa.Table.from_pylist(summary_rows), "csv")
    meta = {
        **meta,
        "status": "complete",
        "versions": versions(),
        "world": world_info(world),
        "format": fmt,
        "argv": sys.argv,
        "files": sorted(
            (set(files) - ({f"tie_history.{fmt}"} - {p.name for p in paths.values()}))
            | {MARKER}
            | {p.name for p in paths.values()}
        ),
        "checksums": {p.name: file_sha256(p) for p in paths.values()},
    }
    write_json(out / MARKER, sealed(meta))
    paths["run"] = out / MARKER
    return paths
