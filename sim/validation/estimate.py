"""Estimating the free defaults by history matching against ATOP (issue 11, item 3).

Why history matching and not ABC-SMC: the question is *which values of the rule's free constants
are not ruled out by the alliance record*, with the model's own error written down, not a
posterior under a likelihood the model does not have. History matching (Craig et al. 1997;
Vernon, Goldstein & Bower 2010; Andrianakis et al. 2015) answers exactly that and needs nothing
beyond what hedgesim has: a space-filling design (``scipy.stats.qmc.LatinHypercube``), the sweep
engine to run it (resumable, on a process pool or Dask), and a few lines of arithmetic. pyabc
would bring its own scheduler and database next to the sweep engine's, for a posterior whose
tolerance schedule would be as much a choice as the discrepancy below.

The training world is built from data by :func:`sim.scenario.build_world.build_world`: the top 40
states by CINC in 1992, monthly steps 1992-2010, the 1992 ATOP defence pacts as initial ties and
*no* later treaty changes (``--no-alliance-changes``: later pacts are what is predicted). Why 1992
and not 1990: the end of the Warsaw Pact and German unification are states and treaties
disappearing, not choices the rule makes (validation/exit_costs.py leaves 1990-91 out likewise).
Each run keeps its alliances at every year-end (the sweep's ``ties: yearly``). Summary statistics,
among dyads of states that are system members that year (COW):

- ``alliances_Y`` for Y in 1995, 2000, 2005, 2010: allied dyads at the year's end;
- ``formed``, ``ended``: dyad-years 1991-2010 in which a pact appears / disappears.

Implausibility of a design point x for statistic s (Vernon et al. 2010, eq. 5):

    I_s(x) = |z_s - E[f_s(x)]| / sqrt(V_obs,s + V_md,s + V_run,s(x) (1 + 1/M))

with z the ATOP value, E[f] the mean over M replications, V_run the variance between
replications (the world is one realisation of a stochastic process, so one run's spread belongs
in the denominator, and 1/M of it for the mean's error). Observation variance
``V_obs = (0.03 z)²`` (coding disagreement between alliance datasets is a few percent of pacts);
model discrepancy ``V_md = (0.10 z)² + 1`` (the rule is a stylised account of why pacts exist,
multilateral treaties are approximated as cliques, and one dyad is the floor). A point is
non-implausible when its largest I_s is at most 3 (Pukelsheim's three-sigma rule). Wave 2 draws
a new design inside the box of wave 1's non-implausible points (padded by a tenth of the prior
width) and evaluates it the same way: with no emulator, waves refocus the design rather than
cut space by prediction, which the report says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy.stats import qmc

from sim import data
from sim.errors import InputError
from sim.experiments.posterior import field_of

CUTOFF = 3.0
OBS_REL = 0.03
MD_REL = 0.10
MD_FLOOR = 1.0
YEARS = (1995, 2000, 2005, 2010)
SPEC_MARKER = "# hedgesim estimation: written by sim.validation.estimate (it may replace this file)"


@dataclass(frozen=True)
class Prior:
    """A free constant's prior range and the scale it is sampled on (log for rates and costs
    whose plausible values span orders of magnitude)."""

    path: str
    low: float
    high: float
    scale: str = "log"

    def value(self, u: np.ndarray) -> np.ndarray:
        """Unit-cube coordinates to values."""
        if self.scale == "log":
            return np.exp(np.log(self.low) + u * (np.log(self.high) - np.log(self.low)))
        return self.low + u * (self.high - self.low)

    def unit(self, v: np.ndarray) -> np.ndarray:
        """Values to unit-cube coordinates."""
        if self.scale == "log":
            return (np.log(v) - np.log(self.low)) / (np.log(self.high) - np.log(self.low))
        return (v - self.low) / (self.high - self.low)

    @property
    def default(self) -> float:
        return float(field_of(self.path)[2].default)


PRIORS = (
    Prior("params.temperature", 0.004, 0.05),
    Prior("params.inertia", 0.01, 0.25),
    Prior("params.friendship_cost", 0.005, 0.15),
    Prior("params.alliance_cost", 0.005, 0.15),
    Prior("mechanisms.autonomy.commitment", 0.005, 0.15),
    Prior("mechanisms.security.friendship_reliability", 0.0, 0.5, "linear"),
    Prior("mechanisms.entrapment.weight", 0.0, 1.2, "linear"),
    Prior("mechanisms.institutions.exit_cost", 0.2, 4.0),
    Prior("mechanisms.institutions.treaty_exit_cost", 0.2, 4.0),
)
"""The constants docs/ODD.md §7.13 marks as estimated, with ranges wide around their defaults."""


@dataclass(frozen=True)
class Plan:
    """How big the estimation is: design points and replications per wave, the world."""

    waves: tuple[tuple[int, int], ...] = ((512, 4), (256, 4))
    reference_replications: int = 16  # the schema's defaults, scored the same way
    top: int = 40
    first: int = 1992
    last: int = 2010
    seed: int = 20261130


FULL = Plan()
QUICK = Plan(waves=((6, 2), (4, 2)), reference_replications=2, top=12, first=1992, last=1996)


# --------------------------------------------------------------------------- implausibility


def implausibility(
    sim_mean: np.ndarray,
    sim_var: np.ndarray,
    replications: int,
    observed: np.ndarray,
    obs_var: np.ndarray,
    md_var: np.ndarray,
) -> np.ndarray:
    """I_s(x) for every point (rows) and statistic (columns); see the module docstring."""
    denom = obs_var + md_var + np.asarray(sim_var) * (1.0 + 1.0 / replications)
    return np.abs(np.asarray(observed) - np.asarray(sim_mean)) / np.sqrt(denom)


def variances(observed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Observation and model-discrepancy variances of each statistic (written down above)."""
    z = np.abs(np.asarray(observed, dtype=float))
    return (OBS_REL * z) ** 2, (MD_REL * z) ** 2 + MD_FLOOR**2


# --------------------------------------------------------------------------- statistics


def stat_names(plan: Plan) -> list[str]:
    years = [y for y in YEARS if plan.first < y <= plan.last] or [plan.last]
    return [f"alliances_{y}" for y in years] + ["formed", "ended"]


def members(ids: Sequence[str], years: Sequence[int]) -> np.ndarray:
    """(Y, N) bool: the state is a COW system member that year."""
    out = np.zeros((len(years), len(ids)), dtype=bool)
    codes = [data.to_ccode(s) for s in ids]
    for k, y in enumerate(years):
        present = set(data.cinc(y).index)
        out[k] = [c in present for c in codes]
    return out


def atop(ids: Sequence[str], years: Sequence[int]) -> np.ndarray:
    """(Y, N, N) 0/1: ATOP defence pact (either direction) each year."""
    code = {data.to_ccode(s): k for k, s in enumerate(ids)}
    out = np.zeros((len(years), len(ids), len(ids)), dtype=np.int8)
    for t, y in enumerate(years):
        p = data.defence_pacts(y)
        for a, b in zip(p.ccode1, p.ccode2, strict=True):
            if a in code and b in code:
                out[t, code[a], code[b]] = out[t, code[b], code[a]] = 1
    return out


def statistics(allied: np.ndarray, alive: np.ndarray, years: Sequence[int], names: list[str]):
    """Summary statistics of one yearly alliance history ``allied`` (Y, N, N) 0/1 (upper
    triangle used), among dyads whose states are members that year (``alive`` (Y, N))."""
    pair = alive[:, :, None] & alive[:, None, :]
    iu = np.triu_indices(allied.shape[1], 1)
    a = allied[:, iu[0], iu[1]].astype(bool)
    m = pair[:, iu[0], iu[1]]
    both = m[1:] & m[:-1]
    out = {}
    for n in names:
        if n.startswith("alliances_"):
            t = list(years).index(int(n.split("_")[1]))
            out[n] = float((a[t] & m[t]).sum())
    out["formed"] = float((a[1:] & ~a[:-1] & both).sum())
    out["ended"] = float((~a[1:] & a[:-1] & both).sum())
    return [out[n] for n in names]


# --------------------------------------------------------------------------- designs


def lhs(n: int, seed: int, wave: int, box: np.ndarray | None = None) -> np.ndarray:
    """``n`` Latin hypercube points in the unit cube (or in ``box``: (D, 2) unit bounds), from
    the plan's seed and the wave: the same plan always gives the same design."""
    rng = np.random.default_rng(np.random.SeedSequence(seed, spawn_key=(wave,)))
    u = qmc.LatinHypercube(d=len(PRIORS), rng=rng).random(n)
    if box is not None:
        u = box[:, 0] + u * (box[:, 1] - box[:, 0])
    return u


def refocus(unit_points: np.ndarray, pad: float = 0.1) -> np.ndarray:
    """The unit box of ``unit_points`` padded by ``pad`` of the prior width, clipped to [0, 1]."""
    lo = np.clip(unit_points.min(axis=0) - pad, 0, 1)
    hi = np.clip(unit_points.max(axis=0) + pad, 0, 1)
    return np.stack([lo, hi], axis=1)


def values(unit_points: np.ndarray) -> np.ndarray:
    return np.stack([p.value(unit_points[:, k]) for k, p in enumerate(PRIORS)], axis=1)


# --------------------------------------------------------------------------- files


def _write_own(path: Path, text: str, marker: str) -> None:
    """Write ``text`` to ``path`` unless a file there was not written by us (no ``marker``)."""
    if path.exists():
        old = path.read_text(encoding="utf-8", errors="replace")
        if old == text:
            return
        if not old.startswith(marker):
            raise InputError.plain(
                str(path), "exists and was not written by the estimation; move it or choose --out"
            )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def training_world(plan: Plan) -> str:
    from sim.scenario.build_world import build_world
    from sim.scenario.datasets import Request, top_states

    req = Request(
        plan.first,
        plan.last,
        tuple(top_states(plan.top, plan.first)),
        alliance_changes=False,
        name=f"train_{plan.first}_{plan.last}_top{plan.top}",
        command="sim.validation.estimate",
    )
    return build_world(req, "top")


def sweep_spec(points: np.ndarray, replications: int, seed: int) -> str:
    """The sweep file of one wave: the design as ``cases`` (log-scale constants are sampled
    here, which a sweep's own ``bounds`` cannot do), every run's alliances at each year-end."""
    cases = [
        {p.path: float(f"{v:.6g}") for p, v in zip(PRIORS, row, strict=True)} for row in points
    ]
    body = {
        "scenario": "train.yaml",
        "replications": replications,
        "seed": seed,
        "record": "final",
        "ties": {"when": "yearly", "level": "alliance"},
        "cases": cases,
    }
    return SPEC_MARKER + "\n" + yaml.safe_dump(body, sort_keys=False, width=200)


# --------------------------------------------------------------------------- one wave


@dataclass
class Wave:
    """One wave's design (values), statistics per point (mean, variance) and implausibility."""

    index: int
    values: np.ndarray
    replications: int
    mean: np.ndarray
    var: np.ndarray
    impl: np.ndarray
    auc: np.ndarray
    runs: int
    directory: Path

    @property
    def worst(self) -> np.ndarray:
        return self.impl.max(axis=1)

    @property
    def ok(self) -> np.ndarray:
        return self.worst <= CUTOFF


@dataclass
class Target:
    """The training world's ids, year-ends, members and ATOP statistics."""

    ids: list[str]
    years: list[int]
    alive: np.ndarray
    observed_ties: np.ndarray
    names: list[str]
    observed: np.ndarray
    obs_var: np.ndarray = field(init=False)
    md_var: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        self.obs_var, self.md_var = variances(self.observed)


def target(ids: list[str], plan: Plan) -> Target:
    years = list(range(plan.first, plan.last + 1))
    alive = members(ids, years)
    ties = atop(ids, years)
    names = stat_names(plan)
    obs = np.array(statistics(ties, alive, years, names))
    return Target(ids, years, alive, ties, names, obs)


def score_sweep(directory: Path, tgt: Target, n_points: int, plan: Plan) -> tuple:
    """Per design point: the statistics' mean and variance over replications, and the AUC of
    the point's alliance probability at the last year-end against ATOP that year."""
    from sim.experiments.sweep import SweepResult
    from sim.validation.fit import auc

    res = SweepResult.load(directory)
    runs = res.runs[["run_index", "cell"]]
    ties = res.ties
    idx = {s: k for k, s in enumerate(tgt.ids)}
    n, years = len(tgt.ids), tgt.years
    step_year = {12 * (k + 1): y for k, y in enumerate(years)}
    pos = {int(r): k for k, r in enumerate(runs.run_index)}
    hist_all = np.zeros((len(pos), len(years), n, n), dtype=np.int8)
    a = ties["a"].astype(str).map(idx).to_numpy()
    b = ties["b"].astype(str).map(idx).to_numpy()
    t = ties["step"].map({s: k for k, s in enumerate(step_year)}).to_numpy()
    keep_rows = ~np.isnan(t.astype(float))  # steps that are year-ends
    r = ties.run_index.map(pos).to_numpy()[keep_rows]
    t, a, b = t[keep_rows].astype(int), a[keep_rows].astype(int), b[keep_rows].astype(int)
    hist_all[r, t, a, b] = 1
    hist_all[r, t, b, a] = 1
    per_run = {run: hist_all[k] for run, k in pos.items()}
    k = len(tgt.names)
    mean, var, aucs = np.zeros((n_points, k)), np.zeros((n_points, k)), np.zeros(n_points)
    last = tgt.alive[-1][:, None] & tgt.alive[-1][None, :]
    iu = np.triu_indices(n, 1)
    keep = last[iu]
    for cell, g in runs.groupby("cell"):
        hist = [per_run[int(r)] for r in g.run_index]
        st = np.array([statistics(h, tgt.alive, years, tgt.names) for h in hist])
        mean[cell], var[cell] = st.mean(axis=0), st.var(axis=0, ddof=1) if len(st) > 1 else 0
        prob = np.mean([h[-1][iu] for h in hist], axis=0)
        y = tgt.observed_ties[-1][iu]
        aucs[cell] = auc(prob[keep], y[keep])
    return mean, var, aucs, len(runs)


def run_wave(
    index: int,
    unit_points: np.ndarray,
    replications: int,
    out: Path,
    tgt: Target,
    plan: Plan,
    *,
    workers: int | None,
    backend: str,
    scheduler: str | None,
    progress: bool,
) -> Wave:
    """Write the wave's sweep file and run it through the sweep engine (resuming what is on
    disk), then score it."""
    from sim.experiments.sweep import sweep

    vals = values(unit_points)
    name = f"wave{index}" if index else "reference"
    spec = out / f"{name}.yaml"
    _write_own(spec, sweep_spec(vals, replications, plan.seed + index), SPEC_MARKER)
    d = out / name
    sweep(spec, d, workers=workers, backend=backend, scheduler=scheduler, progress=progress)
    mean, var, aucs, runs = score_sweep(d, tgt, len(vals), plan)
    impl = implausibility(mean, var, replications, tgt.observed, tgt.obs_var, tgt.md_var)
    return Wave(index, vals, replications, mean, var, impl, aucs, runs, d)


# --------------------------------------------------------------------------- the whole job


@dataclass
class Estimation:
    """Every wave, the schema's defaults scored as a reference point, the target and the plan."""

    target: Target
    waves: list[Wave]
    reference: Wave
    plan: Plan


def estimate(
    out: str | Path,
    plan: Plan = FULL,
    *,
    workers: int | None = None,
    backend: str = "local",
    scheduler: str | None = None,
    progress: bool = False,
) -> Estimation:
    """Run every wave and the reference point into ``out`` (resumable: run again to continue);
    sim.validation.estimate_file.document turns the result into the estimates file."""
    from sim.scenario.load import loads_scenario

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    text = training_world(plan)
    _write_own(out / "train.yaml", text, "# hedgesim build-world")
    sc = loads_scenario(text, str(out / "train.yaml"))
    tgt = target(list(sc.states), plan)
    waves: list[Wave] = []
    box = None
    for w, (n, m) in enumerate(plan.waves, start=1):
        if w > 1:
            prev = np.concatenate([_unit(x.values[x.ok]) for x in waves])
            if len(prev) == 0:
                break  # nothing non-implausible: a further wave has nowhere to look
            box = refocus(prev)
        pts = lhs(n, plan.seed, w, box)
        waves.append(
            run_wave(
                w, pts, m, out, tgt, plan,
                workers=workers, backend=backend, scheduler=scheduler, progress=progress,
            )
        )  # fmt: skip
    defaults = np.array([[p.unit(np.array(p.default)) for p in PRIORS]], dtype=float)
    ref = run_wave(
        0, defaults, plan.reference_replications, out, tgt, plan,
        workers=workers, backend=backend, scheduler=scheduler, progress=progress,
    )  # fmt: skip
    return Estimation(tgt, waves, ref, plan)


def _unit(vals: np.ndarray) -> np.ndarray:
    if len(vals) == 0:
        return np.zeros((0, len(PRIORS)))
    return np.stack([p.unit(vals[:, k]) for k, p in enumerate(PRIORS)], axis=1)
