"""Dates (issue 13, item 2): a scenario's calendar gives each step a date; events, sanctions and
treaties may be given by month instead of step (the same scenario, same hash); bad dates are
located errors; run tables and timelines carry the dates."""

from __future__ import annotations

import numpy as np
import pytest

import sim
from sim.errors import InputError
from sim.plots.timeline import plot_timeline
from sim.scenario.calendar import date_label, step_dates, step_of_date
from sim.scenario.load import loads_scenario, scenario_hash

BASE = """\
name: dated
start: 2005-01
step: month
states:
  A: {name: a, power: 0.4}
  B: {name: b, power: 0.3}
  C: {name: c, power: 0.3}
params: {steps: 30}
"""


def located(text: str) -> str:
    with pytest.raises(InputError) as exc:
        loads_scenario(text, "s.yaml")
    return str(exc.value)


def test_step_dates_for_each_step_length() -> None:
    assert list(step_dates("2005-01", "month", [0, 1, 2, 13]).astype(str)) == [
        "2005-01-01", "2005-01-01", "2005-02-01", "2006-01-01",
    ]  # fmt: skip
    assert list(step_dates("2005-03", "year", [1, 3]).astype(str)) == ["2005-03-01", "2007-03-01"]
    assert list(step_dates("2005-01", "week", [1, 2]).astype(str)) == ["2005-01-01", "2005-01-08"]
    assert date_label("2005-01", "month", 27) == "March 2007"
    assert date_label("2005-01", "year", 3) == "2007"
    assert step_of_date("2005-01", "month", "2007-03") == 27
    assert step_of_date("2005-01", "month", "1999-01") == 0  # before the start: in force at once


def test_an_event_by_date_is_the_same_scenario_as_by_step() -> None:
    ev = "events:\n  - {name: e, %s, field: power, mode: set, changes: {A: 0.5}}\n"
    by_date = loads_scenario(BASE + ev % "date: 2006-03, until_date: 2006-07")
    by_step = loads_scenario(BASE + ev % "step: 15, until: 19")
    assert (by_date.events[0].step, by_date.events[0].until) == (15, 19)
    assert scenario_hash(by_date) == scenario_hash(by_step)
    sanc = "sanctions:\n  - {name: s, senders: [A], targets: [B], level: 0.5, %s}\n"
    dated = loads_scenario(BASE + sanc % "start_date: 2005-06, end_date: 2006-01")
    assert (dated.sanctions[0].start, dated.sanctions[0].end) == (6, 13)


@pytest.mark.parametrize(
    ("extra", "where", "says"),
    [
        ("events:\n  - {name: e, date: 2006-13, field: power, changes: {A: 0.1}}\n",
         "s.yaml:10:", "events.0.date"),
        ("events:\n  - {name: e, date: 2006-03, step: 4, field: power, changes: {A: 0.1}}\n",
         "s.yaml:10:", "give step or date, not both"),
        ("events:\n  - {name: e, field: power, changes: {A: 0.1}}\n",
         "s.yaml:10:", "needs step (a step number) or date"),
        ("sanctions:\n  - {name: s, senders: [A], targets: [B], level: 0.5, "
         "start_date: 2006-01, end_date: 2005-06}\n",
         "s.yaml:10:", "sanctions.0.end_date: must be after start_date (2006-01 = step 13)"),
    ],
)  # fmt: skip
def test_bad_dates_are_located_errors(extra: str, where: str, says: str) -> None:
    msg = located(BASE + extra)
    assert where in msg and says in msg, msg


def test_a_date_needs_the_scenarios_start() -> None:
    text = BASE.replace("start: 2005-01\n", "") + (
        "events:\n  - {name: e, date: 2006-03, field: power, changes: {A: 0.1}}\n"
    )
    msg = located(text)
    assert "s.yaml:9:" in msg and "events.0.date" in msg and "needs the scenario's start" in msg


def test_run_tables_and_the_timeline_carry_dates() -> None:
    r = sim.run(loads_scenario(BASE), replications=2, steps=14, workers=1)
    for table in (r.system, r.states):
        dates = table.groupby("step")["date"].first()
        assert str(dates[0]) == "2005-01-01" and str(dates[14]) == "2006-02-01"
    fig = plot_timeline(r.states, "A")
    assert fig.axes[0].get_xlabel() == "" and fig.axes[1].get_xlabel() == "date"
    x = fig.axes[1].get_lines()[0].get_xdata()
    assert np.issubdtype(np.asarray(x).dtype, np.datetime64)
    undated = sim.run(
        loads_scenario(BASE.replace("start: 2005-01\n", "")), replications=1, steps=3, workers=1
    )
    assert "date" not in undated.system.columns
    assert plot_timeline(undated.states, "A").axes[1].get_xlabel() == "step"


def test_sweep_steps_and_ties_carry_each_cells_dates(tmp_path) -> None:
    """A sweep's steps and ties tables have a ``date`` after ``step``, as run tables do, each
    run dated by its own cell's ``start`` and ``step`` (which a sweep may vary); a cell without
    a start has no dates, and sweeps made before manifests recorded the calendar have none."""
    import pyarrow as pa

    from sim.results.read import with_sweep_dates

    (tmp_path / "dated.yaml").write_text(BASE)
    (tmp_path / "sweep.yaml").write_text(
        "scenario: dated.yaml\nreplications: 2\nsteps: 14\nrecord: {every: 1}\nties: yearly\n"
        "parameters:\n  start: {values: ['2005-01', '2010-06']}\n"
        "  step: {values: [month, year]}\n"
    )
    s = sim.sweep(tmp_path / "sweep.yaml", tmp_path / "out", workers=1, progress=False)
    cells = s.manifest["design"]["cells"]
    for table in (s.steps, s.ties):
        assert list(table.columns).index("date") == list(table.columns).index("step") + 1
        for run, rows in table.groupby("run_index"):
            cell = cells[run // 2]
            want = step_dates(cell["start"], cell["step"], rows["step"].to_numpy())
            got = np.array(rows["date"].tolist(), dtype="datetime64[D]")
            assert np.array_equal(got, want), (run, cell)
    years = s.steps[s.steps.run_index == 6].set_index("step")["date"]  # 2010-06, yearly
    assert str(years[0]) == "2010-06-01" and str(years[3]) == "2012-06-01"
    # the same dates as a run of the same cell
    r = sim.run(loads_scenario(BASE), replications=1, steps=14, workers=1)
    run_dates = r.system.set_index("step")["date"]
    first = s.steps[s.steps.run_index == 0].set_index("step")["date"]
    assert run_dates.astype(str).equals(first.astype(str))
    # a manifest without the calendar (sweeps made before it was recorded): no date column
    old = {k: v for k, v in s.manifest.items() if k != "calendar"}
    table = pa.Table.from_pandas(s.steps.drop(columns="date"), preserve_index=False)
    assert with_sweep_dates(table, old) is table
    assert "date" in with_sweep_dates(table, s.manifest).column_names
    # an undated scenario: no date column
    (tmp_path / "dated.yaml").write_text(BASE.replace("start: 2005-01\n", ""))
    (tmp_path / "plain.yaml").write_text(
        "scenario: dated.yaml\nreplications: 1\nsteps: 3\nrecord: {every: 1}\n"
        "parameters:\n  step: {values: [month, year]}\n"
    )
    plain = sim.sweep(tmp_path / "plain.yaml", tmp_path / "plain", workers=1, progress=False)
    assert "date" not in plain.steps.columns
