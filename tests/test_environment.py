"""Hostile environments (issue 14, findings 7 and 8): a terminal that cannot show UTF-8, a broken
``MPLBACKEND``, state names that look like TeX, Ctrl-C while hedgesim is still starting. The
results are written and the command says so; nothing ends in a traceback.
"""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sweep_world import write as write_world

from sim.results.read import load_run

ROOT = Path(__file__).resolve().parents[1]
TOY = str(ROOT / "scenarios" / "toy_triangle.yaml")
RUN = ["-r", "3", "--steps", "4", "-q", "-j", "1"]

pytestmark = pytest.mark.filterwarnings("ignore:.*use of fork\\(\\) may lead to deadlocks")


def hedgesim(*argv: str, env: dict[str, str] | None = None, cwd: Path | None = None):
    full = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "LANG"))}
    full.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "sim", *argv],
        capture_output=True,
        env=full,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.parametrize(
    "env",
    [{"PYTHONIOENCODING": "ascii"}, {"LC_ALL": "POSIX", "PYTHONUTF8": "0"}],
    ids=["PYTHONIOENCODING=ascii", "LC_ALL=POSIX"],
)
def test_an_ascii_terminal_gets_ascii_and_the_results(tmp_path, env):
    out = tmp_path / "o"
    r = hedgesim("run", TOY, *RUN, "--ablate", "expanding_options", "--out", str(out), env=env)
    assert r.returncode == 0, r.stderr.decode()
    text = r.stdout.decode("ascii")  # every byte is ASCII
    assert "3 replications x 4 steps" in text and "Wrote" in text
    assert b"Traceback" not in r.stderr
    assert load_run(out).meta["status"] == "complete"
    assert "–" in (out / "summary.txt").read_text(encoding="utf-8")  # files stay UTF-8
    if "LC_ALL" in env:
        return  # the sweep's output goes through the same streams
    spec = write_world(
        tmp_path, "scenario: quad.yaml\nparameters:\n  sanctions.0.level: {values: [0.1]}\n"
    )
    r = hedgesim("sweep", str(spec), "--out", str(tmp_path / "s"), "--dry-run", env=env)
    assert r.returncode == 0 and "1 cells x 100 replications" in r.stdout.decode("ascii")


def test_a_broken_mplbackend_is_ignored(tmp_path, capsys):
    from sim.__main__ import main

    out = tmp_path / "o"
    assert main(["run", TOY, *RUN, "--out", str(out), "--no-figures"]) == 0
    capsys.readouterr()
    r = hedgesim("plot", str(out), "--kind", "network", env={"MPLBACKEND": "nonexistent"})
    assert r.returncode == 0, r.stderr.decode()
    assert (out / "figures" / "network.png").read_bytes().startswith(b"\x89PNG")


def test_state_names_with_tex_characters_are_drawn_as_written(tmp_path, capsys):
    from sim import plots
    from sim.__main__ import main

    text = Path(TOY).read_text().replace("name: Small state", 'name: "A $^^$ B"')
    (tmp_path / "s.yaml").write_text(text)
    out = tmp_path / "o"
    assert main(["run", str(tmp_path / "s.yaml"), *RUN, "--out", str(out)]) == 0
    capsys.readouterr()
    assert (out / "figures" / "timeline_S.png").read_bytes().startswith(b"\x89PNG")
    res = load_run(out)
    fig = plots.plot_timeline(res.states, "S", name="A $^^$ B")
    fig.savefig(io.BytesIO(), format="png")
    titles = [t.get_text() for ax in fig.axes for t in (ax.title, *ax.texts)]
    titles += [t.get_text() for t in fig.texts]
    assert any("A $^^$ B" in t for t in titles), titles


def test_ctrl_c_while_starting_is_one_line(tmp_path):
    """SIGINT at moments spread over start-up (imports, scenario, directory) and the run: always
    one line and status 130 (never a traceback, never death by SIGINT). Only the interpreter's
    own start-up, before hedgesim runs a line, is out of reach."""
    outcomes = []
    for delay in (0.25, 0.45, 0.7, 1.0, 1.4, 1.9):
        proc = subprocess.Popen(
            [sys.executable, "-m", "sim", "run", TOY, "-r", "400", "-j", "1", "-q"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
        assert b"Traceback" not in err, err.decode()
        if proc.returncode == -signal.SIGINT and not err:  # before Python ran a line: no output
            outcomes.append("interpreter start-up")
        elif proc.returncode == 130:
            assert err.decode().strip().splitlines()[-1] == "interrupted", err.decode()
            outcomes.append("interrupted")
        else:
            assert proc.returncode == 0, err.decode()
            outcomes.append("finished")
        subprocess.run(["rm", "-rf", str(tmp_path / "results")], check=True)
    assert outcomes.count("interrupted") >= 5, outcomes


def test_ctrl_c_turned_into_an_import_error_is_still_an_interrupt(monkeypatch, capsys):
    """A C extension that is loading when Ctrl-C arrives (matplotlib's ft2font) raises
    ``ImportError: initialization failed`` chained to the KeyboardInterrupt: that is reported as
    an interrupt (one line, status 130), while an import error with no interrupt behind it is not
    hidden."""
    import sim.cli.run as cli_run
    from sim.__main__ import EXIT_INTERRUPTED, main

    def loading_interrupted(args):
        try:
            raise KeyboardInterrupt
        except KeyboardInterrupt as exc:
            raise ImportError("initialization failed") from exc

    monkeypatch.setattr(cli_run, "cmd_run", loading_interrupted)
    assert main(["run", TOY, *RUN]) == EXIT_INTERRUPTED
    assert capsys.readouterr().err.strip() == "interrupted"

    def broken(args):
        raise ImportError("a real missing module")

    monkeypatch.setattr(cli_run, "cmd_run", broken)
    with pytest.raises(ImportError, match="real missing"):
        main(["run", TOY, *RUN])


def test_ctrl_c_inside_a_weakref_callback_still_stops_the_run(tmp_path):
    """CPython cannot raise an exception from a weakref callback; a Ctrl-C that lands there is
    printed as "Exception ignored ... KeyboardInterrupt" and lost. hedgesim raises the signal
    again, so the command stops with one line and status 130 instead of finishing."""
    code = (
        "import signal, sys, weakref\n"
        "import sim.__main__ as m\n"
        "class T: pass\n"
        "def cb(_):\n"
        "    raise KeyboardInterrupt\n"
        "def interrupted_in_callback(args):\n"
        "    t = T(); r = weakref.ref(t, cb); del t\n"
        "    for _ in range(10**7): pass\n"
        "    return 0\n"
        "import sim.cli.run as run\n"
        "run.cmd_run = interrupted_in_callback\n"
        f"sys.argv = ['hedgesim', 'run', {TOY!r}]\n"
        "m.entry()\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, cwd=tmp_path, timeout=120)
    assert r.returncode == 130, r.stderr.decode()
    assert r.stderr.decode().strip() == "interrupted"
