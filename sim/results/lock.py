"""Who writes an output directory now: the lock, and the one guard every writer passes.

The lock (``.hedgesim.lock``, ``fcntl.flock``) lets one ``run``, ``sweep``, ``plot`` or ``export``
write a directory at a time, ``--force`` included. A lock whose holder pid is dead (orphaned
workers of an older version kept the file locked) is recognised as stale and broken. Forked
workers close the descriptors they inherit (:func:`close_inherited_locks`), so a lock lives exactly
as long as the process that took it.

:func:`guard` is the one way into an output directory for writing: the same checks (a broken
symbolic link, a file in the way), the directory created, the lock taken, the same messages for
``hedgesim run``, ``sweep``, ``plot`` and ``export``, and nothing left behind when the command is
refused before it writes.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError

LOCK_NAME = ".hedgesim.lock"

_HELD: dict[int, tuple[int, int]] = {}
"""Lock descriptors this process holds (fd -> (st_dev, st_ino)): forked workers close them, so a
lock dies with the process that took it, however long a worker lingers."""


class Busy(Exception):
    """Another live hedgesim process writes the directory."""

    def __init__(self, root: Path, holder: str) -> None:
        super().__init__(f"{root}: another hedgesim process ({holder}) is writing here")
        self.root = root
        self.holder = holder


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):
        return False
    return True


def _holder(fd: int) -> tuple[int | None, str]:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 200).decode("utf-8", "replace").strip()
    pid_text, _, what = text.partition(" ")
    pid = int(pid_text) if pid_text.isdigit() and len(pid_text) < 10 else None
    shown = f"{what or 'process'} pid {pid}" if pid is not None else "pid unknown"
    return pid, shown


class DirLock:
    """An exclusive, non-blocking lock on an output directory (released by any death)."""

    def __init__(self, root: str | Path, what: str) -> None:
        self.root = Path(root)
        self.what = what
        self.fd: int | None = None
        self.broke_stale: int | None = None  # pid of a dead holder whose lock was broken

    @property
    def path(self) -> Path:
        return self.root / LOCK_NAME

    def acquire(self) -> DirLock:
        """Take the lock; raise Busy if a live process holds it. The directory must exist."""
        import fcntl

        fd = self._open(self.path)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, shown = _holder(fd)
            os.close(fd)
            if pid is None or _alive(pid):
                raise Busy(self.root, shown) from None
            fd = self._break_stale(pid)
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{os.getpid()} {self.what}\n".encode())
        st = os.fstat(fd)
        _HELD[fd] = (st.st_dev, st.st_ino)
        self.fd = fd
        return self

    def _open(self, path: Path) -> int:
        if path.is_symlink() or (path.exists() and not path.is_file()):
            raise InputError.plain(str(path), "is not a regular file; remove it to write here")
        return os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)

    def _break_stale(self, dead: int) -> int:
        """The holder died but the file is still locked (by workers it left behind): put a fresh
        lock file in its place. A lock on the directory itself serialises two processes that
        find the same stale lock, so exactly one of them wins."""
        import fcntl

        dfd = os.open(self.root, os.O_RDONLY | os.O_CLOEXEC)
        try:
            fcntl.flock(dfd, fcntl.LOCK_EX)
            fd = self._open(self.path)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return fd  # released meanwhile
            except BlockingIOError:
                pid, shown = _holder(fd)
                os.close(fd)
                if pid != dead and (pid is None or _alive(pid)):
                    raise Busy(self.root, shown) from None
            tfd, tmp = tempfile.mkstemp(prefix=f".{LOCK_NAME}.", suffix=".tmp", dir=self.root)
            fcntl.flock(tfd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(tmp, self.path)
            self.broke_stale = dead
            return tfd
        finally:
            os.close(dfd)

    def release(self) -> None:
        if self.fd is not None:
            _HELD.pop(self.fd, None)
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> DirLock:
        return self.acquire() if self.fd is None else self

    def __exit__(self, *exc: object) -> None:
        self.release()


def close_inherited_locks() -> None:
    """In a forked worker: close the lock descriptors inherited from the parent (checked by
    device and inode, so a reused descriptor number is never closed by mistake)."""
    for fd, ident in list(_HELD.items()):
        with contextlib.suppress(OSError):
            st = os.fstat(fd)
            if (st.st_dev, st.st_ino) == ident:
                os.close(fd)
        _HELD.pop(fd, None)


def holder(root: str | Path) -> str | None:
    """Who holds the directory's lock now (``"sweep pid 123"``), or None if nobody."""
    import fcntl

    path = Path(root) / LOCK_NAME
    if not path.is_file() or path.is_symlink():
        return None
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, shown = _holder(fd)
            return shown if pid is None or _alive(pid) else None
        return None
    finally:
        os.close(fd)


@dataclass
class Guard:
    """An output directory checked, created if needed, and locked for one writer."""

    root: Path
    lock: DirLock
    made_dir: bool  # this guard created the directory
    made_lock: bool  # ... or only its lock file

    def release(self, wrote: bool = True) -> None:
        """Release the lock; a writer refused before it wrote anything (``wrote=False``) leaves
        no trace: neither the lock file nor a directory it created."""
        path = self.lock.path
        self.lock.release()
        if not wrote and self.made_lock:
            path.unlink(missing_ok=True)
            if self.made_dir:
                with contextlib.suppress(OSError):
                    self.root.rmdir()


def check_target_dir(root: Path) -> None:
    """Refuse a directory that cannot be one: a broken symbolic link, a file in its place."""
    if os.path.lexists(root) and root.is_symlink() and not root.exists():
        raise InputError.plain(str(root), f"is a broken symbolic link (to {os.readlink(root)})")
    if root.exists() and not root.is_dir():
        raise InputError.plain(str(root), "exists and is not a directory")


def guard(root: str | Path, what: str, busy: str) -> Guard:
    """Check, create and lock ``root`` for ``what`` (``run``, ``sweep``, ...).

    Args:
        root: the output directory.
        what: who writes (recorded in the lock file, shown to a second writer).
        busy: what to tell a user who finds the directory busy (after "another hedgesim process
            (sweep pid 123) is writing here; ").

    Returns:
        The guard; call ``release(wrote)`` when done. InputError for a directory that cannot be
        used or that another live process writes.
    """
    root = Path(root)
    check_target_dir(root)
    made_dir = not root.exists()
    made_lock = made_dir or not os.path.lexists(root / LOCK_NAME)
    try:
        root.mkdir(parents=True, exist_ok=True)
        lock = DirLock(root, what).acquire()
    except Busy as exc:
        raise InputError.plain(
            str(root), f"another hedgesim process ({exc.holder}) is writing here; {busy}"
        ) from None
    except OSError as exc:
        raise InputError.plain(str(root), f"cannot write here: {exc.strerror or exc}") from None
    return Guard(root, lock, made_dir, made_lock)
