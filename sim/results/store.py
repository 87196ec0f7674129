"""Writing results: a run directory and a sweep directory, behind one guard.

Why a guard on every output directory: a user who points two different scenarios at the same
``--out`` must not lose the first one's results silently; an identical re-run may overwrite (it
writes the same numbers), anything else needs ``--force``, which replaces only what hedgesim wrote
there (sim.results.outdir). Every writer goes through :func:`sim.results.lock.guard` (the same
checks and messages) and writes atomically (sim.results.atomic): a reader finds the old file or
the new one, and a killed command leaves a record that says so.

* a **run** directory: the tables, ``summary.csv``, ``summary.txt`` and, last, ``run.json``
  (its presence as ``complete`` marks completion; it lists the files and their SHA-256);
* a **sweep** directory: ``manifest.json`` and one part file per chunk under ``runs/`` (and
  ``steps/``), each committed by its runs part (the steps part and checksums are written first).
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata as md
import json
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyarrow as pa

from sim._version import __version__
from sim.errors import InputError
from sim.results.atomic import (
    file_sha256,
    sealed,
    table_suffix,
    writable_target,
    write_bytes,
    write_json,
    write_table,
    write_text,
)
from sim.results.lock import LOCK_NAME, Guard, guard
from sim.results.outdir import (
    PART_RE,
    TEMP_RE,
    conflicts,
    figure_conflicts,
    refuse_conflicts,
    remove_owned,
    survey,
)

MARKER = "run.json"
MANIFEST = "manifest.json"
VERSIONED = ("mesa", "numpy", "scipy", "SALib", "pandas", "pyarrow", "pydantic")
"""The packages whose versions decide results, recorded with every output."""


def versions() -> dict[str, str]:
    """hedgesim's, Python's and the deciding packages' versions (recorded with every output)."""
    return dict(_versions())


@functools.cache
def _versions() -> tuple[tuple[str, str], ...]:
    """Looked up once per process (reading package metadata costs ~10 ms a time)."""
    out = {"hedgesim": __version__, "python": platform.python_version()}
    for pkg in VERSIONED:
        try:
            out[pkg] = md.version(pkg)
        except md.PackageNotFoundError:  # pragma: no cover - dependency missing
            out[pkg] = "missing"
    return tuple(out.items())


# ------------------------------------------------------------------------------------------------
# A run directory
# ------------------------------------------------------------------------------------------------


@dataclass
class RunDir:
    """A run's output directory, claimed and locked for this run, and what was found there."""

    out: Path
    guard: Guard
    planned: list[str]
    kept: list[str] = field(default_factory=list)  # entries hedgesim did not write (kept)
    removed: list[str] = field(default_factory=list)  # a previous run's files (with --force)
    files: list[str] = field(default_factory=list)  # all hedgesim's files here: run.json's list

    def release(self) -> None:
        self.guard.release()


def run_files(fmt: str) -> list[str]:
    """The files ``hedgesim run`` may write (figures are added as they are drawn; the
    tie_history table only for scenarios with a calendar)."""
    tables = ("system", "states", "ties", "tie_history")
    return [MARKER, *(f"{t}.{fmt}" for t in tables), "summary.csv", "summary.txt"]


def open_run_dir(
    out: str | Path, identity: str, force: bool, *, fmt: str = "parquet", figures: bool = True
) -> RunDir:
    """Create or reuse ``out`` for a run and lock it; refuse to touch anyone else's files.

    An identical re-run (same ``identity``) may overwrite its own outputs (it writes the same
    numbers). A different run needs ``force``, which removes only what hedgesim wrote there
    (run.json's file list) and keeps everything else. A planned output whose name is taken by a
    file hedgesim did not write, a sweep's directory, or a directory another hedgesim process is
    writing is always refused (InputError), before any work.
    """
    out = Path(out)
    g = guard(
        out,
        "run",
        "--force does not stop a running process: wait for it to finish or choose another --out",
    )
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
        claim = {"identity": identity, "status": "running", "kind": "run"}
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
        g.release(wrote=False)
        raise
    return RunDir(out, g, planned, kept, removed, files)


def write_run(
    rd: RunDir,
    tables: Mapping[str, pa.Table],
    outcomes: pa.Table,
    text: str,
    meta: dict[str, Any],
    fmt: str,
) -> dict[str, Path]:
    """Write every table, ``summary.csv`` (``outcomes``), ``summary.txt`` (``text``) and, last,
    run.json (its status ``complete`` marks completion).

    run.json lists the files hedgesim wrote (``files``: what ``--force`` may replace), the SHA-256
    of each table (``checksums``: a loader tells a damaged table from a good one) and is sealed
    with a checksum of its own content.
    """
    out = rd.out
    paths = {}
    for name, table in tables.items():
        paths[name] = write_table(out / name, table, fmt)
    paths["summary"] = write_table(out / "summary", outcomes, "csv")
    write_text(out / "summary.txt", text + "\n")
    meta = {
        **meta,
        "status": "complete",
        "versions": versions(),
        "format": fmt,
        "argv": sys.argv,
        "files": sorted(
            (set(rd.files) - ({f"tie_history.{fmt}"} - {p.name for p in paths.values()}))
            | {MARKER}
            | {p.name for p in paths.values()}
        ),
        "checksums": {p.name: file_sha256(p) for p in paths.values()},
    }
    write_json(out / MARKER, sealed(meta))
    paths["run"] = out / MARKER
    return paths


# ------------------------------------------------------------------------------------------------
# A sweep directory
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


class SweepStore:
    """One sweep output directory: manifest, part files, lock."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        self.manifest_path = self.root / MANIFEST
        self.runs_dir = self.root / "runs"
        self.steps_dir = self.root / "steps"
        self.ties_dir = self.root / "ties"
        self._guard: Guard | None = None

    # -- locking: one writer per directory; any death of its holder releases it ----------------
    def lock(self) -> None:
        self._guard = guard(self.root, "sweep", "--force does not stop a running process")

    def unlock(self, wrote: bool = True) -> None:
        """Release the lock; a sweep refused before it wrote anything (``wrote=False``) leaves
        no trace (neither the lock file nor a directory it created)."""
        if self._guard is not None:
            self._guard.release(wrote)
            self._guard = None

    # -- contents -------------------------------------------------------------------------------
    def run_parts(self) -> dict[int, Path]:
        return _parts(self.runs_dir)

    def step_parts(self) -> dict[int, Path]:
        return _parts(self.steps_dir)

    def tie_parts(self) -> dict[int, Path]:
        return _parts(self.ties_dir)

    def clear(self) -> list[str]:
        """Remove a previous sweep's files — only those hedgesim wrote (the manifest's list, part
        files, their checksums) — and return the entries kept (files hedgesim did not write)."""
        c = survey(self.root)
        if c.kind is None:  # parts without a manifest: hedgesim's by their names in its layout
            c.kind = "sweep"
        self.manifest_path.unlink(missing_ok=True)  # first: a half-cleared dir is not resumable
        remove_owned(c)
        return c.kept()

    def write(
        self, first: int, runs: bytes, steps: bytes | None, fmt: str, ties: bytes | None = None
    ) -> None:
        """Write a finished chunk: steps and ties first, then the checksums of all, then runs
        (the commit). A loader verifies each part against its checksums, so a damaged part is
        found and named instead of read as if it were right."""
        name = f"part-{first:010d}{table_suffix(fmt)}"
        if steps is not None:
            write_bytes(self.steps_dir / name, steps)
        if ties is not None:
            write_bytes(self.ties_dir / name, ties)
        sums = {
            "runs": hashlib.sha256(runs).hexdigest(),
            "steps": None if steps is None else hashlib.sha256(steps).hexdigest(),
        }
        if ties is not None:
            sums["ties"] = hashlib.sha256(ties).hexdigest()
        write_bytes(self.runs_dir / f".part-{first:010d}.sha256", json.dumps(sums).encode())
        write_bytes(self.runs_dir / name, runs)

    def drop(self, first: int) -> list[Path]:
        """Remove one chunk's files (a damaged part, on ``--repair``): its runs part, steps part
        and checksums, whatever their format. Returns what was removed."""
        gone = []
        for d in (self.runs_dir, self.steps_dir, self.ties_dir):
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
