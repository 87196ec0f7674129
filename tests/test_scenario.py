"""Scenario files: every kind of mistake is reported with its line, column and field path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from sim.errors import InputError, dotted
from sim.experiments.conditions import resolve_ablation
from sim.scenario.load import load_scenario, loads_scenario, parse_override
from sim.scenario.schema import MECHANISMS

ROOT = Path(__file__).resolve().parents[1]

GOOD = """\
name: t
states:
  A: {name: Alpha, power: 0.3}
  B: {name: Beta, power: 0.2}
  C: {name: Gamma, power: 0.1}
rivalry:
  A: {B: 0.8}
focal: [C]
"""


def problems(text: str, overrides=()):
    path = Path(pytest.tmp) / "s.yaml"  # type: ignore[attr-defined]
    path.write_text(textwrap.dedent(text))
    with pytest.raises(InputError) as exc:
        load_scenario(path, list(overrides))
    return exc.value.problems, str(path)


def problem(text: str, overrides=()):
    found, src = problems(text, overrides)
    return found[0], src


@pytest.fixture(autouse=True)
def _tmp(tmp_path):
    pytest.tmp = str(tmp_path)  # type: ignore[attr-defined]


def test_shipped_scenarios_load():
    expected = {
        "iran_2021": (13, ["IRN"]),
        "iran_2021_forecast": (13, ["IRN"]),
        "toy_triangle": (4, ["S"]),
        "europe_1936": (17, None),
    }
    for path in (ROOT / "scenarios").glob("*.yaml"):
        sc = load_scenario(path)
        n, focal = expected[path.stem]
        assert len(sc.states) == n and sc.name == path.stem
        assert focal is None or sc.focal == focal


def test_every_shipped_parameter_line_has_a_comment():
    """Readable scenarios: each number in a shipped scenario says what fact it encodes."""
    import re

    for path in (ROOT / "scenarios").glob("*.yaml"):
        lines = path.read_text().splitlines()
        in_block = False
        for k, line in enumerate(lines, 1):
            if line.startswith("description:"):
                in_block = True
                continue
            if in_block and line.startswith("  "):
                continue
            in_block = False
            code = line.split("#", 1)[0]
            if re.search(r":\s*-?\d", code) or re.search(r"\{[^}]*\d", code):
                assert "#" in line, f"{path.name}:{k} has a number without a comment: {line!r}"


@pytest.mark.parametrize(
    ("text", "line", "path", "needle"),
    [
        (GOOD.replace("power: 0.2", "powr: 0.2"), 4, "states.B.powr", "unknown field"),
        (GOOD.replace("power: 0.2", "power: high"), 4, "states.B.power", "valid number"),
        (GOOD.replace("power: 0.2", "power: 1.5"), 4, "states.B.power", "less than or equal"),
        (GOOD.replace("{B: 0.8}", "{B: 1.8}"), 7, "rivalry.A.B", "between 0 and 1"),
        (GOOD.replace("{B: 0.8}", "{Z: 0.8}"), 7, "rivalry.A.Z", "unknown state id 'Z'"),
        (GOOD.replace("{B: 0.8}", "{A: 0.8}"), 7, "rivalry.A.A", "itself"),
        (GOOD.replace("focal: [C]", "focal: [Q]"), 8, "focal.0", "unknown state id 'Q'"),
        (
            GOOD.replace("  C: {name: Gamma, power: 0.1}", "  B: {name: Gamma, power: 0.1}"),
            5,
            "<root>",
            "duplicate key 'B'",
        ),
        (
            GOOD.replace("  B: {name: Beta, power: 0.2}\n", "  B: {name: Beta}\n"),
            4,
            "states.B.power",
            "required",
        ),
        (GOOD + "params: {temperature: 0}\n", 9, "params.temperature", "greater than 0"),
        (GOOD + "params: {temperature: .nan}\n", 9, "params.temperature", "finite"),
        (
            GOOD + "sanctions:\n  - {name: s, senders: [A], targets: [A], level: 0.5}\n",
            10,
            "sanctions.0",
            "both send and receive",
        ),
        (
            GOOD + "sanctions:\n  - {name: s, senders: [A], targets: [C], level: 0.5, start: 5, "
            "end: 3}\n",
            10,
            "sanctions.0.end",
            "after start",
        ),
        (GOOD + "interests:\n  A: {B: 0.5}\n  B: {A: -0.5}\n", 10, "interests.A.B", "both ways"),
        (GOOD + "ties:\n  A: {B: married}\n", 10, "ties.A.B", "friendship"),
        (GOOD + "x: !!python/object:os.system {}\n", 9, "<root>", "not allowed"),
    ],
)
def test_schema_errors_name_line_and_path(text, line, path, needle):
    found, src = problems(text)
    matching = [p for p in found if dotted(p.path) == path]
    assert matching, [str(p) for p in found]
    p = matching[0]
    assert p.source == src
    assert p.line == line, str(p)
    assert needle in p.message, str(p)
    assert str(p).startswith(f"{src}:{line}:")


def test_all_problems_are_reported_at_once():
    text = GOOD.replace("power: 0.2", "power: 2").replace("power: 0.1", "powr: 0.1")
    path = Path(pytest.tmp) / "s.yaml"  # type: ignore[attr-defined]
    path.write_text(text)
    with pytest.raises(InputError) as exc:
        load_scenario(path)
    paths = {dotted(p.path) for p in exc.value.problems}
    assert {"states.B.power", "states.C.powr", "states.C.power"} <= paths


def test_empty_and_non_mapping_documents():
    for text, needle in [("", "empty"), ("- 1\n- 2\n", "mapping"), ("\x00\x01", "binary")]:
        p, _ = problem(text)
        assert needle in p.message


def test_override_paths_and_values():
    path = Path(pytest.tmp) / "s.yaml"  # type: ignore[attr-defined]
    path.write_text(GOOD)
    texts = ["distrust.C.A=0.4", "states.A.preferences.autonomy=2", "params.temperature=0.3"]
    sc = load_scenario(path, [parse_override(o) for o in texts])
    assert sc.distrust["C"]["A"] == 0.4 and sc.states["A"].preferences.autonomy == 2
    with pytest.raises(InputError) as exc:
        load_scenario(path, [parse_override("params.temprature=0.3")])
    assert exc.value.problems[0].source == "--set"
    assert "params.temprature" in str(exc.value) and "unknown field" in str(exc.value)
    with pytest.raises(InputError, match="PATH=VALUE"):
        parse_override("params.temperature")
    with pytest.raises(InputError, match="no item 3"):
        load_scenario(path, [parse_override("focal.3=A")])


def test_list_items_by_name_mean_the_same_item_whatever_their_order():
    """``sanctions.<name>.level`` addresses a regime by its name: the same scenario as its index
    in the shipped order, still that regime after the list is reversed, and an unknown name is an
    error at the path that lists the names."""
    iran = ROOT / "scenarios" / "iran_2021.yaml"
    by_index = load_scenario(iran, [parse_override("sanctions.4.level=0.45")])
    by_name = load_scenario(iran, [parse_override("sanctions.US maximum pressure.level=0.45")])
    assert by_name == by_index and by_name.sanctions[4].level == 0.45
    reordered = Path(pytest.tmp) / "reordered.yaml"  # type: ignore[attr-defined]
    doc = yaml.safe_load(iran.read_text())
    doc["sanctions"].reverse()
    reordered.write_text(yaml.safe_dump(doc, sort_keys=False))
    sc = load_scenario(reordered, [parse_override("sanctions.US maximum pressure.level=0.45")])
    assert [r.level for r in sc.sanctions if r.name == "US maximum pressure"] == [0.45]
    moved = len(sc.sanctions) - 1 - 4
    assert sc.sanctions[moved].name == "US maximum pressure"  # moved, and still the one changed
    with pytest.raises(InputError) as exc:
        load_scenario(iran, [parse_override("sanctions.US max pressure.level=0.3")])
    (prob,) = exc.value.problems
    assert prob.source == "--set" and prob.path == ("sanctions", "US max pressure", "level")
    assert "no item named 'US max pressure'" in prob.message
    assert "'US embargo on Iran'" in prob.message
    # a value out of range is reported at the override, as with an index
    with pytest.raises(InputError) as exc:
        load_scenario(iran, [parse_override("sanctions.US maximum pressure.level=1.5")])
    assert [p.source for p in exc.value.problems] == ["--set"]
    assert "less than or equal to 1" in str(exc.value)
    # lists whose items have no names are addressed by position only
    path = Path(pytest.tmp) / "s.yaml"  # type: ignore[attr-defined]
    path.write_text(GOOD)
    with pytest.raises(InputError, match="addressed by position"):
        load_scenario(path, [parse_override("focal.C=A")])


def test_ablation_specs():
    sc = loads_scenario(GOOD + "counterfactuals:\n  pair: [partner_hedging, historical_distrust]\n")
    assert resolve_ablation(sc, "partner_hedging,historical_distrust") == [
        ("-partner_hedging", ("partner_hedging",)),
        ("-historical_distrust", ("historical_distrust",)),
    ]
    assert resolve_ablation(sc, "partner_hedging+expanding_options") == [
        ("-partner_hedging+expanding_options", ("partner_hedging", "expanding_options"))
    ]
    assert resolve_ablation(sc, "pair") == [("-pair", ("partner_hedging", "historical_distrust"))]
    assert len(resolve_ablation(sc, "all")) == len(MECHANISMS) + 1
    with pytest.raises(InputError, match="unknown factor 'nope'"):
        resolve_ablation(sc, "nope")


def test_per_state_ablation_zeroes_only_that_states_sensitivity():
    from sim.experiments.conditions import ablate

    sc = loads_scenario(
        GOOD + "counterfactuals:\n  c_only: [partner_hedging@C, expanding_options@C]\n"
    )
    assert resolve_ablation(sc, "partner_hedging@C") == [
        ("-partner_hedging@C", ("partner_hedging@C",))
    ]
    off = ablate(sc, resolve_ablation(sc, "c_only")[0][1])
    assert off.states["C"].preferences.hedging == 0 and off.states["C"].preferences.options == 0
    assert off.states["A"].preferences.hedging == 1 and off.mechanisms.partner_hedging.enabled
    with pytest.raises(InputError, match="no per-state switch"):
        resolve_ablation(sc, "sanctions_pressure@C")
    with pytest.raises(InputError, match="unknown state id 'Q'"):
        resolve_ablation(sc, "partner_hedging@Q")
    with pytest.raises(InputError, match=r"counterfactuals\.bad\.0"):
        loads_scenario(GOOD + "counterfactuals:\n  bad: [sanctions_pressure@C]\n")
