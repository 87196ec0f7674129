"""The model the view runs, and the inputs SolaraViz shows for it.

Why a subclass per scenario: SolaraViz rebuilds the model on reset as ``type(model)(scenario=
type(model.scenario)(), **inputs)``; its inputs must be keyword arguments of the model's class.
:class:`ViewModel` turns flat inputs (``temperature``, ``security``, ``security_weight``, ...)
into the typed overrides ``AlignmentModel`` takes, records every step, and stops at the
scenario's last step. This module needs no solara: it is tested without a browser.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.model.metrics import STATUSES, alignment_index
from sim.model.model import AlignmentModel
from sim.scenario.calendar import date_label
from sim.scenario.schema import MECHANISMS, Scenario

WEIGHT_SUFFIX = "_weight"


def input_names() -> list[str]:
    """Every input :class:`ViewModel` takes besides the scenario: why fixed, so that no name can
    collide with a scenario field (SolaraViz would pass such a name to the scenario instead)."""
    names = ["replication", "temperature"]
    for m in MECHANISMS:
        names += [m, m + WEIGHT_SUFFIX]
    clash = set(names) & set(Scenario.model_fields)
    assert not clash, f"view inputs named like scenario fields: {clash}"
    return names


def overrides_of(sc: Scenario, inputs: dict[str, Any]) -> dict[str, Any]:
    """The scenario overrides (dotted path -> value) that the inputs ask for, only those that
    differ from the scenario (no override: the scenario as it is, not validated again)."""
    out: dict[str, Any] = {}
    if "temperature" in inputs and float(inputs["temperature"]) != sc.params.temperature:
        out["params.temperature"] = float(inputs["temperature"])
    for m in MECHANISMS:
        mech = getattr(sc.mechanisms, m)
        if m in inputs and bool(inputs[m]) != mech.enabled:
            out[f"mechanisms.{m}.enabled"] = bool(inputs[m])
        w = inputs.get(m + WEIGHT_SUFFIX)
        if w is not None and float(w) != mech.weight:
            out[f"mechanisms.{m}.weight"] = float(w)
    return out


class ViewModel(AlignmentModel):
    """``AlignmentModel`` with the view's flat inputs, a record at every step, and a trace of the
    focal states (status and alignment index per step) for the timeline.

    Args:
        scenario: as ``AlignmentModel`` takes it (SolaraViz passes ``type(model.scenario)()``).
        replication: replication ``r`` of the scenario's seed (the run ``hedgesim run`` makes).
        **inputs: ``temperature``, and per mechanism ``NAME`` (on/off) and ``NAME_weight``.
    """

    def __init__(self, scenario: Any, *, replication: int = 0, **inputs: Any) -> None:
        unknown = sorted(set(inputs) - set(input_names()))
        if unknown:
            raise TypeError(f"unknown view inputs: {unknown}")
        from sim.model.model import as_scenario

        base = as_scenario(scenario)
        self.trace_steps: list[int] = []
        self.trace_status: list[np.ndarray] = []
        self.trace_align: list[np.ndarray] = []
        super().__init__(
            base,
            replication=int(replication),
            overrides=overrides_of(base, inputs),
            record_every=1,
        )
        self.running = self.steps < self.params.steps

    def record(self) -> None:
        """Record as ``AlignmentModel`` does, and keep the focal states' trace."""
        super().record()
        focal = self.world.focal
        self.trace_steps.append(int(self.steps))
        self.trace_status.append(self.statuses[focal].copy())
        self.trace_align.append(alignment_index(self.ties, self.dyadic.rivalry)[focal])

    def step(self) -> None:
        """One step; the run stops (``running``) at the scenario's last step, as a run does."""
        super().step()
        if self.steps >= self.params.steps:
            self.running = False

    def date(self) -> str | None:
        """The current step as a date (``March 2007``), or None without a calendar."""
        w = self.world
        return None if w.start is None else date_label(w.start, w.step, int(self.steps))

    def tie_list(self) -> list[tuple[str, str, str]]:
        """The ties now, ``(a, b, level)`` with ``a`` before ``b`` in scenario order."""
        ids = self.world.ids
        a, b = np.nonzero(np.triu(self.ties, 1))
        levels = ("none", "friendship", "alliance")
        return [(ids[i], ids[j], levels[self.ties[i, j]]) for i, j in zip(a, b, strict=True)]


def view_inputs(sc: Scenario) -> dict[str, Any]:
    """SolaraViz's ``model_params`` for a scenario: the replication, the temperature, each
    mechanism's switch and weight, with the scenario's values as defaults. Changes apply on
    Reset (SolaraViz's rule): the model is rebuilt with them."""
    t = sc.params.temperature
    out: dict[str, Any] = {
        "replication": {
            "type": "SliderInt",
            "value": 0,
            "label": "Replication (seed)",
            "min": 0,
            "max": max(99, sc.replications - 1),
            "step": 1,
        },
        "temperature": {
            "type": "SliderFloat",
            "value": t,
            "label": "Temperature",
            "min": 0.001,
            "max": round(max(0.1, 4 * t), 3),
            "step": 0.001,
        },
    }
    for m in MECHANISMS:
        mech = getattr(sc.mechanisms, m)
        label = m.replace("_", " ")
        out[m] = {"type": "Checkbox", "value": mech.enabled, "label": label}
        out[m + WEIGHT_SUFFIX] = {
            "type": "SliderFloat",
            "value": mech.weight,
            "label": f"{label}: weight",
            "min": 0.0,
            "max": float(max(5.0, 2 * mech.weight)),
            "step": 0.05,
        }
    return out


__all__ = ["STATUSES", "ViewModel", "input_names", "overrides_of", "view_inputs"]
