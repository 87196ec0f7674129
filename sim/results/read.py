"""Reading results back: one loader for every command (``analyze``, ``export``, ``plot``, resume,
``sim.load``).

Why one: a run or sweep directory is handed back to hedgesim after it has been copied, synced,
half-deleted, edited or truncated by a full disk. Every reader must then behave the same way —
load exactly what is there and right, or say in one line which file is wrong and how — instead of
one command drawing a figure where another prints a traceback. Records are checked by
sim.results.records, sweep parts by sim.results.parts, run tables here: each table's SHA-256
against run.json, then its columns and values (ids that exist, replications and steps in range,
each row once). Every failure is an InputError printed as ``path: message``, exit status 2.
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import ValidationError

from sim.errors import InputError, short
from sim.model.metrics import STATUSES, SYSTEM_COLUMNS
from sim.results.parts import REPAIR_HINT, check_sweep
from sim.results.records import (
    RunMeta,
    check_seal,
    read_json_record,
    read_manifest,
    validation_message,
)
from sim.results.tables import TIES_SCHEMA, Layout

RUN_TABLES = ("system", "states", "ties")


@dataclass
class RunTables:
    """The tables of one run directory (pandas, categorical ids) and its run.json."""

    system: pd.DataFrame
    states: pd.DataFrame
    ties: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)  # what loading found and ignored

    @property
    def world(self) -> dict[str, Any]:
        """The world as run.json records it: ids, names, power, rivalry, focal states."""
        return self.meta.get("world", {})


@dataclass
class SweepTables:
    """A sweep on disk: ``runs`` (one row per run), ``steps`` (or None), ``manifest``, and
    ``warnings`` about what the loader found and ignored (files of unexpected names, steps parts
    of chunks that never committed, cells that resolve to the same scenario)."""

    runs: pd.DataFrame
    steps: pd.DataFrame | None
    manifest: dict[str, Any]
    warnings: list[str] = field(default_factory=list)


def _read_verified(path: Path, expected: str | None) -> bytes:
    """A table's bytes, read once, checked against its recorded SHA-256 (when there is one)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InputError.plain(str(path), f"cannot read ({exc.strerror or exc})") from None
    if expected is not None and hashlib.sha256(data).hexdigest() != expected:
        raise InputError.plain(str(path), "damaged (its SHA-256 differs from the one recorded)")
    return data


def _read_frame(path: Path, data: bytes) -> pd.DataFrame:
    """A run table from its bytes, or InputError naming the file (whatever pyarrow or pandas
    raised)."""
    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            return pq.ParquetFile(pa.BufferReader(data)).read().to_pandas()
        return pd.read_csv(io.BytesIO(data))
    except MemoryError:
        msg = "unreadable table (it claims more memory than exists)"
        raise InputError.plain(str(path), msg) from None
    except Exception as exc:  # a damaged file: pyarrow/pandas raise many kinds
        raise InputError.plain(str(path), f"unreadable table: {short(exc)}") from None


def _need_columns(path: Path, df: pd.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise InputError.plain(str(path), f"lacks column(s) {', '.join(missing)}")


def _whole(path: Path, df: pd.DataFrame, column: str, lo: int, hi: int) -> None:
    s = df[column]
    if not pd.api.types.is_integer_dtype(s.dtype):
        raise InputError.plain(str(path), f"column {column} does not hold whole numbers")
    if len(s) and (s.min() < lo or s.max() > hi):
        raise InputError.plain(str(path), f"column {column} holds values outside {lo}..{hi}")


def _among(path: Path, df: pd.DataFrame, column: str, allowed: Sequence[str]) -> None:
    values = pd.unique(df[column].astype("object"))
    bad = [v for v in values if v not in set(allowed)]
    if bad:
        shown = ", ".join(repr(v) for v in bad[:3])
        raise InputError.plain(str(path), f"column {column} holds unknown value(s) {shown}")


def _unique(path: Path, df: pd.DataFrame, keys: list[str], what: str) -> None:
    if len(df) and df.duplicated(keys).any():
        raise InputError.plain(str(path), f"the same {what} appears more than once")


def load_run(directory: str | Path) -> Any:
    """Read and check a ``hedgesim run`` directory; :class:`sim.results.read.RunResults`."""

    d = Path(directory)
    marker = d / "run.json"
    meta = read_json_record(marker, "run")
    status = meta.get("status", "complete")
    if status != "complete":
        raise InputError.plain(
            str(d),
            f"the run did not complete (status: {status!r}); run the same command again to "
            "complete it",
        )
    check_seal(marker, meta)
    try:
        rec = RunMeta.model_validate(meta)
    except ValidationError as exc:
        raise InputError.plain(str(marker), validation_message(exc)) from None
    ids = rec.world.ids
    labels = [c.label for c in rec.conditions]
    sums = rec.checksums or {}
    frames: dict[str, pd.DataFrame] = {}
    for name in (*RUN_TABLES, "summary"):
        fmt = "csv" if name == "summary" else rec.format
        path = d / f"{name}.{fmt}"
        if not path.is_file():
            raise InputError.plain(str(path), f"missing table {name} (listed by run.json)")
        if rec.checksums is not None and path.name not in sums:
            raise InputError.plain(str(marker), f"checksums lacks {path.name}")
        data = _read_verified(path, sums.get(path.name) if rec.checksums is not None else None)
        frames[name] = df = _read_frame(path, data)
        if name == "summary":
            _need_columns(path, df, ["condition", "state", "n"])
            if df.empty:
                raise InputError.plain(str(path), "holds no rows")
            _among(path, df, "condition", labels)
            _among(path, df, "state", ids)
            _whole(path, df, "n", 0, rec.replications)
            _unique(path, df, ["condition", "state"], "condition and state")
            continue
        keys = {"system": ["step"], "states": ["step", "state"], "ties": ["a", "b"]}[name]
        cols = {
            "system": ["condition", "replication", "step", *SYSTEM_COLUMNS],
            "states": [
                "condition",
                "replication",
                "step",
                "state",
                "status",
                "n_alliances",
                "n_friendships",
                "hedging_index",
            ],
            "ties": ["condition", "replication", "a", "b", "level"],
        }[name]
        _need_columns(path, df, cols)
        _among(path, df, "condition", labels)
        _whole(path, df, "replication", 0, rec.replications - 1)
        if "step" in df.columns:
            _whole(path, df, "step", 0, rec.steps)
        for c in ("state", "a", "b"):
            if c in cols:
                _among(path, df, c, ids)
        if name == "states":
            _among(path, df, "status", STATUSES)
        if name == "ties":
            _among(path, df, "level", ("friendship", "alliance"))
        _unique(path, df, ["condition", "replication", *keys], "row")
    summary = frames.pop("summary")
    for name in RUN_TABLES:
        for col in ("condition", "state", "status", "a", "b", "level"):
            if col in frames[name].columns:
                frames[name][col] = frames[name][col].astype("category")
    return RunTables(summary=summary, meta=meta, **frames)


def load_sweep(directory: str | Path, columns: Sequence[str] | None = None) -> SweepTables:
    """Read and check a sweep directory (finished or not) as pandas DataFrames.

    ``columns`` restricts the runs table (``run_id`` and ``run_index`` are always kept). Steps are
    read only for runs whose runs part is committed, so a killed sweep never shows half a chunk.
    Every part is checked (sim.results.parts): a damaged one is an InputError naming it.
    """

    manifest = read_manifest(directory)
    layout = Layout.from_manifest(manifest)
    schema = layout.runs_schema()
    if columns is not None:
        columns = list(dict.fromkeys(["run_id", "run_index", *columns]))
        unknown = [c for c in columns if c not in schema.names]
        if unknown:
            raise InputError.plain(str(directory), f"unknown column(s): {', '.join(unknown)}")
    with_steps = manifest.get("record_every") is not None
    chk = check_sweep(
        directory,
        manifest,
        columns=columns,
        steps_mode="read" if with_steps else "skip",
        keep_tables=True,
    )
    chk.raise_damaged(REPAIR_HINT)
    want = pa.schema([schema.field(c) for c in columns]) if columns else schema
    runs_parts = [chk.tables[k].select(want.names) for k in sorted(k for k in chk.tables if k >= 0)]
    runs = (pa.concat_tables(runs_parts) if runs_parts else want.empty_table()).sort_by("run_index")
    steps = None
    if with_steps:
        st_schema = layout.steps_schema()
        st_parts = [chk.tables[k] for k in sorted((k for k in chk.tables if k < 0), reverse=True)]
        t = pa.concat_tables(st_parts) if st_parts else st_schema.empty_table()
        t = t.sort_by([("run_index", "ascending"), ("step", "ascending")])
        steps = with_sweep_dates(t, manifest).to_pandas()
    return SweepTables(runs.to_pandas(), steps, manifest, chk.warnings)


def load_sweep_ties(directory: str | Path) -> pd.DataFrame:
    """The ``ties`` table of a sweep that keeps them (``ties:`` in its spec): one row per run,
    kept step and tie, ``run_index``, ``step``, ``a``, ``b`` (ids, categorical) and ``level``;
    only runs whose runs part is committed, every part checked (sim.results.parts)."""
    manifest = read_manifest(directory)
    if manifest.get("ties") is None:
        raise InputError.plain(
            str(directory), "this sweep keeps no ties (add `ties: final` or `yearly` to its spec)"
        )
    chk = check_sweep(directory, manifest, columns=[], steps_mode="skip", keep_tables=True,
                      ties_mode="read")  # fmt: skip
    chk.raise_damaged(REPAIR_HINT)
    parts = [chk.ties[k] for k in sorted(chk.ties)]
    t = pa.concat_tables(parts) if parts else TIES_SCHEMA.empty_table()
    t = t.unify_dictionaries().sort_by([("run_index", "ascending"), ("step", "ascending")])
    return with_sweep_dates(t, manifest).to_pandas()


def with_sweep_dates(table: pa.Table, manifest: dict[str, Any]) -> pa.Table:
    """``table`` (with ``run_index`` and ``step``) with a ``date`` column after ``step``, as run
    tables have, when the sweep's scenario has a calendar: each run's steps dated by its cell's
    ``start`` and ``step`` (a sweep may vary them); null for the runs of a cell without a start.
    Unchanged for sweeps without a calendar, or made before manifests recorded it."""
    from sim.scenario.calendar import step_dates

    base = manifest.get("calendar")
    if not base:
        return table
    cells = manifest["design"]["cells"]
    calendars = [(c.get("start", base["start"]), c.get("step", base["step"])) for c in cells]
    if all(start is None for start, _ in calendars):
        return table
    cell = table.column("run_index").to_numpy() // manifest["replications"]
    steps = table.column("step").to_numpy()
    dates = np.full(len(table), np.datetime64("NaT", "D"))
    codes = {key: k for k, key in enumerate(dict.fromkeys(calendars))}
    of_run = np.array([codes[c] for c in calendars], dtype=np.intp)[cell]
    for key, k in codes.items():
        if key[0] is not None:
            rows = of_run == k
            dates[rows] = step_dates(*key, steps[rows])
    at = table.schema.get_field_index("step") + 1
    return table.add_column(at, "date", pa.array(dates, pa.date32()))
