"""Crash-safe file writing: a file is either absent or complete, never half-written.

Why: runs and sweeps are killed (Ctrl-C, kill -9, a full disk). Writing to a temporary file in the
same directory, fsync-ing it and renaming it over the target is atomic on POSIX filesystems, so a
reader sees the old file or the new one, never a torn one.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    # mkstemp creates 0600; results are meant to be shared like any file the user writes
    os.fchmod(fd, 0o666 & ~_umask())
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp_path, target)
        _fsync_dir(target.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


def _umask() -> int:
    """The process umask (read by setting and restoring it; there is no getter)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_bytes(target: str | Path, data: bytes) -> None:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)


def write_text(target: str | Path, text: str) -> None:
    write_bytes(target, text.encode("utf-8"))


def write_json(target: str | Path, obj: Any) -> None:
    write_text(target, json.dumps(obj, indent=2, sort_keys=False, default=str) + "\n")


def table_suffix(fmt: str) -> str:
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"unknown format {fmt!r}")
    return "." + fmt


def encode_table(table: pa.Table, fmt: str = "parquet") -> bytes:
    """An Arrow table as the bytes of a Parquet (zstd) or CSV file.

    Separate from writing so that sweep workers encode in parallel and the coordinating process,
    which writes every chunk, only moves bytes.
    """
    sink = pa.BufferOutputStream()
    if table_suffix(fmt) == ".parquet":
        pq.write_table(table, sink, compression="zstd")
    else:
        pacsv.write_csv(table, sink)
    return sink.getvalue().to_pybytes()


def write_table(target: str | Path, table: pa.Table, fmt: str = "parquet") -> Path:
    """Write an Arrow table as Parquet or CSV (the suffix follows the format)."""
    target = Path(target).with_suffix(table_suffix(fmt))
    write_bytes(target, encode_table(table, fmt))
    return target
