"""How fast is a world built from data? Prints figures; asserts nothing.

1. ``hedgesim build-world --year 2010 --all`` (every system member in COW NMC 2010, 194 states;
   the issue's 193 is UN membership): time to build the text, to load and validate it, and to
   compile it.
2. One replication of that world, monthly steps: steps per second over ``--steps`` steps
   (issue 10's target for a 193-state world: at least 200 steps/s), best of ``--repeat`` and
   the world's first run (its cache of static terms and sanctions by step still empty), with
   numpy's BLAS left to its default threads and limited to one (``OPENBLAS_NUM_THREADS=1``):
   each measurement runs in a fresh process, because the limit must be set before numpy is
   imported (the engine itself runs with one BLAS thread since 2026-12-01).
3. The same for the top-40 world the held-out tests run, 2011-2018 from real ties.
4. Runs per second of the 194-state world at 1 and 2 processes (``hedgesim run``'s pool), both
   thread settings, for sizing a sweep of data-built worlds (docs/SWEEPS.md).

Usage: python benchmarks/bench_world.py [--steps 300] [--repeat 2] [--runs 6]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ONE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def best_of(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def child(args: argparse.Namespace) -> dict[str, float]:
    """The measurements of items 1-4 in this process (its thread limit is set by the parent)."""
    sys.path.insert(0, str(ROOT))
    from sim.experiments.conditions import Condition, prepare
    from sim.experiments.engine import Execution
    from sim.experiments.run import run_conditions
    from sim.model.lockstep import simulate_many
    from sim.model.seeds import replication_seed as seed_for
    from sim.model.world import compile_world
    from sim.scenario.build_world import build_world
    from sim.scenario.datasets import Request, all_states, top_states
    from sim.scenario.load import loads_scenario

    def simulate(world, sc, seed, steps=None):
        return simulate_many(world, sc, [seed], steps)[0]

    out: dict[str, float] = {}
    t0 = time.perf_counter()
    text = build_world(Request(2010, 2010, tuple(all_states(2010))), "all")
    out["build"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    sc = loads_scenario(text)
    out["load"] = time.perf_counter() - t0
    world = compile_world(sc)
    out.update(n=world.n, treaties=len(sc.treaties), regimes=len(sc.sanctions), mb=len(text) / 1e6)
    sc.params.steps = args.steps
    # the first run fills the world's cache (static terms, sanctions by step: sim.model.decision)
    out["cold"] = best_of(lambda: simulate(world, sc, seed_for(1, 0), args.steps), 1)
    out["run"] = best_of(lambda: simulate(world, sc, seed_for(1, 0), args.steps), args.repeat)
    sub = loads_scenario(build_world(Request(2011, 2018, tuple(top_states(40, 2011)))))
    w40 = compile_world(sub)
    out["steps40"] = sub.params.steps
    out["run40"] = best_of(lambda: simulate(w40, sub, seed_for(1, 0)), args.repeat)
    sc, _ = prepare(sc, replications=args.runs, steps=120)
    for workers in (1, 2):
        out[f"pool{workers}"] = best_of(
            lambda w=workers: run_conditions(
                sc, [Condition("baseline")], execution=Execution(workers=w)
            ),
            1,
        )
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=300)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--runs", type=int, default=6, help="replications for item 4")
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args)))
        return
    results = {}
    for label, env in (("default BLAS threads", {}), ("OPENBLAS_NUM_THREADS=1", ONE_THREAD)):
        cmd = [sys.executable, __file__, "--child", "--steps", str(args.steps),
               "--repeat", str(args.repeat), "--runs", str(args.runs)]  # fmt: skip
        done = subprocess.run(
            cmd, env={**os.environ, **env}, capture_output=True, text=True, check=True
        )
        results[label] = json.loads(done.stdout.strip().splitlines()[-1])
    first = next(iter(results.values()))
    print(
        f"1. build-world 2010 --all: {first['n']:.0f} states, {first['treaties']:.0f} treaties, "
        f"{first['regimes']:.0f} sanctions regimes, {first['mb']:.2f} MB of YAML; build "
        f"{first['build']:.2f} s, load and validate {first['load']:.2f} s"
    )
    for label, r in results.items():
        rate = args.steps / r["run"]
        print(
            f"2. [{label}] one run, {r['n']:.0f} states, {args.steps} monthly steps: "
            f"{r['run']:.2f} s = {rate:.0f} steps/s (issue 10's target >= 200 steps/s: "
            f"{'ok' if rate >= 200 else 'MISSED'}); the world's first run (cold cache) "
            f"{r['cold']:.2f} s = {args.steps / r['cold']:.0f} steps/s"
        )
        print(
            f"3. [{label}] one run, top 40 2011-2018 from real ties ({r['steps40']:.0f} steps): "
            f"{r['run40']:.3f} s = {r['steps40'] / r['run40']:.0f} steps/s"
        )
        for w in (1, 2):
            t = r[f"pool{w}"]
            print(
                f"4. [{label}] {args.runs} runs x 120 steps, {r['n']:.0f} states, {w} "
                f"process(es): {t:.2f} s = {args.runs / t:.2f} runs/s"
            )
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
