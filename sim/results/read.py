"""One loader for results directories, used by ``analyze``, ``export``, ``plot`` and resume.

Why one: a run or sweep directory is handed back to hedgesim after it has been copied, synced,
half-deleted, edited or truncated by a full disk. Every reader must then behave the same way —
load exactly what is there and right, or say in one line which file is wrong and how — instead of
one command drawing a figure where another prints a traceback. So every reader goes through here:

* the record (``run.json``, ``manifest.json``) is read with size and depth limits, its own
  checksum is checked (``sim.results.atomic.sealed``), and it is validated against a pydantic model
  (strict types: a list where a mapping belongs, a string where a number belongs is an error);
* every table's SHA-256 is checked against the record (runs: ``checksums``; sweep parts: a hidden
  ``.part-N.sha256`` beside each runs part), then its columns and types, then its values: ids that
  exist, run indices inside the design, each run's id recomputed from its cell and seed;
* each run appears once: a second copy of a run (a duplicated part file, an overlapping part) is
  an error, never counted twice.

Every failure is an :class:`sim.errors.InputError` printed as ``path: message``, exit status 2.
A damaged sweep part is *repairable*: ``hedgesim sweep ... --repair`` drops it and re-runs exactly
its runs. Things that are odd but harmless — a file of an unexpected name in ``runs/``, a steps part
of a chunk that never committed — are returned as warnings and ignored.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.results.atomic import seal_ok
from sim.errors import InputError, dotted
from sim.results.outdir import PART_RE, SUM_RE, TEMP_RE, read_record

RUN_TABLES = ("system", "states", "ties")
NonNeg = Annotated[int, Field(ge=0)]
Pos = Annotated[int, Field(ge=1)]


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------


class _Record(BaseModel):
    """Strict about what readers use; other keys (versions, argv, ...) are kept as they are."""

    model_config = ConfigDict(strict=True, extra="allow")


class WorldInfo(_Record):
    ids: list[str] = Field(min_length=1)
    names: list[str]
    power: list[float]
    rivalry: list[list[float]]
    focal: list[str]

    @model_validator(mode="after")
    def _consistent(self) -> WorldInfo:
        n = len(self.ids)
        if len(set(self.ids)) != n:
            raise ValueError("world ids are not unique")
        if len(self.names) != n or len(self.power) != n:
            raise ValueError(
                f"world has {n} ids but {len(self.names)} names and {len(self.power)} powers"
            )
        if len(self.rivalry) != n or any(len(row) != n for row in self.rivalry):
            raise ValueError(f"world rivalry is not a {n}×{n} matrix")
        if not set(self.focal) <= set(self.ids):
            raise ValueError("world focal states are not among its ids")
        return self


class ConditionInfo(_Record):
    label: str
    switched_off: list[str]


class RunRecord(_Record):
    """``run.json`` of a complete run."""

    identity: str
    status: Literal["complete"]
    scenario: str
    seed: NonNeg
    replications: Pos
    steps: Pos
    record_every: Pos
    conditions: list[ConditionInfo] = Field(min_length=1)
    world: WorldInfo
    format: Literal["parquet", "csv"]
    files: list[str] | None = None
    checksums: dict[str, str] | None = None

    @model_validator(mode="after")
    def _labels(self) -> RunRecord:
        labels = [c.label for c in self.conditions]
        if len(set(labels)) != len(labels):
            raise ValueError("condition labels are not unique")
        return self


class ScenarioInfo(_Record):
    name: str
    hash: str
    ids: list[str]
    names: list[str]
    focal: list[str]
    states_reported: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioInfo:
        if len(self.names) != len(self.ids) or len(set(self.ids)) != len(self.ids):
            raise ValueError("scenario ids and names do not match one to one")
        if not set(self.states_reported) <= set(self.ids):
            raise ValueError("states_reported are not among the scenario's ids")
        return self


class DesignInfo(_Record):
    sampler: Literal["grid", "lhs", "sobol", "morris"]
    columns: list[str]
    dtypes: dict[str, Literal["bool", "int64", "float64", "string"]]
    cells: list[dict[str, Any]]
    cell_hashes: list[str]
    problem: dict[str, Any] | None = None
    second_order: bool | None = None
    levels: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DesignInfo:
        if set(self.dtypes) != set(self.columns):
            raise ValueError("dtypes do not name exactly the columns")
        if len(self.cells) != len(self.cell_hashes):
            raise ValueError(f"{len(self.cells)} cells but {len(self.cell_hashes)} cell hashes")
        cols = set(self.columns)
        for i, cell in enumerate(self.cells):
            if not set(cell) <= cols:
                raise ValueError(f"cell {i} sets a path that is not a column")
        if self.sampler in ("sobol", "morris"):
            if self.problem is None or not isinstance(self.problem.get("names"), list):
                raise ValueError(f"a {self.sampler} design needs its SALib problem")
            for i, cell in enumerate(self.cells):
                for p in self.problem["names"]:
                    v = cell.get(p)
                    if isinstance(v, bool) or not isinstance(v, int | float):
                        raise ValueError(f"cell {i}: {p} is not a number")
            if self.sampler == "morris" and not isinstance(self.levels, int):
                raise ValueError("a morris design needs its levels")
            if self.sampler == "sobol" and not isinstance(self.second_order, bool):
                raise ValueError("a sobol design needs second_order")
        return self


class SweepRecord(_Record):
    """``manifest.json`` of a sweep."""

    kind: Literal["hedgesim-sweep"]
    fingerprint: str
    name: str | None = None
    scenario: ScenarioInfo
    design: DesignInfo
    replications: Pos
    steps: Pos
    record_every: Pos | None
    root_seed: NonNeg
    n_cells: NonNeg
    n_runs: NonNeg
    format: Literal["parquet", "csv"]
    versions: dict[str, str]
    complete: bool = False
    files: list[str] | None = None
    checksums: Literal["sha256"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SweepRecord:
        if "hedgesim" not in self.versions:
            raise ValueError("versions lacks hedgesim")
        if len(self.design.cells) != self.n_cells:
            raise ValueError(
                f"n_cells is {self.n_cells} but the design has {len(self.design.cells)}"
            )
        if self.n_runs != self.n_cells * self.replications:
            raise ValueError("n_runs is not n_cells × replications")
        return self


def _validation_message(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "required field is missing"
    return f"{dotted(loc)}: {msg}"


def _read_record(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        kind = (
            "run directory (no run.json)" if what == "run" else "sweep directory (no manifest.json)"
        )
        raise InputError.plain(str(path.parent), f"not a hedgesim {kind}")
    try:
        meta = read_record(path)
    except ValueError as exc:
        raise InputError.plain(str(path), str(exc)) from None
    if not isinstance(meta, dict):
        raise InputError.plain(str(path), f"expected a JSON object, got {type(meta).__name__}")
    return meta


def _check_seal(path: Path, meta: dict[str, Any]) -> None:
    if seal_ok(meta) is False:
        raise InputError.plain(
            str(path),
            "damaged or edited after hedgesim wrote it (its checksum does not match its content)",
        )


# ------------------------------------------------------------------------------------------------
# Tables
# ------------------------------------------------------------------------------------------------


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text if len(text) <= 160 else text[:157] + "..."


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
    import io

    import pyarrow.parquet as pq

    try:
        if path.suffix == ".parquet":
            return pq.ParquetFile(pa.BufferReader(data)).read().to_pandas()
        return pd.read_csv(io.BytesIO(data))
    except MemoryError:
        msg = "unreadable table (it claims more memory than exists)"
        raise InputError.plain(str(path), msg) from None
    except Exception as exc:  # a damaged file: pyarrow/pandas raise many kinds
        raise InputError.plain(str(path), f"unreadable table: {_short(exc)}") from None


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



# ------------------------------------------------------------------------------------------------
# Run directories
# ------------------------------------------------------------------------------------------------


def load_run(directory: str | Path) -> Any:
    """Read and check a ``hedgesim run`` directory; :class:`sim.results.read.RunResults`."""
    from sim.model.metrics import STATUSES, SYSTEM_COLUMNS
    
    d = Path(directory)
    marker = d / "run.json"
    meta = _read_record(marker, "run")
    status = meta.get("status", "complete")
    if status != "complete":
        raise InputError.plain(
            str(d),
            f"the run did not complete (status: {status!r}); run the same command again to "
            "complete it",
        )
    _check_seal(marker, meta)
    try:
        rec = RunRecord.model_validate(meta)
    except ValidationError as exc:
        raise InputError.plain(str(marker), _validation_message(exc)) from None
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
    return RunResults(summary=summary, meta=meta, **frames)


# ------------------------------------------------------------------------------------------------
# Sweep directories
# ------------------------------------------------------------------------------------------------


def read_manifest(directory: str | Path, check_fingerprint: bool = True) -> dict[str, Any]:
    """The sweep's manifest.json, checked (seal, model, fingerprint) or InputError."""
    d = Path(directory)
    path = d / "manifest.json"
    meta = _read_record(path, "sweep")
    if meta.get("kind") != "hedgesim-sweep":
        raise InputError.plain(str(path), "not a hedgesim sweep manifest")
    _check_seal(path, meta)
    try:
        rec = SweepRecord.model_validate(meta)
    except ValidationError as exc:
        raise InputError.plain(str(path), _validation_message(exc)) from None
    if check_fingerprint and fingerprint_of(meta) != rec.fingerprint:
        raise InputError.plain(
            str(path),
            "its design does not match its fingerprint (cells, cell hashes or seeds were changed "
            "after the sweep wrote it)",
        )
    return meta


def fingerprint_of(manifest: dict[str, Any]) -> str:
    """``sim.experiments.sweep.fingerprint`` recomputed from a manifest's own fields."""
    d = manifest["design"]
    blob = json.dumps(
        {
            "version": manifest["versions"]["hedgesim"],
            "root": manifest["root_seed"],
            "replications": manifest["replications"],
            "record_every": manifest["record_every"],
            "columns": d["columns"],
            "dtypes": d["dtypes"],
            "cells": d["cells"],
            "hashes": d["cell_hashes"],
        },
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass
class Part:
    """One committed chunk on disk: its runs part, steps part and checksums."""

    first: int
    runs: Path
    steps: Path | None = None
    sums: Path | None = None


@dataclass
class SweepCheck:
    """A sweep directory as found: its parts, which of them are damaged, what else is there."""

    root: Path
    manifest: dict[str, Any]
    parts: dict[int, Part]
    damaged: dict[int, str] = field(default_factory=dict)  # first run -> "path: why"
    orphans: list[Path] = field(default_factory=list)  # steps parts of uncommitted chunks
    debris: list[Path] = field(default_factory=list)  # temporaries, checksums of no part
    warnings: list[str] = field(default_factory=list)
    done: np.ndarray | None = None  # run indices on disk (good parts only)
    tables: dict[int, pa.Table] = field(default_factory=dict)  # runs columns read, per part

    def raise_damaged(self, hint: str) -> None:
        if self.damaged:
            first = next(iter(self.damaged.values()))
            more = len(self.damaged) - 1
            extra = f" (and {more} more damaged part{'s' if more > 1 else ''})" if more else ""
            path, _, why = first.partition(": ")
            raise InputError.plain(path, f"{why}{extra}; {hint}")


REPAIR_HINT = (
    "run the sweep command again with --repair to drop the damaged parts and re-run their runs"
)


def scan_sweep(directory: str | Path, manifest: dict[str, Any]) -> SweepCheck:
    """List the part files and everything else under runs/ and steps/ (no file is read)."""
    d = Path(directory)
    fmt = manifest.get("format", "parquet")
    chk = SweepCheck(d, manifest, {})
    steps: dict[int, Path] = {}
    sums: dict[int, Path] = {}
    for sub in ("runs", "steps"):
        folder = d / sub
        if not folder.exists():
            continue
        if not folder.is_dir() or folder.is_symlink():
            raise InputError.plain(str(folder), "is not a directory")
        for p in sorted(folder.iterdir()):
            m = PART_RE.match(p.name)
            s = SUM_RE.match(p.name)
            if m and m.group(2) == fmt and p.is_file() and not p.is_symlink():
                first = int(m.group(1))
                if sub == "runs":
                    chk.parts[first] = Part(first, p)
                else:
                    steps[first] = p
            elif s and sub == "runs":
                sums[int(s.group(1))] = p
            elif _temporary_of_a_part(p.name):
                chk.debris.append(p)
            else:
                chk.warnings.append(
                    f"{p}: not a part file of this sweep ({fmt} parts are named part-NNNNNNNNNN."
                    f"{fmt}); ignored"
                )
    for first, p in steps.items():
        if first in chk.parts:
            chk.parts[first].steps = p
        else:
            chk.orphans.append(p)
    for first, p in sums.items():
        if first in chk.parts:
            chk.parts[first].sums = p
        else:
            chk.debris.append(p)
    if chk.orphans:
        chk.warnings.append(
            f"{len(chk.orphans)} steps part(s) of chunks that never committed (a killed sweep's "
            f"unfinished work, e.g. {chk.orphans[0]}); ignored, and removed by a resume"
        )
    hashes = manifest["design"]["cell_hashes"]
    if len(set(hashes)) < len(hashes):
        seen: dict[str, int] = {}
        pairs = []
        for i, h in enumerate(hashes):
            if h in seen:
                pairs.append((seen[h], i))
            seen.setdefault(h, i)
        shown = ", ".join(f"{a} and {b}" for a, b in pairs[:3])
        chk.warnings.append(
            f"{len(pairs)} design cell(s) resolve to the same scenario as another (cells "
            f"{shown}): their differences are seed noise, not a parameter effect"
        )
    return chk


def _temporary_of_a_part(name: str) -> bool:
    """``sim.results.atomic``'s temporary of a part or checksum file (``.part-N.parquet.XXXXXXXX.tmp``,
    ``..part-N.sha256.XXXXXXXX.tmp``): debris of a write a kill interrupted."""
    m = TEMP_RE.match(name)
    if m and (PART_RE.match(m["name"]) or SUM_RE.match(m["name"])):
        return True
    return name.startswith(".part-") and name.endswith(".tmp")  # any writer's, older included


def _read_sums(p: Part) -> dict[str, Any]:
    where = p.sums or p.runs.with_name(f".part-{p.first:010d}.sha256")
    try:
        raw = p.sums.read_bytes() if p.sums is not None and p.sums.stat().st_size < 4096 else b""
        sums = json.loads(raw.decode("utf-8"))
    except (OSError, ValueError):
        sums = None
    if not isinstance(sums, dict) or not isinstance(sums.get("runs"), str):
        raise ValueError(f"{where}: missing or damaged checksum file of {p.runs.name}")
    return sums


def _same_sha(path: Path, data: bytes, want: Any) -> None:
    if not (isinstance(want, str) and hashlib.sha256(data).hexdigest() == want):
        raise ValueError(f"{path}: damaged (its SHA-256 differs from the one recorded)")


def _check_part(
    chk: SweepCheck,
    p: Part,
    columns: Sequence[str] | None,
    steps_mode: str,
    seen: np.ndarray,
) -> tuple[pa.Table, pa.Table | None]:
    """Read one chunk and check it against the design; ValueError("path: why") if damaged.

    ``steps_mode``: ``skip`` the steps part, ``verify`` it (by its checksum; read and checked
    when the sweep predates checksums) or ``read`` it (checked, returned).
    """
    from sim.experiments.runner import seed_for, seed_value
    from sim.experiments.sweep import Layout, run_id

    m = chk.manifest
    layout = Layout.from_manifest(m)
    reps = m["replications"]
    n_runs = m["n_runs"]
    hashes = m["design"]["cell_hashes"]
    version = m["versions"]["hedgesim"]
    recording = m.get("record_every") is not None
    if recording and steps_mode != "skip" and p.steps is None:
        raise ValueError(f"{p.runs}: its steps part is missing")
    sealed_parts = m.get("checksums") == "sha256"
    sums = _read_sums(p) if sealed_parts else {}
    data = _read_bytes(p.runs)
    if sealed_parts:
        _same_sha(p.runs, data, sums["runs"])
    schema = layout.runs_schema()
    need = ["run_id", "run_index", "cell", "replication", "seed"]
    cols = None if columns is None else list(dict.fromkeys([*need, *columns]))
    table = _safe_read(p.runs, data, schema, cols)
    idx = table.column("run_index").to_numpy()
    if len(idx) == 0:
        raise ValueError(f"{p.runs}: holds no runs")
    if idx[0] != p.first or (len(idx) > 1 and not np.all(np.diff(idx) > 0)):
        raise ValueError(
            f"{p.runs}: its name says it starts at run {p.first} but it holds runs "
            f"{int(idx.min())}–{int(idx.max())} (a copy of another part?)"
        )
    if idx[-1] >= n_runs:
        raise ValueError(f"{p.runs}: holds run {int(idx[-1])}, outside this design of {n_runs}")
    if seen[idx].any():
        again = int(idx[seen[idx]][0])
        raise ValueError(f"{p.runs}: run {again} is also in another part (a duplicated part?)")
    cell = table.column("cell").to_numpy()
    rep = table.column("replication").to_numpy()
    if not (np.array_equal(cell, idx // reps) and np.array_equal(rep, idx % reps)):
        raise ValueError(f"{p.runs}: cell or replication does not follow from the run index")
    seeds = table.column("seed").to_numpy()
    ids = table.column("run_id").to_pylist()
    for i, c, s, rid in zip(idx.tolist(), cell.tolist(), seeds.tolist(), ids, strict=True):
        if rid != run_id(hashes[c], s, version):
            raise ValueError(f"{p.runs}: run {i} has id {rid}, this sweep's design gives another")
    if seeds[0] != seed_value(seed_for(m["root_seed"], int(idx[0]))):
        raise ValueError(f"{p.runs}: run {int(idx[0])} has a seed this sweep never gives it")
    for sid in layout.states:
        col = f"{sid}.status"
        if col in table.column_names:
            bad = set(table.column(col).unique().to_pylist()) - set(_statuses())
            if bad:
                raise ValueError(f"{p.runs}: column {col} holds unknown value(s) {sorted(bad)!r}")
    steps_data = None
    if recording and steps_mode != "skip":
        assert p.steps is not None
        steps_data = _read_bytes(p.steps)
        if sealed_parts:
            _same_sha(p.steps, steps_data, sums.get("steps"))
    steps = None
    if steps_data is not None and (steps_mode == "read" or not sealed_parts):
        assert p.steps is not None
        steps = _safe_read(p.steps, steps_data, layout.steps_schema(), None)
        sidx = steps.column("run_index").to_numpy()
        if not np.array_equal(np.unique(sidx), idx):
            raise ValueError(f"{p.steps}: does not hold the runs of its runs part")
        st = steps.column("step").to_numpy()
        order = np.lexsort((st, sidx))
        if len(st) and (
            st.min() < 0
            or st.max() > m["steps"]
            or np.any((np.diff(sidx[order]) == 0) & (np.diff(st[order]) <= 0))
        ):
            raise ValueError(f"{p.steps}: steps outside the run or repeated")
        by_index = dict(zip(idx.tolist(), ids, strict=True))
        sids = steps.column("run_id").to_pylist()
        if any(by_index[i] != r for i, r in zip(sidx.tolist(), sids, strict=True)):
            raise ValueError(f"{p.steps}: run ids differ from its runs part")
    return table, steps


def _statuses() -> tuple[str, ...]:
    from sim.model.metrics import STATUSES

    return STATUSES


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ValueError(f"{path}: cannot read ({exc.strerror or exc})") from None


def _safe_read(
    path: Path, data: bytes, schema: pa.Schema, columns: Sequence[str] | None
) -> pa.Table:
    """A part file's bytes as the sweep's schema (only ``columns``), or ValueError("path: why").

    Parsed from memory: the bytes were read once, to check their checksum."""
    import pyarrow.csv as pacsv
    import pyarrow.parquet as pq

    want = pa.schema([schema.field(c) for c in columns]) if columns else schema
    try:
        if path.suffix == ".parquet":
            pf = pq.ParquetFile(pa.BufferReader(data))
            present = set(pf.schema_arrow.names)
            missing = [c for c in want.names if c not in present]
            if missing:
                raise ValueError(f"{path}: lacks column(s) {', '.join(missing[:4])}")
            table = pf.read(columns=want.names)
        else:
            opts = pacsv.ConvertOptions(
                column_types={f.name: f.type for f in schema},
                include_columns=want.names if columns else None,
                strings_can_be_null=True,
            )
            table = pacsv.read_csv(pa.BufferReader(data), convert_options=opts)
            missing = [c for c in want.names if c not in table.column_names]
            if missing:
                raise ValueError(f"{path}: lacks column(s) {', '.join(missing[:4])}")
        return table.select(want.names).cast(want)
    except ValueError as exc:
        if str(exc).startswith(str(path)):
            raise
        raise ValueError(f"{path}: unreadable part: {_short(exc)}") from None
    except MemoryError:
        raise ValueError(f"{path}: unreadable part (it claims more memory than exists)") from None
    except Exception as exc:  # a damaged file: pyarrow raises many kinds
        raise ValueError(f"{path}: unreadable part: {_short(exc)}") from None


def check_sweep(
    directory: str | Path,
    manifest: dict[str, Any],
    *,
    columns: Sequence[str] | None = None,
    steps_mode: str = "verify",
    keep_tables: bool = False,
) -> SweepCheck:
    """Read every committed part and check it; damaged ones are listed, not raised.

    ``columns``: the runs columns to read (besides the identifying ones; None: all);
    ``steps_mode``: see :func:`_check_part`; ``keep_tables``: keep what was read (``tables``;
    the steps under negative keys) for the caller to assemble.
    """
    chk = scan_sweep(directory, manifest)
    seen = np.zeros(manifest["n_runs"], dtype=bool)
    for first in sorted(chk.parts):
        p = chk.parts[first]
        try:
            table, steps = _check_part(chk, p, columns, steps_mode, seen)
        except ValueError as exc:
            chk.damaged[first] = str(exc)
            continue
        seen[table.column("run_index").to_numpy()] = True
        if keep_tables:
            chk.tables[first] = table
            if steps is not None:
                chk.tables[-1 - first] = steps
    chk.done = seen
    return chk


def load_sweep(directory: str | Path, columns: Sequence[str] | None = None) -> Any:
    """Read and check a sweep directory (finished or not): :class:`sim.experiments.sweep.SweepData`."""
    from sim.experiments.sweep import Layout, SweepData

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
        steps = t.sort_by([("run_index", "ascending"), ("step", "ascending")]).to_pandas()
    return SweepData(runs.to_pandas(), steps, manifest, chk.warnings)


def load(directory: str | Path) -> Any:
    """A run directory (``RunResults``) or a sweep directory (``SweepData``)."""
    d = Path(directory)
    if (d / "run.json").is_file():
        return load_run(d)
    if (d / "manifest.json").is_file():
        return load_sweep(d)
    raise InputError.plain(str(d), "neither a run directory (run.json) nor a sweep (manifest.json)")
