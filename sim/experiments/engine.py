"""The one engine: tasks to workers — in this process, a local process pool, Dask or any
``concurrent.futures.Executor`` — with a bounded window in flight, results handed back as they
finish.

``hedgesim run`` (the conditions of a scenario) and ``hedgesim sweep`` (the cells of a design)
both plan :class:`sim.experiments.task.Task` chunks and run them here; which worker runs which
chunk never changes a result (each run's seed is fixed by its index, sim.model.seeds).

* **Bounded memory.** At most ``window`` tasks are in flight; each result is handed to the
  caller (``take``) as soon as it is done, and forgotten.
* **Workers die with the caller.** Local pools fork when the caller has no threads and use a
  fork server otherwise (a notebook kernel, Dask): both safe; every worker dies with its parent
  and leaves Ctrl-C to it (sim.experiments.lifeline).
* **Failures.** A failed run (RunFailed, raised in the worker) stops the engine after every
  finished result has been handed over; a worker that died is a WorkerDied.
"""

from __future__ import annotations

import functools
import multiprocessing as mp
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import (
    FIRST_COMPLETED,
    BrokenExecutor,
    Executor,
    Future,
    ProcessPoolExecutor,
    wait,
)
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.errors import InputError, WorkerDied
from sim.experiments.lifeline import POOL_PARENT, worker_init

BACKENDS: tuple[str, ...] = ("local", "dask")
MAX_CHUNK = 64
"""Runs per task at most by default: a kill loses at most the chunks in flight."""


@dataclass(frozen=True)
class Execution:
    """How to execute an experiment (never what: results do not depend on any of this).

    Attributes:
        workers: worker processes (None: every core; 1 with the local backend: this process).
        backend: ``local`` (a process pool) or ``dask`` (needs ``hedgesim[dask]``).
        scheduler: a Dask scheduler address or scheduler file (None: a local Dask cluster).
        executor: any ``concurrent.futures.Executor``; overrides ``backend``.
        chunk: runs per task (None: guided, at most ``MAX_CHUNK``).
        window: tasks in flight at most (None: twice the workers, plus one).
    """

    workers: int | None = None
    backend: str = "local"
    scheduler: str | None = None
    executor: Executor | None = None
    chunk: int | None = None
    window: int | None = None

    def check(self) -> None:
        """Refuse impossible settings before any work (InputError)."""
        if self.backend not in BACKENDS:
            raise InputError.single(
                "--backend", f"unknown backend {self.backend!r} (expected local or dask)"
            )
        for name in ("workers", "chunk", "window"):
            value = getattr(self, name)
            if value is not None and value < 1:
                raise InputError.single(f"--{name}", f"must be ≥ 1, got {value}")


def default_workers() -> int:
    """Every core this process may use."""
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 1)


def process_pool(
    workers: int, initializer: Callable[[], None] | None = None
) -> ProcessPoolExecutor:
    """A process pool: fork when the parent is single-threaded, forkserver otherwise.

    Fork is fastest and works from any script or notebook, but can deadlock once the parent runs
    threads (pyarrow, dask); then forkserver forks workers from a clean server process that has
    imported the model once (scripts need the usual ``if __name__ == "__main__"`` guard then).
    """
    method = "fork" if threading.active_count() == 1 and hasattr(os, "fork") else "forkserver"
    ctx = mp.get_context(method)
    if method == "forkserver":
        os.environ[POOL_PARENT] = str(os.getpid())  # the server dies with us (lifeline)
        ctx.set_forkserver_preload(["sim.experiments.lifeline", "sim.experiments.task"])
    # every worker dies with this process and leaves Ctrl-C to it (sim.experiments.lifeline)
    init = functools.partial(worker_init, os.getpid(), method == "fork", True, initializer)
    return ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=init)


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
        raise InputError.single(
            "--backend", "dask needs Dask's distributed scheduler: pip install 'hedgesim[dask]'"
        ) from None
    cluster = None
    if scheduler:
        try:
            if Path(scheduler).is_file():  # a scheduler file (dask scheduler --scheduler-file)
                client = Client(scheduler_file=scheduler, timeout="30s")
            else:
                client = Client(scheduler, timeout="30s")
        except (OSError, ValueError) as exc:
            raise InputError.single(
                "--scheduler", f"cannot reach the Dask scheduler at {scheduler}: {exc}"
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


def _noop() -> int:
    return os.getpid()


@dataclass
class Engine:
    """An open engine: ``with Engine(how) as engine: engine.run(tasks, work, take)``.

    Entering starts the executor (local workers are started at once, before the caller starts
    any thread — a progress bar, Arrow — so that forking them stays safe); leaving shuts down
    what it started.
    """

    how: Execution = field(default_factory=Execution)
    slots: int = 1
    _executor: Executor | None = None
    _closers: list[Callable[[], None]] = field(default_factory=list)

    def __enter__(self) -> Engine:
        how = self.how
        how.check()
        self.slots = how.workers or default_workers()
        if how.executor is not None:
            self._executor = how.executor
        elif how.backend == "dask":
            self._executor, self.slots, close = dask_executor(how.scheduler, self.slots)
            self._closers.append(close)
        elif self.slots > 1:
            pool = process_pool(self.slots)
            self._closers.append(lambda: pool.shutdown(wait=False, cancel_futures=True))
            pool.submit(_noop).result()  # start the workers now, before any thread exists
            self._executor = pool
        return self

    def __exit__(self, *exc: object) -> None:
        for close in reversed(self._closers):
            close()
        self._closers.clear()

    @property
    def in_process(self) -> bool:
        return self._executor is None

    def run(self, tasks: Iterable[Any], work: Callable[[Any], Any], take: Callable[[Any], None]):
        """Run every task (``work(task)`` in a worker) and hand each result to ``take`` in the
        order they finish; at most ``window`` tasks in flight."""
        if self._executor is None:
            for t in tasks:
                take(work(t))
            return
        ex = self._executor
        window = self.how.window or 2 * self.slots + 1
        try:
            drive(tasks, lambda t: ex.submit(work, t), window, take)
        except BrokenExecutor as exc:
            raise WorkerDied(f"a worker process died ({exc}); out of memory?") from None


def drive(
    tasks: Iterable[Any],
    submit: Callable[[Any], Future[Any]],
    window: int,
    take: Callable[[Any], None],
) -> None:
    """Keep at most ``window`` tasks in flight; hand each result over as soon as it is done
    (every finished result before a failure is reported)."""
    pending: set[Future[Any]] = set()

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


def plan_chunks(
    pending: np.ndarray, chunk: int, replications: int = 1, *, guided: int | None = None
) -> Iterator[np.ndarray]:
    """Pending runs in chunks of at most ``chunk``, cut at cell boundaries where a cell fits.

    The replications of one cell inside a chunk run in lock-step (sim.model.lockstep), several
    times faster per run than one by one, so a chunk should hold whole cells rather than the tail
    of one and the head of the next; a cell larger than a chunk is cut into near-equal pieces (10
    runs, chunk 8: 5 + 5, not 8 + 2). With ``guided=slots`` (the default when no chunk size is
    given) chunks shrink as the experiment nears its end, each at most a third of the remaining
    runs per slot (guided scheduling): big chunks early mean few results for the coordinating
    process to handle, small ones late mean no worker waits long for the last. Which runs share a
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
