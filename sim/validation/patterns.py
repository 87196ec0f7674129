"""The pattern suite: stylized facts of the alliance literature, each on a small world.

Pattern-oriented modelling (Grimm et al. 2005) asks a model to reproduce several patterns at once,
with the same rules and defaults, before its answer to a new question is believed. Each file in
``validation/patterns/`` is an ordinary scenario plus a ``pattern:`` block: the fact, its source,
and checks on shares of seeded replications. ``hedgesim validate`` runs them all and prints one
table; a failing pattern stays in the table, marked, and makes the exit status non-zero.

A check measures one yes/no outcome per replication (a tie, a status, any alliance, a distrust
level; at the end, at every step of a window, or at some step of it) and compares the share of
runs where it holds with a bound (``at_least`` / ``at_most``), or with the same outcome in a
variant of the world run on the same seeds (``versus``: paired, exact one-sided McNemar test).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

import numpy as np
from pydantic import Field, ValidationError, model_validator
from scipy.stats import binomtest

from sim.errors import InputError, Problem
from sim.experiments.conditions import ablate, resolve_ablation
from sim.experiments.stats import wilson
from sim.model.lockstep import LockstepModel, batch_size
from sim.model.metrics import STATUSES, status
from sim.model.seeds import replication_seed
from sim.model.world import compile_world
from sim.scenario.load import (
    parse_override,
    pydantic_problems,
    scenario_from_document,
    validate_document,
)
from sim.scenario.paths import Override, apply_overrides
from sim.scenario.schema import LEVELS, Scenario, StateId, Strict
from sim.scenario.yamlsafe import locate, read_yaml

ALPHA = 0.05


class Measure(Strict):
    """One yes/no outcome per replication."""

    kind: Literal["tie", "status", "any_alliance", "distrust"]
    a: StateId | None = Field(None, description="tie, distrust: first state; status: the state")
    b: StateId | None = Field(None, description="tie, distrust: second state")
    level: Literal[(*LEVELS, "tie")] = Field(  # type: ignore[valid-type]
        "alliance", description="tie: the level ('tie': friendship or alliance)"
    )
    status: Literal[STATUSES] | None = None  # type: ignore[valid-type]
    above: Annotated[float, Field(ge=0.0, le=1.0)] = Field(
        0.0, description="distrust: the outcome is distrust a->b above this"
    )
    when: Literal["end", "always", "ever"] = "end"
    start: Annotated[int, Field(ge=0)] = Field(1, description="always/ever: first step")
    stop: Annotated[int, Field(ge=0)] | None = Field(None, description="always/ever: last step")

    @model_validator(mode="after")
    def _fields(self) -> Measure:
        need = {"tie": ("a", "b"), "distrust": ("a", "b"), "status": ("a", "status")}
        for name in need.get(self.kind, ()):
            if getattr(self, name) is None:
                raise ValueError(f"kind {self.kind} needs {name!r}")
        return self

    def describe(self) -> str:
        span = {
            "end": "at the end",
            "always": f"at every step {self.start}-{self.stop or 'end'}",
            "ever": f"at some step {self.start}-{self.stop or 'end'}",
        }[self.when]
        what = {
            "tie": f"{self.a}-{self.b} {self.level}",
            "status": f"{self.a} {self.status}",
            "any_alliance": "any alliance",
            "distrust": f"distrust {self.a}->{self.b} > {self.above:g}",
        }[self.kind]
        return f"{what} {span}"


class Versus(Strict):
    """A variant of the pattern's world, run on the same seeds."""

    set: list[str] = Field(default_factory=list, description="PATH=VALUE overrides")
    ablate: list[str] = Field(default_factory=list, description="factors switched off")
    label: str = ""


class Check(Strict):
    measure: Measure
    at_least: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    at_most: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    versus: Versus | None = None
    expect: Literal["higher", "lower"] | None = Field(
        None, description="with versus: the baseline share is higher / lower than the variant's"
    )

    @model_validator(mode="after")
    def _one_kind(self) -> Check:
        bounds = self.at_least is not None or self.at_most is not None
        paired = self.versus is not None
        if bounds == paired:
            raise ValueError("give at_least/at_most, or versus with expect")
        if paired and self.expect is None:
            raise ValueError("versus needs expect: higher or lower")
        return self


class PatternSpec(Strict):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    fact: str = Field(min_length=1)
    source: str = Field(min_length=1)
    checks: list[Check] = Field(min_length=1)


@dataclass
class Pattern:
    path: Path
    spec: PatternSpec
    scenario: Scenario


@dataclass
class CheckResult:
    pattern: str
    check: str
    n: int
    share: float
    low: float
    high: float
    passed: bool
    expectation: str
    variant_share: float | None = None
    p_value: float | None = None


def load_pattern(path: str | Path, overrides: Sequence[Override] = ()) -> Pattern:
    """Read a pattern file: its ``pattern:`` block and the scenario around it (with
    ``overrides``, typed ``--set`` values, applied to the scenario)."""
    doc, node, source = read_yaml(path)
    if not isinstance(doc, dict) or "pattern" not in doc:
        raise InputError.single(source, "a pattern file needs a 'pattern:' block", line=1)
    raw = doc["pattern"]
    try:
        spec = PatternSpec.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for loc, msg in pydantic_problems(exc):
            path_ = ("pattern", *loc)
            pos = locate(node, path_)
            problems.append(Problem(source, path_, msg, *(pos or (None, None))))
        raise InputError(problems) from None
    sc = scenario_from_document(doc, source, node, overrides)
    ids = set(sc.states)
    bad = []
    for k, chk in enumerate(spec.checks):
        for f in ("a", "b"):
            sid = getattr(chk.measure, f)
            if sid is not None and sid not in ids:
                bad.append(
                    Problem(
                        source, ("pattern", "checks", k, "measure", f), f"unknown state id {sid!r}"
                    )
                )
    if bad:
        raise InputError(bad)
    return Pattern(Path(path), spec, sc)


def _variant(sc: Scenario, v: Versus, source: str) -> Scenario:
    """The scenario with a check's overrides and ablations applied."""
    out = sc
    if v.set:
        doc = apply_overrides(sc.model_dump(mode="json"), [parse_override(o) for o in v.set])
        out = validate_document(doc, source)
    factors: tuple[str, ...] = ()
    for spec in v.ablate:
        for _, f in resolve_ablation(out, spec.replace(",", "+")):
            factors += f
    return ablate(out, factors)


@dataclass
class Runs:
    """What the checks need from a set of replications: tie snapshots and final distrust."""

    steps: np.ndarray  # (T,)
    ties: np.ndarray  # (R, T, N, N) int8
    distrust: np.ndarray  # (R, N, N)
    rivalry: list[np.ndarray]  # per recorded step
    threshold: float
    index: dict[str, int]


def simulate_runs(sc: Scenario, replications: int) -> Runs:
    """Run ``replications`` seeded replications in lock-step batches, keeping every snapshot."""
    world = compile_world(sc)
    seeds = [replication_seed(sc.seed, r) for r in range(replications)]
    size = batch_size(world.n)
    ties, distrust = [], []
    steps = rivalry = None
    for start in range(0, len(seeds), size):
        model = LockstepModel(
            world, sc.mechanisms, sc.params, seeds=seeds[start : start + size], record_every=1
        )
        model.run_for(sc.params.steps)
        snaps = np.stack(model.recorder.ties)  # (T, K, N, N); (T, N, N) for a batch of one
        distrust_now = model.dyadic.distrust
        if snaps.ndim == 3:
            snaps, distrust_now = snaps[:, None], distrust_now[None]
        ties.append(snaps.swapaxes(0, 1))
        distrust.append(distrust_now)
        steps = np.array(model.recorder.steps)
        rivalry = model.recorder.rivalry
    return Runs(
        steps=steps,
        ties=np.concatenate(ties),
        distrust=np.concatenate(distrust),
        rivalry=rivalry,
        threshold=sc.params.rival_threshold,
        index=world.index,
    )


def outcome(runs: Runs, m: Measure) -> np.ndarray:
    """(R,) boolean: whether the measure holds in each replication."""
    if m.kind == "distrust":
        return runs.distrust[:, runs.index[m.a], runs.index[m.b]] > m.above
    stop = runs.steps[-1] if m.stop is None else m.stop
    if m.when == "end":
        sel = np.array([len(runs.steps) - 1])
    else:
        sel = np.flatnonzero((runs.steps >= m.start) & (runs.steps <= stop))
        if not len(sel):
            sel = np.array([len(runs.steps) - 1])
    T = runs.ties[:, sel]  # (R, S, N, N)
    if m.kind == "tie":
        lv = T[:, :, runs.index[m.a], runs.index[m.b]]
        hit = lv >= 1 if m.level == "tie" else lv == LEVELS.index(m.level)
    elif m.kind == "any_alliance":
        hit = (T == 2).any(axis=(-2, -1))
    else:
        code = STATUSES.index(m.status)
        i = runs.index[m.a]
        hit = np.stack(
            [
                status(T[:, k], runs.rivalry[s] >= runs.threshold)[:, i] == code
                for k, s in enumerate(sel)
            ],
            axis=1,
        )
    return hit.all(axis=1) if m.when == "always" else hit.any(axis=1)


def evaluate(pattern: Pattern, replications: int | None = None) -> list[CheckResult]:
    """Run a pattern's world (and its variants) and judge every check."""
    sc = pattern.scenario
    n = replications or sc.replications
    base = simulate_runs(sc, n)
    variants: dict[str, Runs] = {}
    out = []
    for chk in pattern.spec.checks:
        hit = outcome(base, chk.measure)
        k = int(hit.sum())
        lo, hi = wilson(k, n)
        share = k / n
        if chk.versus is None:
            ok = True
            words = []
            if chk.at_least is not None:
                ok &= share >= chk.at_least
                words.append(f">= {chk.at_least:g}")
            if chk.at_most is not None:
                ok &= share <= chk.at_most
                words.append(f"<= {chk.at_most:g}")
            out.append(
                CheckResult(
                    pattern.spec.name,
                    chk.measure.describe(),
                    n,
                    share,
                    lo,
                    hi,
                    ok,
                    " and ".join(words),
                )
            )
            continue
        key = repr(chk.versus)
        if key not in variants:
            variants[key] = simulate_runs(_variant(sc, chk.versus, str(pattern.path)), n)
        other = outcome(variants[key], chk.measure)
        # paired, exact one-sided McNemar: discordant runs favour the expected direction
        up = int((hit & ~other).sum())
        down = int((~hit & other).sum())
        favour, against = (up, down) if chk.expect == "higher" else (down, up)
        p = (
            binomtest(favour, favour + against, 0.5, alternative="greater").pvalue
            if (favour + against)
            else 1.0
        )
        label = chk.versus.label or ", ".join(
            [*chk.versus.set, *(f"-{a}" for a in chk.versus.ablate)]
        )
        out.append(
            CheckResult(
                pattern.spec.name,
                chk.measure.describe(),
                n,
                share,
                lo,
                hi,
                bool(p < ALPHA),
                f"{chk.expect} than with {label}",
                variant_share=float(other.mean()),
                p_value=float(p),
            )
        )
    return out


def pattern_files(paths: Sequence[str | Path]) -> list[Path]:
    """Pattern files named directly or found (``*.yaml``) in the directories given."""
    out: list[Path] = []
    for p in map(Path, paths):
        out += sorted(p.glob("*.yaml")) if p.is_dir() else [p]
    return out


def format_table(results: Sequence[CheckResult]) -> str:
    """One line per check: pattern, outcome, share with its 95% interval, expectation, verdict."""
    lines = [
        f"{'pattern':<22} {'outcome':<48} {'share':>6} {'95% CI':>13}  {'expected':<34} result",
    ]
    for r in results:
        ci = f"[{100 * r.low:3.0f}-{100 * r.high:3.0f}%]"
        exp = r.expectation
        if r.variant_share is not None:
            exp += f" ({100 * r.variant_share:.0f}%, p={r.p_value:.3g})"
        lines.append(
            f"{r.pattern:<22} {r.check[:48]:<48} {100 * r.share:5.0f}% {ci:>13}  {exp:<34} "
            + ("pass" if r.passed else "FAIL")
        )
    n_fail = sum(not r.passed for r in results)
    lines.append(f"patterns: {len(results) - n_fail} of {len(results)} checks pass")
    return "\n".join(lines)
