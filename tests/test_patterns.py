"""The pattern suite (validation/patterns/, `hedgesim validate`): every stylized fact passes with
the schema's defaults at the size the suite reports, and the harness judges what it claims.

The suite runs in full here (22 checks, a few seconds): a change to the rule that breaks a
pattern fails CI instead of quietly changing the table in docs/VALIDATION.md.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from sim.__main__ import main
from sim.errors import InputError
from sim.validation.patterns import Measure, Runs, evaluate, load_pattern, outcome, pattern_files

ROOT = Path(__file__).resolve().parents[1]
PATTERNS = ROOT / "validation" / "patterns"


@pytest.mark.parametrize("path", pattern_files([PATTERNS]), ids=lambda p: p.stem)
def test_each_pattern_passes_with_the_defaults(path):
    pattern = load_pattern(path)
    assert "mechanisms" not in path.read_text().split("\nname:")[1]  # no per-pattern tuning
    for result in evaluate(pattern):
        assert result.passed, f"{result.pattern}: {result.check} {result.share:.2f}"


def test_validate_prints_the_table_and_exits_1_on_a_failure(capsys, tmp_path):
    assert main(["validate", "-q", str(PATTERNS / "balancing.yaml")]) == 0
    out = capsys.readouterr().out
    assert "balancing" in out and "pass" in out and "3 of 3 checks pass" in out
    # the same world with security switched off cannot balance: the check fails, exit 1
    assert (
        main(
            [
                "validate",
                "-q",
                str(PATTERNS / "balancing.yaml"),
                "--set",
                "mechanisms.security.enabled=false",
            ]
        )
        == 1
    )
    assert "FAIL" in capsys.readouterr().out


def test_a_bad_pattern_file_is_one_located_line(tmp_path, capsys):
    text = (PATTERNS / "balancing.yaml").read_text().replace("kind: tie", "kind: knot", 1)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text)
    with pytest.raises(InputError) as exc:
        load_pattern(bad)
    (problem,) = exc.value.problems
    assert problem.path[:3] == ("pattern", "checks", 0) and problem.line is not None
    assert main(["validate", str(bad)]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_outcomes_on_constructed_ties():
    # two replications, three recorded steps, three states: a-b allied at steps 1-2 in run 0
    ties = np.zeros((2, 3, 3, 3), dtype=np.int8)
    ties[0, 1:, 0, 1] = ties[0, 1:, 1, 0] = 2
    ties[1, 1, 0, 1] = ties[1, 1, 1, 0] = 1
    runs = Runs(
        steps=np.array([0, 1, 2]),
        ties=ties,
        distrust=np.zeros((2, 3, 3)),
        rivalry=[np.zeros((3, 3))] * 3,
        threshold=0.5,
        index={"a": 0, "b": 1, "c": 2},
    )
    ally = {"kind": "tie", "a": "a", "b": "b", "level": "alliance"}
    assert outcome(runs, Measure(**ally)).tolist() == [True, False]
    assert outcome(runs, Measure(**ally, when="always")).tolist() == [True, False]
    assert outcome(runs, Measure(**ally, when="always", start=0)).tolist() == [False, False]
    assert outcome(runs, Measure(**{**ally, "level": "tie"}, when="ever")).tolist() == [True, True]
    assert outcome(runs, Measure(kind="any_alliance", when="ever")).tolist() == [True, False]
    status = Measure(kind="status", a="c", status="isolated")
    assert outcome(runs, status).tolist() == [True, True]
