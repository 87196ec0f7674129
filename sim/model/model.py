"""The Mesa model of one replication: ``AlignmentModel``, with a State agent per country.

This is the model as Mesa users know it::

    model = AlignmentModel.from_yaml("scenarios/iran_2021.yaml", rng=1)
    model.run_for(200)
    df = model.datacollector.get_agent_vars_dataframe()   # status, alignment_index, ... per state
    model.datacollector.get_model_vars_dataframe()        # the system columns per step
    [(s.code, s.status) for s in model.agents]

Its dynamics are :class:`sim.model.dynamics.Dynamics`, shared with the lock-step batches that
``hedgesim run``, sweeps and the pattern suite use (sim.model.lockstep): replication ``r`` of a
batch is bit-for-bit ``AlignmentModel(scenario, replication=r)`` (tests/test_lockstep.py). Agent
collection is what this model adds, and what the batches leave out of their hot path
(benchmarks/bench_run.py measures its cost).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import mesa
import numpy as np

from sim.model.agents import AGENT_REPORTERS, State
from sim.model.dynamics import Dynamics
from sim.model.metrics import (
    STATUSES,
    SYSTEM_COLUMNS,
    alignment_index,
    allied_with_stronger,
    hedging_index,
    system_metrics,
)
from sim.model.recording import Recorder, RunRecord
from sim.model.seeds import as_seed, decision_stream, mesa_seed, replication_seed
from sim.model.world import World, compile_world
from sim.scenario.load import scenario_with
from sim.scenario.paths import Override
from sim.scenario.schema import Scenario

try:  # Mesa's scenario type (experimental in Mesa 3.5): ``model.scenario``
    from mesa.experimental.scenarios import Scenario as MesaScenario
except ImportError:  # pragma: no cover - a Mesa without it: model.scenario stays Mesa's default
    MesaScenario = None


def scenario_view(sc: Scenario, rng: np.random.SeedSequence) -> Any:
    """hedgesim's scenario as Mesa's ``model.scenario``: its fields as attributes (read-only while
    the model runs), ``validated`` the scenario object itself, ``rng`` what Mesa seeds with.

    The view's class carries the scenario as its default (one class per scenario), so a new view
    made from the class alone, ``type(model.scenario)()``, is the same scenario: what Mesa's
    SolaraViz does on reset (it rebuilds the model as ``type(model)(scenario=type(model.scenario)
    (**its inputs), **model inputs)``)."""
    view_type = type(
        "ScenarioView",
        (MesaScenario,),
        {"__annotations__": {"validated": "Scenario"}, "validated": sc, "__module__": __name__},
    )
    fields = {name: getattr(sc, name) for name in type(sc).model_fields}
    return view_type(rng=rng, **fields)


def as_scenario(
    scenario: Scenario | str | Path | Any,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
) -> Scenario:
    """The hedgesim scenario of what a model is given: a Scenario, a scenario file, or Mesa's
    scenario view of one (``model.scenario``: its ``validated``), with ``overrides`` applied."""
    if MesaScenario is not None and isinstance(scenario, MesaScenario):
        validated = getattr(scenario, "validated", None)
        if not isinstance(validated, Scenario):
            raise TypeError("a Mesa scenario for AlignmentModel must carry .validated")
        scenario = validated
    if not isinstance(scenario, (Scenario, str, Path)):
        raise TypeError(f"AlignmentModel needs a scenario, a file or a view, not {scenario!r}")
    return scenario_with(scenario, overrides, override_source="overrides")


TURNOVER = SYSTEM_COLUMNS.index("turnover")  # the one system column a step without changes moves


class AlignmentModel(Dynamics):
    """States forming friendships and alliances by mutual consent under pressure and distrust.

    Args:
        scenario: a validated scenario (``sim.load_scenario``), a scenario file, or Mesa's view
            of one (``model.scenario``, as SolaraViz passes it when it resets the model).
        rng: the run's seed, Mesa style (an int or a ``numpy.random.SeedSequence``).
        replication: instead of ``rng``, replication ``r`` of the scenario's seed: the run
            ``hedgesim run`` makes as replication ``r``. Neither: replication 0.
        overrides: scenario values by dotted path, typed (``{"distrust.IRN.USA": 0.2}``), as
            ``sim.run`` takes them.
        record_every: record (and collect agents) every K steps (default: the scenario's).
        world: the scenario compiled already (``compile_world``), to skip compiling it again.

    Attributes:
        datacollector: Mesa's DataCollector; agent reporters ``status``, ``alignment_index``,
            ``hedging_index``, ``n_alliances``, ``n_friendships``, ``allied_stronger``; model
            reporters the system columns (docs/DATA.md).
        states: the State agents in the scenario's order (also ``model.agents``).
        scenario: Mesa's scenario object holding the scenario's fields (``.validated``: the
            scenario itself).
    """

    def __init__(
        self,
        scenario: Scenario | str | Path | Any,
        *,
        rng: int | np.random.SeedSequence | None = None,
        replication: int | None = None,
        overrides: Mapping[str, Any] | Sequence[Override] | None = None,
        record_every: int | None = None,
        world: World | None = None,
    ) -> None:
        scenario = as_scenario(scenario, overrides)
        if rng is not None and replication is not None:
            raise ValueError("give rng or replication, not both")
        if rng is not None:
            seed = as_seed(rng)
        else:
            seed = replication_seed(scenario.seed, replication or 0)
        world = compile_world(scenario) if world is None else world
        self.decisions = decision_stream(seed)
        mesa_args: dict[str, Any] = {"rng": mesa_seed(seed)}
        if MesaScenario is not None:
            mesa_args = {"scenario": scenario_view(scenario, mesa_seed(seed))}
        super().__init__(
            world,
            scenario.mechanisms,
            scenario.params,
            seeds=[seed],
            record_every=record_every,
            **mesa_args,
        )
        self.states: list[State] = list(State.create_agents(self, world.n, list(range(world.n))))
        self.system_now: np.ndarray = np.zeros(len(SYSTEM_COLUMNS))
        self.datacollector = mesa.DataCollector(
            model_reporters={
                c: (lambda m, k=k: float(m.system_now[k])) for k, c in enumerate(SYSTEM_COLUMNS)
            },
            agent_reporters={a: a for a in AGENT_REPORTERS},
        )
        self.recorder = Recorder(self, self.every)
        self._measured: tuple[tuple[np.ndarray, ...], np.ndarray] | None = None  # see record
        self.record()

    @classmethod
    def from_yaml(
        cls,
        path: str | Path,
        *,
        rng: int | np.random.SeedSequence | None = None,
        replication: int | None = None,
        overrides: Mapping[str, Any] | Sequence[Override] = (),
        record_every: int | None = None,
    ) -> AlignmentModel:
        """The model of a scenario file (``overrides``: dotted path -> value, as ``--set``)."""
        return cls(
            path, rng=rng, replication=replication, overrides=overrides, record_every=record_every
        )

    def record(self) -> None:
        """Measure the current step: every State agent's attributes, the system columns, and the
        compact record the tables are made of; Mesa's DataCollector then collects them."""
        super().record()
        self.recorder.collect(self)  # also sets self.turnover
        key = (self.ties, self.rival, self.dyadic.rivalry, self.attrs.power)
        last = self._measured
        if last is not None and all(a is b for a, b in zip(last[0], key, strict=True)):
            # nothing a measure reads has changed (arrays are replaced, never edited): the agents
            # keep their attributes, and the system columns change only by the turnover
            self.system_now = last[1].copy()
            self.system_now[TURNOVER] = float(self.turnover)
        else:
            self._measure_now()
            self._measured = (key, self.system_now)
        self.datacollector.collect(self)

    def _measure_now(self) -> None:
        """Every State agent's attributes and the system columns of the current step."""
        ties, rivalry = self.ties, self.dyadic.rivalry
        codes = self.statuses
        hedge = hedging_index(ties, rivalry)
        align = alignment_index(ties, rivalry, hedge)
        n_all = (ties == 2).sum(axis=-1)
        n_fr = (ties == 1).sum(axis=-1)
        up = allied_with_stronger(ties, self.attrs.power)
        for s in self.states:
            i = s.index
            s.status = STATUSES[codes[i]]
            s.alignment_index = float(align[i])
            s.hedging_index = float(hedge[i])
            s.n_alliances = int(n_all[i])
            s.n_friendships = int(n_fr[i])
            s.allied_stronger = bool(up[i])
        self.system_now = system_metrics(ties[None], codes[None], np.array([self.turnover]))[0]

    def run_record(self) -> RunRecord:
        """Everything this replication produced so far, as arrays (what the tables are made of)."""
        return self.recorder.record(self)
