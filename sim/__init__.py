"""hedgesim: an agent-based simulation of how states align.

States choose, pair by pair, between no tie, a non-binding friendship and a binding alliance, by
mutual consent. The package asks one question with evidence: given sanctions pressure, historical
distrust and partners who hedge, does non-alignment emerge — and who allies with a great power?

The Python API (docs/API.md)::

    import sim
    r = sim.run("scenarios/toy_triangle.yaml", replications=10)   # a RunResult
    print(r.summary())
    r.verdict("S"); r.plot.timeline("S"); r.save("results/toy")
    s = sim.sweep("scenarios/sweeps/iran_sobol.yaml", out="results/iran_sobol")  # a SweepResult
    sim.load("results/toy")                                    # a RunResult or a SweepResult
    model = sim.AlignmentModel.from_yaml("scenarios/iran_2021.yaml", rng=1)   # the Mesa model

Names are imported when first used, so ``import sim`` stays light (the command line starts fast).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from sim._version import __version__

# Not ``typing.TYPE_CHECKING``: importing typing costs ~5 ms while ``python -m sim`` is still in
# the package, before sim.__main__ can turn a Ctrl-C into one line (type checkers know the name).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from sim.experiments.run import RunResult
    from sim.experiments.sweep import SweepResult

_LAZY = {
    "run": "sim.experiments.run",
    "RunResult": "sim.experiments.run",
    "sweep": "sim.experiments.sweep",
    "SweepResult": "sim.experiments.sweep",
    "AlignmentModel": "sim.model.model",
    "Scenario": "sim.scenario.schema",
    "load_scenario": "sim.scenario.load",
    "HedgesimError": "sim.errors",
    "InputError": "sim.errors",
}

__all__ = ["__version__", "load", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)


def load(directory: str | Path) -> RunResult | SweepResult:
    """A results directory: a run (``run.json``: a RunResult) or a sweep (``manifest.json``: a
    SweepResult), every file checked; InputError naming what is wrong."""
    from sim.errors import InputError
    from sim.experiments.run import RunResult
    from sim.experiments.sweep import SweepResult

    d = Path(directory)
    if (d / "run.json").is_file():
        return RunResult.load(d)
    if (d / "manifest.json").is_file():
        return SweepResult.load(d)
    raise InputError.plain(str(d), "neither a run directory (run.json) nor a sweep (manifest.json)")
