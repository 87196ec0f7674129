"""The command line end to end on the toy scenario."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim.__main__ import main
from sim.experiments.stats import wilson
from sim.model.metrics import STATUSES
from sim.results.read import load_run

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")


@pytest.fixture(scope="module")
def toy_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "toy"
    code = main(
        [
            "run",
            TOY,
            "-r",
            "12",
            "--steps",
            "25",
            "--out",
            str(out),
            "-q",
            "-j",
            "1",
            "--ablate",
            "expanding_options,historical_distrust+partner_hedging",
        ]
    )
    assert code == 0
    return out


def test_run_writes_consistent_tables(toy_run):
    res = load_run(toy_run)
    assert set(res.system["condition"].unique()) == {
        "baseline",
        "-expanding_options",
        "-historical_distrust+partner_hedging",
    }
    assert res.system.groupby("condition", observed=True).size().unique().tolist() == [12 * 26]
    n_states = len(res.world["ids"])
    assert len(res.states) == 3 * 12 * 26 * n_states
    # the summary's counts are the final statuses in the states table
    final = res.states[(res.states.step == 25) & (res.states.state == "S")]
    for cond, grp in final.groupby("condition", observed=True):
        row = res.summary[(res.summary.condition == cond) & (res.summary.state == "S")].iloc[0]
        for s in STATUSES:
            k = int((grp.status == s).sum())
            assert row[f"k_{s}"] == k
            assert row[f"lo_{s}"] == pytest.approx(wilson(k, 12)[0])
    # system shares agree with per-state statuses at every step
    base = res.states[res.states.condition == "baseline"]
    share = (base.status == "non_aligned").groupby([base.replication, base.step]).mean()
    sysb = res.system[res.system.condition == "baseline"].set_index(["replication", "step"])
    assert np.allclose(sysb["share_non_aligned"].loc[share.index].to_numpy(), share.to_numpy())
    # final ties agree with the per-state alliance counts at the last step
    ties = res.ties[(res.ties.condition == "baseline") & (res.ties.level == "alliance")]
    last = base[base.step == 25]
    for rep in range(12):
        t = ties[ties.replication == rep]
        counts = pd.concat([t.a.astype(str), t.b.astype(str)]).value_counts()
        for _, r in last[last.replication == rep].iterrows():
            assert counts.get(str(r.state), 0) == r.n_alliances


def test_run_json_records_provenance(toy_run):
    meta = json.loads((toy_run / "run.json").read_text())
    assert meta["seed"] == 7 and meta["replications"] == 12 and meta["steps"] == 25
    from sim.model.seeds import replication_seed as seed_for
    from sim.model.seeds import seed_value

    assert len(meta["replication_seeds"]) == 12
    assert meta["replication_seeds"][3] == seed_value(seed_for(7, 3))
    assert len(set(meta["replication_seeds"])) == 12
    assert meta["versions"]["mesa"].startswith("3.")
    assert next(c["label"] for c in meta["conditions"]) == "baseline"
    assert meta["conditions"][2]["switched_off"] == ["historical_distrust", "partner_hedging"]
    assert (toy_run / "summary.txt").read_text().count("Small state") >= 1


def test_same_command_same_numbers_whatever_the_workers(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    args = ["run", TOY, "-r", "6", "--steps", "20", "-q", "--no-figures"]
    assert main([*args, "--out", str(a), "-j", "1"]) == 0
    assert main([*args, "--out", str(b), "-j", "2"]) == 0
    for name in ("system", "states", "ties"):
        pa, pb = pd.read_parquet(a / f"{name}.parquet"), pd.read_parquet(b / f"{name}.parquet")
        pd.testing.assert_frame_equal(pa, pb)


def test_refuses_to_overwrite_a_different_run(tmp_path, capsys):
    out = tmp_path / "o"
    base = ["run", TOY, "-r", "3", "--steps", "5", "-q", "--no-figures", "--out", str(out)]
    assert main(base) == 0
    assert main(base) == 0  # the identical run may be repeated
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    assert main([*base, "--seed", "99"]) == 2
    assert "--force" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before  # untouched
    assert json.loads((out / "run.json").read_text())["seed"] == 7
    assert main([*base, "--seed", "99", "--force"]) == 0
    assert json.loads((out / "run.json").read_text())["seed"] == 99


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["run", "/nonexistent.yaml"], "no such file"),
        (["run", str(ROOT)], "is a directory"),
        (["run", TOY, "--ablate", "nope"], "unknown factor"),
        (["run", TOY, "--set", "params.steps=-1"], "params.steps"),
        (["run", TOY, "-r", "0"], "between 1 and 1,000,000, got 0"),
        (["run", TOY, "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_input_exits_2_with_one_clear_line(argv, needle, capsys, tmp_path):
    with pytest.raises(SystemExit) as exc:
        sys.exit(main([*argv, "--out", str(tmp_path / "x")] if argv[0] == "run" else argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1  # one line
    assert not (tmp_path / "x").exists()  # nothing written


def test_schema_command_prints_json_schema(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert "states" in schema["properties"] and schema["additionalProperties"] is False


def test_console_script_and_module_entry_points(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nstates:\n  A: {name: a, power: 7}\n")
    exe = Path(sys.executable).parent / "hedgesim"
    for cmd in ([str(exe)], [sys.executable, "-m", "sim"]):
        r = subprocess.run(
            [*cmd, "run", str(bad)],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONWARNINGS": "ignore"},
            timeout=60,
        )
        assert r.returncode == 2
        assert f"{bad}:3:" in r.stderr and "states.A.power" in r.stderr
        assert "Traceback" not in r.stderr


def test_explain_prints_each_mechanism_from_both_sides(capsys):
    assert main(["explain", TOY, "S", "--step", "10"]) == 0
    out = capsys.readouterr().out
    assert "Small state at step 10" in out
    for term in ("security", "autonomy", "expanding_o", "base", "total"):
        assert term in out
    rows = [ln.split()[0] for ln in out.splitlines() if ln[:1] in ("A", "B", "R")]
    assert rows == ["A", "B", "R"]  # every partner once, strongest first
    assert out.count(" <-A ") == 3 and out.count(" <-F ") == 3  # and the partner's view
    assert main(["explain", TOY, "S", "--ablate", "expanding_options"]) == 0
    assert "expanding_o" not in capsys.readouterr().out.split("\n")[2]
    assert main(["explain", TOY, "Q"]) == 2
    assert "unknown state id 'Q'" in capsys.readouterr().err
