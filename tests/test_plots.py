"""Figures must show the numbers in the tables: tests read the drawn artists back.

Why assert on artists, not files: a figure that is produced but wrong (a shifted share, a swapped
triangle, an interval from the wrong row) is worse than no figure. Inputs are small hand-built
tables whose expected shares can be counted by eye.
"""

from __future__ import annotations

import os

os.environ["MPLBACKEND"] = "Agg"  # before matplotlib is imported: no GUI backend in tests

import argparse
import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import matplotlib as mpl
import numpy as np
import pandas as pd
import pytest
from matplotlib.collections import LineCollection, PolyCollection, QuadMesh
from matplotlib.container import BarContainer, ErrorbarContainer
from matplotlib.contour import ContourSet
from matplotlib.figure import Figure
from matplotlib.image import AxesImage

from sim import plots
from sim.cli import plot as cli_plot
from sim.errors import InputError
from sim.model.metrics import STATUSES
from sim.plots import figures
from sim.plots.style import STATUS_LABELS
from sim.results.outdir import LEDGER

IDS = ["A", "B", "C", "D", "E"]
NAMES = ["Alpha", "Bravo", "Charlie", "Delta", "Echo"]


# ----------------------------------------------------------------------------------- fixtures


def make_world() -> dict[str, Any]:
    """Camp {A, B} against camp {C, D}; E has no rivals (the would-be hedger)."""
    r = np.zeros((5, 5))
    for a, b, v in (("A", "C", 0.9), ("A", "D", 0.8), ("B", "C", 0.7), ("B", "D", 0.6)):
        i, j = IDS.index(a), IDS.index(b)
        r[i, j] = r[j, i] = v
    return {
        "ids": IDS,
        "names": NAMES,
        "power": [0.4, 0.1, 0.3, 0.15, 0.05],
        "rivalry": r.tolist(),
        "focal": ["E"],
    }


def make_ties() -> pd.DataFrame:
    """Four baseline replications; replication 3 ends with no tie, so it has no row at all."""
    rows = [
        ("baseline", 0, "A", "B", "alliance"),
        ("baseline", 0, "C", "D", "alliance"),
        ("baseline", 0, "A", "E", "friendship"),
        ("baseline", 0, "C", "E", "friendship"),
        ("baseline", 1, "A", "B", "alliance"),
        ("baseline", 1, "C", "D", "friendship"),
        ("baseline", 1, "A", "E", "friendship"),
        ("baseline", 2, "A", "B", "friendship"),
        ("baseline", 2, "C", "E", "friendship"),
        ("-x", 0, "A", "E", "alliance"),
    ]
    return pd.DataFrame(rows, columns=["condition", "replication", "a", "b", "level"])


# Shares over the 4 baseline replications, by pair.
ALLY = {("A", "B"): 2 / 4, ("C", "D"): 1 / 4}
FRIEND = {("A", "B"): 1 / 4, ("C", "D"): 1 / 4, ("A", "E"): 2 / 4, ("C", "E"): 2 / 4}

# Echo's status in 4 replications at steps 0, 1, 2.
E_STATUS = {
    0: ["isolated"] * 4,
    1: ["aligned", "non_aligned", "non_aligned", "one_camp"],
    2: ["non_aligned", "non_aligned", "non_aligned", "aligned"],
}
E_ALLIANCES = {0: [0, 0, 0, 0], 1: [1, 0, 0, 0], 2: [0, 0, 0, 2]}
E_FRIENDS = {0: [0, 0, 0, 0], 1: [0, 2, 3, 1], 2: [2, 4, 2, 1]}


def make_states() -> pd.DataFrame:
    rows = []
    for step, statuses in E_STATUS.items():
        for rep, st in enumerate(statuses):
            rows.append(
                ("baseline", rep, step, "E", st, E_ALLIANCES[step][rep], E_FRIENDS[step][rep], 0.5)
            )
            rows.append(("baseline", rep, step, "A", "aligned", 1, 0, 0.0))
            rows.append(("-x", rep, step, "E", "aligned", 1, 0, 0.0))
    cols = ["condition", "replication", "step", "state", "status", "n_alliances"]
    return pd.DataFrame(rows, columns=[*cols, "n_friendships", "hedging_index"])


SUMMARY_ROWS = [  # condition, share, lo, hi of non_aligned
    ("-x", 0.2, 0.1, 0.38),
    ("baseline", 0.6, 0.4, 0.78),
    ("-y+z", 0.55, 0.35, 0.73),
]


def make_summary() -> pd.DataFrame:
    rows = []
    for cond, share, lo, hi in SUMMARY_ROWS:
        row: dict[str, Any] = {"condition": cond, "state": "E", "name": "Echo", "n": 40}
        for status in STATUSES:
            s, low, high = (share, lo, hi) if status == "non_aligned" else (0.1, 0.05, 0.2)
            row |= {
                f"k_{status}": round(s * 40),
                f"share_{status}": s,
                f"lo_{status}": low,
                f"hi_{status}": high,
            }
        rows.append(row)
    return pd.DataFrame(rows)


def make_runs() -> pd.DataFrame:
    """A 3 x 2 grid faceted by a third parameter, 3 replications per cell."""
    rows = []
    run = 0
    for f in ("lo", "hi"):
        for x in (0.0, 1.0, 2.0):
            for y in (10.0, 20.0):
                for rep in range(3):
                    # Non-aligned in (x + rep) % 3 < x-dependent count: shares 0, 1/3, 2/3, 1 ...
                    hit = int(rep < x + (f == "hi") + (y == 20.0))
                    rows.append(
                        {
                            "run_id": f"r{run}",
                            "run_index": run,
                            "cell": run // 3,
                            "replication": rep,
                            "seed": 1000 + run,
                            "params.w": x,
                            "params.t": y,
                            "mechanisms.m.level": f,
                            "E.status": "non_aligned" if hit else "aligned",
                            "E.non_aligned": hit,
                            "E.aligned": 1 - hit,
                            "E.n_alliances": 1 - hit,
                            "E.n_friendships": 2,
                            "E.hedging_index": 0.5,
                            "system.n_alliances": 3,
                            "system.share_non_aligned": 0.2,
                        }
                    )
                    run += 1
    return pd.DataFrame(rows)


SOBOL = pd.DataFrame(
    {
        "parameter": ["p.low", "p.high", "p.mid"],
        "S1": [-0.05, 0.4, 0.2],
        "S1_conf": [0.08, 0.05, 0.03],
        "ST": [0.1, 0.5, 0.45],
        "ST_conf": [0.04, 0.06, 0.05],
    }
)
MORRIS = pd.DataFrame(
    {
        "parameter": ["p.low", "p.high"],
        "mu_star": [0.05, 0.4],
        "mu_star_conf": [0.02, 0.05],
        "sigma": [0.1, 0.3],
    }
)


def collections_by_gid(fig: Figure, gid: str) -> list[Any]:
    return [c for ax in fig.axes for c in ax.collections if c.get_gid() == gid]


def errorbar_extents(ax: Any) -> dict[float, tuple[float, float]]:
    """Horizontal error-bar extents keyed by their y position."""
    out = {}
    for cont in ax.containers:
        eb = cont if isinstance(cont, ErrorbarContainer) else getattr(cont, "errorbar", None)
        if eb is None:
            continue
        for lc in eb.lines[2]:
            for seg in lc.get_segments():
                out[round(float(seg[0, 1]), 6)] = (float(seg[0, 0]), float(seg[1, 0]))
    return out


# ----------------------------------------------------------------------------------- timeline


def test_timeline_stack_equals_status_shares_per_step() -> None:
    fig = plots.plot_timeline(make_states(), "E", name="Echo")
    status_ax, ties_ax = fig.axes[:2]
    stack = [c for c in status_ax.collections if isinstance(c, PolyCollection)]
    assert len(stack) == 4  # one area per status
    cum = np.zeros(3)
    for k, status in enumerate(STATUSES):
        cum = cum + [E_STATUS[s].count(status) / 4 for s in (0, 1, 2)]
        verts = stack[k].get_paths()[0].vertices
        for step in (0, 1, 2):  # the layer's upper edge passes through the cumulative share
            assert np.isclose(verts, [step, cum[step]]).all(axis=1).any(), (status, step)
        assert mpl.colors.same_color(stack[k].get_facecolor()[0], plots.STATUS_COLOURS[status])
    assert np.allclose(cum, 1.0)
    assert status_ax.get_ylabel() == "share of replications"
    assert status_ax.get_ylim() == (0.0, 1.0)
    assert "Echo" in status_ax.get_title() and "n = 4" in status_ax.get_title()
    legend = [t.get_text() for t in status_ax.get_legend().get_texts()]
    assert legend == [STATUS_LABELS[s] for s in reversed(STATUSES)]  # as stacked

    assert ties_ax.get_xlabel() == "step"
    assert ties_ax.get_ylabel() == "ties of Echo"
    lines = {ln.get_label(): ln for ln in ties_ax.get_lines()}
    assert np.allclose(lines["alliances, mean"].get_ydata(), [0, 0.25, 0.5])
    assert np.allclose(lines["friendships, mean"].get_ydata(), [0, 1.5, 2.25])
    assert lines["alliances, mean"].get_linestyle() == "-"
    assert lines["friendships, mean"].get_linestyle() == "--"
    band = next(c for c in ties_ax.collections if c.get_label().startswith("friendships, 10"))
    ys = band.get_paths()[0].vertices[:, 1]
    q = [np.quantile(E_FRIENDS[s], [0.1, 0.9]) for s in (0, 1, 2)]
    assert np.isclose(ys.min(), min(v[0] for v in q))
    assert np.isclose(ys.max(), max(v[1] for v in q))


def test_timeline_into_given_axes() -> None:
    fig = Figure()
    ax = fig.subplots()
    assert plots.plot_timeline(make_states(), "E", ax=ax) is fig
    assert len(fig.axes) == 1  # only ax given: no tie counts unless asked
    fig2 = Figure()
    ax2 = fig2.subplots()
    plots.plot_timeline(make_states(), "E", ax=ax2, show_ties=True)
    assert len(fig2.axes) == 2  # a twin axis for the counts
    with pytest.raises(ValueError, match="available"):
        plots.plot_timeline(make_states(), "Z")


# ------------------------------------------------------------------------------------ network


def test_layout_separates_camps_and_is_deterministic() -> None:
    world = make_world()
    pos = plots.camp_layout(world["rivalry"])
    assert np.array_equal(pos, plots.camp_layout(world["rivalry"]))
    assert np.allclose(np.hypot(pos[:, 0], pos[:, 1]), 1.0)
    x = dict(zip(IDS, pos[:, 0], strict=True))
    assert np.sign(x["A"]) == np.sign(x["B"]) == -np.sign(x["C"]) == -np.sign(x["D"]) != 0
    assert abs(x["E"]) < 1e-9  # the state without rivals sits between the camps
    order = [IDS[i] for i in plots.camp_order(world["rivalry"])]
    assert order.index("E") == 2 and {order[0], order[1]} in ({"A", "B"}, {"C", "D"})
    assert np.array_equal(plots.camp_layout(np.zeros((3, 3))), plots.camp_layout(np.zeros((3, 3))))


def test_tie_shares_count_replications_without_ties() -> None:
    ally, friend, n = plots.tie_shares(make_ties(), IDS, n_replications=4)
    assert n == 4
    for (a, b), s in ALLY.items():
        assert ally[IDS.index(a), IDS.index(b)] == ally[IDS.index(b), IDS.index(a)] == s
    for (a, b), s in FRIEND.items():
        assert friend[IDS.index(a), IDS.index(b)] == s
    assert ally.sum() == 2 * sum(ALLY.values())
    _, _, inferred = plots.tie_shares(make_ties(), IDS)
    assert inferred == 3  # the replication without ties is invisible without n_replications


def _edges(fig: Figure, level: str) -> LineCollection:
    (lc,) = collections_by_gid(fig, level)
    return lc


def test_network_single_replication_solid_alliances_dashed_friendships() -> None:
    world = make_world()
    fig = plots.plot_network(make_ties(), world, replication=0)
    ally, friend = _edges(fig, "alliance"), _edges(fig, "friendship")
    assert len(ally.get_segments()) == 2 and len(friend.get_segments()) == 2
    assert ally.get_linestyle()[0][1] is None  # solid
    assert friend.get_linestyle()[0][1] is not None  # dashed
    assert np.min(ally.get_linewidths()) > np.max(friend.get_linewidths())
    pos = plots.camp_layout(world["rivalry"])
    ends = {tuple(sorted(map(tuple, np.round(s, 9)))) for s in ally.get_segments()}
    for a, b in (("A", "B"), ("C", "D")):
        pa, pb = pos[IDS.index(a)], pos[IDS.index(b)]
        assert tuple(sorted([tuple(np.round(pa, 9)), tuple(np.round(pb, 9))])) in ends
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert set(NAMES) <= texts
    (nodes,) = collections_by_gid(fig, "states")
    sizes = nodes.get_sizes()
    assert list(np.argsort(sizes)) == list(np.argsort(world["power"]))  # area grows with power
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[:2] == ["alliance", "friendship"]


def test_network_aggregated_weights_are_shares() -> None:
    fig = plots.plot_network(make_ties(), make_world(), n_replications=4)
    ally, friend = _edges(fig, "alliance"), _edges(fig, "friendship")
    # Dominant level: A-B alliance (2/4 > 1/4), C-D tie 1/4 = 1/4 -> alliance; A-E, C-E friendship.
    assert len(ally.get_segments()) == 2 and len(friend.get_segments()) == 2
    assert np.allclose(sorted(ally.get_colors()[:, 3]), sorted(0.2 + 0.8 * np.array([0.5, 0.25])))
    assert np.allclose(friend.get_colors()[:, 3], 0.2 + 0.8 * 0.5)
    assert "4 replications" in fig.axes[0].get_title()
    both = plots.plot_network(make_ties(), make_world(), n_replications=4, both=True)
    assert len(_edges(both, "alliance").get_segments()) == 2
    assert len(_edges(both, "friendship").get_segments()) == 4
    rare = plots.plot_network(make_ties(), make_world(), n_replications=4, min_share=0.3)
    assert len(_edges(rare, "alliance").get_segments()) == 1  # C-D (1/4) dropped
    assert len(_edges(rare, "friendship").get_segments()) == 2


# ---------------------------------------------------------------------------- partner matrix


def test_partner_matrix_cells_equal_shares() -> None:
    fig = plots.plot_partners(make_ties(), make_world(), n_replications=4, order=IDS)
    ax = fig.axes[0]
    images = {im.get_gid(): im for im in ax.images if isinstance(im, AxesImage)}
    upper = images["alliance"].get_array()
    lower = images["friendship"].get_array()
    for i, a in enumerate(IDS):
        for j, b in enumerate(IDS):
            if i < j:
                assert upper[i, j] == ALLY.get((a, b), 0.0) and lower.mask[i, j]
                assert lower[j, i] == FRIEND.get((a, b), 0.0) and upper.mask[j, i]
    assert upper.mask.diagonal().all() and lower.mask.diagonal().all()
    assert images["alliance"].get_clim() == (0.0, 1.0)
    assert [t.get_text() for t in ax.get_yticklabels()] == NAMES
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    annotations = [t.get_text() for t in ax.texts]
    assert len(annotations) == 20 and annotations.count("50%") == 3  # A-B ally, A-E, C-E friend
    labels = {cax.get_ylabel() for cax in fig.axes[1:]}
    assert labels == {"alliance share (upper triangle)", "friendship share (lower triangle)"}


def test_partner_matrix_default_order_groups_camps() -> None:
    fig = plots.plot_partners(make_ties(), make_world(), n_replications=4)
    labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
    assert labels[2] == "Echo"
    assert {labels[0], labels[1]} in ({"Alpha", "Bravo"}, {"Charlie", "Delta"})


# --------------------------------------------------------------------------- counterfactuals


def test_counterfactual_intervals_and_baseline_line() -> None:
    fig = plots.plot_counterfactuals(make_summary(), "E")
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == ["baseline", "without x", "without y + z"]  # baseline first
    expected = {0: (0.4, 0.78), 1: (0.1, 0.38), 2: (0.35, 0.73)}
    extents = errorbar_extents(ax)
    assert extents.keys() == expected.keys()
    for y, (lo, hi) in expected.items():
        assert np.allclose(extents[y], (lo, hi))
    vlines = [ln for ln in ax.get_lines() if list(ln.get_xdata()) == [0.6, 0.6]]
    assert len(vlines) == 1
    assert "non-aligned" in ax.get_xlabel() and "95%" in ax.get_xlabel()
    assert ax.get_xlim() == (0.0, 1.0)
    assert "Echo" in ax.get_title()
    assert {t.get_text() for t in ax.texts} == {"24/40", "8/40", "22/40"}


def test_counterfactual_needs_state_when_ambiguous() -> None:
    two = pd.concat([make_summary(), make_summary().assign(state="A")])
    with pytest.raises(ValueError, match="several states"):
        plots.plot_counterfactuals(two)
    fig = plots.plot_counterfactuals(make_summary(), status="aligned")
    assert "aligned" in fig.axes[0].get_xlabel()


# ----------------------------------------------------------------------------- phase diagram


def test_phase_cells_are_cell_means_with_50pc_contour() -> None:
    runs = make_runs()
    fig = plots.plot_phase(runs, "params.w", "params.t", state="E", facet="mechanisms.m.level")
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_xlabel()]
    assert len(panels) == 2
    for ax, level in zip(panels, ("hi", "lo"), strict=True):  # facets sorted
        assert ax.get_title() == f"mechanisms.m.level = {level}"
        assert ax.get_xlabel() == "params.w" and ax.get_ylabel() == "params.t"
        (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
        sub = runs[runs["mechanisms.m.level"] == level]
        want = sub.groupby(["params.t", "params.w"])["E.non_aligned"].mean().unstack()
        assert np.allclose(np.asarray(mesh.get_array()).reshape(2, 3), want.to_numpy())
        coords = mesh.get_coordinates()
        assert np.allclose(coords[0, :, 0], [-0.5, 0.5, 1.5, 2.5])
        assert np.allclose(coords[:, 0, 1], [5.0, 15.0, 25.0])
        (cs,) = [c for c in ax.collections if isinstance(c, ContourSet)]
        assert list(cs.levels) == [0.5]
        assert any(len(seg) for seg in cs.allsegs[0])  # the boundary is actually drawn
        assert [t.get_text() for t in ax.get_xticklabels()] == ["0", "1", "2"]
    assert "runs per cell" in fig.get_suptitle() and "3 runs" in fig.get_suptitle()


def test_phase_single_panel_pooled_and_binned() -> None:
    runs = make_runs()
    fig = Figure()
    ax = fig.subplots()
    out = plots.plot_phase(runs, "params.w", "params.t", ax=ax, pooled=["mechanisms.m.level"])
    assert out is fig
    (mesh,) = [c for c in ax.collections if isinstance(c, QuadMesh)]
    want = runs.groupby(["params.t", "params.w"])["E.non_aligned"].mean().unstack()
    assert np.allclose(np.asarray(mesh.get_array()).reshape(2, 3), want.to_numpy())
    assert "pooled over mechanisms.m.level" in ax.get_title()
    rng = np.random.default_rng(0)
    sampled = pd.DataFrame({"u": rng.random(200), "v": rng.random(200)})
    sampled["E.non_aligned"] = (sampled["u"] > sampled["v"]).astype(int)
    fig = plots.plot_phase(sampled, "u", "v", bins=4)
    (mesh,) = [c for c in fig.axes[0].collections if isinstance(c, QuadMesh)]
    assert np.asarray(mesh.get_array()).size == 16
    assert fig.axes[0].get_xlabel() == "u (binned)"
    with pytest.raises(ValueError, match="several panels"):
        plots.plot_phase(runs, "params.w", "params.t", facet="mechanisms.m.level", ax=ax)


# ------------------------------------------------------------------------------- sensitivity


def test_sobol_bars_and_intervals() -> None:
    fig = plots.plot_sensitivity(SOBOL)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["p.high", "p.mid", "p.low"]  # by ST
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert [b.get_label() for b in bars] == ["S1 (first order)", "ST (total)"]
    ordered = SOBOL.set_index("parameter").loc[["p.high", "p.mid", "p.low"]]
    for bar, col in zip(bars, ("S1", "ST"), strict=True):
        widths = [p.get_width() for p in bar.patches]
        assert np.allclose(widths, ordered[col])
        extents = sorted(
            (s[0, 0], s[1, 0]) for lc in bar.errorbar.lines[2] for s in lc.get_segments()
        )
        want = sorted(
            zip(
                ordered[col] - ordered[f"{col}_conf"],
                ordered[col] + ordered[f"{col}_conf"],
                strict=True,
            )
        )
        assert np.allclose(extents, want)
    assert "Sobol" in ax.get_title() and "95%" in ax.get_xlabel()


def test_morris_bars_and_bad_input() -> None:
    fig = plots.plot_sensitivity(MORRIS.set_index("parameter"))  # parameter as the index
    ax = fig.axes[0]
    bars = [c for c in ax.containers if isinstance(c, BarContainer)]
    assert len(bars) == 2
    assert np.allclose([p.get_width() for p in bars[0].patches], [0.4, 0.05])
    assert np.allclose([p.get_width() for p in bars[1].patches], [0.3, 0.1])
    (lc,) = bars[0].errorbar.lines[2]
    assert np.allclose(sorted(s[1, 0] for s in lc.get_segments()), [0.07, 0.45])
    assert bars[1].errorbar is None  # sigma has no interval
    with pytest.raises(ValueError, match="mu_star"):
        plots.plot_sensitivity(pd.DataFrame({"parameter": ["a"], "x": [1]}))


# ---------------------------------------------------------------------- style, state, saving


def _all_figures() -> list[Figure]:
    return [
        plots.plot_timeline(make_states(), "E"),
        plots.plot_network(make_ties(), make_world(), n_replications=4),
        plots.plot_partners(make_ties(), make_world(), n_replications=4),
        plots.plot_counterfactuals(make_summary(), "E"),
        plots.plot_phase(make_runs(), "params.w", "params.t", facet="mechanisms.m.level"),
        plots.plot_sensitivity(SOBOL),
    ]


def test_no_global_state_touched(tmp_path: Path) -> None:
    import matplotlib.pyplot as plt  # only to see whether pyplot holds any figure

    before = dict(mpl.rcParams)
    open_before = plt.get_fignums()
    figures = _all_figures()
    plots.save(figures[0], tmp_path / "t.svg")
    assert plt.get_fignums() == open_before
    assert dict(mpl.rcParams) == before
    for fig in figures:
        assert isinstance(fig, Figure)
        for ax in fig.axes:  # every visible data panel is titled or labelled
            if ax.get_visible() and ax.axison and ax.get_label() != "<colorbar>":
                assert ax.get_xlabel() or ax.get_ylabel()


def test_save_formats_atomic_and_reproducible(tmp_path: Path) -> None:
    fig = plots.plot_counterfactuals(make_summary(), "E")
    magic = {"png": b"\x89PNG", "svg": b"<?xml", "pdf": b"%PDF"}
    for ext, head in magic.items():
        path = plots.save(fig, tmp_path / "sub" / f"cf.{ext}")
        assert path.read_bytes().startswith(head)
    w, h = fig.get_size_inches()
    png = (tmp_path / "sub" / "cf.png").read_bytes()
    assert int.from_bytes(png[16:20], "big") == round(w * 150)  # 150 dpi
    assert int.from_bytes(png[20:24], "big") == round(h * 150)
    first = (tmp_path / "sub" / "cf.svg").read_bytes()
    plots.save(fig, tmp_path / "sub" / "cf.svg")
    assert (tmp_path / "sub" / "cf.svg").read_bytes() == first
    assert sorted(p.name for p in (tmp_path / "sub").iterdir()) == ["cf.pdf", "cf.png", "cf.svg"]
    with pytest.raises(ValueError, match="unsupported"):
        plots.save(fig, tmp_path / "cf.jpg")
    assert not (tmp_path / "cf.jpg").exists()


# --------------------------------------------------------------------------------------- CLI


def write_run_dir(path: Path) -> Path:
    path.mkdir(parents=True)
    meta = {"scenario": "toy", "replications": 4, "steps": 2, "world": make_world()}
    (path / "run.json").write_text(json.dumps(meta))
    make_states().to_parquet(path / "states.parquet")
    make_ties().to_parquet(path / "ties.parquet")
    pd.DataFrame({"condition": ["baseline"], "replication": [0], "step": [0]}).to_parquet(
        path / "system.parquet"
    )
    make_summary().to_csv(path / "summary.csv", index=False)
    return path


def fake_load_run(path: Path) -> SimpleNamespace:
    """Stands in for sim.results.read.load_run with the DATA.md layout."""
    return SimpleNamespace(
        system=pd.read_parquet(path / "system.parquet"),
        states=pd.read_parquet(path / "states.parquet"),
        ties=pd.read_parquet(path / "ties.parquet"),
        summary=pd.read_csv(path / "summary.csv"),
        meta=json.loads((path / "run.json").read_text()),
    )


def write_sweep_dir(path: Path) -> Path:
    (path / "runs").mkdir(parents=True)
    (path / "manifest.json").write_text(json.dumps({"design": {"sampler": "grid"}}))
    make_runs().to_parquet(path / "runs" / "part-00000.parquet")
    SOBOL.to_csv(path / "sobol.csv", index=False)
    return path


def fake_load_sweep(path: Path) -> SimpleNamespace:
    """Stands in for sim.results.read.load_sweep: ``runs``, ``manifest``, no warnings."""
    runs = pd.concat(pd.read_parquet(p) for p in sorted((path / "runs").glob("part-*.parquet")))
    manifest = json.loads((path / "manifest.json").read_text())
    return SimpleNamespace(runs=runs, steps=None, manifest=manifest, warnings=[])


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    cli_plot.add_command(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["plot", *argv])
    return args.func(args)


@pytest.fixture
def fake_loaders(monkeypatch: pytest.MonkeyPatch) -> None:
    import sim.results.read

    monkeypatch.setattr(sim.results.read, "load_run", fake_load_run)
    monkeypatch.setattr(sim.results.read, "load_sweep", fake_load_sweep)


def test_cli_run_dir_draws_every_supported_figure(tmp_path: Path, fake_loaders: None) -> None:
    run = write_run_dir(tmp_path / "run")
    assert run_cli([str(run)]) == 0
    made = sorted(p.name for p in (run / "figures").iterdir() if p.name != LEDGER)
    # The names `hedgesim run` uses for its own figures, so re-plotting replaces them.
    assert made == ["counterfactuals_E.png", "network.png", "partners.png", "timeline_E.png"]
    assert all((run / "figures" / m).read_bytes().startswith(b"\x89PNG") for m in made)


def test_cli_run_dir_single_kind_and_errors(tmp_path: Path, fake_loaders: None) -> None:
    run = write_run_dir(tmp_path / "run")
    out = tmp_path / "net.svg"
    assert run_cli([str(run), "--kind", "network", "--out", str(out), "--replication", "0"]) == 0
    assert out.read_bytes().startswith(b"<?xml")
    argv = [str(run), "--kind", "timeline", "--state", "E", "--condition", "x"]  # i.e. "-x"
    assert run_cli([*argv, "--out", str(tmp_path / "d"), "--format", "pdf"]) == 0
    assert [p.name for p in (tmp_path / "d").iterdir() if p.name != LEDGER] == [
        "timeline_E_without-x.pdf"
    ]
    assert json.loads((tmp_path / "d" / LEDGER).read_text())["files"] == [
        "timeline_E_without-x.pdf"
    ]
    with pytest.raises(InputError, match="sweep directory"):
        run_cli([str(run), "--kind", "phase"])
    with pytest.raises(InputError, match="names one file"):
        run_cli([str(run), "--out", str(tmp_path / "all.png")])
    with pytest.raises(InputError, match="not among"):
        run_cli([str(run), "--kind", "timeline", "--state", "Q"])
    with pytest.raises(InputError, match="no rows with state = 'A'"):  # A absent under -x
        run_cli([str(run), "--kind", "timeline", "--state", "A", "--condition", "x"])
    with pytest.raises(InputError, match="not in this run"):
        run_cli([str(run), "--kind", "timeline", "--condition=-nope"])
    with pytest.raises(InputError, match="neither a run"):
        run_cli([str(tmp_path)])
    from sim.__main__ import main

    assert main(["plot", str(tmp_path)]) == 2


def test_cli_sweep_dir(tmp_path: Path, fake_loaders: None) -> None:
    sweep = write_sweep_dir(tmp_path / "sweep")
    runs = make_runs()
    assert figures.swept_parameters(runs) == ["params.w", "params.t", "mechanisms.m.level"]
    manifest = {"design": {"columns": ["params.t", "params.w"]}}
    assert figures.swept_parameters(runs, manifest) == ["params.t", "params.w"]
    assert figures.focal_states(runs) == ["E"]
    assert run_cli([str(sweep)]) == 0  # a grid design: no sensitivity indices to draw
    assert sorted(p.name for p in (sweep / "figures").iterdir() if p.name != LEDGER) == [
        "phase_E.png"
    ]
    argv = [str(sweep), "--kind", "sensitivity", "--indices", str(sweep / "sobol.csv")]
    assert run_cli([*argv, "--out", str(tmp_path / "s.pdf")]) == 0
    assert (tmp_path / "s.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(InputError, match="not Sobol/Morris"):
        run_cli([str(sweep), "--kind", "sensitivity"])
    with pytest.raises(InputError, match="run directory"):
        run_cli([str(sweep), "--kind", "network"])
    with pytest.raises(InputError, match="not a swept parameter"):
        run_cli([str(sweep), "--kind", "phase", "--x", "params.nope"])


def test_cli_run_dir_through_sim_results(tmp_path: Path) -> None:
    """sim.results.read.load_run (categorical columns, checked) feeds the figures of a real run."""
    from sim.__main__ import main

    (tmp_path / "tiny.yaml").write_text(TINY_SCENARIO)
    run = tmp_path / "run"
    argv = ["run", str(tmp_path / "tiny.yaml"), "-r", "3", "-q", "-j", "1", "--no-figures"]
    assert main([*argv, "--out", str(run)]) == 0
    paths = cli_plot.draw(run, figures.Options(kind="partners"))
    assert [p.name for p in paths] == ["partners.png"]
    assert paths[0].read_bytes().startswith(b"\x89PNG")


TINY_SCENARIO = """
name: tiny
states:
  A: {name: Power A, power: 0.30}
  B: {name: Power B, power: 0.25}
  S: {name: Small state, power: 0.04}
rivalry:
  A: {B: 0.8}
params:
  steps: 10
focal: [S]
"""

TINY_MORRIS = """
scenario: scenario.yaml
name: tiny morris
sampler: morris
n: 4
levels: 4
replications: 2
parameters:
  mechanisms.expanding_options.weight: {bounds: [0.0, 1.0]}
  params.temperature: {bounds: [0.05, 0.3]}
"""


def test_cli_real_sweep_phase_and_sensitivity(tmp_path: Path) -> None:
    """End to end: a real (tiny) Morris sweep, its manifest, and the analysis helper's indices."""
    import sim

    (tmp_path / "scenario.yaml").write_text(TINY_SCENARIO)
    (tmp_path / "sweep.yaml").write_text(TINY_MORRIS)
    sim.sweep(tmp_path / "sweep.yaml", tmp_path / "out", workers=1)
    paths = cli_plot.draw(tmp_path / "out", out=tmp_path / "figs")
    assert sorted(p.name for p in paths) == ["phase_S.png", "sensitivity_S.png"]
    for p in paths:  # real PNGs of a real figure, not empty files
        data = p.read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 5_000
        width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
        assert width > 400 and height > 300


# ------------------------------------------------------------------------------ other layouts


def test_sensitivity_long_layout_of_the_analysis_helper() -> None:
    """The analysis's sensitivity writes long rows (state, parameter, index, value, conf, note)."""
    rows = []
    for state, scale in (("E", 1.0), ("A", 0.5)):
        for _, r in SOBOL.iterrows():
            for ix in ("S1", "ST"):
                rows.append((state, r["parameter"], ix, scale * r[ix], r[f"{ix}_conf"], None))
        rows.append((state, "p.low × p.mid", "S2", 0.01, 0.01, None))
    long = pd.DataFrame(rows, columns=["state", "parameter", "index", "value", "conf", "note"])
    wide = plots.sensitivity_table(long, "E")
    assert list(wide["parameter"]) == ["p.low", "p.high", "p.mid"]  # S2 pair dropped
    assert np.allclose(wide["ST_conf"], SOBOL["ST_conf"])
    fig = plots.plot_sensitivity(long, state="A")
    bars = [c for c in fig.axes[0].containers if isinstance(c, BarContainer)]
    assert np.allclose([p.get_width() for p in bars[1].patches], [0.25, 0.225, 0.05])
    with pytest.raises(ValueError, match="several states"):
        plots.plot_sensitivity(long)
    note = "share constant (1) across the design"
    constant = pd.DataFrame(
        [("E", p, ix, np.nan, np.nan, note) for p in ("a", "b") for ix in ("S1", "ST")],
        columns=long.columns,
    )
    fig = plots.plot_sensitivity(constant)
    assert any("undefined" in t.get_text() for t in fig.axes[0].texts)
