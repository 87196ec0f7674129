"""A sweep directory's part files, each checked before it counts as done.

Every part's SHA-256 is checked against its checksum file (a hidden ``.part-N.sha256`` beside each
runs part), then its columns and types, then its values: run indices inside the design, cells and
replications that follow from them, each run's id recomputed from its cell and seed. Each run
appears once: a second copy of a run (a duplicated part file, an overlapping part) is damage, never
counted twice. A damaged part is *repairable*: ``hedgesim sweep ... --repair`` drops it and runs
exactly its runs again. Odd but harmless files (a name hedgesim does not write, a steps part of a
chunk that never committed) are warnings.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from sim.errors import InputError, short
from sim.model.metrics import STATUSES
from sim.model.seeds import replication_seed, seed_value
from sim.results.outdir import PART_RE, SUM_RE, TEMP_RE
from sim.results.tables import TIES_SCHEMA, Layout, run_id


@dataclass
class Part:
    """One committed chunk on disk: its runs part, steps and ties parts, and checksums."""

    first: int
    runs: Path
    steps: Path | None = None
    sums: Path | None = None
    ties: Path | None = None


@dataclass
class SweepCheck:
    """A sweep directory as found: its parts, which of them are damaged, what else is there."""

    root: Path
    manifest: dict[str, Any]
    parts: dict[int, Part]
    damaged: dict[int, str] = field(default_factory=dict)  # first run -> "path: why"
    orphans: list[Path] = field(default_factory=list)  # steps/ties parts of uncommitted chunks
    debris: list[Path] = field(default_factory=list)  # temporaries, checksums of no part
    warnings: list[str] = field(default_factory=list)
    done: np.ndarray | None = None  # run indices on disk (good parts only)
    tables: dict[int, pa.Table] = field(default_factory=dict)  # runs columns read, per part
    ties: dict[int, pa.Table] = field(default_factory=dict)  # ties parts read, per part

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
    """List the part files and everything else under runs/, steps/ and ties/ (no file is
    read)."""
    d = Path(directory)
    fmt = manifest.get("format", "parquet")
    chk = SweepCheck(d, manifest, {})
    steps: dict[int, Path] = {}
    ties: dict[int, Path] = {}
    sums: dict[int, Path] = {}
    for sub in ("runs", "steps", "ties"):
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
                    (steps if sub == "steps" else ties)[first] = p
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
    for first, p in ties.items():
        if first in chk.parts:
            chk.parts[first].ties = p
        else:
            chk.orphans.append(p)
    for first, p in sums.items():
        if first in chk.parts:
            chk.parts[first].sums = p
        else:
            chk.debris.append(p)
    if chk.orphans:
        chk.warnings.append(
            f"{len(chk.orphans)} steps or ties part(s) of chunks that never committed (a killed "
            f"sweep's unfinished work, e.g. {chk.orphans[0]}); ignored, and removed by a resume"
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
    """A temporary of a part or checksum file (``.part-N.parquet.XXXXXXXX.tmp``,
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
    ties_mode: str = "skip",
) -> tuple[pa.Table, pa.Table | None, pa.Table | None]:
    """Read one chunk and check it against the design; ValueError("path: why") if damaged.

    ``steps_mode``: ``skip`` the steps part, ``verify`` it (by its checksum; read and checked
    when the sweep predates checksums) or ``read`` it (checked, returned). ``ties_mode``: the
    same for the ties part of a sweep that keeps ties.
    """
    m = chk.manifest
    layout = Layout.from_manifest(m)
    reps = m["replications"]
    n_runs = m["n_runs"]
    hashes = m["design"]["cell_hashes"]
    version = m["versions"]["hedgesim"]
    recording = m.get("record_every") is not None
    if recording and steps_mode != "skip" and p.steps is None:
        raise ValueError(f"{p.runs}: its steps part is missing")
    keeps_ties = m.get("ties") is not None
    if keeps_ties and ties_mode != "skip" and p.ties is None:
        raise ValueError(f"{p.runs}: its ties part is missing")
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
    if seeds[0] != seed_value(replication_seed(m["root_seed"], int(idx[0]))):
        raise ValueError(f"{p.runs}: run {int(idx[0])} has a seed this sweep never gives it")
    for sid in layout.states:
        col = f"{sid}.status"
        if col in table.column_names:
            bad = set(table.column(col).unique().to_pylist()) - set(STATUSES)
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
    ties = None
    if keeps_ties and ties_mode != "skip":
        assert p.ties is not None
        ties_data = _read_bytes(p.ties)
        _same_sha(p.ties, ties_data, sums.get("ties"))
        if ties_mode == "read":
            ties = _check_ties(p.ties, ties_data, idx, m)
    return table, steps, ties


def _check_ties(path: Path, data: bytes, idx: np.ndarray, m: dict[str, Any]) -> pa.Table:
    """A ties part read and checked: its runs are its runs part's, its steps inside the run,
    its states the scenario's, its levels the kept ones, each tie once per run and step."""
    t = _safe_read(path, data, TIES_SCHEMA, None)
    ridx = t.column("run_index").to_numpy()
    if len(ridx) and not np.isin(ridx, idx).all():
        raise ValueError(f"{path}: holds runs that are not in its runs part")
    st = t.column("step").to_numpy()
    if len(st) and (st.min() < 0 or st.max() > m["steps"]):
        raise ValueError(f"{path}: steps outside the run")
    ids = set(m["scenario"]["ids"])
    for col in ("a", "b"):
        bad = set(t.column(col).unique().to_pylist()) - ids
        if bad:
            raise ValueError(f"{path}: column {col} holds unknown state(s) {sorted(bad)[:3]!r}")
    allowed = {"alliance"} if m["ties"]["level"] == "alliance" else {"friendship", "alliance"}
    bad = set(t.column("level").unique().to_pylist()) - allowed
    if bad:
        raise ValueError(f"{path}: column level holds {sorted(bad)!r} (expected {sorted(allowed)})")
    keys = pa.table(
        [t.column("run_index"), t.column("step"), *(t.column(c).cast(pa.string()) for c in "ab")],
        names=["r", "s", "a", "b"],
    )
    if keys.group_by(["r", "s", "a", "b"]).aggregate([]).num_rows != t.num_rows:
        raise ValueError(f"{path}: the same tie appears twice in a run and step")
    return t


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
        raise ValueError(f"{path}: unreadable part: {short(exc)}") from None
    except MemoryError:
        raise ValueError(f"{path}: unreadable part (it claims more memory than exists)") from None
    except Exception as exc:  # a damaged file: pyarrow raises many kinds
        raise ValueError(f"{path}: unreadable part: {short(exc)}") from None


def check_sweep(
    directory: str | Path,
    manifest: dict[str, Any],
    *,
    columns: Sequence[str] | None = None,
    steps_mode: str = "verify",
    keep_tables: bool = False,
    ties_mode: str | None = None,
) -> SweepCheck:
    """Read every committed part and check it; damaged ones are listed, not raised.

    ``columns``: the runs columns to read (besides the identifying ones; None: all);
    ``steps_mode``: see :func:`_check_part`; ``keep_tables``: keep what was read (``tables``;
    the steps under negative keys; ``ties``) for the caller to assemble; ``ties_mode``: as
    ``steps_mode`` for the ties parts (default: verify them when the steps are, else skip).
    """
    if ties_mode is None:
        ties_mode = "verify" if steps_mode == "verify" else "skip"
    chk = scan_sweep(directory, manifest)
    seen = np.zeros(manifest["n_runs"], dtype=bool)
    for first in sorted(chk.parts):
        p = chk.parts[first]
        try:
            table, steps, ties = _check_part(chk, p, columns, steps_mode, seen, ties_mode)
        except ValueError as exc:
            chk.damaged[first] = str(exc)
            continue
        seen[table.column("run_index").to_numpy()] = True
        if keep_tables:
            chk.tables[first] = table
            if steps is not None:
                chk.tables[-1 - first] = steps
            if ties is not None:
                chk.ties[first] = ties
    chk.done = seen
    return chk
