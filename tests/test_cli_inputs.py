"""Everything a user can hand the command line, not only scenario files (issue 14, findings 5, 6,
10 and 11): ``--set`` values get the same reader and limits as files, every number is bounded and
blamed on its own flag, ``explain`` validates its step and replication, and the messages the
issue found misleading say what is wrong. One line, exit status 2, never a traceback.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sim.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")
RUN = ["-r", "2", "--steps", "3", "-q", "-j", "1", "--no-figures"]


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    """Nothing here may write into the checkout (the default output is results/<name>)."""
    monkeypatch.chdir(tmp_path)


def run_fails(capsys, argv: list[str], *fragments: str, code: int = 2) -> str:
    """Run the CLI, expect ``code`` and one error line holding every fragment."""
    t0 = time.perf_counter()
    try:
        got = main(argv)
    except SystemExit as exc:  # argparse usage errors
        got = exc.code
    seconds = time.perf_counter() - t0
    err = capsys.readouterr().err.strip()
    assert got == code, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, err
    for f in fragments:
        assert f in lines[0], (f, lines[0])
    assert seconds < 10, f"{argv} took {seconds:.1f} s"
    return lines[0]


# --------------------------------------------------------------------- --set: the file's limits

ALIAS_BOMB = "[" + ", ".join(["&a0 [x, x, x, x, x, x, x, x, x]"]) + "]"


def bomb(levels: int = 9) -> str:
    """``a0: [x]*9; a1: [*a0]*9; ...``: 9**levels values once expanded, in one flow value."""
    parts = ["&a0 [x, x, x, x, x, x, x, x, x]"]
    for k in range(1, levels):
        parts.append(f"&a{k} [" + ", ".join([f"*a{k - 1}"] * 9) + "]")
    return "[" + ", ".join(parts) + "]"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("[" * 3000, "nested too deeply"),
        ("[" * 600 + "]" * 600, "nested"),
        (bomb(9), "alias bomb"),
        ("!!python/object/apply:os.system ['true']", "unsafe or unknown tag"),
        ("1" * 5000, "an integer of 5000 digits is too large"),
    ],
    ids=["deep-brackets", "deep-list", "alias-bomb", "python-tag", "huge-integer"],
)
def test_set_values_get_the_same_limits_as_files(capsys, value, says):
    run_fails(capsys, ["run", TOY, *RUN, "--set", f"ties.A.B={value}"], "--set: ties.A.B", says)
    # an `Any` field (the scenario's embedded sweep block) too
    run_fails(capsys, ["run", TOY, *RUN, "--set", f"sweep={value}"], "--set: sweep", says)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


POWER_A = line_of(Path(TOY).read_text(), "power: 0.30")


def test_a_huge_integer_in_a_file_is_a_located_error(tmp_path, capsys):
    text = Path(TOY).read_text().replace("power: 0.30", "power: " + "1" * 5000)
    (tmp_path / "s.yaml").write_text(text)
    where = f"s.yaml:{POWER_A}:"
    run_fails(capsys, ["run", str(tmp_path / "s.yaml"), *RUN], where, "5000 digits")


def test_the_yaml_merge_key_works_and_is_not_called_unsafe(tmp_path, capsys):
    text = (
        Path(TOY)
        .read_text()
        .replace(
            "  A: {name: Power A, power: 0.30}      # a great power",
            "  A: &great {name: Power A, power: 0.30}\n  B: {<<: *great, name: Power B}",
        )
    )
    text = text.replace("  B: {name: Power B, power: 0.25}      # its rival great power\n", "")
    (tmp_path / "s.yaml").write_text(text)
    assert main(["run", str(tmp_path / "s.yaml"), *RUN, "--out", str(tmp_path / "o")]) == 0
    capsys.readouterr()
    from sim.results.read import load_run

    assert load_run(tmp_path / "o").world["power"][:2] == [0.3, 0.3]


def test_a_new_state_from_set_is_blamed_on_set_not_the_file(capsys):
    line = run_fails(
        capsys, ["run", TOY, *RUN, "--set", "states.NEW.power=0.5"], "--set: states.NEW.name"
    )
    assert "toy_triangle.yaml" not in line


# ------------------------------------------------------------------------ bounded numbers


@pytest.mark.parametrize(
    ("argv", "flag"),
    [
        (["run", TOY, "-r", str(10**30)], "--replications/-r"),
        (["run", TOY, "-r", "1" * 5000], "--replications/-r"),
        (["run", TOY, "--steps", "100001"], "--steps"),
        (["run", TOY, "-j", "100000"], "--workers/-j"),
        (["run", TOY, "--record-every", "0"], "--record-every"),
        (["run", TOY, "--seed", str(2**63)], "--seed"),
        (["explain", TOY, "S", "--step", "-5"], "--step"),
        (["explain", TOY, "S", "--step", str(10**9)], "--step"),
        (["explain", TOY, "S", "--replication", "-1"], "--replication"),
        (["landscape", TOY, "--runs", str(10**12)], "--runs"),
        (["plot", ".", "--replication", "-3"], "--replication"),
        (["analyze", ".", "--max-rows", "-1"], "--max-rows"),
        (["analyze", ".", "--resamples", str(10**9)], "--resamples"),
        (["sweep", TOY, "--out", "x", "--chunk", "0"], "--chunk"),
        (["validate", "-r", str(10**7)], "--replications/-r"),
    ],
)
def test_every_number_is_bounded_and_blamed_on_its_flag(capsys, argv, flag):
    line = run_fails(capsys, argv, f"argument {flag}")
    assert "--set" not in line


def test_explain_at_step_0_and_at_a_step(capsys):
    assert main(["explain", TOY, "S", "--step", "0"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Small state at step 0 (replication 0)")
    assert main(["explain", TOY, "S", "--step", "3", "--replication", "2"]) == 0
    assert capsys.readouterr().out.startswith("Small state at step 3 (replication 2)")


def test_plot_replication_beyond_the_run_is_refused(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", TOY, *RUN, "--out", str(out)]) == 0
    line = run_fails(capsys, ["plot", str(out), "--kind", "network", "--replication", "999"])
    assert "--replication: 999: this run has replications 0–1" in line.replace("<root>: ", "")
    assert not (out / "figures").exists()


def test_plot_out_with_a_dot_is_a_folder(tmp_path, capsys):
    out = tmp_path / "o"
    assert main(["run", TOY, *RUN, "--out", str(out)]) == 0
    assert main(["plot", str(out), "--kind", "network", "--out", str(tmp_path / "figs.v2")]) == 0
    capsys.readouterr()
    assert (tmp_path / "figs.v2" / "network.png").is_file()


# ---------------------------------------------------------------------------- lax types (11)


@pytest.mark.parametrize("value", ["true", '"0.5"', "'1'", "[0.5]", "null"])
def test_power_must_be_a_number_not_a_bool_or_text(tmp_path, capsys, value):
    text = Path(TOY).read_text().replace("power: 0.30", f"power: {value}")
    (tmp_path / "s.yaml").write_text(text)
    where = f"s.yaml:{POWER_A}:"
    run_fails(capsys, ["run", str(tmp_path / "s.yaml"), *RUN], where, "states.A.power")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("params.temperature", "true"),
        ("params.temperature", '"0.2"'),
        ("mechanisms.historical_distrust.weight", "false"),
        ("distrust.S.A", '"0.3"'),
        ("replications", "true"),
        ("params.steps", "2.0"),
        ("params.friendship", '"yes"'),
    ],
)
def test_scenario_numbers_and_switches_are_strict(capsys, path, value):
    argv = ["run", TOY, "-q", "-j", "1", "--no-figures", "--set", f"{path}={value}"]
    run_fails(capsys, argv, f"--set: {path}")


def test_a_killed_figure_write_leaves_no_temporary_behind(tmp_path, capsys):
    """A figure write killed mid-way leaves ``figures/.<name>.<random>.tmp``; the next plot (or
    run) into that folder removes hedgesim's own temporaries, and only those."""
    out = tmp_path / "o"
    assert main(["run", TOY, *RUN[:-1], "--out", str(out)]) == 0
    capsys.readouterr()
    debris = out / "figures" / ".network.png.k2j4h5g6.tmp"
    debris.write_bytes(b"half a PNG")
    mine = out / "figures" / ".my_editor_swap.tmp"
    mine.write_bytes(b"the user's")
    assert main(["plot", str(out), "--kind", "timeline"]) == 0
    capsys.readouterr()
    assert not debris.exists() and mine.read_bytes() == b"the user's"
