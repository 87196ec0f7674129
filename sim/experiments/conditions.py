"""The scenario of an experiment, and its conditions: the baseline and counterfactuals with
factors switched off.

:func:`prepare` takes the scenario as the user gives it (a file or a Scenario) and applies typed
overrides and settings, each checked against the schema. A run compares conditions on the same
seeds (common random numbers): a counterfactual differs from the baseline only by what it
switches off. ``--ablate`` (and ``sim.run(..., ablate=[...])``) names them: ``a,b`` one condition
per factor, ``a+b`` both off together, a scenario's ``counterfactuals:`` name, ``all``, or
``factor@ID`` for one state only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import TypeAdapter, ValidationError

from sim.errors import InputError
from sim.scenario.load import override_pairs, scenario_with
from sim.scenario.paths import Override
from sim.scenario.schema import MECHANISMS, PER_STATE, Params, Scenario

BASELINE = "baseline"


@dataclass(frozen=True)
class Condition:
    """The baseline or a counterfactual: a label and the factors it switches off."""

    label: str
    factors: tuple[str, ...] = ()


def conditions(sc: Scenario, ablate: Sequence[str] = ()) -> list[Condition]:
    """The baseline and, for each ``--ablate`` value, its counterfactuals (each label once, in
    the order given)."""
    out = [Condition(BASELINE)]
    for spec in ablate:
        out += [Condition(label, f) for label, f in resolve_ablation(sc, spec)]
    seen: set[str] = set()
    return [c for c in out if not (c.label in seen or seen.add(c.label))]


def resolve_ablation(sc: Scenario, spec: str) -> list[tuple[str, tuple[str, ...]]]:
    """Turn one ``--ablate`` value into counterfactual conditions.

    ``a,b`` gives one condition per factor (each switched off alone); ``a+b`` one condition with
    both off together; a name from the scenario's ``counterfactuals`` block stands for its group;
    ``all`` means every mechanism, one at a time, plus every named group. ``a@ID`` switches a
    factor off for one state only (its own sensitivity set to 0, see ``PER_STATE``), leaving
    everyone else's behaviour as it was.
    """
    out: list[tuple[str, tuple[str, ...]]] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item == "all":
            out += [(f"-{m}", (m,)) for m in MECHANISMS]
            out += [(f"-{n}", tuple(g)) for n, g in sc.counterfactuals.items()]
            continue
        factors: list[str] = []
        for part in (p.strip() for p in item.split("+")):
            mech, _, sid = part.partition("@")
            if sid:
                if mech not in PER_STATE:
                    raise InputError.single(
                        "--ablate",
                        f"{mech!r} has no per-state switch (per state: {', '.join(PER_STATE)})",
                    )
                if sid not in sc.states:
                    raise InputError.single("--ablate", f"unknown state id {sid!r} in {part!r}")
                factors.append(part)
            elif part in MECHANISMS:
                factors.append(part)
            elif part in sc.counterfactuals:
                factors += sc.counterfactuals[part]
            else:
                known = ", ".join([*MECHANISMS, *sc.counterfactuals])
                raise InputError.single(
                    "--ablate", f"unknown factor {part!r} (known: {known}, all)"
                )
        out.append((f"-{item}", tuple(dict.fromkeys(factors))))
    seen: dict[str, tuple[str, ...]] = {}
    for label, f in out:
        seen.setdefault(label, f)
    return list(seen.items())


def ablate(sc: Scenario, factors: Iterable[str]) -> Scenario:
    """A copy of ``sc`` with the named mechanisms switched off (``mech@ID``: for one state)."""
    new = sc.model_copy(deep=True)
    for m in factors:
        mech, _, sid = m.partition("@")
        if sid:
            for pref in PER_STATE[mech]:
                setattr(new.states[sid].preferences, pref, 0.0)
                # an event must not switch the factor back on for that state
                for ev in new.events:
                    if ev.field == f"preferences.{pref}":
                        ev.changes.pop(sid, None)
            new.events = [ev for ev in new.events if ev.changes]
        else:
            getattr(new.mechanisms, mech).enabled = False
    return new


def _checked(model: Any, name: str, value: Any, path: tuple[str, ...]) -> Any:
    """``value`` validated as the schema's field ``model.name`` (typed: never parsed from text)."""
    info = model.model_fields[name]
    kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    try:
        return TypeAdapter(kind).validate_python(value, strict=True)
    except ValidationError as exc:
        msg = exc.errors(include_url=False)[0]["msg"]
        raise InputError.plain(f"argument {'.'.join(path)}", f"{msg} (got {value!r})") from None


def prepare(
    scenario: str | Path | Scenario,
    *,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
) -> tuple[Scenario, list[str]]:
    """The scenario a run uses: loaded (a path) or taken as it is (a Scenario), with
    ``overrides`` applied and validated, and ``replications``, ``seed``, ``steps`` set (each
    checked against the schema). Returns it and the overrides as text (for the record)."""
    pairs = override_pairs(overrides)
    sc = scenario_with(scenario, pairs)
    texts = [f"{'.'.join(map(str, p))}={_text(v)}" for p, v in pairs]
    update: dict[str, Any] = {}
    if replications is not None:
        update["replications"] = _checked(Scenario, "replications", replications, ("replications",))
        texts.append(f"replications={replications}")
    if seed is not None:
        update["seed"] = _checked(Scenario, "seed", seed, ("seed",))
        texts.append(f"seed={seed}")
    if steps is not None:
        n = _checked(Params, "steps", steps, ("steps",))
        update["params"] = sc.params.model_copy(update={"steps": n})
        texts.append(f"params.steps={steps}")
    return (sc.model_copy(update=update) if update else sc), texts


def _text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)
