"""Will a run's results fit in memory? Checked before any work.

``hedgesim run`` (and ``sim.run``) hold every replication's record until the tables are written;
a run that would not fit is refused at once with what to do instead, rather than swapping or
being killed hours later. Sweeps stream to disk and need no such check.
"""

from __future__ import annotations

import os

from sim.errors import InputError

PER_RUN_BYTES = 24_576
PER_STATE_STEP_BYTES = 144
"""Memory a ``hedgesim run`` holds per replication and condition until it writes its tables:
records, the tables built from them and their encodings. Calibrated on the shipped scenarios
(measured: toy world 66-77 KB, Iran 318-357 KB per replication with the alignment index and
year-end ties, 367-376 KB since the engine keeps a few more arrays between steps (2026-12-01);
the estimate is 9-25% above) — ``tests/test_unbounded.py`` measures real runs and
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
