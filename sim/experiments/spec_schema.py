"""The structure of a sweep specification, as pydantic models (like sim.scenario.schema).

Every key, its type and range, one kind of values per parameter (``values``, ``range``,
``linspace`` or ``bounds``), each with the message a user should read. Strict: unknown keys are
errors, ``steps: 2.0`` or ``n: true`` are typos to be told about, not values to coerce. Errors
carry a type telling where to point: ``at_key`` (the entry's key) or ``at_value`` (its value);
sim.experiments.spec turns them into ``file:line:col: path: message``.
"""

from __future__ import annotations

import math
from typing import Annotated, Any

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

SAMPLERS: tuple[str, ...] = ("grid", "lhs", "sobol", "morris")
"""``grid`` expands values/range/linspace (and cases); the others draw ``n`` points in bounds."""
KINDS: tuple[str, ...] = ("values", "range", "linspace", "bounds")
TIES_WHEN: tuple[str, ...] = ("final", "yearly")
"""``ties``: keep every run's ties at its last step, or at each calendar year's last step too."""
TIES_LEVEL: tuple[str, ...] = ("any", "alliance")
"""``ties``: keep friendships and alliances, or alliances only (a tenth of the rows)."""

MAX_CELLS = 5_000_000
MAX_RUNS = 100_000_000
MAX_VALUES = 1_000_000

AT_KEY = "at_key"  # a pydantic error type: report the problem at its key, not its value


def _fail(message: str, at_key: bool = False) -> PydanticCustomError:
    return PydanticCustomError(AT_KEY if at_key else "at_value", message)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)


def _whole(lo: int, hi: int) -> BeforeValidator:
    def check(v: Any) -> int:
        if not _is_int(v) or not lo <= v <= hi:
            raise _fail(f"expected an integer from {lo:,} to {hi:,}, got {v!r}")
        return v

    return BeforeValidator(check)


def _number(v: Any) -> Any:
    if not _is_number(v):
        raise _fail(f"expected a finite number, got {v!r}")
    return v


def _text(v: Any) -> Any:
    if not isinstance(v, str):
        raise _fail("expected text")
    return v


Number = Annotated[Any, BeforeValidator(_number)]
Text = Annotated[Any, BeforeValidator(_text)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Range(_Strict):
    """``range: {start, stop, step}``: from start to stop (included when on the grid)."""

    start: Number
    stop: Number
    step: Number

    @model_validator(mode="after")
    def _sane(self) -> Range:
        if self.step <= 0:
            raise ValueError(f"@step:step must be > 0, got {self.step!r}")
        if self.stop < self.start:
            raise ValueError(f"@stop:stop {self.stop!r} is below start {self.start!r}")
        if self.count() > MAX_VALUES:
            raise ValueError(
                f"@~:{self.count():,} values (more than {MAX_VALUES:,}); use a larger step"
            )
        return self

    def count(self) -> int:
        return math.floor((self.stop - self.start) / self.step + 1e-9) + 1

    def values(self) -> tuple[Any, ...]:
        k = range(self.count())
        if all(_is_int(x) for x in (self.start, self.stop, self.step)):
            return tuple(self.start + i * self.step for i in k)
        return tuple(clean(self.start + i * self.step) for i in k)


def _num(v: Any) -> Any:
    if not _is_int(v) or v < 1:
        raise _fail(f"expected an integer ≥ 1, got {v!r}")
    if v > MAX_VALUES:
        raise _fail(f"more than {MAX_VALUES:,} values")
    return v


class Linspace(_Strict):
    """``linspace: {start, stop, num}``: ``num`` evenly spaced values, both ends included."""

    start: Number
    stop: Number
    num: Annotated[Any, BeforeValidator(_num)]

    def values(self) -> tuple[Any, ...]:
        arr = np.linspace(float(self.start), float(self.stop), self.num)
        if _is_int(self.start) and _is_int(self.stop) and np.all(arr == np.round(arr)):
            return tuple(int(x) for x in arr)
        return tuple(clean(float(x)) for x in arr)


def _values(v: Any) -> Any:
    if not isinstance(v, list):
        raise _fail(f"expected a list of values, got {type(v).__name__}")
    if not v:
        raise _fail("empty list: give at least one value")
    return v


def _bounds(v: Any) -> Any:
    if v is None:
        return v
    if not isinstance(v, list) or len(v) != 2:
        raise _fail("expected [low, high]")
    return tuple(v)


class ParameterModel(_Strict):
    """One swept path: exactly one of ``values``, ``range``, ``linspace`` (grids) or ``bounds``
    (sampled designs)."""

    values: Annotated[Any, BeforeValidator(_values)] = None
    range: Range | None = None
    linspace: Linspace | None = None
    bounds: Annotated[tuple[Number, Number] | None, BeforeValidator(_bounds)] = None

    @model_validator(mode="after")
    def _one_kind(self) -> ParameterModel:
        given = [k for k in KINDS if getattr(self, k) is not None]
        if len(given) > 1:
            raise ValueError("@:give exactly one of values, range, linspace, bounds")
        if not given:
            raise ValueError("@:missing its values: give one of values, range, linspace, bounds")
        if self.bounds is not None and not self.bounds[0] < self.bounds[1]:
            lo, hi = self.bounds
            raise ValueError(
                f"@bounds:bounds reversed or empty: low {lo!r} must be below high {hi!r}"
            )
        return self

    @property
    def kind(self) -> str:
        return next(k for k in KINDS if getattr(self, k) is not None)


def _sampler(v: Any) -> Any:
    if v not in SAMPLERS:
        raise _fail(f"unknown sampler {v!r} (expected one of: {', '.join(SAMPLERS)})")
    return v


def _second_order(v: Any) -> Any:
    if not isinstance(v, bool):
        raise _fail(f"expected true or false, got {v!r}")
    return v


def _record(v: Any) -> Any:
    if v in ("final", None):
        return None
    if isinstance(v, dict) and set(v) == {"every"}:
        every = v["every"]
        if not _is_int(every) or every < 1:
            raise PydanticCustomError("at_every", f"expected an integer ≥ 1, got {every!r}")
        return every
    raise _fail("expected `final` or `{every: K}` (record every K steps)")


def _ties(v: Any) -> Any:
    """``final``, ``yearly`` or ``{when: final|yearly, level: any|alliance}`` to a mapping with
    both keys (None: no ties kept)."""
    if v is None:
        return None
    if isinstance(v, str):
        v = {"when": v}
    if not isinstance(v, dict):
        raise _fail("expected `final`, `yearly` or {when: final|yearly, level: any|alliance}")
    extra = set(v) - {"when", "level"}
    if extra:
        raise _fail(f"unknown key(s) {', '.join(sorted(map(str, extra)))} (expected when, level)")
    when, level = v.get("when", "final"), v.get("level", "any")
    if when not in TIES_WHEN:
        raise _fail(f"ties: `when` must be one of {', '.join(TIES_WHEN)}, got {when!r}")
    if level not in TIES_LEVEL:
        raise _fail(f"ties: `level` must be one of {', '.join(TIES_LEVEL)}, got {level!r}")
    return {"when": when, "level": level}


def _mapping(what: str) -> BeforeValidator:
    def check(v: Any) -> Any:
        if v is None:
            return {} if what != "cases" else []
        if what == "cases" and not isinstance(v, list):
            raise _fail("expected a list of mappings (path: value)")
        if what == "parameters" and not isinstance(v, dict):
            raise _fail("expected a mapping of dotted scenario paths to value specs")
        return v

    return BeforeValidator(check)


def _case(v: Any) -> Any:
    if not isinstance(v, dict) or not v:
        raise _fail("expected a non-empty mapping of dotted scenario paths to values")
    return {str(k): x for k, x in v.items()}


class SweepModel(_Strict):
    """A sweep as written: every key, its type and range (docs/SWEEPS.md)."""

    name: Text = None
    description: Text = None
    parameters: Annotated[dict[Any, ParameterModel], _mapping("parameters")] = Field(
        default_factory=dict
    )
    cases: Annotated[list[Annotated[Any, BeforeValidator(_case)]], _mapping("cases")] = Field(
        default_factory=list
    )
    sampler: Annotated[Any, BeforeValidator(_sampler)] = "grid"
    n: Annotated[Any, _whole(1, MAX_CELLS)] = None
    second_order: Annotated[Any, BeforeValidator(_second_order)] = True
    levels: Annotated[Any, _whole(2, 1000)] = 4
    replications: Annotated[Any, _whole(1, 1_000_000)] = None
    steps: Annotated[Any, _whole(1, 100_000)] = None
    record: Annotated[Any, BeforeValidator(_record)] = None
    ties: Annotated[Any, BeforeValidator(_ties)] = None
    seed: Annotated[Any, _whole(0, 2**63 - 1)] = None


SPEC_KEYS: tuple[str, ...] = tuple(SweepModel.model_fields)


def clean(v: float) -> float:
    """Round away float noise (0.30000000000000004 -> 0.3) so columns and hashes stay tidy."""
    return float(f"{v:.12g}")
