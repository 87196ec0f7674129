"""Loading results back as pandas DataFrames (for notebooks, plots and analysis).

``load_run(DIR)`` reads a ``hedgesim run`` directory; ``load(DIR)`` reads either kind, dispatching
to the sweep loader for ``hedgesim sweep`` directories.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import InputError

RUN_TABLES = ("system", "states", "ties")


@dataclass
class RunResults:
    """The tables of one run directory plus its metadata (run.json)."""

    system: pd.DataFrame
    states: pd.DataFrame
    ties: pd.DataFrame
    summary: pd.DataFrame
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def world(self) -> dict[str, Any]:
        return self.meta.get("world", {})


def _read(path_base: Path) -> pd.DataFrame:
    pq = path_base.with_suffix(".parquet")
    if pq.is_file():
        return pd.read_parquet(pq)
    csv = path_base.with_suffix(".csv")
    if csv.is_file():
        return pd.read_csv(csv)
    raise InputError.single(str(path_base.parent), f"missing table {path_base.name}")


def load_run(directory: str | Path) -> RunResults:
    """Read a run directory written by ``hedgesim run``."""
    d = Path(directory)
    marker = d / "run.json"
    if not marker.is_file():
        raise InputError.single(str(d), "not a hedgesim run directory (no run.json)")
    try:
        meta = json.loads(marker.read_text())
    except (OSError, ValueError) as exc:
        raise InputError.single(str(marker), f"unreadable: {exc}") from None
    if meta.get("status", "complete") != "complete":
        raise InputError.single(
            str(d),
            f"the run did not complete (status: {meta.get('status')}); run the same "
            "command again to complete it",
        )
    frames = {name: _read(d / name) for name in RUN_TABLES}
    summary = _read(d / "summary")
    for name in RUN_TABLES:
        for col in ("condition", "state", "status", "a", "b", "level"):
            if col in frames[name].columns:
                frames[name][col] = frames[name][col].astype("category")
    return RunResults(summary=summary, meta=meta, **frames)


def load(directory: str | Path) -> Any:
    """Load a run directory (``RunResults``) or a sweep directory (see ``sim.sweep``)."""
    d = Path(directory)
    if (d / "run.json").is_file():
        return load_run(d)
    if (d / "manifest.json").is_file():
        from sim.sweep import load_sweep

        return load_sweep(d)
    raise InputError.single(
        str(d), "neither a run directory (run.json) nor a sweep (manifest.json)"
    )
