"""The records of a results directory, checked: ``run.json`` and ``manifest.json``.

Read with size and depth limits, their own checksum checked (``sim.results.atomic.sealed``), and
validated against pydantic models (strict types: a list where a mapping belongs, a string where a
number belongs is an error). Every failure is an InputError printed as ``path: message``.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError, dotted
from sim.results.atomic import seal_ok
from sim.results.outdir import read_record

NonNeg = Annotated[int, Field(ge=0)]
Pos = Annotated[int, Field(ge=1)]


# ------------------------------------------------------------------------------------------------
# Records
# ------------------------------------------------------------------------------------------------


class _Record(BaseModel):
    """Strict about what readers use; other keys (versions, argv, ...) are kept as they are."""

    model_config = ConfigDict(strict=True, extra="allow")


class WorldInfo(_Record):
    ids: list[str] = Field(min_length=1)
    names: list[str]
    power: list[float]
    rivalry: list[list[float]]
    focal: list[str]

    @model_validator(mode="after")
    def _consistent(self) -> WorldInfo:
        n = len(self.ids)
        if len(set(self.ids)) != n:
            raise ValueError("world ids are not unique")
        if len(self.names) != n or len(self.power) != n:
            raise ValueError(
                f"world has {n} ids but {len(self.names)} names and {len(self.power)} powers"
            )
        if len(self.rivalry) != n or any(len(row) != n for row in self.rivalry):
            raise ValueError(f"world rivalry is not a {n}×{n} matrix")
        if not set(self.focal) <= set(self.ids):
            raise ValueError("world focal states are not among its ids")
        return self


class ConditionInfo(_Record):
    label: str
    switched_off: list[str]


class RunMeta(_Record):
    """``run.json`` of a complete run."""

    identity: str
    status: Literal["complete"]
    scenario: str
    seed: NonNeg
    replications: Pos
    steps: Pos
    record_every: Pos
    conditions: list[ConditionInfo] = Field(min_length=1)
    world: WorldInfo
    format: Literal["parquet", "csv"]
    files: list[str] | None = None
    checksums: dict[str, str] | None = None

    @model_validator(mode="after")
    def _labels(self) -> RunMeta:
        labels = [c.label for c in self.conditions]
        if len(set(labels)) != len(labels):
            raise ValueError("condition labels are not unique")
        return self


class ScenarioInfo(_Record):
    name: str
    hash: str
    ids: list[str]
    names: list[str]
    focal: list[str]
    states_reported: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> ScenarioInfo:
        if len(self.names) != len(self.ids) or len(set(self.ids)) != len(self.ids):
            raise ValueError("scenario ids and names do not match one to one")
        if not set(self.states_reported) <= set(self.ids):
            raise ValueError("states_reported are not among the scenario's ids")
        return self


class DesignInfo(_Record):
    sampler: Literal["grid", "lhs", "sobol", "morris"]
    columns: list[str]
    dtypes: dict[str, Literal["bool", "int64", "float64", "string"]]
    cells: list[dict[str, Any]]
    cell_hashes: list[str]
    problem: dict[str, Any] | None = None
    second_order: bool | None = None
    levels: int | None = None

    @model_validator(mode="after")
    def _consistent(self) -> DesignInfo:
        if set(self.dtypes) != set(self.columns):
            raise ValueError("dtypes do not name exactly the columns")
        if len(self.cells) != len(self.cell_hashes):
            raise ValueError(f"{len(self.cells)} cells but {len(self.cell_hashes)} cell hashes")
        cols = set(self.columns)
        for i, cell in enumerate(self.cells):
            if not set(cell) <= cols:
                raise ValueError(f"cell {i} sets a path that is not a column")
        if self.sampler in ("sobol", "morris"):
            if self.problem is None or not isinstance(self.problem.get("names"), list):
                raise ValueError(f"a {self.sampler} design needs its SALib problem")
            for i, cell in enumerate(self.cells):
                for p in self.problem["names"]:
                    v = cell.get(p)
                    if isinstance(v, bool) or not isinstance(v, int | float):
                        raise ValueError(f"cell {i}: {p} is not a number")
            if self.sampler == "morris" and not isinstance(self.levels, int):
                raise ValueError("a morris design needs its levels")
            if self.sampler == "sobol" and not isinstance(self.second_order, bool):
                raise ValueError("a sobol design needs second_order")
        return self


class CalendarInfo(_Record):
    """The base scenario's calendar in a sweep's manifest (absent in sweeps made before it)."""

    start: str | None
    step: Literal["week", "month", "year"]


class SweepMeta(_Record):
    """``manifest.json`` of a sweep."""

    kind: Literal["hedgesim-sweep"]
    fingerprint: str
    name: str | None = None
    scenario: ScenarioInfo
    calendar: CalendarInfo | None = None
    design: DesignInfo
    replications: Pos
    steps: Pos
    record_every: Pos | None
    ties: dict[str, str] | None = None
    root_seed: NonNeg
    n_cells: NonNeg
    n_runs: NonNeg
    format: Literal["parquet", "csv"]
    versions: dict[str, str]
    complete: bool = False
    files: list[str] | None = None
    checksums: Literal["sha256"] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> SweepMeta:
        if "hedgesim" not in self.versions:
            raise ValueError("versions lacks hedgesim")
        if len(self.design.cells) != self.n_cells:
            raise ValueError(
                f"n_cells is {self.n_cells} but the design has {len(self.design.cells)}"
            )
        if self.n_runs != self.n_cells * self.replications:
            raise ValueError("n_runs is not n_cells × replications")
        return self


def validation_message(exc: ValidationError) -> str:
    err = exc.errors(include_url=False)[0]
    loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    msg = err["msg"].removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "required field is missing"
    return f"{dotted(loc)}: {msg}"


def read_json_record(path: Path, what: str) -> dict[str, Any]:
    if not path.is_file():
        kind = (
            "run directory (no run.json)" if what == "run" else "sweep directory (no manifest.json)"
        )
        raise InputError.plain(str(path.parent), f"not a hedgesim {kind}")
    try:
        meta = read_record(path)
    except ValueError as exc:
        raise InputError.plain(str(path), str(exc)) from None
    if not isinstance(meta, dict):
        raise InputError.plain(str(path), f"expected a JSON object, got {type(meta).__name__}")
    return meta


def check_seal(path: Path, meta: dict[str, Any]) -> None:
    if seal_ok(meta) is False:
        raise InputError.plain(
            str(path),
            "damaged or edited after hedgesim wrote it (its checksum does not match its content)",
        )


def read_manifest(directory: str | Path, check_fingerprint: bool = True) -> dict[str, Any]:
    """The sweep's manifest.json, checked (seal, model, fingerprint) or InputError."""
    d = Path(directory)
    path = d / "manifest.json"
    meta = read_json_record(path, "sweep")
    if meta.get("kind") != "hedgesim-sweep":
        raise InputError.plain(str(path), "not a hedgesim sweep manifest")
    check_seal(path, meta)
    try:
        rec = SweepMeta.model_validate(meta)
    except ValidationError as exc:
        raise InputError.plain(str(path), validation_message(exc)) from None
    if check_fingerprint and fingerprint_of(meta) != rec.fingerprint:
        raise InputError.plain(
            str(path),
            "its design does not match its fingerprint (cells, cell hashes or seeds were changed "
            "after the sweep wrote it)",
        )
    return meta


def fingerprint_of(manifest: dict[str, Any]) -> str:
    """``sim.experiments.sweep.fingerprint`` recomputed from a manifest's own fields."""
    d = manifest["design"]
    what = {
        "version": manifest["versions"]["hedgesim"],
        "root": manifest["root_seed"],
        "replications": manifest["replications"],
        "record_every": manifest["record_every"],
        "columns": d["columns"],
        "dtypes": d["dtypes"],
        "cells": d["cells"],
        "hashes": d["cell_hashes"],
    }
    if manifest.get("ties") is not None:  # only then: older sweeps keep their fingerprints
        what["ties"] = manifest["ties"]
    blob = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()
