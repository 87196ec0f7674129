"""Worker processes die with the process that started them.

Why: a sweep killed with ``kill PID`` (SIGKILL, SIGTERM or SIGHUP to the main process only) used to
leave its forked workers running — for minutes, holding the output directory's lock, so the sweep
could never be resumed. Each worker now, as it starts:

* closes the lock descriptors it inherited (``sim.outdir.close_inherited_locks``), so a lock lives
  exactly as long as the process that took it;
* asks Linux to SIGKILL it when its parent dies (``prctl(PR_SET_PDEATHSIG)``, through ctypes);
* and, where that is not available (or as a second line), watches its parent pid from a daemon
  thread and exits within a second of being orphaned.

Under the ``forkserver`` start method (used when the parent already runs threads) workers are
children of the fork server, which imports this module as it starts (``preload``): the server
then dies with the process that started it (``POOL_PARENT`` names that process), and its workers
with the server.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import signal
import threading
import time
from collections.abc import Callable

PR_SET_PDEATHSIG = 1
WATCH_SECONDS = 0.5
POOL_PARENT = "HEDGESIM_POOL_PARENT"
"""Environment variable: the pid of a process that starts worker pools (set by
``sim.runner.process_pool``), inherited by the fork server it starts."""


def die_with_parent(sig: int = signal.SIGKILL) -> bool:
    """Linux: deliver ``sig`` to this process when its parent thread exits. False elsewhere."""
    with contextlib.suppress(OSError, AttributeError, TypeError):
        name = ctypes.util.find_library("c")
        if name:
            libc = ctypes.CDLL(name, use_errno=True)
            return libc.prctl(PR_SET_PDEATHSIG, int(sig), 0, 0, 0) == 0
    return False


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(parent: int, owner: int) -> None:
    while True:
        time.sleep(WATCH_SECONDS)
        if os.getppid() != parent or not _alive(owner):
            os._exit(1)


def one_blas_thread() -> None:
    """Limit numpy's BLAS to one thread in this process.

    Why: hedgesim's matrices are small, so BLAS threads only contend when several worker
    processes share the cores (measured on 2 cores: 2 workers ran 0.26 runs/s with OpenBLAS's
    default threads, 1.5-1.9 with one thread each). Results do not depend on it. Idempotent.
    """
    global _LIMITED
    if _LIMITED is None:
        from threadpoolctl import threadpool_limits

        _LIMITED = threadpool_limits(limits=1, user_api="blas")


_LIMITED = None


def worker_init(
    owner: int,
    forked: bool = True,
    ignore_sigint: bool = True,
    then: Callable[[], None] | None = None,
) -> None:
    """Initializer of every worker process hedgesim starts.

    ``owner``: the pid of the process that started the pool. ``forked``: the worker is its child
    (fork); otherwise a child of the fork server, which itself dies with the owner. A worker
    whose owner is already gone when it starts exits at once (it may have been forked in the
    instant the owner died, before it could ask to die with its parent). ``ignore_sigint``:
    workers leave Ctrl-C to the parent, which stops cleanly (no traceback from every worker).
    """
    from sim.outdir import close_inherited_locks

    one_blas_thread()
    if ignore_sigint:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    close_inherited_locks()
    die_with_parent()
    parent = os.getppid()
    if (forked and parent != owner) or not _alive(owner):
        os._exit(1)
    threading.Thread(
        target=_watch, args=(parent, owner), name="hedgesim-lifeline", daemon=True
    ).start()
    if then is not None:
        then()


def _fork_server_follows_its_parent() -> None:
    """Imported in a fork server started by ``POOL_PARENT``: die with that process."""
    if os.environ.get(POOL_PARENT) == str(os.getppid()) and "multiprocessing.forkserver" in (
        __import__("sys").modules
    ):
        die_with_parent()


_fork_server_follows_its_parent()
