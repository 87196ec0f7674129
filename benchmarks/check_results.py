"""Do the runs still give exactly the same results? A guard for speed work on sim/model/.

Speed changes to the model must not change a single bit of any result. This script runs a fixed
check set and hashes (SHA-256) every field of every RunRecord, dtype and shape included:

* the shipped scenarios (scenarios/*.yaml), 20 replications, as a lock-step batch
  (``simulate_many``) and as single runs (a batch of one each), with every mechanism switched off
  in turn and the alliance-only world (``params.friendship: false``) on the Iran scenario;
* the Mesa model (``AlignmentModel``) of a few Iran replications: its run record, its agents'
  and model's DataCollector frames, and the explain terms (``DecisionRule.terms``) at a few
  steps;
* the pattern worlds (validation/patterns/*.yaml), 20 replications each;
* random worlds (``sim.scenario.generate``) of 4 to 193 states, with sanctions that start and
  end, events on every field (distrust clipped, power, preferences), treaties that gain and lose
  members, monthly and yearly steps, ``record_every`` > 1, and batches split by size.

Usage:
    python benchmarks/check_results.py --record FILE   # before a change: write the hashes
    python benchmarks/check_results.py --check FILE    # after: exit 1 naming what differs

The hashes hold for one machine and one numpy; record them at the base commit, on the machine
that checks. ``--only SUBSTRING`` restricts the cases (for a quick look). Takes ~1–2 minutes.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import fields
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sim.model.lockstep import simulate_many  # noqa: E402
from sim.model.model import AlignmentModel  # noqa: E402
from sim.model.seeds import replication_seed  # noqa: E402
from sim.model.world import compile_world  # noqa: E402
from sim.scenario.generate import random_world_document  # noqa: E402
from sim.scenario.load import load_scenario  # noqa: E402
from sim.scenario.schema import MECHANISMS, Scenario  # noqa: E402
from sim.validation.patterns import load_pattern  # noqa: E402

REPLICATIONS = 20


def digest(*arrays: np.ndarray) -> str:
    """SHA-256 of arrays: dtype, shape and bytes of each."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return h.hexdigest()


def record_hashes(records: list) -> dict[str, str]:
    """One hash per RunRecord array field over all replications in order (the record's
    ``calendar``, the scenario's start and step unit, is metadata, not a result)."""
    return {
        f.name: digest(*(getattr(r, f.name) for r in records))
        for f in fields(records[0])
        if isinstance(getattr(records[0], f.name), np.ndarray)
    }


def switched_off(sc: Scenario, mechanism: str) -> Scenario:
    new = sc.model_copy(deep=True)
    getattr(new.mechanisms, mechanism).enabled = False
    return new


def with_params(sc: Scenario, **update: object) -> Scenario:
    return sc.model_copy(update={"params": sc.params.model_copy(update=update)})


def eventful(n: int, seed: int, steps: int = 40, step: str = "month") -> Scenario:
    """A random world with sanctions that start and end, events on every field (distrust pushed
    past its bounds, so clipping and reverts differ between replications), power and preference
    events, and treaties that gain and lose members."""
    doc = random_world_document(n, seed=seed, steps=steps)
    ids = list(doc["states"])
    a, b, c = ids[0], ids[1], ids[2]
    doc["step"] = step
    doc["sanctions"] = [
        {"name": "s1", "senders": [a], "targets": [b], "level": 0.7, "start": 3, "end": 25},
        {"name": "s2", "senders": [c, a], "targets": [ids[-1]], "level": 1.0, "start": 10},
        {"name": "s3", "senders": [ids[3]], "targets": [a, c], "level": 0.4, "secondary": 0.5},
    ]
    doc["events"] = [
        {
            "name": "betrayal",
            "step": 5,
            "until": 20,
            "field": "distrust",
            "changes": {a: {b: 0.9, c: 0.6}, c: {b: 0.95}},
        },
        {"name": "reset", "step": 12, "field": "distrust", "mode": "set", "changes": {b: {a: 0.0}}},
        {"name": "feud", "step": 8, "until": 30, "field": "rivalry", "changes": {b: {c: 0.8}}},
        {"name": "deal", "step": 2, "field": "interests", "changes": {a: {c: 0.7}}},
        {"name": "channel", "step": 4, "until": 9, "field": "affinity", "changes": {a: {b: 0.5}}},
        {"name": "vote", "step": 6, "field": "hedging", "changes": {b: {c: 0.4}}},
        {"name": "growth", "step": 7, "field": "power", "mode": "set", "changes": {a: 0.2}},
        {
            "name": "fear",
            "step": 9,
            "until": 30,
            "field": "preferences.security",
            "changes": {b: 2.0, c: 1.0},
        },
        {"name": "creed", "step": 3, "field": "preferences.doctrine", "changes": {c: 1.0}},
    ]
    doc["treaties"] = [
        {"name": "pact", "members": [a, c, ids[3]]},
        {"name": "late", "members": [b, ids[-1]], "start": 11, "end": 33, "open": False},
    ]
    doc["params"].update({"temperature": 0.15, "inertia": 0.05})
    doc["mechanisms"] = {"historical_distrust": {"betrayal_learning": 0.5}}
    return Scenario.model_validate(doc)


def plain_random(n: int, seed: int, steps: int) -> Scenario:
    return Scenario.model_validate(random_world_document(n, seed=seed, steps=steps))


Case = tuple[str, Callable[[], dict[str, str]]]


def batch_and_alone(name: str, sc: Scenario, reps: int = REPLICATIONS, every: int | None = None):
    """Two cases: the replications as lock-step batches, and each run alone."""
    w = compile_world(sc)
    seeds = [replication_seed(sc.seed, r) for r in range(reps)]

    def batch() -> dict[str, str]:
        return record_hashes(simulate_many(w, sc, seeds, record_every=every))

    def alone() -> dict[str, str]:
        runs = [simulate_many(w, sc, [s], record_every=every)[0] for s in seeds]
        return record_hashes(runs)

    return [(f"{name} | batch", batch), (f"{name} | alone", alone)]


def mesa_model(name: str, sc: Scenario, reps: int, explain_at: tuple[int, ...]) -> list[Case]:
    """The Mesa model: run record, DataCollector frames, explain terms."""
    w = compile_world(sc)

    def run() -> dict[str, str]:
        out: dict[str, str] = {}
        for r in range(reps):
            m = AlignmentModel(sc, rng=replication_seed(sc.seed, r), world=w)
            m.finish(sc.params.steps)
            for k, v in record_hashes([m.run_record()]).items():
                out[f"{r}.record.{k}"] = v
            agents = m.datacollector.get_agent_vars_dataframe()
            model = m.datacollector.get_model_vars_dataframe()
            out[f"{r}.agents"] = hashlib.sha256(agents.to_csv().encode()).hexdigest()
            out[f"{r}.model"] = hashlib.sha256(model.to_csv().encode()).hexdigest()
        return out

    def explain() -> dict[str, str]:
        out: dict[str, str] = {}
        m = AlignmentModel(sc, rng=replication_seed(sc.seed, 0), world=w)
        for t in explain_at:
            m.run_for(t - m.steps)
            for term, pair in m.utility_terms().items():
                out[f"step{t}.{term}"] = digest(pair)
        return out

    return [(f"{name} | mesa model", run), (f"{name} | explain terms", explain)]


def cases() -> Iterator[Case]:
    for path in sorted((ROOT / "scenarios").glob("*.yaml")):
        yield from batch_and_alone(path.stem, load_scenario(path))
    iran = load_scenario(ROOT / "scenarios" / "iran_2021.yaml")
    for mech in MECHANISMS:
        yield from batch_and_alone(f"iran_2021 -{mech}", switched_off(iran, mech), every=3)
    yield from batch_and_alone("iran_2021 friendship off", with_params(iran, friendship=False))
    yield from batch_and_alone("iran_2021 review 3y", with_params(iran, review_years=3.0))
    yield from mesa_model("iran_2021", iran, 3, (1, 24, 120, 200))
    yield from mesa_model(
        "europe_1936", load_scenario(ROOT / "scenarios/europe_1936.yaml"), 2, (1, 30)
    )
    for path in sorted((ROOT / "validation" / "patterns").glob("*.yaml")):
        yield from batch_and_alone(f"pattern {path.stem}", load_pattern(path).scenario)
    for n, seed in ((4, 1), (9, 2), (25, 3), (60, 4)):
        yield from batch_and_alone(f"eventful {n}", eventful(n, seed), every=3)
    yield from batch_and_alone("eventful 9 yearly", eventful(9, 5, step="year"))
    yield from batch_and_alone(
        "eventful 30 no distrust", switched_off(eventful(30, 6), "historical_distrust")
    )
    yield from batch_and_alone("random 50", plain_random(50, 7, 60), reps=15)
    yield from batch_and_alone("random 193", plain_random(193, 1, 30), reps=2)


def main() -> int:
    ap = argparse.ArgumentParser()
    mode = ap.add_mutually_exclusive_group(required=True)
    mode.add_argument("--record", type=Path, help="write the hashes to this JSON file")
    mode.add_argument("--check", type=Path, help="compare with the hashes in this JSON file")
    ap.add_argument("--only", default="", help="run only cases whose name contains this")
    args = ap.parse_args()
    expected = json.loads(args.check.read_text()) if args.check else {}
    got: dict[str, dict[str, str]] = {}
    bad = 0
    t0 = time.perf_counter()
    for name, run in cases():
        if args.only not in name:
            continue
        got[name] = run()
        if args.check:
            want = expected.get(name)
            if want is None:
                print(f"MISSING  {name} (not in {args.check})")
                bad += 1
                continue
            diff = sorted(k for k in set(want) | set(got[name]) if want.get(k) != got[name].get(k))
            if diff:
                bad += 1
                print(f"DIFFERS  {name}: {', '.join(diff)}")
            else:
                print(f"same     {name}")
    if args.record:
        args.record.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
        print(f"{len(got)} cases recorded in {args.record} ({time.perf_counter() - t0:.0f} s)")
        return 0
    print(
        f"{len(got) - bad} of {len(got)} cases identical ({time.perf_counter() - t0:.0f} s)"
        + ("" if not bad else f"; {bad} DIFFER")
    )
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
