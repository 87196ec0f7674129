"""hedgesim as people install it: a wheel built from this tree, installed into a fresh virtual
environment, runs a shipped example from outside the repository.

The venv sees this environment's packages (a ``.pth`` file) so that the dependencies are there
without a network; the wheel itself is installed with ``--no-index --no-deps``, so the test
fails if the wheel lacks a module, the examples or the data it needs. ``hedgesim --version`` and
the run's ``run.json`` must name the same version.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """A venv with the wheel built from this tree; its bin directory."""
    pytest.importorskip("build")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"  # a copy of what the package is made of: the build leaves the tree clean
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        src.mkdir(exist_ok=True)
        shutil.copy(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    shutil.copytree(ROOT / "sim", src / "sim", symlinks=True, ignore=ignore)
    shutil.copytree(ROOT / "scenarios", src / "scenarios", ignore=ignore)
    for shipped in ("patterns", "estimates", "targets"):  # sim/validation links to these
        part = Path("validation", shipped)
        shutil.copytree(ROOT / part, src / part, ignore=ignore)
    dist = tmp / "dist"
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = dist.glob("hedgesim-*.whl")
    env = tmp / "venv"
    venv.EnvBuilder(with_pip=False).create(env)
    # the dependencies: this environment's packages, after the venv's own (where the wheel goes);
    # a path added by a .pth file does not run that directory's .pth files, so this tree's
    # editable install stays out
    site = next((env / "lib").glob("python*/site-packages"))
    deps = [p for p in sys.path if p.endswith("site-packages") and Path(p).is_dir()]
    (site / "hedgesim_test_deps.pth").write_text("\n".join(deps) + "\n")
    pip = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(env / "bin" / "python"), "install",
         "--no-index", "--no-deps", "--no-build-isolation", "--quiet", str(wheel)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert pip.returncode == 0, pip.stderr[-3000:]
    return env / "bin"


def test_the_wheel_runs_a_shipped_example_outside_the_repository(installed, tmp_path) -> None:
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {"PATH": f"{installed}:/usr/bin:/bin", "HOME": str(tmp_path)}

    def hedgesim(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(installed / "hedgesim"), *args],
            cwd=work,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )

    where = subprocess.run(
        [str(installed / "python"), "-c", "import sim; print(sim.__file__)"],
        cwd=work, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert str(ROOT) not in where.stdout and "site-packages" in where.stdout, where.stdout
    version = hedgesim("--version")
    assert version.returncode == 0, version.stderr
    copied = hedgesim("examples", "--copy", "examples")
    assert copied.returncode == 0, copied.stderr
    assert (work / "examples" / "toy_triangle.yaml").is_file()
    assert (work / "examples" / "sweeps" / "iran_sobol.yaml").is_file()
    run = hedgesim(
        "run", "examples/toy_triangle.yaml", "-r", "4", "--steps", "12", "-j", "1", "-q",
        "--out", "toy", "--no-figures",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Small state (S), baseline, 4 runs" in run.stdout
    meta = json.loads((work / "toy" / "run.json").read_text())
    assert version.stdout.split() == ["hedgesim", meta["versions"]["hedgesim"]]
    assert meta["status"] == "complete" and (work / "toy" / "states.parquet").is_file()
    # the pattern suite ships with the wheel: `hedgesim validate` runs all of it
    shipped = sorted(p.stem for p in (ROOT / "validation" / "patterns").glob("*.yaml"))
    validate = hedgesim("validate")
    assert validate.returncode == 0, validate.stdout[-2000:] + validate.stderr[-2000:]
    assert f"({len(shipped)} patterns in" in validate.stdout
    # so do the estimates (--ensemble, --defaults estimated) and the held-out tests' targets
    ensemble = hedgesim(
        "run", "examples/toy_triangle.yaml", "--ensemble", "2", "-r", "2", "--steps", "6",
        "-j", "1", "-q", "--out", "toy_ensemble",
    )  # fmt: skip
    assert ensemble.returncode == 0, ensemble.stderr
    assert (work / "toy_ensemble" / "ensemble.json").is_file()
    files = subprocess.run(
        [str(installed / "python"), "-c",
         "from sim.validation import heldout, forecast\n"
         "paths = (heldout.IRAN_SCENARIO, heldout.IRAN_TARGETS, forecast.FORECAST_SCENARIO,"
         " forecast.FORECAST_TARGETS)\n"
         "print(all(p.is_file() and 'site-packages' in str(p) for p in paths))"],
        cwd=work, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert files.stdout.strip() == "True", files.stdout + files.stderr
