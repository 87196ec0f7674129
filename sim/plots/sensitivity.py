"""Sobol' and Morris sensitivity indices as bars with their bootstrap intervals."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.plots.style import (
    OKABE_ITO,
    _filter,
    _new_figure,
    _root,
    _styled,
)

# ---------------------------------------------------------------------------------- sensitivity


def sensitivity_table(indices: pd.DataFrame, state: str | None = None) -> pd.DataFrame:
    """Indices in wide form (``parameter, S1, S1_conf, ST, ...``) from either layout.

    Why two layouts: SALib results are naturally wide, while sim.experiments.analysis writes
    long rows ``state, parameter, index, value, conf`` (one per index, all states together).
    Second-order ``S2`` rows (pairs) are dropped: they are not a bar per parameter.
    """
    df = indices
    if "state" in df.columns:
        states = list(dict.fromkeys(map(str, df["state"])))
        if state is None:
            if len(states) != 1:
                raise ValueError(f"indices hold several states {states}: pass state=")
            state = states[0]
        df = _filter(df, "sensitivity indices", state=state)
    if {"index", "value"} <= set(df.columns):
        df = df[df["index"].astype(str) != "S2"]
        order = list(dict.fromkeys(map(str, df["parameter"])))
        long = df.assign(parameter=df["parameter"].astype(str), index=df["index"].astype(str))
        wide = long.pivot(index="parameter", columns="index", values="value")
        if "conf" in long.columns:
            conf = long.pivot(index="parameter", columns="index", values="conf")
            wide = wide.join(conf.add_suffix("_conf"))
        wide = wide.reindex(order)
        wide.columns.name = None
        out = wide.rename_axis("parameter").reset_index()
        if "note" in long.columns:
            notes = long["note"].dropna().astype(str).unique()
            out.attrs["note"] = "; ".join(notes)
        return out
    if "parameter" not in df.columns:
        df = df.rename_axis("parameter").reset_index()
    return df.assign(parameter=df["parameter"].astype(str))


@_styled
def plot_sensitivity(
    indices: pd.DataFrame,
    *,
    state: str | None = None,
    output: str | None = None,
    title: str | None = None,
    ax: Axes | None = None,
) -> Figure:
    """Bars of Sobol S1/ST or Morris μ*/σ per parameter, most influential on top, with 95% CIs.

    Why both indices side by side: S1 is a parameter's effect alone, ST includes its interactions,
    so a large gap flags interactions; for Morris, σ large against μ* flags non-linearity or
    interaction. Input: wide columns ``parameter`` (or the index) and either ``S1, S1_conf, ST,
    ST_conf`` or ``mu_star, mu_star_conf, sigma``; or the long rows of
    ``sim.experiments.analysis.sensitivity`` (``state`` picks one state). Negative S1 (noise of too
    few runs) is drawn as is, next to a zero line, rather than hidden; indices that are undefined
    (a constant output) are reported in the axes instead of drawn as zeros.
    """
    df = sensitivity_table(indices, state).copy()
    if {"S1", "ST"} <= set(df.columns):
        method = "Sobol"
        bars = [
            ("S1", "S1_conf", "S1 (first order)", OKABE_ITO["blue"]),
            ("ST", "ST_conf", "ST (total)", OKABE_ITO["orange"]),
        ]
        sort_by, xlabel = "ST", "Sobol index (whiskers: 95% confidence intervals)"
    elif "mu_star" in df.columns:
        method = "Morris"
        bars = [("mu_star", "mu_star_conf", "μ* (mean |elementary effect|)", OKABE_ITO["blue"])]
        if "sigma" in df.columns:
            bars.append(("sigma", None, "σ (spread of effects)", OKABE_ITO["sky_blue"]))
        sort_by, xlabel = "mu_star", "elementary effect (whiskers: 95% confidence interval of μ*)"
    else:
        raise ValueError(
            "indices need columns S1, S1_conf, ST, ST_conf or mu_star, "
            f"mu_star_conf, sigma; got {list(df.columns)}"
        )
    note = df.attrs.get("note", "")
    df = df.sort_values(sort_by, ascending=False, kind="stable").reset_index(drop=True)
    n = len(df)
    y = np.arange(n, dtype=float)
    height = 0.8 / len(bars)

    own = ax is None
    if ax is None:
        fig = _new_figure(6.5, 1.8 + 0.42 * n * max(1, len(bars) * 0.6))
        ax = fig.subplots()
    else:
        fig = _root(ax)
    for k, (col, conf, label, colour) in enumerate(bars):
        offset = (k - (len(bars) - 1) / 2) * height
        err = None
        if conf is not None and conf in df.columns:
            err = np.abs(df[conf].to_numpy(dtype=float))
        ax.barh(
            y + offset,
            df[col].to_numpy(dtype=float),
            height=height * 0.92,
            xerr=err,
            color=colour,
            label=label,
            error_kw={"ecolor": "#333333", "capsize": 2.5, "elinewidth": 1.0},
        )
    ax.axvline(0, color="#333333", linewidth=0.8)
    ax.set_yticks(y, df["parameter"])
    ax.set_ylim(n - 0.5, -0.5)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("parameter")
    ax.grid(axis="x", color="#E5E5E5", linewidth=0.6)
    ax.set_axisbelow(True)
    if own:
        fig.legend(loc="outside lower center", ncols=len(bars))
    else:
        ax.legend(loc="best")
    if df[sort_by].isna().all():
        ax.text(
            0.5,
            0.5,
            "indices undefined" + (f": {note}" if note else ""),
            transform=ax.transAxes,
            ha="center",
            va="center",
            color="#444444",
        )
    ax.set_title(title or f"{method} sensitivity" + (f" of {output}" if output else ""))
    return fig
