"""The view's model, inputs and figures without a browser (tests/test_view_browser.py drives the
page), and ``hedgesim view``'s input errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.__main__ import main
from sim.model.metrics import STATUSES
from sim.scenario.calendar import date_label
from sim.scenario.load import load_scenario, loads_scenario, scenario_hash, scenario_with
from sim.scenario.schema import MECHANISMS
from sim.view.figures import network_figure, network_since, tie_summary, timeline_figure
from sim.view.inputs import ViewModel, input_names, overrides_of, view_inputs

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_triangle.yaml"
IRAN = ROOT / "scenarios" / "iran_2021.yaml"


def run(model: ViewModel, n: int) -> list[list[tuple[str, str, str]]]:
    out = []
    for _ in range(n):
        model.step()
        out.append(model.tie_list())
    return out


def test_inputs_are_every_mechanism_with_the_scenarios_values() -> None:
    sc = load_scenario(IRAN)
    inputs = view_inputs(sc)
    assert set(inputs) == set(input_names())
    assert inputs["temperature"]["value"] == sc.params.temperature
    for m in MECHANISMS:
        assert inputs[m]["value"] == getattr(sc.mechanisms, m).enabled
        assert inputs[m + "_weight"]["value"] == getattr(sc.mechanisms, m).weight
    # only what differs from the scenario becomes an override
    defaults = {k: v["value"] for k, v in inputs.items()}
    assert overrides_of(sc, defaults) == {}
    assert overrides_of(sc, {**defaults, "autonomy": False, "temperature": 0.05}) == {
        "mechanisms.autonomy.enabled": False,
        "params.temperature": 0.05,
    }


def test_a_reset_as_solaraviz_does_it_replays_the_run_and_a_switch_changes_it() -> None:
    sc = load_scenario(TOY)
    model = ViewModel(sc)
    first = run(model, 5)
    again = type(model)(scenario=type(model.scenario)(), replication=0)  # SolaraViz's reset
    assert run(again, 5) == first
    off = type(model)(scenario=type(model.scenario)(), replication=0, autonomy=False)
    assert not off.mechanisms.autonomy.enabled
    assert run(off, 5) != first
    other = ViewModel(sc, replication=1)
    assert other.seeds != model.seeds


def test_a_scenario_with_a_power_series_takes_overrides_as_its_file_does() -> None:
    """scenario_with on a validated Scenario used to fail on the power series' integer years."""
    sc = load_scenario(IRAN)
    over = {"params.temperature": 0.02}
    assert scenario_hash(scenario_with(sc, over)) == scenario_hash(scenario_with(IRAN, over))


def test_the_run_stops_at_the_scenarios_last_step_and_shows_dates() -> None:
    sc = loads_scenario(
        "name: t\nstart: 2010-11\nparams: {steps: 3}\n"
        "states: {A: {name: a, power: 0.5}, B: {name: b, power: 0.5}}\n"
    )
    model = ViewModel(sc)
    assert model.running and model.date() == "November 2010"
    run(model, 3)
    assert not model.running and model.date() == "January 2011"
    assert ViewModel(load_scenario(TOY)).date() is None


def test_the_figures_draw_the_states_ties_and_events() -> None:
    model = ViewModel(load_scenario(IRAN))
    run(model, 12)
    text = tie_summary(model)
    assert [line.split(":")[0] for line in text.splitlines()] == model.world.ids
    fig = network_figure(model)
    ax = fig.axes[0]
    since = network_since(model)  # the step since which ties and power are as drawn
    assert 0 <= since <= 12
    assert f"step {since}" in ax.get_title()
    assert date_label(model.world.start, model.world.step, since) in ax.get_title()
    drawn = sum(
        len(c.get_segments()) for c in ax.collections if c.get_gid() in ("alliance", "friendship")
    )
    assert drawn == len(model.tie_list())
    states = next(c for c in ax.collections if c.get_gid() == "states")
    assert len(states.get_offsets()) == len(model.world.ids)
    tl = timeline_figure(model)
    lines = tl.axes[0].get_lines()
    align = next(ln for ln in lines if ln.get_label() == "alignment")
    assert len(align.get_xdata()) == 13  # steps 0..12
    assert np.issubdtype(np.asarray(align.get_xdata()).dtype, np.datetime64)  # a date axis
    events = [ln for ln in lines if ln.get_linestyle() == ":"]
    in_span = [e for e in model.scenario.validated.events if e.step <= model.params.steps]
    assert len(events) == len(in_span) > 0


def test_view_reports_a_bad_scenario_before_starting_a_server(tmp_path, capsys) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstates:\n  A: {power: 2}\n")
    assert main(["view", str(bad), "--port", "1"]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:3:" in err and "states.A.power" in err and "Traceback" not in err


@pytest.mark.parametrize("port", ["0", "70000", "x"])
def test_view_port_is_bounded(port, capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["view", str(TOY), "--port", port])
    assert exc.value.code == 2
    assert "--port" in capsys.readouterr().err


def test_the_network_is_redrawn_only_when_ties_or_power_change() -> None:
    """The view keys the network figure on the step since which ties and power are unchanged:
    it moves to the current step exactly when a tie or power changes, and stays otherwise."""
    model = ViewModel(load_scenario(IRAN))
    assert network_since(model) == 0
    moves = 0
    for _ in range(40):
        ties, power, before = model.ties.copy(), model.attrs.power.copy(), network_since(model)
        model.step()
        changed = not (
            np.array_equal(ties, model.ties) and np.array_equal(power, model.attrs.power)
        )
        since = network_since(model)
        assert since == (model.steps if changed else before)
        moves += changed
    assert 0 < moves < 40  # both cases happen in this run
    # steps the view did not draw (a render interval above 1) still date the change right
    unseen = ViewModel(load_scenario(IRAN))
    run(unseen, 40)
    assert network_since(unseen) == network_since(model) < 40


def test_the_timeline_is_built_once_and_follows_the_run() -> None:
    """Later steps update the same figure's line and status strips (no rebuilt axes), and what
    they show is the trace so far: one point per step, each step in the strip of its status."""
    model = ViewModel(load_scenario(IRAN))
    run(model, 5)
    fig = timeline_figure(model)
    ax = fig.axes[0]
    n_lines = len(ax.get_lines())
    run(model, 9)
    assert timeline_figure(model) is fig and fig.axes[0] is ax and len(ax.get_lines()) == n_lines
    align = next(ln for ln in ax.get_lines() if ln.get_label() == "alignment")
    assert np.array_equal(align.get_ydata(), np.asarray(model.trace_align)[:, 0])
    status = np.asarray(model.trace_status)[:, 0]
    for code, name in enumerate(STATUSES):
        strip = next(ln for ln in ax.get_lines() if ln.get_label() == name.replace("_", " "))
        assert len(strip.get_xdata()) == int((status == code).sum())
    assert sum(len(ln.get_xdata()) for ln in ax.get_lines() if ln.get_marker() == "s") == 15
