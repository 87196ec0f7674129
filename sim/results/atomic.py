"""Crash-safe file writing: a file is either absent or complete, never half-written.

Why: runs and sweeps are killed (Ctrl-C, kill -9, a full disk). Writing to a temporary file in the
same directory, fsync-ing it and renaming it over the target is atomic on POSIX filesystems, so a
reader sees the old file or the new one, never a torn one.

Only regular files and new paths are written: a rename over a character device, a FIFO or a folder
would replace it (as root, ``--csv /dev/null`` would have replaced ``/dev/null``). A symbolic link
to a regular file is written through (the link stays a link).

JSON records can be *sealed*: a ``checksum`` field holding the SHA-256 of the rest of the record,
so a loader can tell a damaged or hand-edited record from the one hedgesim wrote.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISSOCK, "a socket"),
)


def writable_target(target: str | Path) -> Path:
    """The path to replace for ``target``: itself, or the regular file a symlink points to.

    Raises InputError (``path: message``) for anything that is not a regular file or a new path.
    """
    from sim.errors import InputError

    target = Path(target)
    try:
        st = os.lstat(target)
    except FileNotFoundError:
        return target
    except NotADirectoryError:
        raise InputError.plain(str(target), "a parent of this path is not a directory") from None
    if stat.S_ISLNK(st.st_mode):
        dest = Path(os.path.realpath(target))
        if not dest.exists():
            raise InputError.plain(
                str(target), f"is a broken symbolic link (to {os.readlink(target)})"
            )
        st = os.stat(dest)
        if stat.S_ISREG(st.st_mode):
            return dest
        target_shown = f"{target} (a link to {dest})"
    else:
        target_shown = str(target)
    if stat.S_ISREG(st.st_mode):
        return target
    what = next((name for test, name in _KINDS if test(st.st_mode)), "not a regular file")
    raise InputError.plain(
        target_shown,
        f"is {what}; hedgesim writes only regular files or new paths",
    )


@contextlib.contextmanager
def atomic_path(target: str | Path) -> Iterator[Path]:
    """Yield a temporary path next to ``target``; rename it over ``target`` on success."""
    target = writable_target(target)
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


def _digest(obj: dict[str, Any]) -> str:
    body = {k: v for k, v in obj.items() if k != "checksum"}
    blob = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def sealed(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` with a ``checksum`` of its content (JSON-normalised, key order ignored)."""
    body = json.loads(json.dumps(obj, default=str))
    return {**body, "checksum": _digest(body)}


def seal_ok(obj: dict[str, Any]) -> bool | None:
    """True if the record's checksum matches, False if not, None if it has none (older)."""
    if "checksum" not in obj:
        return None
    return obj["checksum"] == _digest(obj)


def file_sha256(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


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
