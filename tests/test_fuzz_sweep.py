"""Bad sweep specifications, tried at scale (issue 6): each loads or fails with located lines.

Hypothesis generates sweep files over the toy scenario — valid designs and mutations of them
(unknown paths, empty or non-numeric values, zero or negative steps, reversed bounds, samplers
without bounds, wrong types, non-finite numbers, unknown keys) — and raw garbage. Every case must
build a design or raise ``InputError`` whose every problem is one ``file:line:col: path: message``
line, within a time bound. Case counts are summed in docs/RELIABILITY.md.
"""

from __future__ import annotations

import math
import re
import time
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import InputError
from sim.experiments.design import build_design
from sim.experiments.spec import load_spec

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_triangle.yaml"
FUZZ_CASES = {"specs": 400, "raw": 100}
LINE = re.compile(r"^\S+:\d+:\d+: \S+: .+$")

PATHS = [
    "params.temperature",
    "mechanisms.historical_distrust.weight",
    "distrust.S.A",
    "states.S.preferences.autonomy",
    "rivalry.A.B",
    "params.inertia",
]
BAD_PATHS = ["params.temprature", "states.Q.power", "sanctions.3.level", "nope", "distrust.S"]
NUMBERS = st.one_of(
    st.floats(-2, 3, allow_nan=False), st.sampled_from([math.nan, math.inf, -1e9, 0, 1])
)


def spec_case(work: Path, doc: dict) -> None:
    path = work / "sweep.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    t0 = time.perf_counter()
    try:
        spec = load_spec(path)
        design = build_design(spec)
        assert design.n_cells >= 1
        assert design.n_runs == design.n_cells * spec.replications
    except InputError as exc:
        assert exc.problems
        for p in exc.problems:
            line = str(p)
            assert "\n" not in line and LINE.match(line), line
    assert time.perf_counter() - t0 < 10.0


GOOD_VALUES = st.lists(st.floats(0.0, 1.0, allow_nan=False), min_size=1, max_size=3)


@st.composite
def valid_sweep(draw) -> dict:
    """A sweep that should build: 1-2 real paths, a valid sampler and sizes."""
    doc: dict = {
        "scenario": str(TOY),
        "replications": draw(st.integers(1, 3)),
        "steps": draw(st.integers(1, 5)),
    }
    paths = draw(st.lists(st.sampled_from(PATHS), min_size=1, max_size=2, unique=True))
    sampler = draw(st.sampled_from(["grid", "lhs", "sobol", "morris"]))
    if sampler == "grid":
        doc["parameters"] = {
            p: draw(
                st.sampled_from(
                    [
                        {"values": draw(GOOD_VALUES)},
                        {"range": {"start": 0.0, "stop": 1.0, "step": 0.5}},
                        {"linspace": {"start": 0.0, "stop": 1.0, "num": draw(st.integers(1, 3))}},
                    ]
                )
            )
            for p in paths
        }
    else:
        doc["sampler"] = sampler
        doc["n"] = 4
        doc["parameters"] = {p: {"bounds": [0.1, 0.9]} for p in paths}
    return doc


@st.composite
def sweep_docs(draw) -> dict:
    """A valid sweep, or one with a single mutation somewhere (most cases)."""
    doc = draw(valid_sweep())
    kind = draw(
        st.sampled_from(
            [
                "none",
                "path",
                "values",
                "number",
                "size",
                "key",
                "sampler",
                "bounds",
                "record",
                "type",
            ]
        )
    )
    params = doc["parameters"]
    first = next(iter(params))
    if kind == "path":
        params[draw(st.sampled_from(BAD_PATHS))] = params.pop(first)
    elif kind == "values":
        params[first] = draw(
            st.sampled_from(
                [
                    {"values": []},
                    {"values": "x"},
                    {"values": None},
                    {"range": {"start": 1, "stop": 0, "step": 0.1}},
                    {"range": {"start": 0, "stop": 1, "step": 0}},
                    {"linspace": {"start": 0, "stop": 1, "num": 0}},
                    {"bogus": 1},
                ]
            )
        )
    elif kind == "number":
        key = draw(st.sampled_from(["start", "stop", "step"]))
        params[first] = {"range": {"start": 0, "stop": 1, "step": 0.5, key: draw(NUMBERS)}}
    elif kind == "size":
        doc[draw(st.sampled_from(["replications", "steps", "n"]))] = draw(
            st.one_of(st.integers(-3, 0), st.just("many"), st.just(2.5), st.just(10**9))
        )
    elif kind == "key":
        doc[draw(st.text(min_size=1, max_size=6))] = 1
    elif kind == "sampler":
        doc["sampler"] = draw(st.sampled_from(["bad", "sobol", "morris", "lhs", 3]))
        doc.pop("n", None) if draw(st.booleans()) else None
    elif kind == "bounds":
        doc["sampler"] = "lhs"
        doc["n"] = 4
        params[first] = draw(
            st.sampled_from(
                [
                    {"bounds": [1, 0]},
                    {"bounds": [0]},
                    {"bounds": "x"},
                    {"values": [1, 2]},
                    {"bounds": [0, math.inf]},
                ]
            )
        )
    elif kind == "record":
        doc["record"] = draw(st.sampled_from([{"every": 0}, "sometimes", {"every": "x"}]))
    elif kind == "type":
        doc["parameters"] = draw(st.sampled_from([[], "x", None, 5]))
    return doc


@settings(
    max_examples=FUZZ_CASES["specs"],
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(sweep_docs())
def test_generated_sweep_specs_build_or_fail_with_located_lines(tmp_path, doc):
    spec_case(tmp_path, doc)


@settings(
    max_examples=FUZZ_CASES["raw"],
    deadline=10_000,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(st.one_of(st.binary(max_size=200), st.text(max_size=200)))
def test_raw_sweep_files_never_crash(tmp_path, blob):
    path = tmp_path / "sweep.yaml"
    path.write_bytes(blob if isinstance(blob, bytes) else blob.encode("utf-8", "surrogatepass"))
    try:
        build_design(load_spec(path))
    except InputError as exc:
        for p in exc.problems:
            assert "\n" not in str(p) and LINE.match(str(p)), str(p)
