"""The Python API (docs/API.md): ``sim.run``, ``sim.load``, ``sim.sweep`` and the Mesa model.

A result just computed and the same result loaded from disk must say the same thing (one writer of
``summary.txt``: the report is made from the tables), and the Mesa model's agents must report what
the model's arrays hold.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from sweep_world import write as write_world

import sim
from sim.errors import InputError
from sim.model.metrics import STATUSES, alignment_index

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_triangle.yaml"


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    out = tmp_path_factory.mktemp("api") / "toy"
    r = sim.run(TOY, replications=8, steps=30, ablate=["security"], workers=1, out=out)
    return r, out


def test_a_run_and_the_same_run_loaded_say_the_same(toy) -> None:
    r, out = toy
    loaded = sim.load(out)
    assert isinstance(loaded, sim.RunResult)
    assert loaded.summary() == r.summary() == (out / "summary.txt").read_text().rstrip("\n")
    assert loaded.conditions == r.conditions == ["baseline", "-security"]
    assert str(loaded.verdict("S")) == str(r.verdict("S"))
    assert [p.name for p in r.figures] == [
        "timeline_S.png", "network.png", "partners.png", "counterfactuals_S.png"
    ]  # fmt: skip


def test_shares_count_the_runs_of_the_tables(toy) -> None:
    r, _ = toy
    last = r.states[(r.states["step"] == 30) & (r.states["state"].astype(str) == "S")]
    for outcome in ("aligned", "allied_stronger"):
        s = r.shares(outcome, "S").set_index("condition")
        for cond, g in last.groupby("condition", observed=True):
            hit = g["allied_stronger"] if outcome == "allied_stronger" else g["status"] == outcome
            assert s.loc[str(cond), "k"] == int(hit.sum()) and s.loc[str(cond), "n"] == 8
            assert s.loc[str(cond), "lo"] <= s.loc[str(cond), "share"] <= s.loc[str(cond), "hi"]
    assert r.share("S", "allied_stronger") == r.shares("allied_stronger", "S")["share"].iloc[0]


def test_typed_overrides_are_applied_and_bad_ones_refused() -> None:
    r = sim.run(TOY, replications=2, steps=3, overrides={"params.temperature": 0.02}, workers=1)
    assert r.meta["scenario_resolved"]["params"]["temperature"] == 0.02
    assert "params.temperature=0.02" in r.meta["overrides"]
    with pytest.raises(InputError, match=r"params\.temprature"):
        sim.run(TOY, replications=2, overrides={"params.temprature": 0.02})
    with pytest.raises(InputError, match="replications"):
        sim.run(TOY, replications=0)


def test_the_documented_one_liner_works_from_the_repository() -> None:
    code = (
        "import sim; r = sim.run('scenarios/toy_triangle.yaml', replications=10); "
        "print(r.summary())"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert "Small state (S), baseline, 10 runs" in done.stdout


def test_the_mesa_model_reports_its_agents_each_step() -> None:
    model = sim.AlignmentModel.from_yaml(TOY, rng=1)
    model.run_for(12)
    agents = model.datacollector.get_agent_vars_dataframe()
    assert list(agents.columns) == [
        "status", "alignment_index", "hedging_index", "n_alliances", "n_friendships",
        "allied_stronger",
    ]  # fmt: skip
    assert len(agents) == 13 * len(model.states)  # steps 0-12, every state
    last = agents.xs(agents.index.get_level_values(0).max(), level=0)
    codes = model.statuses
    align = alignment_index(model.ties, model.dyadic.rivalry)
    for s in model.states:
        row = last.loc[s.unique_id]
        assert row["status"] == STATUSES[codes[s.index]] == s.status
        assert row["n_alliances"] == int((model.ties[s.index] == 2).sum())
        assert np.isclose(row["alignment_index"], align[s.index])
    assert model.scenario.name == "toy_triangle" and model.scenario.validated.seed == 7
    assert len(model.datacollector.get_model_vars_dataframe()) == 13


def test_the_mesa_model_rebuilds_itself_as_solaraviz_resets_it() -> None:
    """SolaraViz (issue 13) resets a model as ``type(model)(scenario=type(model.scenario)(),
    **inputs)``: the rebuilt model is the same scenario and, on the same seed, the same run."""
    overrides = {"params.temperature": 0.02}
    model = sim.AlignmentModel.from_yaml(TOY, rng=3, overrides=overrides)
    model.run_for(10)
    again = type(model)(scenario=type(model.scenario)(), rng=3)
    again.run_for(10)
    assert again.scenario.validated is model.scenario.validated
    assert again.scenario.params.temperature == 0.02
    assert np.array_equal(again.ties, model.ties)
    other = type(model)(scenario=type(model.scenario)(), rng=4)
    assert other.scenario.validated is model.scenario.validated
    with pytest.raises(TypeError, match="validated"):
        sim.AlignmentModel(scenario=type(model.scenario).__mro__[1](rng=1))


def test_a_sweep_result_loads_and_analyses(tmp_path) -> None:
    spec = write_world(
        tmp_path, "scenario: quad.yaml\nreplications: 3\nparameters:\n"
        "  sanctions.0.level: {values: [0.1, 0.9]}\n",
    )  # fmt: skip
    s = sim.sweep(spec, tmp_path / "out", workers=1)
    assert s.report.ran == 6
    loaded = sim.load(tmp_path / "out")
    assert isinstance(loaded, sim.SweepResult) and len(loaded.runs) == 6
    shares = loaded.shares("aligned", ["IRN"])
    assert list(shares["n"]) == [3, 3] and (shares["k"] <= 3).all()
    assert "aligned share per cell" in loaded.summary("aligned")
