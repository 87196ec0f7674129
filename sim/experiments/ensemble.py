"""``hedgesim run --ensemble K`` (``sim.run(..., ensemble=K)``): verdicts over estimated constants.

Why: one run's interval measures only the dice of one parameter set. The free constants of the
rule are not known exactly; the estimation (sim.validation.estimate) leaves a set of parameter
sets that the alliance record does not rule out. The ensemble draws K of them
(sim.experiments.posterior.Estimates.draws: seeded from the run's seed, the same sets whatever
the workers), runs M replications of each, under every condition of the run (the baseline and
its counterfactuals), and reports:

- each focal state's verdict share over all K x M runs, with the **5-95% band of the per-set
  shares across parameter sets** (the uncertainty that the constants add to the dice), and how
  many sets give each verdict;
- **which inputs move it**: Spearman's rank correlation, over the K sets, between each drawn
  constant and the set's share, and the share in the sets below vs above the constant's median.
  Why not Sobol': the accepted sets are a sample of a non-rectangular region, not a Saltelli
  design, and Sobol' indices need independent inputs; rank correlation asks the question the
  reader has ("which constant, if it were higher, flips the verdict?") of the sets we have;
- **where the verdict changes**: a PRIM box (Friedman & Fisher 1999) over the K sets: the
  ranges of the drawn constants inside which the per-set share is highest, found by peeling
  10% of the sets at a time off the end of one constant's range while the box keeps at least
  10% of the sets; reported with its mean share against all sets' and the sets it holds. Few
  sets make a box a description of this sample, not an inference — it says which corner of the
  accepted region to look at;
- **counterfactual differences as paired exact tests**: every condition runs on the same seeds
  and the same sets as the baseline, so run r of set k with a factor off is paired with run r of
  set k with it on; McNemar's exact test on the discordant pairs (statsmodels), Holm-corrected
  across the family (every condition x focal state x outcome). An effect is *called* only when
  its Holm-adjusted p is below alpha (0.05).

Constants the scenario sets itself (in its file or by ``--set``) are kept: the estimates replace
only schema defaults. Ranges written into a scenario value (``0.6 ± 0.1``) are not supported.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar
from statsmodels.stats.multitest import multipletests

from sim.errors import InputError
from sim.experiments.conditions import ablate, conditions, prepare
from sim.experiments.engine import Execution, default_workers
from sim.experiments.posterior import load_estimates, unset, with_constants
from sim.experiments.stats import wilson
from sim.model.metrics import NON_ALIGNED
from sim.model.world import compile_world
from sim.results.atomic import write_text
from sim.scenario.load import scenario_hash
from sim.scenario.paths import Override
from sim.scenario.schema import Scenario

ALPHA = 0.05
OUTCOMES = ("non_aligned", "allied_stronger")
DEFAULT_M = 20
KIND = "hedgesim-ensemble"
INFLUENCE_COLUMNS = ("state", "outcome", "input", "rho", "p", "share_low", "share_high")
BOX_COLUMNS = ("state", "outcome", "input", "low", "high", "box_share", "all_share", "sets")
FILES = ("ensemble.json", "sets.csv", "tests.csv", "influence.csv", "boxes.csv", "summary.txt")
PEEL = 0.1  # PRIM: the share of the box's sets peeled off per step (Friedman & Fisher 1999)
MIN_SUPPORT = 0.1  # PRIM: stop before the box holds fewer than this share of the sets


# ------------------------------------------------------------------------------ statistics


def mcnemar_exact(b: int, c: int) -> float:
    """Two-sided exact McNemar p-value of ``b`` and ``c`` discordant pairs (1.0 when there are
    none): the binomial test of ``b`` successes in ``b + c`` trials at 1/2."""
    if b + c == 0:
        return 1.0
    return float(mcnemar(np.array([[0, b], [c, 0]]), exact=True).pvalue)


def holm(p: Sequence[float]) -> np.ndarray:
    """Holm's step-down adjusted p-values (statsmodels ``multipletests(method="holm")``)."""
    if len(p) == 0:
        return np.zeros(0)
    return multipletests(np.asarray(p, dtype=float), method="holm")[1]


def verdict_of(k: int, n: int) -> str:
    """The run's verdict rule (docs/ODD.md §7.15) on ``k`` of ``n`` runs."""
    lo, hi = wilson(k, n)
    return "emerges" if lo > 0.5 else "does not emerge" if hi < 0.5 else "undecided"


# ------------------------------------------------------------------------------ the result


@dataclass
class EnsembleResult:
    """What an ensemble found.

    Attributes:
        meta: settings (scenario, seed, K, M, conditions, estimates file, drawn constants).
        draws: the K parameter sets applied (one dict per set; only constants the scenario
            leaves at the schema's default).
        outcomes: one row per set, condition, replication and focal state: ``non_aligned``
            and ``allied_stronger`` at the last step (0/1).
        headline: per condition, focal state and outcome: pooled share with its Wilson
            interval, the per-set shares' 5%, 50% and 95% quantiles, sets per verdict.
        influence: per focal state, outcome and drawn constant (baseline): Spearman's rho and
            its p, the share in the sets below and above the constant's median.
        tests: per counterfactual, focal state and outcome: discordant pairs, difference of
            shares, exact McNemar p, Holm-adjusted p, and whether the effect is called.
        boxes: per focal state and outcome (baseline): the PRIM box of the highest per-set
            share, one row per constant it restricts (its low and high bound), with the box's
            mean share, the mean over all sets and the number of sets in the box.
    """

    meta: dict[str, Any]
    draws: list[dict[str, float]]
    outcomes: pd.DataFrame
    headline: pd.DataFrame = field(init=False)
    influence: pd.DataFrame = field(init=False)
    tests: pd.DataFrame = field(init=False)
    boxes: pd.DataFrame = field(init=False)

    def __post_init__(self) -> None:
        self.headline = _headline(self.outcomes)
        self.influence = _influence(self.outcomes, self.draws)
        self.tests = _tests(self.outcomes)
        self.boxes = _boxes(self.outcomes, self.draws)

    def share(self, state: str, outcome: str = "non_aligned", condition: str = "baseline"):
        """(pooled share, 5% and 95% of the per-set shares) of ``outcome`` for ``state``."""
        h = self.headline
        row = h[(h.condition == condition) & (h.state == state) & (h.outcome == outcome)]
        if row.empty:
            raise ValueError(f"no {outcome!r} of {state!r} under {condition!r}")
        r = row.iloc[0]
        return float(r.share), float(r.q05), float(r.q95)

    def summary(self) -> str:
        """The report ``hedgesim run --ensemble`` prints and writes as ``summary.txt``."""
        m = self.meta
        lines = [
            f"{m['scenario']}: ensemble of {m['sets']} parameter sets x {m['replications']} "
            f"replications ({m['sets'] * m['replications']} runs per condition), seed {m['seed']}",
            f"constants drawn from {m['estimates']}: {', '.join(m['drawn']) or 'none'}",
        ]
        if m["kept"]:
            lines.append(f"kept as the scenario sets them: {', '.join(m['kept'])}")
        h = self.headline
        for state in h.state.unique():
            lines.append(f"\n{state}:")
            for _, r in h[(h.state == state) & (h.condition == "baseline")].iterrows():
                lines.append(
                    f"  {r.outcome:<16} {r.share:6.1%} of runs (95% CI {r.lo:.1%}-{r.hi:.1%}); "
                    f"across sets 5-95%: {r.q05:.0%}-{r.q95:.0%} (median {r.q50:.0%}); "
                    f"sets: {r.emerges} yes, {r.undecided} undecided, {r.no} no"
                )
            inf = self.influence[self.influence.state == state]
            for outcome in OUTCOMES:
                top = inf[inf.outcome == outcome].dropna(subset=["rho"])
                top = top.reindex(top.rho.abs().sort_values(ascending=False).index).head(3)
                if len(top):
                    parts = [
                        f"{r.input} rho {r.rho:+.2f} (p {r.p:.2g}; {r.share_low:.0%} -> "
                        f"{r.share_high:.0%})"
                        for _, r in top.iterrows()
                    ]
                    lines.append(f"  what moves {outcome}: " + "; ".join(parts))
                box = self.boxes[(self.boxes.state == state) & (self.boxes.outcome == outcome)]
                if len(box):
                    b = box.iloc[0]
                    ranges = ", ".join(
                        f"{r.input} {r.low:.3g}-{r.high:.3g}" for _, r in box.iterrows()
                    )
                    lines.append(
                        f"  where {outcome} is most likely (PRIM box, {b.sets} of "
                        f"{m['sets']} sets): {ranges}: {b.box_share:.0%} against "
                        f"{b.all_share:.0%} over all sets"
                    )
        t = self.tests
        if len(t):
            lines.append(
                f"\nCounterfactuals vs baseline: paired exact McNemar (same seeds and sets), "
                f"Holm over {len(t)} tests, alpha {ALPHA}:"
            )
            for _, r in t.iterrows():
                call = "EFFECT" if r.called else "no call"
                lines.append(
                    f"  {r.condition:<22} {r.state} {r.outcome:<16} {r.baseline:6.1%} -> "
                    f"{r.counterfactual:6.1%} ({r.difference:+.1%}); discordant {r.b}/{r.c}; "
                    f"p {r.p:.2g}, Holm {r.p_holm:.2g}: {call}"
                )
        return "\n".join(lines)

    def save(self, out: str | Path) -> Path:
        """Write ``ensemble.json``, ``sets.csv``, ``tests.csv``, ``influence.csv`` and
        ``summary.txt`` into ``out``. A folder holding anything else is refused: the ensemble
        replaces only an earlier ensemble's own files."""
        out = check_out(out)
        out.mkdir(parents=True, exist_ok=True)
        sets = pd.DataFrame(self.draws)
        sets.index.name = "set"
        per_set = (
            self.outcomes.groupby(["set", "condition", "state"], observed=True)[list(OUTCOMES)]
            .mean()
            .reset_index()
        )
        table = per_set.merge(sets.reset_index(), on="set")
        write_text(out / "sets.csv", table.to_csv(index=False))
        write_text(out / "tests.csv", self.tests.to_csv(index=False))
        write_text(out / "influence.csv", self.influence.to_csv(index=False))
        write_text(out / "boxes.csv", self.boxes.to_csv(index=False))
        write_text(out / "summary.txt", self.summary() + "\n")
        doc = {"kind": KIND, **self.meta, "draws": self.draws}
        write_text(out / "ensemble.json", json.dumps(doc, indent=1))
        return out


def check_out(out: str | Path) -> Path:
    """``out`` if an ensemble may write there: new, empty, or holding an earlier ensemble's own
    files (which it replaces). A folder holding anything else is refused (InputError) — called
    before the ensemble runs, so a refusal costs no work, and again when saving."""
    out = Path(out)
    if out.exists():
        if not out.is_dir():
            raise InputError.plain(str(out), "is not a directory")
        own = out / "ensemble.json"
        other = [p.name for p in out.iterdir() if p.name not in FILES]
        theirs = own.exists() and _is_ours(own)
        if other or (any(out.iterdir()) and not theirs):
            raise InputError.plain(
                str(out),
                "holds files an ensemble did not write; hedgesim will not replace them: "
                "choose another --out",
            )
    return out


def _is_ours(path: Path) -> bool:
    try:
        return json.loads(path.read_text()).get("kind") == KIND
    except (OSError, ValueError, AttributeError):
        return False


def _headline(o: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (cond, state), g in o.groupby(["condition", "state"], sort=False, observed=True):
        for outcome in OUTCOMES:
            k, n = int(g[outcome].sum()), len(g)
            per = g.groupby("set")[outcome].agg(["sum", "count"])
            shares = (per["sum"] / per["count"]).to_numpy()
            pairs = zip(per["sum"], per["count"], strict=True)
            verdicts = [verdict_of(int(a), int(b)) for a, b in pairs]
            lo, hi = wilson(k, n)
            rows.append(
                {
                    "condition": cond,
                    "state": state,
                    "outcome": outcome,
                    "n": n,
                    "k": k,
                    "share": k / n,
                    "lo": lo,
                    "hi": hi,
                    "q05": float(np.quantile(shares, 0.05)),
                    "q50": float(np.quantile(shares, 0.5)),
                    "q95": float(np.quantile(shares, 0.95)),
                    "emerges": verdicts.count("emerges"),
                    "undecided": verdicts.count("undecided"),
                    "no": verdicts.count("does not emerge"),
                }
            )
    return pd.DataFrame(rows)


def _influence(o: pd.DataFrame, draws: list[dict[str, float]]) -> pd.DataFrame:
    base = o[o.condition == "baseline"]
    inputs = pd.DataFrame(draws)
    rows = []
    for state, g in base.groupby("state", sort=False, observed=True):
        per = g.groupby("set")[list(OUTCOMES)].mean()
        for outcome in OUTCOMES:
            y = per[outcome].to_numpy()
            for name in inputs.columns:
                x = inputs.loc[per.index, name].to_numpy()
                if len(np.unique(x)) < 3 or np.ptp(y) == 0:
                    rho, p = math.nan, math.nan
                else:
                    res = stats.spearmanr(x, y)
                    rho, p = float(res.statistic), float(res.pvalue)
                med = np.median(x)
                rows.append(
                    {
                        "state": state,
                        "outcome": outcome,
                        "input": name,
                        "rho": rho,
                        "p": p,
                        "share_low": float(y[x <= med].mean()) if (x <= med).any() else math.nan,
                        "share_high": float(y[x > med].mean()) if (x > med).any() else math.nan,
                    }
                )
    # the columns even without rows (no constant drawn), so that readers can select on them
    return pd.DataFrame(rows, columns=INFLUENCE_COLUMNS)


def prim_box(
    x: np.ndarray, y: np.ndarray, peel: float = PEEL, min_support: float = MIN_SUPPORT
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """PRIM's peeling (Friedman & Fisher 1999): the box of ``x`` (n, d) where ``y`` is highest.

    Each step removes the ``peel`` share of the box's points (at least one) with the lowest or
    the highest value of one input — whichever of the 2d candidate peels leaves the highest mean
    ``y`` — and stops when no peel raises the mean or the box would hold fewer than
    ``min_support`` of the points. Returns the box's lower and upper bounds (the extreme values
    of its points; ``-inf``/``inf`` for an input never peeled) and the mask of points inside.
    """
    n, d = x.shape
    inside = np.ones(n, dtype=bool)
    low, high = np.full(d, -np.inf), np.full(d, np.inf)
    floor = max(1, math.ceil(min_support * n))
    while True:
        count = int(inside.sum())
        k = max(1, int(peel * count))
        if count - k < floor:
            break
        best, best_mean = None, float(y[inside].mean())
        for j in range(d):
            v = np.sort(x[inside, j])
            for side, cut in (("low", v[k - 1]), ("high", v[count - k])):
                keep = inside & ((x[:, j] > cut) if side == "low" else (x[:, j] < cut))
                if floor <= keep.sum() < count and y[keep].mean() > best_mean + 1e-12:
                    best, best_mean = (j, side, cut, keep), float(y[keep].mean())
        if best is None:
            break
        j, side, cut, inside = best
        if side == "low":
            low[j] = cut
        else:
            high[j] = cut
    return low, high, inside


def _boxes(o: pd.DataFrame, draws: list[dict[str, float]]) -> pd.DataFrame:
    base = o[o.condition == "baseline"]
    inputs = pd.DataFrame(draws)
    rows = []
    if inputs.empty:
        return pd.DataFrame(rows, columns=BOX_COLUMNS)
    for state, g in base.groupby("state", sort=False, observed=True):
        per = g.groupby("set")[list(OUTCOMES)].mean()
        x = inputs.loc[per.index].to_numpy(float)
        for outcome in OUTCOMES:
            y = per[outcome].to_numpy(float)
            if np.ptp(y) == 0:
                continue  # the same share in every set: no corner to find
            low, high, inside = prim_box(x, y)
            for j, name in enumerate(inputs.columns):
                if np.isfinite(low[j]) or np.isfinite(high[j]):
                    pts = x[inside, j]
                    rows.append(
                        {
                            "state": state,
                            "outcome": outcome,
                            "input": name,
                            "low": float(pts.min()),
                            "high": float(pts.max()),
                            "box_share": float(y[inside].mean()),
                            "all_share": float(y.mean()),
                            "sets": int(inside.sum()),
                        }
                    )
    # the columns even without rows (no input marks a corner, or no constant drawn)
    return pd.DataFrame(rows, columns=BOX_COLUMNS)


def _tests(o: pd.DataFrame) -> pd.DataFrame:
    key = ["set", "replication", "state"]
    base = o[o.condition == "baseline"].set_index(key).sort_index()
    rows = []
    for cond in [c for c in o.condition.unique() if c != "baseline"]:
        cf = o[o.condition == cond].set_index(key).sort_index()
        for state in cf.index.get_level_values("state").unique():
            b0 = base.xs(state, level="state")
            c0 = cf.xs(state, level="state").reindex(b0.index)
            for outcome in OUTCOMES:
                x, y = b0[outcome].to_numpy(bool), c0[outcome].to_numpy(bool)
                b, c = int((x & ~y).sum()), int((~x & y).sum())
                rows.append(
                    {
                        "condition": cond,
                        "state": state,
                        "outcome": outcome,
                        "n": len(x),
                        "baseline": float(x.mean()),
                        "counterfactual": float(y.mean()),
                        "difference": float(y.mean() - x.mean()),
                        "b": b,
                        "c": c,
                        "p": mcnemar_exact(b, c),
                    }
                )
    t = pd.DataFrame(rows)
    if len(t):
        t["p_holm"] = holm(t.p.to_numpy())
        t["called"] = t.p_holm < ALPHA
    return t


# ------------------------------------------------------------------------------ running


def ensemble(
    runner: Callable[..., list[list[Any]]],
    scenario: str | Path | Scenario,
    k: int,
    *,
    replications: int | None = None,
    seed: int | None = None,
    steps: int | None = None,
    overrides: Mapping[str, Any] | Sequence[Override] | None = None,
    ablate_: Sequence[str] = (),
    estimates: str | Path = "estimated",
    record_every: int | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    progress: bool = False,
) -> EnsembleResult:
    """Draw ``k`` parameter sets from the estimates file and run ``replications`` (M, default
    20) of each under every condition, all on the run's seeds (common random numbers).
    ``runner`` is sim.experiments.run.run_scenarios (passed in: ``sim.run(..., ensemble=K)``
    is the entry point, and this module sits below it).

    The draws come from ``SeedSequence(seed, spawn_key=(DRAW_KEY,))`` and replication ``r`` of
    every set and condition from ``SeedSequence(seed, spawn_key=(r,))``: the result is the same
    for any number of workers or any executor.
    """
    if k < 1:
        raise InputError.single("--ensemble", f"needs at least one parameter set, got {k}")
    est = load_estimates(estimates)
    sc, _ = prepare(scenario, seed=seed, steps=steps, overrides=overrides)
    m = replications or DEFAULT_M
    drawn = unset(sc, list(est.parameters))
    kept = [p for p in est.parameters if p not in drawn]
    draws = [{p: d[p] for p in drawn} for d in est.draws(k, sc.seed)]
    conds = conditions(sc, ablate_)
    world = compile_world(sc)
    focal = world.focal or list(range(world.n))
    every = record_every or sc.params.record_every
    cells = []
    for s, d in enumerate(draws):
        variant = with_constants(sc, d)
        for c in conds:
            cells.append((ablate(variant, c.factors), f"set {s} condition {c.label}"))
    how = Execution(workers=workers, executor=executor)
    recs = runner(
        cells,
        replications=m,
        seed=sc.seed,
        steps=sc.params.steps,
        record_every=every,
        execution=how,
        progress=progress,
        name=f"{sc.name} ensemble",
    )
    rows = []
    for ci, records in enumerate(recs):
        s, c = divmod(ci, len(conds))
        for r, rec in enumerate(records):
            for i in focal:
                rows.append(
                    (s, conds[c].label, r, world.ids[i],
                     int(rec.status[-1, i] == NON_ALIGNED), int(bool(rec.allied_up[-1, i])))
                )  # fmt: skip
    outcomes = pd.DataFrame(rows, columns=["set", "condition", "replication", "state", *OUTCOMES])
    meta = {
        "scenario": sc.name,
        "scenario_file": None if isinstance(scenario, Scenario) else str(scenario),
        "scenario_hash": scenario_hash(sc),
        "seed": sc.seed,
        "sets": k,
        "replications": m,
        "steps": sc.params.steps,
        "conditions": [{"label": c.label, "switched_off": list(c.factors)} for c in conds],
        "estimates": est.source,
        "drawn": drawn,
        "kept": kept,
        "workers": workers or default_workers(),
        "alpha": ALPHA,
    }
    return EnsembleResult(meta, draws, outcomes)
