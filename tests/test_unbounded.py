"""Valid-looking input that asked for unbounded work (issue 14, findings 8 and 9): a landscape CSV
that is a device, a dry run of a design of millions of cells, a run whose results cannot fit in
memory, and a sweep that sets one value under two names. Each is refused or done in bounded time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_world import write as write_world

from sim.__main__ import main
from sim.experiments.memory import estimate_bytes

ROOT = Path(__file__).resolve().parents[1]
TOY = ROOT / "scenarios" / "toy_triangle.yaml"
IRAN = ROOT / "scenarios" / "iran_2021.yaml"


def one_line(capsys, *fragments: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    for f in fragments:
        assert f in err, (f, err)
    return err


@pytest.mark.parametrize("csv", ["/dev/zero", "big"])
def test_a_landscape_csv_is_read_only_if_a_regular_file_of_bounded_size(tmp_path, capsys, csv):
    if csv == "big":
        csv = str(tmp_path / "big.csv")
        Path(csv).write_bytes(b"0," * (5 * 2**20))  # 10 MiB
    text = TOY.read_text() + f"landscape: {{csv: {csv}}}\n"
    (tmp_path / "s.yaml").write_text(text)
    t0 = time.perf_counter()
    assert main(["landscape", str(tmp_path / "s.yaml"), "--csv", str(tmp_path / "o.csv")]) == 2
    assert time.perf_counter() - t0 < 5
    one_line(capsys, csv, "a CSV matrix is expected")


@pytest.mark.parametrize(
    "design",
    [
        "parameters:\n"
        "  params.temperature: {linspace: {start: 0.05, stop: 0.5, num: 2000}}\n"
        "  distrust.IRN.RUS: {linspace: {start: 0.0, stop: 1.0, num: 2000}}\n",
        "sampler: sobol\nn: 262144\nparameters:\n"
        "  params.temperature: {bounds: [0.05, 0.5]}\n"
        "  distrust.IRN.RUS: {bounds: [0.0, 1.0]}\n",
    ],
    ids=["grid-2000x2000", "sobol-262144"],
)
def test_a_dry_run_of_millions_of_cells_checks_in_bounded_time(tmp_path, capsys, design):
    spec = tmp_path / "s.yaml"
    spec.write_text(f"scenario: {IRAN}\nreplications: 1\n{design}")
    t0 = time.perf_counter()
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--dry-run"]) == 0
    seconds = time.perf_counter() - t0
    out = capsys.readouterr().out
    cells = "4,000,000" if "grid" in out else "1,572,864"
    assert f"64 of {cells} cells" in out
    assert seconds < 60, seconds  # it used to validate each cell: 4,000,000 x 1.4 ms
    assert not (tmp_path / "o").exists()


def test_a_dry_run_still_finds_a_combination_invalid_together(tmp_path, capsys):
    spec = write_world(
        tmp_path,
        "scenario: quad.yaml\nparameters:\n"
        "  sanctions.0.start: {values: [0, 5]}\n  sanctions.0.end: {values: [3, 9]}\n",
    )
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    one_line(capsys, "cell 2 (sanctions.0.start=5, sanctions.0.end=3)", "must be after start")


def test_a_run_that_cannot_fit_in_memory_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    import sim.experiments.memory

    monkeypatch.setattr(sim.experiments.memory, "available_bytes", lambda: 8 * 10**9)
    out = tmp_path / "o"
    t0 = time.perf_counter()
    assert main(["run", str(TOY), "-r", "1000000", "-q", "--out", str(out)]) == 2
    assert time.perf_counter() - t0 < 10
    line = one_line(capsys, "argument --replications/-r: 1,000,000 replications", "GB")
    assert "hedgesim sweep" in line and "--record-every" in line
    assert not out.exists()
    # what fits runs: the same scenario with 100 replications needs a few MB
    assert main(["run", str(TOY), "-r", "100", "--steps", "5", "-q", "-j", "1", "--out", str(out),
                 "--no-figures"]) == 0  # fmt: skip


MEASURE = """
import sys
import numpy, pandas, pyarrow.parquet, scipy.stats, pydantic, tqdm  # imports are not results
import sim.model.model, sim.experiments.memory, sim.experiments.run, sim.experiments.outcomes
import sim.plots.figures, sim.plots.timeline, sim.plots.network  # noqa: E401
from sim.__main__ import main

def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) * 1024

with open("/proc/self/clear_refs", "w") as fh:
    fh.write("5")  # reset the peak (VmHWM) to the current size: import-time peaks do not count
before = status("VmRSS:")
code = main(sys.argv[1:])
print(status("VmHWM:") - before)
sys.exit(code)
"""


@pytest.mark.parametrize(("scenario", "reps", "n"), [(TOY, (200, 800), 4), (IRAN, (20, 100), 13)])
def test_the_memory_estimate_covers_what_a_run_uses(tmp_path, scenario, reps, n):
    """Peak memory growth per replication of real runs (fresh processes, two sizes, so fixed
    costs cancel) against the estimate: never above it, and not more than twice it (the cap
    must not refuse runs that fit)."""
    used = []
    for r in reps:
        argv = ["run", str(scenario), "-r", str(r), "-q", "-j", "1", "--no-figures"]
        out = tmp_path / f"o{r}"
        proc = subprocess.run(
            [sys.executable, "-c", MEASURE, *argv, "--out", str(out)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, proc.stderr
        used.append(int(proc.stdout.strip().splitlines()[-1]))
    per_run = (used[1] - used[0]) / (reps[1] - reps[0])
    meta = json.loads((out / "run.json").read_text())
    from sim.model.world import compile_world
    from sim.scenario.calendar import year_end_steps
    from sim.scenario.load import load_scenario

    world = compile_world(load_scenario(scenario))
    history = len(year_end_steps(world.start, world.step, meta["steps"]))
    estimate = estimate_bytes(n, meta["steps"], meta["record_every"], 1, history)
    print(f"{scenario.name}: {per_run / 1e3:.1f} KB per replication, estimate "
          f"{estimate / 1e3:.1f} KB")  # fmt: skip
    assert per_run <= estimate <= 2 * per_run


# ------------------------------------------------------------------ one value, two names (9)


@pytest.mark.parametrize(
    ("params", "says"),
    [
        (
            "  sanctions.0.level: {values: [0.2, 0.8]}\n"
            "  sanctions.max pressure.level: {values: [0.5]}\n",
            "sets the same value as parameter sanctions.0.level (both address sanctions.0.level)",
        ),
        (
            "  sanctions.0: {values: [{name: x, senders: [USA], targets: [IRN], level: 0.1}]}\n"
            "  sanctions.0.level: {values: [0.5]}\n",
            "one lies inside the other",
        ),
    ],
    ids=["same-value", "inside"],
)
def test_two_paths_to_one_value_are_refused(tmp_path, capsys, params, says):
    spec = write_world(tmp_path, f"scenario: quad.yaml\nparameters:\n{params}")
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    one_line(capsys, "sweep.yaml:4:3:", says)


def test_a_case_setting_a_swept_value_under_another_name_is_refused(tmp_path, capsys):
    spec = write_world(
        tmp_path,
        "scenario: quad.yaml\nparameters:\n  sanctions.0.level: {values: [0.2]}\n"
        "cases:\n  - {sanctions.max pressure.level: 0.4}\n",
    )
    assert main(["sweep", str(spec), "--out", str(tmp_path / "o"), "--dry-run"]) == 2
    one_line(capsys, "cases.0.sanctions", "sets the same value as sanctions.0.level")
