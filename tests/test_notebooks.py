"""The notebooks are committed clean: valid nbformat v4, no outputs, one `parameters` cell.

Why: outputs in a committed notebook are stale numbers that disagree with the code the moment
the model changes, they bloat diffs, and they can leak local paths. The `parameters` cell
(papermill convention) is where the sizes live, so that CI can run every notebook small
(``HEDGESIM_NOTEBOOK_SIZE=small``) while a reader gets full sizes. Executing the notebooks is not
done here: ``make test`` runs them with nbmake.
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
EXPECTED = {
    "01_iran_scenario.ipynb",
    "02_sanctions_vs_distrust.ipynb",
    "03_what_drives_non_alignment.ipynb",
}
SIZE_VARIABLE = "HEDGESIM_NOTEBOOK_SIZE"


def _ids(paths: list[Path]) -> list[str]:
    return [p.name for p in paths]


def test_the_notebooks_exist() -> None:
    missing = EXPECTED - {p.name for p in NOTEBOOKS}
    assert not missing, f"missing notebooks in {NOTEBOOKS_DIR}: {sorted(missing)}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_valid_nbformat_v4(path: Path) -> None:
    raw = json.loads(path.read_text(encoding="utf-8"))  # plain JSON first: a clear error if not
    assert raw.get("nbformat") == 4, f"{path.name}: nbformat {raw.get('nbformat')}, expected 4"
    nb = nbformat.reads(path.read_text(encoding="utf-8"), as_version=nbformat.NO_CONVERT)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", (
        f"{path.name}: kernelspec must be the default 'python3' (nbmake runs it with the venv)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_committed_without_outputs(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    dirty = [
        f"cell {i} ({cell.get('id', '?')}): "
        + ", ".join(
            what
            for what, bad in (
                ("outputs", bool(cell.get("outputs"))),
                ("execution_count", cell.get("execution_count") is not None),
            )
            if bad
        )
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code"
        and (cell.get("outputs") or cell.get("execution_count") is not None)
    ]
    assert not dirty, (
        f"{path.name} was saved with outputs; clear them before committing "
        f"(in Jupyter: Edit > Clear Outputs of All Cells, then save): {dirty}"
    )


def _parameters_cells(nb: dict) -> list[tuple[int, dict]]:
    return [
        (i, c)
        for i, c in enumerate(nb["cells"])
        if "parameters" in (c.get("metadata", {}).get("tags") or [])
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_exactly_one_parameters_cell(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    cells = _parameters_cells(nb)
    assert len(cells) == 1, (
        f"{path.name}: {len(cells)} cells tagged 'parameters' (cells "
        f"{[i for i, _ in cells]}); expected exactly one"
    )
    _, cell = cells[0]
    assert cell["cell_type"] == "code", f"{path.name}: the parameters cell must be a code cell"
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    assert SIZE_VARIABLE in source, (
        f"{path.name}: the parameters cell must read {SIZE_VARIABLE} so CI can run it small"
    )
