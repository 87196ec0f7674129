"""The architecture as the code has it: the import graph of ``sim`` has no cycle, and its floors
(docs/ARCHITECTURE.md) stay few; no module grows past ~500 lines without saying why.

The graph is computed from the source (``ast``), every ``import`` and ``from ... import`` of a
module, at module level or inside a function (a deferred import is still a dependency), except
those under ``if TYPE_CHECKING:`` (annotations only, never run). A module's floor is 0 when it
imports nothing of ``sim``, else one more than the highest floor it imports.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

SIM = Path(__file__).resolve().parents[1] / "sim"
MAX_FLOORS = 8
MAX_LINES = 500


def _modules() -> dict[str, Path]:
    out = {}
    for path in SIM.rglob("*.py"):
        if path.is_relative_to(SIM / "examples"):
            continue
        parts = list(path.relative_to(SIM.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


MODULES = _modules()


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_of(name: str) -> set[str]:
    """The modules of ``sim`` that ``name`` imports (at run time)."""
    tree = ast.parse(MODULES[name].read_text())
    skip = {id(n) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node)
            for n in ast.walk(node) if n is not node}  # fmt: skip
    package = name if MODULES[name].name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                base = f"{base}.{node.module}" if node.module else base
            targets = [f"{base}.{a.name}" for a in node.names] + [base]
        else:
            continue
        for t in targets:
            while t and t not in MODULES:  # ``from sim.x import name``: the module sim.x
                t = t.rpartition(".")[0]
            if t and t != name and t in MODULES:
                out.add(t)
    # importing sim.a.b runs sim/__init__.py and sim/a/__init__.py first: not a dependency of
    # the importing module's code, so they are not edges (sim's façade imports lazily anyway)
    return {t for t in out if t != "sim" or name == "sim"}


GRAPH = {m: imports_of(m) for m in MODULES}


def _cycle() -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(GRAPH[m]):
            if state.get(d) == 1:
                return [*stack[stack.index(d) :], d]
            if d not in state and (found := visit(d)):
                return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(GRAPH):
        if m not in state and (found := visit(m)):
            return found
    return None


@cache
def floor(m: str) -> int:
    return 1 + max((floor(d) for d in GRAPH[m]), default=-1)


def test_the_graph_is_read_from_the_source() -> None:
    """The walk finds what the code imports: edges that must exist do."""
    assert "sim.model.dynamics" in GRAPH["sim.model.lockstep"]
    assert "sim.model.decision" in GRAPH["sim.model.dynamics"]
    assert "sim.experiments.run" in GRAPH["sim.cli.run"]  # a deferred import counts
    assert "sim.model.world" not in GRAPH["sim.model.decision"]  # TYPE_CHECKING only
    assert floor("sim.errors") == 0 and floor("sim.__main__") > floor("sim.cli.run")


def test_no_import_cycle() -> None:
    cycle = _cycle()
    assert cycle is None, " -> ".join(cycle or [])


def test_floors_are_few_and_nothing_low_imports_what_is_above_it() -> None:
    floors = {m: floor(m) for m in GRAPH}
    top = max(floors.values())
    assert top + 1 <= MAX_FLOORS, sorted(floors.items(), key=lambda kv: -kv[1])[:5]
    for m, deps in GRAPH.items():  # true by construction of floors, and the point of them
        assert all(floors[d] < floors[m] for d in deps), m


def test_the_view_sits_on_top_and_only_the_view_needs_solara() -> None:
    """sim.view may use the model, the scenario and the plots; below it, nothing imports it (only
    the command that serves it, deferred), and solara/mesa.visualization stay inside it, so the
    optional extra hedgesim[view] is needed only to view."""
    view = {m for m in GRAPH if m == "sim.view" or m.startswith("sim.view.")}
    assert {"sim.view.app", "sim.view.components", "sim.view.figures", "sim.view.inputs"} <= view
    users = {m for m, deps in GRAPH.items() if deps & view} - view
    assert users <= {"sim.cli.view"}, users
    for m in view:
        allowed = ("sim.view", "sim.model", "sim.scenario", "sim.plots", "sim.errors")
        assert all(d.startswith(allowed) for d in GRAPH[m]), (m, GRAPH[m])
    for m, path in MODULES.items():
        tree = ast.parse(path.read_text())
        names = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names} | {
            n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)
        }
        uses = {x for x in names if x.split(".")[0] == "solara" or x == "mesa.visualization"}
        if m not in view and m != "sim.cli.view":
            assert not uses, (m, uses)


def test_modules_over_500_lines_say_why() -> None:
    long = []
    for m, path in MODULES.items():
        lines = len(path.read_text().splitlines())
        doc = ast.get_docstring(ast.parse(path.read_text())) or ""
        if lines > MAX_LINES and "Why one module" not in doc:
            long.append(f"{m} ({lines} lines)")
    assert not long, f"over {MAX_LINES} lines without 'Why one module' in the docstring: {long}"


if __name__ == "__main__":  # print the floors (docs/ARCHITECTURE.md draws them)
    by_floor: dict[int, list[str]] = {}
    for m in GRAPH:
        by_floor.setdefault(floor(m), []).append(m)
    for f in sorted(by_floor):
        print(f, " ".join(sorted(by_floor[f])))
