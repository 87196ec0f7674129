"""``hedgesim explain SCENARIO STATE``: why a state wants what it wants, term by term.

Runs one seeded replication to a step and prints, for each partner, the utility of friendship
and of alliance (relative to no tie) that every mechanism contributes, from both sides of the
pair — the decision rule opened up, so a reader can see which factor makes an alliance lose.
"""

from __future__ import annotations

import argparse

import numpy as np

from sim.cli.common import MAX_REPLICATIONS, MAX_STEPS, bounded_int, overrides
from sim.errors import InputError


def cmd_explain(args: argparse.Namespace) -> int:
    from sim.experiments.conditions import ablate, resolve_ablation
    from sim.model.model import AlignmentModel
    from sim.model.world import compile_world
    from sim.scenario.load import load_scenario
    from sim.scenario.schema import LEVELS

    sc = load_scenario(args.scenario, overrides(args.set))
    factors: tuple[str, ...] = ()
    for spec in args.ablate or []:
        for _, f in resolve_ablation(sc, spec.replace(",", "+")):
            factors += f
    sc = ablate(sc, factors)
    world = compile_world(sc)
    if args.state not in world.index:
        known = ", ".join(world.ids)
        raise InputError.single("argument STATE", f"unknown state id {args.state!r} ({known})")
    steps = sc.params.steps if args.step is None else args.step
    model = AlignmentModel(sc, replication=args.replication, world=world)
    if steps:
        model.run_for(steps)
    terms = model.utility_terms()
    names = list(terms)
    i = world.index[args.state]
    off = f", switched off: {', '.join(factors)}" if factors else ""
    print(f"{world.names[i]} at step {model.steps} (replication {args.replication}{off})")
    print("utility relative to no tie; F = friendship, A = alliance; '<-' = the partner's view")
    print(
        f"{'partner':<8} {'tie':<10} {'':3}"
        + "".join(f"{n[:11]:>12}" for n in names)
        + f"{'total':>9}"
    )
    for j in np.argsort(-world.power):
        if j == i:
            continue
        level = LEVELS[int(model.ties[i, j])]
        for label, a, b in (("F", i, j), ("A", i, j), ("<-F", j, i), ("<-A", j, i)):
            k = 0 if label.endswith("F") else 1
            vals = [float(terms[n][k][a, b]) for n in names]
            head = f"{world.ids[j]:<8} {level:<10}" if label == "F" else " " * 19
            print(f"{head} {label:3}" + "".join(f"{v:12.2f}" for v in vals) + f"{sum(vals):9.2f}")
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("explain", help="show a state's utility terms toward every partner")
    p.add_argument("scenario", help="scenario YAML file")
    p.add_argument("state", help="state id, e.g. IRN")

    p.add_argument(
        "--step",
        type=bounded_int(0, MAX_STEPS),
        help="step to stop at, 0 to 100,000 (default: the scenario's steps)",
    )
    p.add_argument(
        "--replication",
        type=bounded_int(0, MAX_REPLICATIONS - 1),
        default=0,
        help="which seeded replication (from 0)",
    )
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a value")
    p.add_argument(
        "--ablate", action="append", metavar="F[,F]", help="switch these factors off together"
    )
    p.set_defaults(func=cmd_explain)
