"""Estimated defaults: the file the estimation writes, read and checked, and applied to scenarios.

Why a file: the free constants of the decision rule (docs/ODD.md §7.13) are estimated against ATOP
by history matching (sim.validation.estimate, validation/estimate_defaults.py). The result is a
sample of parameter sets that are not implausible, with each constant's summary. Scenarios use it
in two ways: ``--defaults estimated`` (``sim.run(..., defaults="estimated")``) takes each
constant's median where the scenario does not set it; ``--ensemble K`` draws K of the accepted
sets (sim.experiments.ensemble). The schema's own defaults are not changed by the file.

The file is YAML, checked like a scenario: every problem is ``file:line:col: path: message``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sim.errors import InputError, PathPart, Problem
from sim.scenario.load import pydantic_problems
from sim.scenario.paths import split_path
from sim.scenario.schema import Scenario
from sim.scenario.yamlsafe import locate, read_yaml

# validation/estimates/defaults.yaml, shipped in the package (sim/validation/estimates links to it)
ESTIMATED = Path(__file__).parents[1] / "validation" / "estimates" / "defaults.yaml"
"""The shipped estimates (``--defaults estimated``): in the repository, not in a wheel."""
KIND = "hedgesim-estimates"
MARKER = "# hedgesim estimates: written by validation/estimate_defaults.py (which may replace it)"
"""First line of every estimates file the estimation writes (it replaces only such files)."""
DRAW_KEY = 0x45535449  # "ESTI": the spawn key of the ensemble's draws under the run's seed


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Summary(_Model):
    """One estimated constant: its schema default, prior range and the accepted sample's summary."""

    default: float
    prior: Annotated[list[float], Field(min_length=2, max_length=2)]
    scale: Literal["linear", "log"]
    median: float
    q05: float
    q95: float
    low: float
    high: float


class Point(_Model):
    """One accepted parameter set: its values, its largest implausibility, its statistics."""

    values: dict[str, float] = Field(min_length=1)
    implausibility: float
    statistics: dict[str, float] = Field(default_factory=dict)
    patterns: str = ""


class EstimatesFile(_Model):
    """The estimates file as written (docs/VALIDATION.md, "Estimated defaults")."""

    kind: Literal["hedgesim-estimates"]
    version: Literal[1]
    method: str
    training: dict[str, Any]
    statistics: list[dict[str, Any]]
    parameters: dict[str, Summary] = Field(min_length=1)
    accepted: list[Point] = Field(min_length=1)
    screening: list[dict[str, Any]] = Field(default_factory=list)
    reference: dict[str, Any] = Field(default_factory=dict)
    waves: list[dict[str, Any]] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)


def field_of(path: str) -> tuple[Any, str, Any]:
    """The schema model, field name and field info a dotted path of the rule's constants names
    (``params.temperature``, ``mechanisms.institutions.exit_cost``); KeyError if none."""
    parts = split_path(path)
    model: Any = Scenario
    for i, part in enumerate(parts):
        if not isinstance(part, str) or part not in model.model_fields:
            raise KeyError(path)
        info = model.model_fields[part]
        if i == len(parts) - 1:
            return model, part, info
        model = info.annotation
        if not (isinstance(model, type) and issubclass(model, BaseModel)):
            raise KeyError(path)
    raise KeyError(path)


def check_value(path: str, value: float) -> str | None:
    """Why ``value`` cannot be the constant at ``path`` (None: it can)."""
    try:
        _, _, info = field_of(path)
    except KeyError:
        return "not a constant of the rule (expected params.NAME or mechanisms.MECH.NAME)"
    kind = Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation
    try:
        TypeAdapter(kind).validate_python(value)
    except ValidationError as exc:
        return exc.errors(include_url=False)[0]["msg"]
    return None


@dataclass(frozen=True)
class Estimates:
    """A checked estimates file: each constant's summary and the accepted parameter sets."""

    source: str
    parameters: dict[str, Summary]
    points: list[dict[str, float]]
    raw: EstimatesFile

    def median(self) -> dict[str, float]:
        """Each constant's median over the accepted sets (``--defaults estimated``)."""
        return {p: s.median for p, s in self.parameters.items()}

    def draws(self, k: int, seed: int) -> list[dict[str, float]]:
        """``k`` accepted sets, drawn without replacement while there are enough (with
        replacement beyond), from the run's seed: the same seed gives the same sets."""
        rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(DRAW_KEY,)))
        n = len(self.points)
        idx = rng.choice(n, size=k, replace=k > n)
        return [dict(self.points[i]) for i in idx]


def resolve(source: str | Path) -> Path:
    """``"estimated"`` is the shipped file; anything else a path."""
    if str(source) == "estimated":
        if not ESTIMATED.is_file():
            raise InputError.plain(
                str(ESTIMATED),
                "the shipped estimates are missing from this installation: give the "
                "estimates file's path instead of 'estimated'",
            )
        return ESTIMATED
    return Path(source)


def load_estimates(source: str | Path = "estimated") -> Estimates:
    """Read and check an estimates file (``"estimated"``: the shipped one)."""
    path = resolve(source)
    doc, node, where = read_yaml(path)

    def at(loc: tuple[PathPart, ...], msg: str) -> Problem:
        pos = locate(node, loc)
        return Problem(where, loc, msg, *(pos or (None, None)))

    if not isinstance(doc, dict) or doc.get("kind") != KIND:
        raise InputError([at((), f"not a hedgesim estimates file (expected kind: {KIND})")])
    try:
        est = EstimatesFile.model_validate(doc)
    except ValidationError as exc:
        raise InputError([at(loc, msg) for loc, msg in pydantic_problems(exc)]) from None
    bad = []
    for name, s in est.parameters.items():
        why = check_value(name, s.median)
        if why:
            bad.append(at(("parameters", name), why))
    for k, pt in enumerate(est.accepted):
        for name, v in pt.values.items():
            if name not in est.parameters:
                bad.append(at(("accepted", k, "values", name), "not among `parameters`"))
                continue
            why = check_value(name, v)
            if why:
                bad.append(at(("accepted", k, "values", name), why))
        missing = set(est.parameters) - set(pt.values)
        if missing:
            bad.append(at(("accepted", k, "values"), f"lacks {', '.join(sorted(missing))}"))
    if bad:
        raise InputError(bad)
    return Estimates(where, dict(est.parameters), [dict(p.values) for p in est.accepted], est)


def is_set(sc: Scenario, path: str) -> bool:
    """Does the scenario give the constant at ``path`` itself (a value in its file, an override),
    rather than taking the schema's default? (pydantic's ``model_fields_set``.)"""
    obj: Any = sc
    for part in split_path(path):
        if not isinstance(obj, BaseModel) or part not in obj.model_fields_set:
            return False
        obj = getattr(obj, str(part))
    return True


def unset(sc: Scenario, paths: list[str]) -> list[str]:
    """The paths among ``paths`` the scenario leaves at the schema's default."""
    return [p for p in paths if not is_set(sc, p)]


def with_constants(sc: Scenario, values: dict[str, float]) -> Scenario:
    """``sc`` with the rule's constants at ``values`` (dotted paths ``params.NAME`` or
    ``mechanisms.MECH.NAME``), each already checked against its field (:func:`check_value`, as
    :func:`load_estimates` does). Why not ``scenario_with``: these paths are two or three plain
    model fields, and a copy keeps everything else of the validated scenario exactly as it is."""

    def put(obj: BaseModel, parts: list[Any], value: float) -> BaseModel:
        head = str(parts[0])
        if len(parts) == 1:
            return obj.model_copy(update={head: value})
        return obj.model_copy(update={head: put(getattr(obj, head), parts[1:], value)})

    out: BaseModel = sc
    for path, value in values.items():
        why = check_value(path, value)
        if why:
            raise InputError.single(path, why)
        out = put(out, list(split_path(path)), float(value))
    return out  # type: ignore[return-value]
