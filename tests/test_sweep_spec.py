"""Sweep specifications: expansion into designs, sampler sizes and bounds, and error positions.

Every bad spec must be reported at the sweep file's line of the mistake with the parameter's path,
as ``file:line:col: path: message``, and the CLI must exit 2. Line numbers below are counted in the
YAML texts of this file (1-based), so a test fails if the position is wrong, not just the message.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sweep_world import SCENARIO, write

from sim.__main__ import main as main_sweep
from sim.errors import InputError
from sim.experiments.design import build_design, sample_points
from sim.experiments.spec import load_spec
from sim.scenario.load import scenario_hash, validate_document
from sim.scenario.paths import apply_overrides


def design_of(tmp: Path, text: str):
    return build_design(load_spec(write(tmp, text)))


# --------------------------------------------------------------------------------------------
# Grids, ranges, cases
# --------------------------------------------------------------------------------------------


def test_grid_expands_values_range_and_linspace(tmp_path: Path) -> None:
    d = design_of(
        tmp_path,
        """\
scenario: quad.yaml
replications: 3
parameters:
  sanctions.0.level: {values: [0.2, 0.8]}
  distrust.IRN.RUS: {range: {start: 0.1, stop: 0.3, step: 0.1}}
  params.temperature: {linspace: {start: 0.1, stop: 0.5, num: 5}}
""",
    )
    assert d.n_cells == 2 * 3 * 5 and d.n_runs == 90
    # range includes its stop when it lies on the grid, and float noise is rounded away
    assert [c["distrust.IRN.RUS"] for c in d.cells[:15:5]] == [0.1, 0.2, 0.3]
    assert sorted({c["params.temperature"] for c in d.cells}) == [0.1, 0.2, 0.3, 0.4, 0.5]
    # first parameter varies slowest (itertools.product order)
    assert [c["sanctions.0.level"] for c in d.cells] == [0.2] * 15 + [0.8] * 15
    assert d.columns == ["sanctions.0.level", "distrust.IRN.RUS", "params.temperature"]
    assert len(set(d.cell_hashes)) == d.n_cells  # every cell resolves to a different scenario


def test_a_regime_swept_by_name_resolves_like_its_index(tmp_path: Path) -> None:
    spec = """\
scenario: quad.yaml
replications: 2
parameters:
  sanctions.{}.level: {{values: [0.2, 0.8]}}
"""
    by_name = design_of(tmp_path, spec.format("max pressure"))
    by_index = design_of(tmp_path, spec.format(0))
    assert by_name.columns == ["sanctions.max pressure.level"]
    assert by_name.cell_hashes == by_index.cell_hashes  # the same resolved scenarios
    with pytest.raises(InputError) as exc:
        design_of(tmp_path, spec.format("min pressure"))
    text = str(exc.value)
    assert "sweep.yaml:4:3" in text and "no item named 'min pressure'" in text
    assert "'max pressure'" in text


def test_integer_range_stays_integer_and_cell_hash_is_the_resolved_scenario(tmp_path: Path) -> None:
    d = design_of(
        tmp_path,
        """\
scenario: quad.yaml
parameters:
  params.steps: {range: {start: 4, stop: 12, step: 4}}
""",
    )
    assert [c["params.steps"] for c in d.cells] == [4, 8, 12]
    assert d.dtypes["params.steps"] == "int64"
    # the id of a cell is the hash of the scenario it resolves to, computed independently here
    for cell, h in zip(d.cells, d.cell_hashes, strict=True):
        doc = apply_overrides(d.base_doc, [(("params", "steps"), cell["params.steps"])])
        assert scenario_hash(validate_document(doc, "x")) == h


def test_cases_alone_and_crossed_with_a_grid(tmp_path: Path) -> None:
    text = """\
scenario: quad.yaml
cases:
  - {sanctions.0.level: 0.1}
  - {sanctions.0.level: 0.9, distrust.IRN.RUS: 0.0}
"""
    d = design_of(tmp_path, text)
    assert d.cells == [
        {"sanctions.0.level": 0.1},
        {"sanctions.0.level": 0.9, "distrust.IRN.RUS": 0.0},
    ]
    assert d.columns == ["sanctions.0.level", "distrust.IRN.RUS"]
    grid = "parameters:\n  params.temperature: {values: [0.1, 0.2, 0.4]}\n"
    d2 = design_of(tmp_path, text + grid)
    assert d2.n_cells == 6
    assert d2.cells[4] == {
        "sanctions.0.level": 0.9,
        "distrust.IRN.RUS": 0.0,
        "params.temperature": 0.2,
    }


def test_sweep_block_inside_a_scenario(tmp_path: Path) -> None:
    p = tmp_path / "with_sweep.yaml"
    p.write_text(
        SCENARIO + "sweep:\n  replications: 2\n  steps: 5\n  seed: 3\n"
        "  parameters:\n    params.temperature: {values: [0.1, 0.2]}\n"
    )
    d = build_design(load_spec(p))
    assert (d.n_cells, d.n_runs, d.root_seed) == (2, 4, 3)
    assert d.base.params.steps == 5 and d.base.seed == 3
    assert "sweep" not in d.base_doc


# --------------------------------------------------------------------------------------------
# Samplers
# --------------------------------------------------------------------------------------------

SAMPLED = """\
scenario: quad.yaml
sampler: {sampler}
n: {n}
{extra}
parameters:
  mechanisms.historical_distrust.weight: {{bounds: [0.5, 2.0]}}
  sanctions.0.level: {{bounds: [0.1, 0.9]}}
  params.temperature: {{bounds: [0.05, 0.5]}}
"""
BOUNDS = np.array([[0.5, 2.0], [0.1, 0.9], [0.05, 0.5]])


def sampled(tmp: Path, sampler: str, n: int, extra: str = "", seed: int | None = None):
    text = SAMPLED.format(sampler=sampler, n=n, extra=extra)
    if seed is not None:
        text += f"seed: {seed}\n"
    return design_of(tmp, text)


def matrix(d) -> np.ndarray:
    return np.array([[c[k] for k in d.columns] for c in d.cells])


@pytest.mark.parametrize(
    ("sampler", "n", "extra", "size"),
    [
        ("lhs", 20, "", 20),
        ("sobol", 16, "", 16 * (2 * 3 + 2)),
        ("sobol", 16, "second_order: false", 16 * (3 + 2)),
        ("morris", 6, "levels: 4", 6 * (3 + 1)),
    ],
)
def test_sampled_designs_have_the_documented_size_and_stay_in_bounds(
    tmp_path: Path, sampler: str, n: int, extra: str, size: int
) -> None:
    d = sampled(tmp_path, sampler, n, extra)
    X = matrix(d)
    assert X.shape == (size, 3) == (d.n_cells, 3)
    assert (BOUNDS[:, 0] <= X).all() and (BOUNDS[:, 1] >= X).all()
    assert d.problem == {"num_vars": 3, "names": d.columns, "bounds": BOUNDS.tolist()}


def test_lhs_puts_one_point_in_each_stratum_of_every_parameter(tmp_path: Path) -> None:
    d = sampled(tmp_path, "lhs", 25)
    unit = (matrix(d) - BOUNDS[:, 0]) / (BOUNDS[:, 1] - BOUNDS[:, 0])
    for j in range(3):
        assert sorted(np.floor(unit[:, j] * 25).astype(int)) == list(range(25))


def test_morris_points_lie_on_the_level_grid(tmp_path: Path) -> None:
    d = sampled(tmp_path, "morris", 4, "levels: 4")
    unit = (matrix(d) - BOUNDS[:, 0]) / (BOUNDS[:, 1] - BOUNDS[:, 0])
    assert np.allclose(unit * 3, np.round(unit * 3))  # levels 0, 1/3, 2/3, 1


def test_designs_are_reproducible_from_the_root_seed(tmp_path: Path) -> None:
    a = matrix(sampled(tmp_path, "sobol", 8, seed=5))
    b = matrix(sampled(tmp_path, "sobol", 8, seed=5))
    c = matrix(sampled(tmp_path, "sobol", 8, seed=6))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    spec = load_spec(write(tmp_path, SAMPLED.format(sampler="lhs", n=10, extra="")))
    assert np.array_equal(sample_points(spec), sample_points(spec))


def test_sobol_size_not_a_power_of_two_warns_with_its_line(tmp_path: Path, capsys) -> None:
    spec = load_spec(write(tmp_path, SAMPLED.format(sampler="sobol", n=12, extra="")))
    (w,) = spec.warnings
    assert str(w).startswith(f"{tmp_path / 'sweep.yaml'}:3:4: n: warning:")
    assert "8 or 16" in w.message
    assert not load_spec(write(tmp_path, SAMPLED.format(sampler="sobol", n=16, extra=""))).warnings
    rc = main_sweep(
        ["sweep", str(tmp_path / "sweep.yaml"), "--out", str(tmp_path / "o"), "--dry-run"]
    )
    assert rc == 0  # a warning is not an error
    rc = main_sweep(
        [
            "sweep",
            str(write(tmp_path, SAMPLED.format(sampler="sobol", n=12, extra=""))),
            "--out",
            str(tmp_path / "o"),
            "--dry-run",
        ]
    )
    assert "warning: Sobol' base size 12" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------
# Bad specs: every kind gives its line, column and path
# --------------------------------------------------------------------------------------------

BAD = [
    (  # unknown path: found by applying it to the scenario and validating
        "unknown path",
        "scenario: quad.yaml\nparameters:\n  states.IRN.preferences.autonmy: {values: [1, 2]}\n",
        3,
        "states.IRN.preferences.autonmy",
        "parameters.states.IRN.preferences.autonmy",
        "unknown field",
    ),
    (  # with a single value too, the error points at the path, not at the value
        "unknown path, one value",
        "scenario: quad.yaml\nparameters:\n  a: {values: [1]}\n",
        3,
        "a:",
        "parameters.a",
        "unknown field",
    ),
    (
        "list index out of range",
        "scenario: quad.yaml\nparameters:\n  sanctions.3.level: {values: [0.1, 0.2]}\n",
        3,
        "sanctions.3.level",
        "parameters.sanctions.3.level",
        "no item 3 in a list of 1",
    ),
    (
        "empty values",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level:\n    values: []\n",
        4,
        "[]",
        "parameters.sanctions.0.level.values",
        "empty list",
    ),
    (
        "step zero",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level:\n"
        "    range: {start: 0, stop: 1, step: 0}\n",
        4,
        "0}",
        "parameters.sanctions.0.level.range.step",
        "step must be > 0",
    ),
    (
        "negative step",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level:\n"
        "    range: {start: 0, stop: 1,\n            step: -0.1}\n",
        5,
        "-0.1",
        "parameters.sanctions.0.level.range.step",
        "step must be > 0",
    ),
    (
        "stop below start",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level:\n"
        "    range: {start: 0.5, stop: 0.1, step: 0.1}\n",
        4,
        "0.1,",
        "parameters.sanctions.0.level.range.stop",
        "below start",
    ),
    (
        "linspace num zero",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level:\n"
        "    linspace: {start: 0, stop: 1, num: 0}\n",
        4,
        "0}",
        "parameters.sanctions.0.level.linspace.num",
        "integer ≥ 1",
    ),
    (
        "bounds reversed",
        "scenario: quad.yaml\nsampler: lhs\nn: 4\nparameters:\n"
        "  sanctions.0.level: {bounds: [0.9, 0.1]}\n",
        5,
        "[0.9",
        "parameters.sanctions.0.level.bounds",
        "bounds reversed",
    ),
    (
        "sampler without bounds",
        "scenario: quad.yaml\nsampler: sobol\nn: 8\nparameters:\n"
        "  sanctions.0.level: {values: [0.1, 0.9]}\n",
        5,
        "values",
        "parameters.sanctions.0.level.values",
        "give `bounds: [low, high]`",
    ),
    (
        "sampler without n",
        "scenario: quad.yaml\nsampler: lhs\nparameters:\n  sanctions.0.level: {bounds: [0, 1]}\n",
        2,
        "lhs",
        "sampler",
        "needs `n`",
    ),
    (
        "bounds in a grid",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level: {bounds: [0, 1]}\n",
        3,
        "bounds",
        "parameters.sanctions.0.level.bounds",
        "need a sampler",
    ),
    (
        "value out of range, at that value",
        "scenario: quad.yaml\nparameters:\n  distrust.IRN.USA:\n    values:\n"
        "      - 0.5\n      - 1.7\n",
        6,
        "1.7",
        "parameters.distrust.IRN.USA.values.1",
        "between 0 and 1",
    ),
    (
        "unknown top-level key",
        "scenario: quad.yaml\nreplicatoins: 3\nparameters:\n  sanctions.0.level: {values: [1]}\n",
        2,
        "replicatoins",
        "replicatoins",
        "unknown field",
    ),
    (
        "unknown sampler",
        "scenario: quad.yaml\nsampler: saltelli\nparameters:\n  sanctions.0.level: {values: [1]}\n",
        2,
        "saltelli",
        "sampler",
        "unknown sampler",
    ),
    (
        "seed cannot be swept",
        "scenario: quad.yaml\nparameters:\n  seed: {values: [1, 2]}\n",
        3,
        "seed",
        "parameters.seed",
        "cannot be varied",
    ),
    (
        "missing scenario file",
        "name: x\nscenario: nowhere.yaml\nparameters:\n  sanctions.0.level: {values: [1]}\n",
        2,
        "nowhere.yaml",
        "scenario",
        "no such file",
    ),
    (
        "unknown path inside a case",
        "scenario: quad.yaml\ncases:\n  - {sanctions.0.level: 0.2}\n"
        "  - {sanctions.0.level: 0.3, params.temprature: 1}\n",
        4,
        "params.temprature",
        "cases.1.params.temprature",
        "unknown field",
    ),
    (
        "no value kind",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level: {vals: [1]}\n",
        3,
        "vals",
        "parameters.sanctions.0.level.vals",
        "unknown field",
    ),
    (
        "wrong type for a value",
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level: {values: [0.2, high]}\n",
        3,
        "high",
        "parameters.sanctions.0.level.values.1",
        "valid number",
    ),
    (
        "nothing to sweep",
        "scenario: quad.yaml\nreplications: 2\n",
        None,
        None,
        "<root>",
        "nothing to sweep",
    ),
    (
        "steps out of range",
        "scenario: quad.yaml\nsteps: 0\nparameters:\n  sanctions.0.level: {values: [1]}\n",
        2,
        "0",
        "steps",
        "integer from 1",
    ),
    (  # valid alone, invalid together: a symmetric field given both ways with different values
        "combination",
        "scenario: quad.yaml\nparameters:\n  rivalry.RUS.IND: {values: [0.2]}\n"
        "  rivalry.IND.RUS: {values: [0.2, 0.5]}\n",
        None,
        None,
        "parameters.rivalry",
        "symmetric field given both ways",
    ),
]


@pytest.mark.parametrize(
    ("label", "text", "line", "token", "path", "message"), BAD, ids=[b[0] for b in BAD]
)
def test_bad_spec_reports_line_column_and_path(
    tmp_path: Path,
    capsys,
    label: str,
    text: str,
    line: int | None,
    token: str | None,
    path: str,
    message: str,
) -> None:
    """``token`` is the text the reported column must point at on ``line``."""
    sweep = write(tmp_path, text)
    with pytest.raises(InputError) as info:
        build_design(load_spec(sweep))
    problems = info.value.problems
    hit = [p for p in problems if message in p.message]
    assert hit, f"{label}: no problem says {message!r}: {[str(p) for p in problems]}"
    p = hit[0]
    assert p.source == str(sweep)
    if line is not None:
        col = text.splitlines()[line - 1].index(token) + 1
        assert (p.line, p.column) == (line, col), str(p)
        assert str(p).startswith(f"{sweep}:{line}:{col}: {path}: ")
    else:
        assert path in str(p)
    # the CLI prints the same line and exits 2, without a traceback
    rc = main_sweep(["sweep", str(sweep), "--out", str(tmp_path / "out"), "-q"])
    err = capsys.readouterr().err
    assert rc == 2
    assert str(p) in err and "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_combination_error_points_at_a_parameter_line(tmp_path: Path) -> None:
    text = BAD[-1][1]
    with pytest.raises(InputError) as info:
        build_design(load_spec(write(tmp_path, text)))
    p = info.value.problems[0]
    assert p.line in (3, 4) and "cell 1" in p.message and "0.5" in p.message


def test_scenario_errors_point_into_the_scenario_file(tmp_path: Path) -> None:
    (tmp_path / "quad.yaml").write_text(SCENARIO.replace("level: 0.6", "level: 6"))
    sweep = tmp_path / "s.yaml"
    sweep.write_text("scenario: quad.yaml\nparameters:\n  params.temperature: {values: [1]}\n")
    with pytest.raises(InputError) as info:
        load_spec(sweep)
    (p,) = info.value.problems
    level_line = SCENARIO.splitlines().index("    level: 0.6") + 1
    assert p.source.endswith("quad.yaml") and p.line == level_line
    assert math.isfinite(p.line)
