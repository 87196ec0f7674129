"""Damage fuzzer: finished run and sweep directories damaged at random (issue 14).

Hypothesis (derandomized: the same cases every time) applies one to three kinds of damage to a
copy of a finished directory — truncate a file, zero a range, flip bytes, delete a file, copy a
file over another or to a new name (a part's, an unexpected one), replace a value in a JSON record
by one of another type (with the record's checksum recomputed or not) — and hands the result to
the loader, the command line (``analyze``, ``export``) and the resume (``--repair``). Every case
must end in exactly one of:

* one error line naming a path, exit status 2; or
* a correct result: every run loaded is the undamaged directory's run, byte for byte in every
  column, and appears once (never a double-counted run); a resume with ``--repair`` gives exactly
  the undamaged sweep.

Never a traceback, never another exception. The case counts are in docs/RELIABILITY.md.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from sweep_world import write as write_world

from sim.__main__ import main
from sim.errors import HedgesimError, InputError
from sim.experiments.design import build_design
from sim.experiments.engine import Execution
from sim.experiments.spec import load_spec
from sim.experiments.sweep import execute
from sim.results.atomic import sealed
from sim.results.read import load_run, load_sweep

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")
GRID = """\
scenario: quad.yaml
replications: 3
record: {every: 4}
parameters:
  sanctions.0.level: {values: [0.0, 0.5, 1.0]}
  mechanisms.historical_distrust.weight: {values: [0.0, 2.0]}
"""
CASES = {"run": 300, "sweep": 330, "cli": 170, "repair": 120, "unsealed": 100}
"""Cases per test (1,020 in all)."""


def fuzz(n: int) -> Any:
    return settings(
        max_examples=n,
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("fuzz")
    spec = write_world(tmp, GRID)
    sweep = tmp / "sweep"
    assert main(["sweep", str(spec), "--out", str(sweep), "-q", "-j", "1", "--chunk", "6"]) == 0
    run = tmp / "run"
    argv = ["run", TOY, "-r", "3", "--steps", "6", "-q", "-j", "1", "--no-figures"]
    assert main([*argv, "--ablate", "expanding_options", "--out", str(run)]) == 0
    unsealed = tmp / "unsealed"
    shutil.copytree(sweep, unsealed)
    meta = json.loads((unsealed / "manifest.json").read_text())
    meta.pop("checksum")
    meta["checksums"] = None  # as a sweep written before checksums existed
    (unsealed / "manifest.json").write_text(json.dumps(meta))
    for p in unsealed.glob("runs/.part-*.sha256"):
        p.unlink()
    return {
        "spec": spec,
        "sweep": sweep,
        "run": run,
        "unsealed": unsealed,
        "sweep_ref": load_sweep(sweep),
        "run_ref": load_run(run),
        "design": build_design(load_spec(spec)),
    }


def files_of(d: Path) -> list[str]:
    return sorted(
        str(p.relative_to(d)) for p in d.rglob("*") if p.is_file() and p.name != ".hedgesim.lock"
    )


# ------------------------------------------------------------------------------------- damage

ODD_VALUES: list[Any] = [None, True, 0, -1, 1.5, "x", "", [], {}, [1, "a"], {"a": [None]}]


def json_paths(obj: Any, prefix: tuple = (), depth: int = 0) -> list[tuple]:
    out = [prefix] if prefix else []
    if depth < 5 and isinstance(obj, dict):
        for k, v in obj.items():
            out += json_paths(v, (*prefix, k), depth + 1)
    elif depth < 5 and isinstance(obj, list):
        for i, v in enumerate(obj[:6]):
            out += json_paths(v, (*prefix, i), depth + 1)
    return out


def replace_type(path: Path, pick: int, value_pick: int, reseal: bool) -> None:
    try:
        obj = json.loads(path.read_bytes())
    except ValueError:
        return
    paths = json_paths(obj)
    if not paths:
        return
    where = paths[pick % len(paths)]
    parent = obj
    for part in where[:-1]:
        parent = parent[part]
    old = parent[where[-1]]
    choices = [v for v in ODD_VALUES if type(v) is not type(old)]
    choices.append("[" * 300 + "]" * 300)  # text standing in for a deeply nested value
    new = choices[value_pick % len(choices)]
    parent[where[-1]] = new
    if reseal and isinstance(obj, dict) and "checksum" in obj:
        obj.pop("checksum")
        obj = sealed(obj)
    path.write_text(json.dumps(obj))


OPS = ("truncate", "zero", "flip", "delete", "duplicate", "json", "drop_chunk", "litter")


@st.composite
def damages(draw: Any, files: list[str]) -> list[tuple]:
    ops = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(OPS))
        target = draw(st.sampled_from(files))
        if kind == "json":
            jsons = [f for f in files if f.endswith((".json", ".sha256"))]
            target = draw(st.sampled_from(jsons))
        ops.append(
            (
                kind,
                target,
                draw(st.floats(0, 1)),
                draw(st.integers(0, 10**6)),
                draw(st.lists(st.integers(1, 255), min_size=1, max_size=4)),
                draw(st.booleans()),
            )
        )
    return ops


def apply(d: Path, ops: list[tuple], files: list[str]) -> None:
    for kind, target, frac, k, masks, flag in ops:
        p = d / target
        if not p.is_file():
            continue
        data = p.read_bytes()
        if kind == "truncate":
            p.write_bytes(data[: int(frac * len(data))])
        elif kind == "zero":
            start = int(frac * len(data))
            p.write_bytes(
                data[:start] + bytes(min(len(data) - start, 1 + k % 64)) + data[start + 64 :]
            )
        elif kind == "flip" and data:
            b = bytearray(data)
            for j, m in enumerate(masks):
                b[(int(frac * len(b)) + j * (1 + k % 97)) % len(b)] ^= m
            p.write_bytes(bytes(b))
        elif kind == "delete":
            p.unlink()
        elif kind == "duplicate":
            name = p.name
            dests = [
                files[k % len(files)],  # over another file
                f"runs/part-{k % 20:010d}.parquet",  # as another chunk's part
                f"runs/part-{k % 20:010d}.csv",  # in the other format
                f"runs/{name} (copy){p.suffix}",  # an unexpected name
                f"steps/{name}",
                f"runs/.part-{k % 20:010d}.sha256",
            ]
            dest = d / dests[int(frac * len(dests)) % len(dests)]
            if dest != p and dest.parent.is_dir():
                shutil.copyfile(p, dest)
        elif kind == "json":
            replace_type(p, k, k // 7, flag)
        elif kind == "drop_chunk" and p.name.startswith("part-"):  # a chunk lost whole
            first = p.name.split("-")[1].split(".")[0]
            for q in (f"runs/part-{first}.parquet", f"steps/part-{first}.parquet",
                      f"runs/.part-{first}.sha256"):  # fmt: skip
                (d / q).unlink(missing_ok=True)
        elif kind == "litter":  # files hedgesim did not write, where it looks
            where = ["runs", "steps", ".", "figures"][k % 4]
            (d / where).mkdir(exist_ok=True)
            (
                d / where / ["notes.txt", "part-x.parquet", ".DS_Store", "data.csv"][k // 4 % 4]
            ).write_bytes(data[: 1 + k % 200])


def damaged_copy(src: Path, ops: list[tuple]) -> Path:
    d = Path(tempfile.mkdtemp(prefix="dmg-")) / "d"
    shutil.copytree(src, d)
    apply(d, ops, files_of(src))
    return d


def assert_one_line(exc: InputError, d: Path) -> None:
    assert len(exc.problems) == 1
    text = str(exc.problems[0])
    assert "\n" not in text and text.startswith(str(d)), text


# ------------------------------------------------------------------------------ the fuzz tests


def same_rows(got: pd.DataFrame, ref: pd.DataFrame, keys: list[str]) -> None:
    """Every loaded row is the reference row with the same key, each key once."""
    assert not got.duplicated(keys).any(), "a run counted twice"
    merged = got.merge(ref, on=keys, how="left", suffixes=("", "_ref"), indicator=True)
    assert (merged["_merge"] == "both").all(), "a run the undamaged directory does not have"
    for col in got.columns:
        if col not in keys:
            a, b = merged[col], merged[f"{col}_ref"]
            assert ((a == b) | (a.isna() & b.isna())).all(), col


def check_sweep_load(d: Path, ref: Any) -> str:
    try:
        data = load_sweep(d)
    except InputError as exc:
        assert_one_line(exc, d)
        event("refused")
        return "refused"
    event("loaded: all runs" if len(data.runs) == len(ref.runs) else "loaded: some runs")
    same_rows(data.runs, ref.runs, ["run_id"])
    if data.steps is not None:
        same_rows(data.steps, ref.steps, ["run_id", "step"])
        assert set(data.steps["run_id"]) == set(data.runs["run_id"])
    return "loaded"


@fuzz(CASES["run"])
@given(data=st.data())
def test_damaged_run_directories(made, data) -> None:
    src, ref = made["run"], made["run_ref"]
    d = damaged_copy(src, data.draw(damages(files_of(src))))
    t0 = time.perf_counter()
    try:
        res = load_run(d)
    except InputError as exc:
        assert_one_line(exc, d)
        event("refused")
    else:
        event("loaded")
        for name in ("system", "states", "ties", "summary"):
            pd.testing.assert_frame_equal(getattr(res, name), getattr(ref, name))
    finally:
        shutil.rmtree(d.parent)
    assert time.perf_counter() - t0 < 10


@fuzz(CASES["sweep"])
@given(data=st.data())
def test_damaged_sweep_directories(made, data) -> None:
    src = made["sweep"]
    d = damaged_copy(src, data.draw(damages(files_of(src))))
    try:
        check_sweep_load(d, made["sweep_ref"])
    finally:
        shutil.rmtree(d.parent)


@fuzz(CASES["unsealed"])
@given(data=st.data())
def test_damaged_sweeps_written_before_checksums(made, data) -> None:
    """Without checksums a flipped byte inside a value cannot be seen; what must hold still:
    one line or a load, never a traceback, never a run twice, never a run of another sweep."""
    src, ref = made["unsealed"], made["sweep_ref"]
    d = damaged_copy(src, data.draw(damages(files_of(src))))
    try:
        data_ = load_sweep(d)
    except InputError as exc:
        assert_one_line(exc, d)
    else:
        assert data_.runs["run_id"].is_unique
        assert set(data_.runs["run_id"]) <= set(ref.runs["run_id"])
        if data_.steps is not None:
            assert not data_.steps.duplicated(["run_id", "step"]).any()
    finally:
        shutil.rmtree(d.parent)


@fuzz(CASES["cli"])
@given(data=st.data(), command=st.sampled_from(["analyze", "export"]))
def test_damaged_sweeps_through_the_command_line(made, data, command) -> None:
    src = made["sweep"]
    d = damaged_copy(src, data.draw(damages(files_of(src))))
    try:
        out = d.parent / "x"
        argv = (
            ["analyze", str(d), "--csv", str(out / "shares.csv")]
            if command == "analyze"
            else ["export", str(d), "--out", str(out)]
        )
        out.mkdir()
        err_buf = io.StringIO()
        with contextlib.redirect_stderr(err_buf), contextlib.redirect_stdout(io.StringIO()):
            code = main(argv)
        err = err_buf.getvalue()
        assert "Traceback" not in err
        if code == 2:
            lines = err.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith(f"error: {d}"), err
            event("exit 2")
            return
        event("exit 0")
        assert code == 0, err
        assert all(line.startswith("warning: ") for line in err.strip().splitlines() if line)
        loaded = load_sweep(d)
        if command == "analyze":
            shares = pd.read_csv(out / "shares.csv")
            per_cell = loaded.runs.groupby("cell").size()
            got = shares.groupby("cell")["n"].first()
            assert (got.reindex(per_cell.index) == per_cell).all()  # each run counted once
            assert got.sum() == len(loaded.runs)
        else:
            exported = pd.read_csv(out / "runs.csv")
            assert exported["run_id"].is_unique and len(exported) == len(loaded.runs)
    finally:
        shutil.rmtree(d.parent)


@fuzz(CASES["repair"])
@given(data=st.data())
def test_resume_with_repair_restores_the_undamaged_sweep(made, data) -> None:
    src, ref = made["sweep"], made["sweep_ref"]
    d = damaged_copy(src, data.draw(damages(files_of(src))))
    try:
        try:
            execute(made["design"], d, Execution(workers=1), repair=True, progress=False)
        except HedgesimError as exc:
            text = str(exc)
            assert "\n" not in text and str(d) in text, text
            assert exc.exit_code == 2
            event("refused")
            return
        event("repaired")
        done = load_sweep(d)
        pd.testing.assert_frame_equal(done.runs, ref.runs)  # 0 lost, 0 duplicated
        pd.testing.assert_frame_equal(done.steps, ref.steps)
    finally:
        shutil.rmtree(d.parent)
