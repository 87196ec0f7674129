"""Analysing a sweep: where does non-alignment emerge, and which factors drive it?

Two questions, two tools:

* **Per design cell**, each focal state's share of runs ending non-aligned, with a 95% Wilson
  interval (``scipy.stats.binomtest(k, n).proportion_ci(method="wilson")``). Wilson, not the
  normal approximation, because shares near 0 or 1 are exactly what a map of "where non-alignment
  emerges" is made of, and there the normal interval escapes [0, 1] and under-covers.
* **For Sobol' and Morris designs**, SALib's sensitivity indices of that share, with bootstrap
  confidence intervals: which mechanism weights move the outcome, alone and in interaction.

Every function returns a pandas DataFrame so a notebook can plot or filter it; ``format_report``
turns them into the text ``hedgesim analyze`` prints.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from sim.metrics import OUTCOMES
from sim.sweep import SweepError, load_sweep

SENSITIVITY_SAMPLERS = ("sobol", "morris")


def wilson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval of a binomial proportion (NaN, NaN when there are no runs)."""
    if n <= 0:
        return float("nan"), float("nan")
    ci = binomtest(int(k), int(n)).proportion_ci(confidence_level=confidence, method="wilson")
    return float(ci.low), float(ci.high)


def _states(manifest: dict[str, Any], states: Sequence[str] | None) -> list[str]:
    reported = list(manifest["scenario"]["states_reported"])
    if not states:
        return reported
    unknown = [s for s in states if s not in reported]
    if unknown:
        raise SweepError(
            f"state(s) not recorded in this sweep: {', '.join(unknown)} "
            f"(recorded: {', '.join(reported)})",
            code=2,
        )
    return list(states)


def _check_status(status: str) -> None:
    if status not in OUTCOMES:
        raise SweepError(f"unknown outcome {status!r} (one of: {', '.join(OUTCOMES)})", code=2)


def _column(sid: str, status: str) -> str:
    return f"{sid}.allied_stronger" if status == "allied_stronger" else f"{sid}.status"


def outcome_columns(
    manifest: dict[str, Any], states: Sequence[str] | None = None, status: str = "non_aligned"
) -> list[str]:
    """The runs-table columns the analysis needs (to load no more than that)."""
    return ["cell", *(_column(s, status) for s in _states(manifest, states))]


def cell_shares(
    runs: pd.DataFrame,
    manifest: dict[str, Any],
    status: str = "non_aligned",
    states: Sequence[str] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Per cell and state: ``n`` runs, ``k`` of them ending in ``status``, ``share``, ``lo``/``hi``.

    One row per (cell, state), with the cell's parameter values; cells without runs yet (an
    unfinished sweep) are listed with ``n = 0`` and NaN shares, so gaps are visible.
    """
    _check_status(status)
    states = _states(manifest, states)
    design = manifest["design"]
    cells = pd.DataFrame(design["cells"], columns=design["columns"])
    cells.insert(0, "cell", np.arange(len(cells)))
    frames = []
    for sid in states:
        col = runs[_column(sid, status)]
        hit = (col == 1 if status == "allied_stronger" else col == status).astype(np.int64)
        g = pd.DataFrame({"cell": runs["cell"].to_numpy(), "k": hit.to_numpy()})
        agg = g.groupby("cell")["k"].agg(["size", "sum"]).rename(columns={"size": "n", "sum": "k"})
        agg = agg.reindex(np.arange(len(cells)), fill_value=0)
        n = agg["n"].to_numpy()
        k = agg["k"].to_numpy()
        ci = np.array([wilson(ki, ni, confidence) for ki, ni in zip(k, n, strict=True)])
        frame = cells.copy()
        frame["state"] = sid
        frame["n"] = n
        frame["k"] = k
        with np.errstate(invalid="ignore", divide="ignore"):
            frame["share"] = np.where(n > 0, k / np.maximum(n, 1), np.nan)
        frame["lo"] = ci[:, 0]
        frame["hi"] = ci[:, 1]
        frames.append(frame)
    out = pd.concat(frames, ignore_index=True)
    out.attrs.update(status=status, confidence=confidence)
    return out


def sensitivity(
    shares: pd.DataFrame,
    manifest: dict[str, Any],
    confidence: float = 0.95,
    resamples: int = 500,
) -> pd.DataFrame | None:
    """SALib sensitivity indices of each state's share, for Sobol' and Morris designs.

    Returns long rows ``state, parameter, index, value, conf`` (``conf`` the half-width of the
    bootstrap confidence interval at ``confidence``): Sobol' ``S1``, ``ST`` and, with second
    order, ``S2`` (parameter ``a × b``); Morris ``mu``, ``mu_star`` (with ``conf``), ``sigma``.
    None for other designs. Needs every cell to have runs: an incomplete sweep raises SweepError.
    """
    design = manifest["design"]
    sampler = design["sampler"]
    if sampler not in SENSITIVITY_SAMPLERS:
        return None
    problem = design["problem"]
    names = problem["names"]
    seed = int(manifest["root_seed"]) % (2**31 - 1) + 1  # SALib's sobol ignores a seed of 0
    rows: list[dict[str, Any]] = []
    for sid, g in shares.groupby("state", sort=False):
        g = g.sort_values("cell")
        missing = int((g["n"] == 0).sum())
        if missing:
            raise SweepError(
                f"sensitivity needs every cell of the {sampler} design: {missing} of {len(g)} "
                "cells have no runs yet; resume the sweep first",
                code=2,
            )
        Y = g["share"].to_numpy(dtype=float)
        if np.ptp(Y) == 0:  # a constant output has no variance to apportion
            # every index the sampler reports, undefined: tables and figures keep their columns
            undefined = ("S1", "ST") if sampler == "sobol" else ("mu", "mu_star", "sigma")
            for p in names:
                for ix in undefined:
                    rows.append(
                        dict(
                            state=sid,
                            parameter=p,
                            index=ix,
                            value=np.nan,
                            conf=np.nan,
                            note=f"share constant ({Y[0]:g}) across the design",
                        )
                    )
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            if sampler == "sobol":
                from SALib.analyze import sobol

                res = sobol.analyze(
                    problem,
                    Y,
                    calc_second_order=bool(design["second_order"]),
                    num_resamples=resamples,
                    conf_level=confidence,
                    seed=seed,
                )
                for i, p in enumerate(names):
                    for ix in ("S1", "ST"):
                        rows.append(
                            dict(
                                state=sid,
                                parameter=p,
                                index=ix,
                                value=float(res[ix][i]),
                                conf=float(res[f"{ix}_conf"][i]),
                            )
                        )
                if design["second_order"]:
                    for i in range(len(names)):
                        for j in range(i + 1, len(names)):
                            rows.append(
                                dict(
                                    state=sid,
                                    parameter=f"{names[i]} × {names[j]}",
                                    index="S2",
                                    value=float(res["S2"][i, j]),
                                    conf=float(res["S2_conf"][i, j]),
                                )
                            )
            else:
                from SALib.analyze import morris

                X = np.array([[c[p] for p in names] for c in design["cells"]], dtype=float)
                res = morris.analyze(
                    problem,
                    X,
                    Y,
                    num_resamples=resamples,
                    conf_level=confidence,
                    num_levels=int(design["levels"]),
                    seed=seed,
                )
                for i, p in enumerate(names):
                    for index in ("mu", "mu_star", "sigma"):  # only mu* has an interval
                        conf = res.get(f"{index}_conf")
                        rows.append(
                            dict(
                                state=sid,
                                parameter=p,
                                index=index,
                                value=float(res[index][i]),
                                conf=float(conf[i]) if conf is not None else np.nan,
                            )
                        )
    out = pd.DataFrame(rows, columns=["state", "parameter", "index", "value", "conf", "note"])
    out.attrs.update(sampler=sampler, confidence=confidence, resamples=resamples)
    return out


@dataclass
class Analysis:
    """Everything ``hedgesim analyze`` reports, as DataFrames."""

    manifest: dict[str, Any]
    shares: pd.DataFrame
    sensitivity: pd.DataFrame | None
    n_runs_on_disk: int
    warnings: list[str] = field(default_factory=list)  # what the loader found and ignored


def analyze(
    directory: str | Path,
    status: str = "non_aligned",
    states: Sequence[str] | None = None,
    confidence: float = 0.95,
    resamples: int = 500,
) -> Analysis:
    """Load a sweep directory and compute per-cell shares and, where the design allows,
    sensitivity indices (loading only the columns needed)."""
    _check_status(status)
    if not 0 < confidence < 1:
        raise SweepError(f"confidence must be between 0 and 1, got {confidence}", code=2)
    from sim.sweep import read_manifest

    manifest = read_manifest(directory)
    data = load_sweep(directory, columns=outcome_columns(manifest, states, status))
    runs = data.runs
    shares = cell_shares(runs, manifest, status, states, confidence)
    sens = None
    if manifest["design"]["sampler"] in SENSITIVITY_SAMPLERS:
        sens = sensitivity(shares, manifest, confidence, resamples)
    return Analysis(manifest, shares, sens, len(runs), list(data.warnings))


def _fmt_share(share: float, lo: float, hi: float) -> str:
    if np.isnan(share):
        return "—"
    return f"{share:.3f} [{lo:.3f}, {hi:.3f}]"


def format_report(a: Analysis, max_rows: int = 60) -> str:
    """Human-readable report: header, per-cell table (wide: one column per state), indices."""
    m = a.manifest
    status = a.shares.attrs.get("status", "non_aligned").replace("_", "-")
    conf = a.shares.attrs.get("confidence", 0.95)
    lines = [
        f"sweep {m.get('name')!r} on scenario {m['scenario']['name']!r}: "
        f"{m['n_cells']:,} cells × {m['replications']:,} replications = {m['n_runs']:,} runs "
        f"({a.n_runs_on_disk:,} on disk), sampler {m['design']['sampler']}",
    ]
    if a.n_runs_on_disk < m["n_runs"]:
        lines.append("  (incomplete: re-run the sweep command to finish it)")
    cols = list(m["design"]["columns"])
    wide = None
    for sid, g in a.shares.groupby("state", sort=False):
        g = g.set_index("cell")
        if wide is None:
            wide = g[cols].copy()
            wide["n"] = g["n"]
        wide[sid] = [
            _fmt_share(s, lo, hi) for s, lo, hi in zip(g["share"], g["lo"], g["hi"], strict=True)
        ]
    lines.append("")
    lines.append(f"{status} share per cell ({conf:.0%} Wilson interval):")
    assert wide is not None
    shown = wide.head(max_rows) if max_rows > 0 else wide
    lines.append(shown.to_string())
    if len(wide) > len(shown):
        lines.append(
            f"... {len(wide) - len(shown):,} more cells (--max-rows 0 shows all, "
            "--csv FILE writes them)"
        )
    s = a.sensitivity
    if s is not None:
        sampler = s.attrs.get("sampler")
        for sid, g in s.groupby("state", sort=False):
            lines.append("")
            title = "Sobol' indices" if sampler == "sobol" else "Morris elementary effects"
            lines.append(
                f"{title} of {sid}'s {status} share ({conf:.0%} confidence, "
                f"{s.attrs.get('resamples')} bootstrap resamples):"
            )
            notes = g["note"].dropna().unique()
            if len(notes):
                lines.append("  " + "; ".join(notes) + ": indices undefined")
                continue
            first = g[g["index"] != "S2"]
            table = first.pivot(index="parameter", columns="index", values=["value", "conf"])
            order = ["S1", "ST"] if sampler == "sobol" else ["mu_star", "mu", "sigma"]
            out = pd.DataFrame(index=first["parameter"].unique())
            for ix in order:
                out[ix] = table[("value", ix)]
                if ix in ("S1", "ST", "mu_star"):
                    out[f"{ix} ±"] = table[("conf", ix)]
            lines.append(out.to_string(float_format=lambda v: f"{v:.3f}"))
            second = g[g["index"] == "S2"]
            if len(second):
                lines.append("second-order (S2):")
                s2 = second.set_index("parameter")[["value", "conf"]].rename(
                    columns={"value": "S2", "conf": "S2 ±"}
                )
                lines.append(s2.to_string(float_format=lambda v: f"{v:.3f}"))
            if sampler == "sobol" and (first["value"] < -first["conf"]).any():
                lines.append(
                    "  note: negative indices beyond their interval mean too few runs; increase n"
                )
    return "\n".join(lines)
