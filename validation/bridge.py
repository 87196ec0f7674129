"""The bridge from landscape theory to hedging (issue 5, part 4; reported in docs/VALIDATION.md).

Why this script exists: hedgesim claims to contain Axelrod & Bennett's landscape theory as a limit
and to add the options that let non-alignment emerge. This script walks that path on the same
states and the same data, one switch at a time, and reports where non-alignment first appears:

1. the landscape limit: every local minimum of the two-bloc energy, exactly, and seeded bloc-mode
   runs (sim.bloc.BlocModel) checked against the exact reach probabilities;
2. the alignment model with friendship off and the five hedging mechanisms off (alliances only);
3. friendship on, still without hedging mechanisms;
4. the hedging mechanisms added back one at a time, cumulatively, ending in the full model;
   each is also added alone (on top of step 3) to attribute what it does by itself.

Per state and step it reports the share of replications ending aligned / non_aligned / one_camp /
isolated (sim.metrics.STATUSES), the share allied only inside its own landscape bloc ("in bloc"),
and three explanatory quantities: the state's frustration in the best landscape minimum, its
mean historical distrust of its landscape bloc-mates, and its partners' hedging (the share of its
rivalry that its tie partners are tied to, from the final ties). It also checks the bloc mode on a
seeded random landscape with several minima (the same construction as tests/test_bloc.py).

Usage: python validation/bridge.py [--replications 100] [--out results/validation]
       [--figures docs/figures] [--workers N] [SCENARIO ...]
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from scipy import stats  # noqa: E402

from sim import landscape as ls  # noqa: E402
from sim.bloc import BlocModel, propensity_matrix, reach_probabilities  # noqa: E402
from sim.decision import TAU  # noqa: E402
from sim.metrics import STATUSES  # noqa: E402
from sim.recording import RunRecord  # noqa: E402
from sim.runner import Condition, default_workers, run_conditions, seed_for  # noqa: E402
from sim.scenario import load_scenario  # noqa: E402
from sim.schema import Scenario  # noqa: E402
from sim.world import compile_world  # noqa: E402

HEDGING: tuple[str, ...] = (
    "partner_hedging",
    "expanding_options",
    "historical_distrust",
    "prioritizing_interests",
    "nonalignment_doctrine",
)
"""The hedging mechanisms, in the order the bridge adds them back (the article's reasons)."""

DEFAULT_SCENARIOS = ("scenarios/europe_1936.yaml", "scenarios/iran_2021.yaml")
LEAVE_BELOW = 0.5  # a state has left its bloc when its in-bloc share falls below this
APPEAR_AT = 0.25  # non-alignment has appeared for a state when its share reaches this
MULTI_ROOT = 2024  # root seed of the random multi-minimum landscape (as in tests/test_bloc.py)
MULTI_N = 9


# --------------------------------------------------------------------------------------------
# Step 1: the landscape limit
# --------------------------------------------------------------------------------------------


@dataclass
class LandscapeResult:
    """Exact minima of a scenario's landscape and how seeded bloc-mode runs ended."""

    sizes: np.ndarray
    propensity: np.ndarray
    land: ls.Landscape
    reach: np.ndarray | None  # exact end-state probabilities under random activation (N <= 16)
    counts: np.ndarray  # bloc-mode runs ending in each minimum
    outside: int  # bloc-mode runs ending outside the enumerated minima (must be 0)
    runs: int

    @property
    def best(self) -> np.ndarray:
        return self.land.minima[0].config


def chi_square(counts: np.ndarray, probs: np.ndarray) -> tuple[float, int, float]:
    """Pearson chi-square of observed counts against probabilities, merging bins expected < 5.

    Why merge: the chi-square approximation needs expected counts of about 5 or more; rare minima
    are pooled into one bin instead of being dropped, so every run is still counted.
    """
    n = counts.sum()
    exp = probs * n
    big = exp >= 5
    obs_b = list(counts[big])
    exp_b = list(exp[big])
    if (~big).any():
        obs_b.append(counts[~big].sum())
        exp_b.append(exp[~big].sum())
    if len(obs_b) < 2:
        return 0.0, 0, 1.0
    res = stats.chisquare(obs_b, exp_b)
    return float(res.statistic), len(obs_b) - 1, float(res.pvalue)


def bloc_runs(
    sizes: np.ndarray, p: np.ndarray, land: ls.Landscape, runs: int, root: int
) -> tuple[np.ndarray, int]:
    """End states of seeded bloc-mode runs from uniform random blocs, counted per minimum."""
    counts = np.zeros(len(land.minima), dtype=int)
    outside = 0
    for r in range(runs):
        k = land.find(BlocModel(sizes, p, rng=seed_for(root, r)).run())
        if k is None:
            outside += 1
        else:
            counts[k] += 1
    return counts, outside


def landscape_step(sc: Scenario, base_dir: Path, runs: int) -> LandscapeResult:
    sizes = np.array([s.power for s in sc.states.values()])
    p = propensity_matrix(sc, base_dir)
    land = ls.enumerate_landscape(sizes, p)
    reach = reach_probabilities(sizes, p)[1] if len(sizes) <= 16 else None
    counts, outside = bloc_runs(sizes, p, land, runs, sc.seed)
    return LandscapeResult(sizes, p, land, reach, counts, outside, runs)


def multi_minimum_instance() -> tuple[int, np.ndarray, np.ndarray]:
    """The first seeded random landscape with >= 3 minima whose reach and basin shares differ.

    Why this instance: a landscape with one minimum cannot tell a right end-state distribution
    from a wrong one. With several minima, and basins (steepest descent) visibly different from
    reach probabilities (random activation), the chi-square test has something to reject.
    """
    for k in range(1000):
        rng = np.random.default_rng(seed_for(MULTI_ROOT, k))
        sizes = rng.lognormal(0.0, 0.5, MULTI_N)
        a = rng.normal(size=(MULTI_N, MULTI_N))
        p = (a + a.T) / 2.0
        np.fill_diagonal(p, 0.0)
        land, reach = reach_probabilities(sizes, p)
        basin = np.array([m.basin_share for m in land.minima])
        if len(land.minima) >= 3 and reach.min() >= 0.02 and np.abs(reach - basin).sum() >= 0.2:
            return k, sizes, p
    raise RuntimeError("no suitable instance in 1000 seeds")


# --------------------------------------------------------------------------------------------
# Steps 2+: the alignment model on the same states
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One condition of the bridge: the scenario variant and the mechanisms switched off."""

    label: str
    friendship: bool
    off: tuple[str, ...]
    cumulative: bool = True


def bridge_steps() -> list[Step]:
    steps = [
        Step("alliances only", False, HEDGING),
        Step("+ friendship", True, HEDGING),
    ]
    for k, m in enumerate(HEDGING):
        label = f"+ {m.replace('_', ' ')}" + (" (full model)" if k == len(HEDGING) - 1 else "")
        steps.append(Step(label, True, HEDGING[k + 1 :]))
    for m in HEDGING:
        steps.append(
            Step(
                f"friendship + {m.replace('_', ' ')} alone",
                True,
                tuple(h for h in HEDGING if h != m),
                cumulative=False,
            )
        )
    return steps


@dataclass
class StepResult:
    """Per-state outcome shares of one bridge step (R replications)."""

    status: np.ndarray  # (len(STATUSES), N) share of replications ending in each status
    in_bloc: np.ndarray  # (N,) share aligned with every ally inside its landscape bloc
    partner_hedging: np.ndarray  # (N,) mean share of own rivalry that partners are tied to
    bloc_alliances: float  # share of all final alliances that join same-bloc states
    n_alliances: float  # mean number of alliances in the system


def partners_hedging(ties: np.ndarray, rivalry: np.ndarray) -> np.ndarray:
    """Per state i: mean over its tie partners j of ``sum_k R[i,k] tau(L[j,k]) / sum_k R[i,k]``.

    That is the quantity the partner_hedging mechanism charges for (sim.decision), read from the
    final ties: how much of what i is afraid of its own partners are tied to. NaN where i has no
    partner or no rival.
    """
    t = TAU[ties]  # (N, N) tie weight
    mass = rivalry.sum(axis=1)
    cover = rivalry @ t.T  # cover[i, j] = sum_k R[i, k] tau(L[j, k])
    out = np.full(len(ties), np.nan)
    for i in range(len(ties)):
        partners = np.flatnonzero(ties[i] > 0)
        if partners.size and mass[i] > 0:
            out[i] = float(np.mean(cover[i, partners] / mass[i]))
    return out


def summarize(records: list[RunRecord], best: np.ndarray, rivalry: np.ndarray) -> StepResult:
    final = np.stack([r.status[-1] for r in records])  # (R, N)
    status = np.stack([(final == k).mean(axis=0) for k in range(len(STATUSES))])
    same = best[:, None] == best[None, :]
    in_bloc = np.zeros(len(best))
    hedge = []
    within = total = 0
    for rec in records:
        allied = rec.final_ties == 2
        has = allied.any(axis=1)
        inside = ~(allied & ~same).any(axis=1)
        in_bloc += has & inside
        within += int((allied & same).sum()) // 2
        total += int(allied.sum()) // 2
        hedge.append(partners_hedging(rec.final_ties, rivalry))
    with warnings.catch_warnings():  # states without rivals or partners: NaN, not a warning
        warnings.simplefilter("ignore", RuntimeWarning)
        h = np.nanmean(np.stack(hedge), axis=0) if hedge else np.full(len(best), np.nan)
    return StepResult(
        status=status,
        in_bloc=in_bloc / len(records),
        partner_hedging=h,
        bloc_alliances=within / total if total else float("nan"),
        n_alliances=total / len(records),
    )


def run_bridge(
    sc: Scenario, best: np.ndarray, replications: int, workers: int
) -> dict[str, StepResult]:
    """Run every bridge step with common random numbers (same seeds in every condition)."""
    rivalry = compile_world(sc).dyads["rivalry"]
    steps = bridge_steps()
    out: dict[str, StepResult] = {}
    for friendship in (False, True):
        variant = sc.model_copy(deep=True)
        variant.params.friendship = friendship
        conds = [Condition(s.label, s.off) for s in steps if s.friendship == friendship]
        res = run_conditions(
            variant,
            conds,
            replications=replications,
            steps=sc.params.steps,
            record_every=sc.params.steps,
            workers=workers,
        )
        for label, recs in res.items():
            out[label] = summarize(recs, best, rivalry)
    return {s.label: out[s.label] for s in steps}


# --------------------------------------------------------------------------------------------
# Reporting
# --------------------------------------------------------------------------------------------


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)

    def __call__(self, text: str = "") -> None:
        print(text)
        self.lines.append(text)


def table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return out


def num(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{x:.2f}"


def pct(x: float) -> str:
    return "–" if not np.isfinite(x) else f"{100 * x:.0f}"


def report_landscape(say: Report, sc: Scenario, lr: LandscapeResult) -> None:
    ids = list(sc.states)
    n = len(ids)
    say(f"### {sc.name}: the landscape limit (step 1)")
    say()
    say(
        f"{n} states, {lr.land.n_configs:,} configurations up to relabelling, "
        f"{len(lr.land.minima)} local minim{'um' if len(lr.land.minima) == 1 else 'a'}."
    )
    say()
    rows = []
    for k, m in enumerate(lr.land.minima):
        a = [ids[i] for i in range(n) if m.config[i] == 0]
        b = [ids[i] for i in range(n) if m.config[i] == 1]
        if len(lr.land.minima) == 1:
            reach = "100 (one minimum)"
        else:
            reach = pct(lr.reach[k]) if lr.reach is not None else "n/a (N > 16)"
        rows.append(
            [
                str(k + 1),
                f"{m.energy:.5g}",
                pct(m.basin_share),
                reach,
                pct(lr.counts[k] / lr.runs),
                " ".join(a),
                " ".join(b),
            ]
        )
    for line in table(
        ["#", "energy", "basin %", "reach %", f"bloc runs % (n={lr.runs})", "bloc A", "bloc B"],
        rows,
    ):
        say(line)
    say()
    say(f"Bloc-mode runs ending outside the enumerated minima: {lr.outside} of {lr.runs}.")
    if lr.reach is not None and len(lr.land.minima) > 1:
        chi, dof, pv = chi_square(lr.counts, lr.reach)
        say(
            f"Chi-square of bloc-mode frequencies against reach probabilities: "
            f"{chi:.2f} on {dof} df, p = {pv:.3g}."
        )
    best = lr.land.minima[0]
    say()
    say("Frustration F_i in the best minimum (the pull a state feels toward the other bloc):")
    say()
    order = np.argsort(-best.frustrations)
    for line in table(
        ["state", "bloc", "F_i"],
        [[ids[i], "AB"[int(best.config[i])], f"{best.frustrations[i]:.4g}"] for i in order],
    ):
        say(line)
    say()


def report_components(say: Report, sc: Scenario, sizes: np.ndarray) -> None:
    """How the best minimum depends on each ingredient of the derived propensity.

    Why: the derived propensity is interests - rivalry - mean distrust; dropping one ingredient at
    a time shows which one draws the blocs (a sensitivity check, not a fit).
    """
    d = compile_world(sc).dyads
    parts = {
        "interests": d["interests"],
        "rivalry": -d["rivalry"],
        "distrust": -(d["distrust"] + d["distrust"].T) / 2.0,
    }
    full = sum(parts.values())
    np.fill_diagonal(full, 0.0)
    base = ls.enumerate_landscape(sizes, full).minima[0].config
    ids = list(sc.states)
    rows = []
    for name, part in parts.items():
        q = full - part
        np.fill_diagonal(q, 0.0)
        if not np.any(q):
            continue
        land = ls.enumerate_landscape(sizes, q)
        x = land.minima[0].config
        moved = [ids[i] for i in range(len(ids)) if (x[i] != x[0]) != (base[i] != base[0])]
        rows.append(
            [f"without {name}", str(len(land.minima)), " ".join(moved) or "none", str(len(moved))]
        )
    say("Sensitivity of the best minimum of the derived propensities to each ingredient:")
    say()
    for line in table(["propensity", "minima", "states that change bloc", "count"], rows):
        say(line)
    say()


def historical_check(say: Report, sc: Scenario, best: np.ndarray) -> int | None:
    """For 1936: how many states the best minimum places in their WWII camp (A&B's comparison)."""
    if sc.name != "europe_1936":
        return None
    allies = {"UKG", "FRN", "RUS", "CZE", "YUG", "GRC", "POL", "POR", "DEN"}
    ids = list(sc.states)
    side = best[ids.index("UKG")]
    right = [s for i, s in enumerate(ids) if (best[i] == side) == (s in allies)]
    wrong = [s for s in ids if s not in right]
    say(
        f"Historical check (the WWII camps A&B compared with): {len(right)} of {len(ids)} "
        f"states placed correctly; misplaced: {', '.join(wrong) or 'none'}."
    )
    say()
    return len(right)


def report_bridge(
    say: Report, sc: Scenario, lr: LandscapeResult, res: dict[str, StepResult]
) -> list[dict[str, object]]:
    ids = list(sc.states)
    n = len(ids)
    best = lr.land.minima[0]
    d = compile_world(sc).dyads["distrust"]
    same = best.config[:, None] == best.config[None, :]
    np.fill_diagonal(same, False)
    mates_distrust = np.array([d[i, same[i]].mean() if same[i].any() else np.nan for i in range(n)])
    a = int((best.config == 0).sum())
    chance = (a * (a - 1) + (n - a) * (n - a - 1)) / (n * (n - 1))
    steps = bridge_steps()
    cum = [s.label for s in steps if s.cumulative]
    alone = [s.label for s in steps if not s.cumulative]
    short = {lab: lab.replace(" (full model)", "") for lab in cum}

    say(f"### {sc.name}: the bridge (steps 2-{len(cum) + 1})")
    say()
    rows = []
    for lab in cum:
        r = res[lab]
        mean = r.status.mean(axis=1)
        rows.append(
            [
                short[lab],
                *(pct(x) for x in mean),
                pct(r.in_bloc.mean()),
                f"{r.n_alliances:.1f}",
                pct(r.bloc_alliances),
            ]
        )
    say(
        "System: mean share of states in each final status, share allied only inside their "
        "landscape bloc, alliances per run, share of alliances inside a landscape bloc (%). "
        f"By chance {pct(chance)}% of alliances would fall inside a bloc (the share of pairs "
        "that sit in the same bloc of the best minimum)."
    )
    say()
    for line in table(["step", *STATUSES, "in bloc", "alliances", "alliances in bloc"], rows):
        say(line)
    say()
    say(
        "Per state: aligned / allied only inside its landscape bloc / non-aligned share (%) at "
        "each cumulative step."
    )
    say()
    rows = []
    for i, s in enumerate(ids):
        rows.append(
            [s, "AB"[int(best.config[i])]]
            + [
                f"{pct(res[lab].status[0, i])} / {pct(res[lab].in_bloc[i])} / "
                f"{pct(res[lab].status[1, i])}"
                for lab in cum
            ]
        )
    for line in table(["state", "bloc", *(short[c] for c in cum)], rows):
        say(line)
    say()
    say(
        "Per state at the full model: final status shares (%), and each hedging mechanism "
        "added alone to friendship: non-aligned share (%)."
    )
    say()
    full = res[cum[-1]]
    rows = []
    for i, s in enumerate(ids):
        rows.append(
            [
                s,
                *(pct(full.status[k, i]) for k in range(len(STATUSES))),
                *(pct(res[lab].status[1, i]) for lab in alone),
            ]
        )
    heads = [lab.replace("friendship + ", "").replace(" alone", "") for lab in alone]
    for line in table(["state", *STATUSES, *(f"{h} alone" for h in heads)], rows):
        say(line)
    say()

    # who leaves first, and why
    margin = lr.propensity @ lr.sizes - 2.0 * best.frustrations  # F_i(switched) - F_i >= 0
    pairs = lr.propensity.copy()
    np.fill_diagonal(pairs, -np.inf)
    bond, bond_to = pairs.max(axis=1), pairs.argmax(axis=1)  # each state's strongest pull
    leave = []
    for i, s in enumerate(ids):
        aligned = [res[lab].status[0, i] for lab in cum]
        nonal = [res[lab].status[1, i] for lab in cum]
        left = next((k for k in range(1, len(cum)) if aligned[k] < LEAVE_BELOW), None)
        if aligned[0] < LEAVE_BELOW:
            left = 0
        appear = next((k for k in range(len(cum)) if nonal[k] >= APPEAR_AT), None)
        jumps = np.diff([0.0, *nonal])
        jump = int(np.argmax(jumps))
        leave.append(
            {
                "state": s,
                "bloc": "AB"[int(best.config[i])],
                "left_index": left if left is not None else len(cum),
                "left_at": short[cum[left]] if left is not None else "stays aligned",
                "drop": aligned[0] - (aligned[left] if left is not None else aligned[-1]),
                "nonaligned_from": short[cum[appear]] if appear is not None else "never",
                "largest_rise": f"{short[cum[jump]]} (+{pct(jumps[jump])})"
                if jumps[jump] > 0
                else "none",
                "frustration": float(best.frustrations[i]),
                "margin": float(margin[i]),
                "bond": float(bond[i]),
                "bond_to": ids[int(bond_to[i])],
                "mates_distrust": float(mates_distrust[i]),
                "partners_hedging_friendship": float(res[cum[1]].partner_hedging[i]),
                "partners_hedging_full": float(full.partner_hedging[i]),
                "aligned_full": float(full.status[0, i]),
                "nonaligned_full": float(full.status[1, i]),
                "alone": {
                    h: float(res[lab].status[1, i]) for h, lab in zip(heads, alone, strict=True)
                },
            }
        )
    leave.sort(key=lambda r: (r["left_index"], -r["drop"]))
    say(
        f"Who leaves alignment first (aligned share falls below {100 * LEAVE_BELOW:.0f}%; "
        f"non-alignment counted from {100 * APPEAR_AT:.0f}%), and the quantities that explain "
        "it: frustration and switch margin in the best minimum (margin = how much F_i would rise "
        "by switching bloc), its strongest bond (largest pairwise propensity, and with whom), "
        "mean historical distrust of its bloc-mates, partners' hedging "
        "before the hedging mechanisms act (+ friendship) and in the full model, and the "
        "mechanism that, added alone to friendship, makes it non-aligned most often."
    )
    say()
    rows = []
    for r in leave:
        top = max(r["alone"].items(), key=lambda kv: kv[1])
        rows.append(
            [
                str(r["state"]),
                str(r["bloc"]),
                str(r["left_at"]),
                str(r["nonaligned_from"]),
                str(r["largest_rise"]),
                f"{r['frustration']:.3g}",
                f"{r['margin']:.3g}",
                f"{r['bond']:.3g} ({r['bond_to']})",
                f"{r['mates_distrust']:.2f}",
                num(r["partners_hedging_friendship"]),
                num(r["partners_hedging_full"]),
                f"{top[0]} ({pct(top[1])})" if top[1] > 0 else "none",
            ]
        )
    for line in table(
        [
            "state",
            "bloc",
            "leaves alignment at",
            "non-aligned (>=25%) from",
            "largest rise in non-aligned",
            "F_i",
            "switch margin",
            "strongest bond",
            "distrust of bloc-mates",
            "partners' hedging (+friendship)",
            "partners' hedging (full)",
            "strongest alone (%)",
        ],
        rows,
    ):
        say(line)
    say()
    full_na = [r["nonaligned_full"] for r in leave]
    parts = []
    for key, name in [
        ("margin", "switch margin"),
        ("bond", "strongest bond"),
        ("mates_distrust", "distrust of bloc-mates"),
        ("partners_hedging_friendship", "partners' hedging (+ friendship)"),
    ]:
        x = np.array([r[key] for r in leave], dtype=float)
        ok = np.isfinite(x)
        rho = stats.spearmanr(x[ok], np.array(full_na)[ok])
        parts.append(f"{name} {rho.statistic:+.2f} (p = {rho.pvalue:.2g}, n = {ok.sum()})")
    say(
        "Spearman correlation, across states, of the full model's non-aligned share with: "
        + "; ".join(parts)
        + "."
    )
    rho = stats.spearmanr([r["bond"] for r in leave], [r["aligned_full"] for r in leave])
    say(
        f"Strongest bond against the full model's aligned share: {rho.statistic:+.2f} "
        f"(p = {rho.pvalue:.2g}, n = {n})."
    )
    say()
    return leave


# --------------------------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------------------------


def heatmap(sc: Scenario, lr: LandscapeResult, res: dict[str, StepResult], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ids = list(sc.states)
    cum = [s.label for s in bridge_steps() if s.cumulative]
    cols = ["landscape", *(c.replace(" (full model)", "\n(full model)") for c in cum)]
    order = np.lexsort(
        [[-res[cum[-1]].status[1, i] for i in range(len(ids))], lr.land.minima[0].config]
    )
    aligned = np.column_stack([np.ones(len(ids))] + [res[c].status[0] for c in cum])[order]
    nonal = np.column_stack([np.zeros(len(ids))] + [res[c].status[1] for c in cum])[order]
    fig, axes = plt.subplots(1, 2, figsize=(11, 0.32 * len(ids) + 2.2), sharey=True)
    for ax, data, title, cmap in [
        (axes[0], aligned, "aligned (has an alliance)", "Blues"),
        (axes[1], nonal, "non-aligned (friends in rival camps, no alliance)", "Reds"),
    ]:
        im = ax.imshow(data, vmin=0, vmax=1, cmap=cmap, aspect="auto")
        ax.set_xticks(range(len(cols)), cols, rotation=40, ha="right", fontsize=7)
        ax.set_title(title, fontsize=9)
        for (r, c), v in np.ndenumerate(data):
            ax.text(
                c,
                r,
                f"{100 * v:.0f}",
                ha="center",
                va="center",
                fontsize=6,
                color="white" if v > 0.6 else "black",
            )
        fig.colorbar(im, ax=ax, fraction=0.04, label="share of replications")
    bloc = lr.land.minima[0].config[order]
    axes[0].set_yticks(
        range(len(ids)),
        [f"{ids[i]} ({'AB'[b]})" for i, b in zip(order, bloc, strict=True)],
        fontsize=7,
    )
    fig.suptitle(
        f"{sc.name}: from the two-bloc landscape to hedging (bloc in the best minimum)", fontsize=10
    )
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def agreement_figure(
    counts: np.ndarray, reach: np.ndarray, basin: np.ndarray, runs: int, path: Path
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = np.arange(len(reach))
    fig, ax = plt.subplots(figsize=(6, 3.2))
    se = np.sqrt(reach * (1 - reach) / runs)
    ax.bar(k - 0.27, counts / runs, 0.27, label=f"bloc-mode runs (n={runs})", color="#4c72b0")
    ax.bar(
        k,
        reach,
        0.27,
        yerr=2 * se,
        capsize=3,
        label="exact reach probability (±2 s.e.)",
        color="#55a868",
    )
    ax.bar(k + 0.27, basin, 0.27, label="steepest-descent basin share", color="#c44e52")
    ax.set_xticks(k, [f"min {i + 1}" for i in k])
    ax.set_ylabel("share of random starts")
    ax.set_title("Where bloc-mode runs end, random landscape with several minima", fontsize=9)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("scenarios", nargs="*", default=list(DEFAULT_SCENARIOS))
    ap.add_argument("--replications", type=int, default=100, help="per bridge step")
    ap.add_argument("--bloc-runs", type=int, default=1000, help="bloc-mode runs per landscape")
    ap.add_argument("--out", default="results/validation", help="tables, report and figures")
    ap.add_argument("--figures", help="also write the figures here (e.g. docs/figures)")
    ap.add_argument("--workers", type=int, default=default_workers())
    args = ap.parse_args(argv)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    fig_dirs = [out] + ([Path(args.figures)] if args.figures else [])
    for d in fig_dirs:
        d.mkdir(parents=True, exist_ok=True)
    say = Report()
    t0 = time.perf_counter()

    # bloc mode on a landscape with several minima: reach probabilities vs basins
    k, sizes, p = multi_minimum_instance()
    land, reach = reach_probabilities(sizes, p)
    basin = np.array([m.basin_share for m in land.minima])
    counts, outside = bloc_runs(sizes, p, land, args.bloc_runs, MULTI_ROOT)
    say("### Bloc mode against the exact solver, random landscape with several minima")
    say()
    say(
        f"N = {MULTI_N}, instance seed_for({MULTI_ROOT}, {k}), {len(land.minima)} minima, "
        f"{args.bloc_runs} bloc-mode runs from uniform random blocs "
        f"({outside} ended outside the enumerated minima)."
    )
    say()
    rows = [
        [
            str(i + 1),
            f"{m.energy:.4g}",
            pct(basin[i]),
            f"{100 * reach[i]:.1f}",
            f"{100 * counts[i] / args.bloc_runs:.1f}",
        ]
        for i, m in enumerate(land.minima)
    ]
    for line in table(["#", "energy", "basin %", "reach %", "bloc runs %"], rows):
        say(line)
    chi_r = chi_square(counts, reach)
    chi_b = chi_square(counts, basin)
    say()
    say(
        f"Chi-square against reach probabilities: {chi_r[0]:.2f} on {chi_r[1]} df, "
        f"p = {chi_r[2]:.3g}. Against steepest-descent basins: {chi_b[0]:.1f} on {chi_b[1]} df, "
        f"p = {chi_b[2]:.2g}."
    )
    say()
    for d in fig_dirs:
        agreement_figure(counts, reach, basin, args.bloc_runs, d / "validation_bloc_agreement.png")

    for path in args.scenarios:
        path = Path(path)
        if not path.is_absolute() and not path.exists():
            path = ROOT / path
        sc = load_scenario(path)
        lr = landscape_step(sc, path.resolve().parent, args.bloc_runs)
        report_landscape(say, sc, lr)
        historical_check(say, sc, lr.best)
        report_components(say, sc, lr.sizes)
        res = run_bridge(sc, lr.best, args.replications, args.workers)
        report_bridge(say, sc, lr, res)
        for d in fig_dirs:
            heatmap(sc, lr, res, d / f"validation_{sc.name}.png")
        _write_csv(out / f"bridge_{sc.name}.csv", sc, res)

    say(
        f"(replications per step: {args.replications}; bloc-mode runs per landscape: "
        f"{args.bloc_runs}; {time.perf_counter() - t0:.0f} s)"
    )
    (out / "bridge.md").write_text("\n".join(say.lines) + "\n", encoding="utf-8")
    return 0


def _write_csv(path: Path, sc: Scenario, res: dict[str, StepResult]) -> None:
    """Tidy table: one row per step and state, every share (for reuse without rerunning)."""
    import csv

    ids = list(sc.states)
    with path.open("w", newline="", encoding="utf-8") as fh:
        wr = csv.writer(fh)
        wr.writerow(["step", "state", *STATUSES, "in_bloc", "partners_hedging"])
        for lab, r in res.items():
            for i, s in enumerate(ids):
                wr.writerow(
                    [
                        lab,
                        s,
                        *(f"{x:.4f}" for x in r.status[:, i]),
                        f"{r.in_bloc[i]:.4f}",
                        f"{r.partner_hedging[i]:.4f}",
                    ]
                )


if __name__ == "__main__":
    raise SystemExit(main())
