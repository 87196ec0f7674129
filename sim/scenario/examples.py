"""The example scenarios shipped with hedgesim (``hedgesim examples``).

The repository's ``scenarios/`` folder is the package's ``sim/examples`` (a link in the source
tree, files in a wheel), so an installed hedgesim has them too: ``hedgesim examples --copy DIR``
puts them where a user can run and edit them. Sweep files name their scenario relative to
themselves (``scenario: ../iran_2021.yaml``), so the folder is copied as it is.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from sim.errors import InputError
from sim.results.atomic import write_bytes


def examples_dir() -> Path:
    """The folder of shipped examples (scenarios, and their sweeps in ``sweeps/``)."""
    return Path(str(resources.files("sim") / "examples"))


def examples() -> list[Path]:
    """Every shipped example file, scenarios first, then sweeps."""
    root = examples_dir()
    return sorted(root.glob("*.yaml")) + sorted((root / "sweeps").glob("*.yaml"))


def copy_examples(dest: str | Path) -> list[Path]:
    """Copy the examples into ``dest`` (created if needed), keeping their layout.

    A file already there with the same content is left as it is; one with other content is
    never replaced (InputError before anything is copied).
    """
    dest = Path(dest)
    root = examples_dir()
    plan = [(src, dest / src.relative_to(root)) for src in examples()]
    clash = [
        t for s, t in plan if t.exists() and (not t.is_file() or t.read_bytes() != s.read_bytes())
    ]
    if clash:
        raise InputError.plain(
            str(clash[0]),
            "exists and differs from the shipped example: not replaced (copy into another folder)",
        )
    written = []
    for src, target in plan:
        if target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        write_bytes(target, src.read_bytes())
        written.append(target)
    return written
