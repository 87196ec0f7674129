"""Benchmarks of ``hedgesim sweep`` (issue 3). Prints four comparisons against their targets:

1. throughput with 2 workers vs 1 worker on a 1,000-run sweep of the Iran scenario (≥ 1.7×);
2. the same design through ``mesa.batch_run(number_processes=2)`` on ``AlignmentModel`` vs
   ``hedgesim sweep --workers 2``, end to end, each in a fresh process (≥ 3× faster);
3. peak memory (max RSS of the sweep process and its workers, from ``getrusage(RUSAGE_CHILDREN)``
   in a wrapper process) of a 20,000-run sweep vs a 2,000-run sweep (≤ 1.2×);
4. throughput on a running Dask ``LocalCluster`` with 2 workers (``--scheduler ADDR``) vs the
   local process pool (within 1.5×), over a sweep long enough (``--dask-runs``, default 5,000)
   that Dask's fixed per-sweep latency does not dominate; the cluster's start-up and the
   end-to-end time when ``--backend dask`` starts its own cluster are printed too.

Sizes are flags (``--runs``, ``--dask-runs``, ``--steps``, ``--mem-small``, ``--mem-large``,
``--mem-steps``, ``--repeat``, ``--only``) so a quick check fits in a minute: ``python
benchmarks/bench_sweep.py --runs 200 --dask-runs 1000 --mem-small 200 --mem-large 2000
--repeat 1``. Timings depend on what else the machine runs: the load
average is printed first.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import mesa  # noqa: E402  (after the path set-up: the adapter below subclasses the model)

from sim.model.metrics import STATUSES  # noqa: E402
from sim.model.model import AlignmentModel  # noqa: E402

US_MAX_PRESSURE = "US maximum pressure"  # a sanctions regime of iran_2021.yaml, by name


def default_scenario() -> Path:
    for name in ("iran_2021.yaml", "toy_triangle.yaml"):
        if (ROOT / "scenarios" / name).exists():
            return ROOT / "scenarios" / name
    raise SystemExit("no scenario found in scenarios/ (need iran_2021.yaml)")


def grid(runs: int, reps: int = 20) -> tuple[list[float], list[float], int]:
    """A sanctions level × distrust weight grid with ``runs`` runs in total."""
    cells = max(1, runs // reps)
    b = 10 if cells % 10 == 0 else 1
    a = cells // b
    levels = [round(i / max(1, a - 1), 6) for i in range(a)] if a > 1 else [0.8]
    weights = [round(2 * j / max(1, b - 1), 6) for j in range(b)] if b > 1 else [1.0]
    return levels, weights, reps


def write_spec(tmp: Path, scenario: Path, runs: int, steps: int | None, name: str) -> Path:
    levels, weights, reps = grid(runs)
    spec = tmp / f"{name}.yaml"
    lines = [
        f"scenario: {scenario}",
        f"replications: {reps}",
        *([f"steps: {steps}"] if steps else []),
        "parameters:",
        f"  sanctions.{US_MAX_PRESSURE}.level: {{values: {json.dumps(levels)}}}",
        f"  mechanisms.historical_distrust.weight: {{values: {json.dumps(weights)}}}",
    ]
    spec.write_text("\n".join(lines) + "\n")
    return spec


def sweep_cmd(spec: Path, out: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "sim.cli.sweep",
        "sweep",
        str(spec),
        "--out",
        str(out),
        "--quiet",
        "--force",
        *extra,
    ]


def timed(cmd: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(cmd, check=True, cwd=ROOT)
    return time.perf_counter() - t0


def in_process(spec: Path, out: Path, **kw: Any) -> float:
    """Seconds spent running the sweep (design expansion excluded, pool/cluster start included)."""
    from sim.experiments.design import build_design
    from sim.experiments.engine import Execution
    from sim.experiments.spec import load_spec
    from sim.experiments.sweep import execute

    design = build_design(load_spec(spec))
    shutil.rmtree(out, ignore_errors=True)  # a finished sweep in ``out`` would only be resumed
    t0 = time.perf_counter()
    report = execute(design, out, Execution(**kw), force=True, progress=False)
    assert report.ran == design.n_runs
    return time.perf_counter() - t0


def verdict(value: float, target: float, higher: bool = True) -> str:
    ok = value >= target if higher else value <= target
    return f"{'PASS' if ok else 'MISS'} (target {'≥' if higher else '≤'} {target}×)"


# ---------------------------------------------------------------------------------------------
# mesa.batch_run adapter (module level: spawned workers unpickle it from here)
# ---------------------------------------------------------------------------------------------


def _resolve(scenario: str, steps: int, params: tuple[tuple[str, Any], ...]) -> Any:
    """Scenario file + swept values -> validated scenario and compiled world."""
    from sim.model.world import compile_world
    from sim.scenario.load import load_scenario
    from sim.scenario.paths import split_path

    overrides = [(split_path(k), v) for k, v in params]
    if steps:
        overrides.append((("params", "steps"), steps))
    sc = load_scenario(scenario, overrides)
    return sc, compile_world(sc)


_resolve_cached = lru_cache(maxsize=None)(_resolve)


class BatchAlignment(AlignmentModel):
    """Thin adapter for batch_run, which calls ``Model(**params, rng=seed)``.

    ``scenario``, ``steps`` and ``cache`` arrive as fixed batch_run parameters; the swept values
    arrive by their dotted paths. With ``cache`` the parsed scenario is reused per process (what a
    careful user would add); without, every model parses and validates the scenario file.
    """

    def __init__(
        self,
        rng: Any = None,
        scenario: str = "",
        steps: int = 0,
        cache: bool = False,
        **params: Any,
    ) -> None:
        resolve = _resolve_cached if cache else _resolve
        sc, world = resolve(scenario, steps, tuple(sorted(params.items())))
        super().__init__(sc, rng=rng, world=world, record_every=2**62)
        self.max_steps = sc.params.steps
        self.focal = world.focal
        self.final_status: list[str] = []
        self.datacollector = mesa.DataCollector(
            model_reporters={"focal_status": lambda m: m.final_status}
        )

    def step(self) -> None:
        super().step()
        if self.steps >= self.max_steps:  # measure the final state, as the sweep does
            self.final_status = [STATUSES[c] for c in self.statuses[self.focal]]
            self.datacollector.collect(self)


def batch_child(args: argparse.Namespace) -> None:
    """Entry of the batch_run subprocess (batch_run switches to 'spawn' process-wide)."""
    from mesa.batchrunner import batch_run

    from sim.scenario.load import load_scenario

    levels, weights, reps = grid(args.runs)
    steps = args.steps or load_scenario(args.scenario).params.steps
    results = batch_run(
        BatchAlignment,
        parameters={
            "scenario": str(args.scenario),
            "steps": steps,
            "cache": bool(args.batch_cache),
            f"sanctions.{US_MAX_PRESSURE}.level": levels,
            "mechanisms.historical_distrust.weight": weights,
        },
        number_processes=2,
        rng=list(range(reps)),
        max_steps=steps,
        data_collection_period=-1,
        display_progress=False,
    )
    assert len(results) == args.runs, len(results)


# ---------------------------------------------------------------------------------------------
# The benchmarks
# ---------------------------------------------------------------------------------------------


def bench_workers(args: argparse.Namespace, tmp: Path) -> None:
    spec = write_spec(tmp, args.scenario, args.runs, args.steps, "workers")
    t1s, t2s = [], []
    for _ in range(args.repeat):  # interleaved, so a slow spell of the machine hits both
        t1s.append(in_process(spec, tmp / "w1", workers=1))
        t2s.append(in_process(spec, tmp / "w2", workers=2))
    t1, t2 = min(t1s), min(t2s)
    ratio = t1 / t2
    print(
        f"[1] {args.runs:,} runs (best of {args.repeat}): 1 worker {t1:.2f} s "
        f"({args.runs / t1:.0f} runs/s), 2 workers {t2:.2f} s ({args.runs / t2:.0f} runs/s): "
        f"{ratio:.2f}× {verdict(ratio, 1.7)}"
    )
    print(
        "    each pair: "
        + ", ".join(f"{a / b:.2f}×" for a, b in zip(t1s, t2s, strict=True))
        + f" (2 workers {min(t2s):.2f}–{max(t2s):.2f} s)"
    )


def bench_batch_run(args: argparse.Namespace, tmp: Path) -> None:
    spec = write_spec(tmp, args.scenario, args.runs, args.steps, "batch")
    t_sweep = timed(sweep_cmd(spec, tmp / "sweep", "--workers", "2"))
    child = [
        sys.executable,
        str(Path(__file__).resolve()),
        "--_batch-child",
        "--scenario",
        str(args.scenario),
        "--runs",
        str(args.runs),
    ]
    if args.steps:
        child += ["--steps", str(args.steps)]
    results = {}
    for cache in (False, True):
        t = timed(child + (["--batch-cache"] if cache else []))
        results[cache] = t
    for cache, t in results.items():
        how = (
            "adapter caches the parsed scenario per process"
            if cache
            else "thin adapter: each Model(**params) loads the scenario"
        )
        print(
            f"[2] {args.runs:,} runs end to end: mesa.batch_run(number_processes=2) {t:.1f} s "
            f"({how}) vs hedgesim sweep -j 2 {t_sweep:.1f} s: {t / t_sweep:.2f}× faster "
            f"{verdict(t / t_sweep, 3)}"
        )


WRAP = (
    "import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
)


def peak_rss_kib(cmd: list[str]) -> int:
    """Max RSS (KiB) over the sweep process and the workers it reaped, measured in a wrapper."""
    out = subprocess.run(
        [sys.executable, "-c", WRAP, *cmd], check=True, cwd=ROOT, capture_output=True, text=True
    )
    return int(out.stdout.strip().splitlines()[-1])


def bench_memory(args: argparse.Namespace, tmp: Path) -> None:
    peaks = {}
    for runs in (args.mem_small, args.mem_large):
        spec = write_spec(tmp, args.scenario, runs, args.mem_steps, f"mem{runs}")
        t0 = time.perf_counter()
        peaks[runs] = peak_rss_kib(sweep_cmd(spec, tmp / f"mem{runs}", "--workers", "2"))
        print(
            f"    {runs:,} runs ({args.mem_steps} steps): peak RSS {peaks[runs] / 1024:.0f} MiB "
            f"in {time.perf_counter() - t0:.0f} s"
        )
    ratio = peaks[args.mem_large] / peaks[args.mem_small]
    print(
        f"[3] peak memory {args.mem_large:,} runs / {args.mem_small:,} runs: {ratio:.2f}× "
        f"{verdict(ratio, 1.2, higher=False)}"
    )


def bench_dask(args: argparse.Namespace, tmp: Path) -> None:
    """Throughput on a running Dask cluster (what ``--scheduler ADDR`` connects to) vs the local
    pool; the cluster's start-up is a fixed cost, printed apart, and so is the end-to-end time
    when ``--backend dask`` starts its own LocalCluster."""
    try:
        import logging

        from distributed import LocalCluster
    except ImportError:
        print("[4] skipped: dask[distributed] is not installed (pip install 'hedgesim[dask]')")
        return
    runs = args.dask_runs
    spec = write_spec(tmp, args.scenario, runs, args.steps, "dask")
    t_local = min(in_process(spec, tmp / "local", workers=2) for _ in range(args.repeat))
    t0 = time.perf_counter()
    cluster = LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    t_start = time.perf_counter() - t0
    try:
        addr = cluster.scheduler_address
        times = [
            in_process(spec, tmp / "dask", workers=2, backend="dask", scheduler=addr)
            for _ in range(args.repeat)
        ]
    finally:
        cluster.close()
    t_own = in_process(spec, tmp / "own", workers=2, backend="dask")
    t_dask = min(times)
    ratio = t_dask / t_local
    print(
        f"[4] {runs:,} runs, 2 workers (best of {args.repeat}): local pool {t_local:.2f} s; "
        f"Dask on a running LocalCluster {t_dask:.2f} s (first sweep on the fresh cluster "
        f"{times[0]:.2f} s): {ratio:.2f}× the local time {verdict(ratio, 1.5, higher=False)}"
    )
    print(
        f"    the cluster's start-up is a fixed {t_start:.1f} s: with --backend dask starting its "
        f"own LocalCluster the sweep takes {t_own:.2f} s end to end ({t_own / t_local:.2f}×)"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--scenario", type=Path, default=None, help="default scenarios/iran_2021.yaml")
    p.add_argument("--runs", type=int, default=1000, help="runs for [1], [2] (default 1000)")
    p.add_argument(
        "--dask-runs",
        type=int,
        default=5000,
        help="runs for [4] (default 5000: long enough that throughput, not the per-sweep "
        "latency of ~1 s, is measured)",
    )
    p.add_argument("--steps", type=int, default=None, help="steps per run (default: scenario's)")
    p.add_argument("--mem-small", type=int, default=2000)
    p.add_argument("--mem-large", type=int, default=20000)
    p.add_argument(
        "--mem-steps",
        type=int,
        default=40,
        help="steps per run in the memory benchmark (default 40)",
    )
    p.add_argument("--only", default="1,2,3,4", help="which benchmarks, e.g. 1,3")
    p.add_argument("--repeat", type=int, default=3, help="best of how many timings in [1], [4]")
    p.add_argument("--batch-cache", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--_batch-child", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    args.scenario = (args.scenario or default_scenario()).resolve()
    if args._batch_child:
        batch_child(args)
        return
    which = {int(x) for x in args.only.split(",") if x.strip()}
    load = os.getloadavg()
    print(
        f"bench_sweep: scenario {args.scenario.name}, {os.cpu_count()} CPUs, load average "
        f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, python {sys.version.split()[0]}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as d:
        tmp = Path(d)
        for k, fn in ((1, bench_workers), (2, bench_batch_run), (3, bench_memory), (4, bench_dask)):
            if k in which:
                fn(args, tmp)
                sys.stdout.flush()


if __name__ == "__main__":
    main()
