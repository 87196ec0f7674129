"""How fast is one run? Prints figures; asserts nothing (speed is measured here, not in tests).

1. One 200-step run of the Iran scenario against an empty Mesa model with the same agents, steps
   and data-collection cadence (a no-op step through ``shuffle_do`` and a ``DataCollector``
   collecting the same per-state and system quantities every step). Target: at most 3x.
   Measured twice: as the engine runs it (sim.model.lockstep, a batch of one, compact recording,
   no agents) and as the Mesa model ``AlignmentModel`` (State agents whose attributes its
   DataCollector collects every step): the difference is what agent collection costs.
   Issue 10's target: at most 1.5x the 21.97 ms the engine took before its mechanisms (main
   9a4df53^, measured on this machine on 2026-12-01).
2. A random 193-state world (as many as UN members), 500 steps. Target: under 10 s; issue 10's
   at least 200 steps/s.
3. Per-step cost from 50 to 400 states. Target: growth no faster than about N^2.
4. Replications of the Iran scenario in lock-step (sim.model.lockstep, what sweeps and
   ``hedgesim run`` use): time per run in batches of K, against the run alone (no target).

Usage: python benchmarks/bench_run.py [--repeat K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model.lockstep import simulate_many  # noqa: E402
from sim.model.metrics import SYSTEM_COLUMNS  # noqa: E402
from sim.model.model import AlignmentModel  # noqa: E402
from sim.model.seeds import replication_seed as seed_for  # noqa: E402
from sim.model.world import compile_world  # noqa: E402
from sim.scenario.generate import random_world  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402


def simulate(world, scenario, seed, record_every=None):
    """One run as the engine makes it: a lock-step batch of one (no agents)."""
    return simulate_many(world, scenario, [seed], record_every=record_every)[0]


class EmptyAgent(mesa.Agent):
    """An agent that does nothing but carries the fields the real model reports per state."""

    def __init__(self, model: mesa.Model) -> None:
        super().__init__(model)
        self.status = 0
        self.n_alliances = 0
        self.n_friendships = 0
        self.hedging_index = 0.0

    def step(self) -> None:
        pass


class EmptyModel(mesa.Model):
    """Same agents, steps and collection cadence as a hedgesim run; no behaviour at all.

    It collects, every step, the fields a hedgesim run records: per state its status, alliance
    and friendship counts and hedging index; per step the system columns (``full=True``, the
    same content) or only one of them (``full=False``, a lighter baseline shown for comparison).
    """

    def __init__(self, n: int, rng: np.random.SeedSequence, full: bool = True) -> None:
        super().__init__(rng=rng)
        for _ in range(n):
            EmptyAgent(self)
        columns = SYSTEM_COLUMNS if full else ("turnover",)
        for c in columns:
            setattr(self, c, 0)
        self.collector = mesa.DataCollector(
            model_reporters={c: c for c in columns},
            agent_reporters={
                "status": "status",
                "n_alliances": "n_alliances",
                "n_friendships": "n_friendships",
                "hedging_index": "hedging_index",
            },
        )
        self.collector.collect(self)

    def step(self) -> None:
        self.agents.shuffle_do("step")
        self.collector.collect(self)


def best_of(fn, repeat: int) -> float:
    fn()  # warm up
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=15)
    args = ap.parse_args()

    sc = load_scenario(ROOT / "scenarios" / "iran_2021.yaml")
    w = compile_world(sc)
    steps = sc.params.steps
    counter = iter(range(10**9))
    simulate(compile_world(sc), sc, seed_for(1, 0))  # warm the process (first calls, BLAS)
    fresh = compile_world(sc)  # a fresh world: its cache still empty
    t0 = time.perf_counter()
    simulate(fresh, sc, seed_for(1, 0))
    cold = time.perf_counter() - t0
    ours = best_of(lambda: simulate(w, sc, seed_for(1, next(counter))), args.repeat)
    mesa_model = best_of(
        lambda: AlignmentModel(sc, rng=seed_for(1, next(counter)), world=w).finish(steps),
        args.repeat,
    )
    empty = best_of(lambda: EmptyModel(w.n, seed_for(1, 0)).run_for(steps), args.repeat)
    light = best_of(lambda: EmptyModel(w.n, seed_for(1, 0), full=False).run_for(steps), args.repeat)
    ratio = ours / empty
    print(
        f"1. Iran scenario, {w.n} states, {steps} steps, collect every step "
        f"(best of {args.repeat}):"
    )
    print(
        f"   hedgesim run {1e3 * ours:7.2f} ms (the engine: no agents; issue 10's target: "
        f"<= 1.5 x 21.97 ms = 33 ms, measured before its mechanisms on this machine: "
        f"{'ok' if ours <= 0.033 else 'MISSED'})"
    )
    print(f"   the first run of a fresh world (its cache empty, process warm) {1e3 * cold:7.2f} ms")
    print(
        f"   AlignmentModel {1e3 * mesa_model:7.2f} ms (Mesa model, agent reporters collected "
        f"every step: +{1e3 * (mesa_model - ours):.2f} ms, {mesa_model / ours:.2f}x the engine)"
    )
    print(
        f"   empty Mesa model collecting the same fields (4 per state, {len(SYSTEM_COLUMNS)} per "
        f"step) {1e3 * empty:6.2f} ms: ratio {ratio:.2f}x "
        f"(target <= 3x: {'ok' if ratio <= 3 else 'MISSED'})"
    )
    print(
        f"   empty Mesa model collecting 4 fields per state, 1 per step {1e3 * light:6.2f} ms: "
        f"ratio {ours / light:.2f}x"
    )

    big = random_world(193, seed=1, steps=500)
    wb = compile_world(big)
    t193 = best_of(lambda: simulate(wb, big, seed_for(1, 0)), 2)
    print(
        f"2. random world, 193 states, 500 steps: {t193:.2f} s = {500 / t193:.0f} steps/s "
        f"(target < 10 s: {'ok' if t193 < 10 else 'MISSED'}; issue 10's >= 200 steps/s: "
        f"{'ok' if 500 / t193 >= 200 else 'MISSED'})"
    )

    sizes = [50, 100, 200, 400]
    per_step = []
    for n in sizes:
        s = random_world(n, seed=2, steps=60)
        wn = compile_world(s)
        t = best_of(lambda s=s, wn=wn: simulate(wn, s, seed_for(1, 0)), 2)
        per_step.append(t / 60)
    slope = np.polyfit(np.log(sizes), np.log(per_step), 1)[0]
    print("3. per-step cost by number of states:")
    for n, t in zip(sizes, per_step, strict=True):
        print(f"   N = {n:4d}: {1e3 * t:8.3f} ms/step")
    pairs = [
        np.log(per_step[k + 1] / per_step[k]) / np.log(sizes[k + 1] / sizes[k])
        for k in range(len(sizes) - 1)
    ]
    print(
        f"   log-log slope {slope:.2f} overall; by doubling "
        + ", ".join(f"{p:.2f}" for p in pairs)
        + f"  (target <= ~2: {'ok' if slope <= 2.2 else 'MISSED'})"
    )
    print(f"   (median of doublings {statistics.median(pairs):.2f})")

    print(f"4. Iran scenario in lock-step batches, {steps} steps, collect every step / final only:")
    for every, label in ((1, "every step"), (2**62, "final only")):
        alone = best_of(lambda e=every: simulate(w, sc, seed_for(1, 0), record_every=e), 5)
        cells = [f"alone {1e3 * alone:5.2f}"]
        for k in (5, 20, 50):
            seeds = [seed_for(1, i) for i in range(k)]
            t = best_of(lambda s=seeds, e=every: simulate_many(w, sc, s, record_every=e), 3) / k
            cells.append(f"K={k} {1e3 * t:5.2f} ({alone / t:.1f}x)")
        print(f"   {label:10s} ms/run: " + ", ".join(cells))


if __name__ == "__main__":
    main()
