"""``hedgesim landscape SCENARIO``: the two-bloc limit, solved exactly and simulated.

Prints every local minimum of the landscape energy (bloc membership by name, energy, each state's
frustration, its steepest-descent basin and its exact reach probability under the bloc mode's
random activation) and, with ``--runs``, how often seeded bloc-mode simulations end in each.
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path

import numpy as np

from sim.cli.common import bounded_int, default_out, overrides


def cmd_landscape(args: argparse.Namespace) -> int:
    import pyarrow as pa

    from sim.landscape import solver as ls
    from sim.landscape.bloc import BlocModel, propensity_matrix, reach_probabilities
    from sim.model.seeds import replication_seed
    from sim.results.atomic import writable_target, write_table
    from sim.results.outdir import claim_file
    from sim.scenario.load import load_scenario

    pairs = overrides(args.set)
    sc = load_scenario(args.scenario, pairs)
    if args.csv:  # checked before the work, written after it
        out = Path(args.csv)
    else:
        out = default_out(sc.name, args.scenario, pairs, "_landscape.csv")
    writable_target(out)
    claim_file(out, "landscape CSV")
    sizes = np.array([s.power for s in sc.states.values()])
    names = [s.name for s in sc.states.values()]
    p = propensity_matrix(sc, Path(args.scenario).resolve().parent)
    n = len(sizes)
    reach = None
    if n <= 22:
        land = ls.enumerate_landscape(sizes, p)
        if n <= 18:
            _, reach = reach_probabilities(sizes, p)
    else:
        land = ls.solve_landscape(sizes, p, rng=np.random.default_rng(sc.seed))
    runs: Counter[int] = Counter()
    if args.runs:
        for r in range(args.runs):
            final = BlocModel(sizes, p, rng=replication_seed(sc.seed, r)).run()
            k = land.find(final)
            runs[-1 if k is None else k] += 1
    print(
        f"Landscape of {sc.name}: {n} states, {land.n_configs:,} configurations "
        f"({land.method}), {len(land.minima)} local minim{'um' if len(land.minima) == 1 else 'a'}"
    )
    rows = []
    for k, m in enumerate(land.minima):
        bloc_a = [names[i] for i in range(n) if m.config[i] == 0]
        bloc_b = [names[i] for i in range(n) if m.config[i] == 1]
        row = {
            "minimum": k + 1,
            "energy": m.energy,
            "basin_share": m.basin_share,
            "reach_share": float(reach[k]) if reach is not None else float("nan"),
            "bloc_a": "; ".join(bloc_a),
            "bloc_b": "; ".join(bloc_b),
        }
        if args.runs:
            row["simulated_share"] = runs[k] / args.runs
        for i in range(n):
            row[f"F_{list(sc.states)[i]}"] = float(m.frustrations[i])
        rows.append(row)
        sim_txt = f", simulated {100 * runs[k] / args.runs:.1f}%" if args.runs else ""
        reach_txt = f", reached {100 * reach[k]:.1f}%" if reach is not None else ""
        print(
            f"\n#{k + 1}  E = {m.energy:.6g}  basin {100 * m.basin_share:.1f}%{reach_txt}{sim_txt}"
        )
        print(f"  bloc A: {', '.join(bloc_a) or '-'}")
        print(f"  bloc B: {', '.join(bloc_b) or '-'}")
        worst = np.argsort(-m.frustrations)[:3]
        print(
            "  most frustrated: " + ", ".join(f"{names[i]} {m.frustrations[i]:.3g}" for i in worst)
        )
    if args.runs and runs.get(-1):
        print(f"\n{runs[-1]} bloc-mode runs ended outside the enumerated minima")
    write_table(out, pa.Table.from_pylist(rows), "csv")
    print(f"\nWrote {out}")
    return 0


def add_command(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("landscape", help="solve the two-bloc landscape limit of a scenario")
    p.add_argument("scenario", help="scenario YAML file (its landscape block)")
    p.add_argument("--set", action="append", metavar="PATH=VALUE", help="override a value")
    p.add_argument(
        "--runs", type=bounded_int(1, 10_000_000), help="also simulate N seeded bloc-mode runs"
    )
    p.add_argument("--csv", help="where to write the minima table (CSV)")
    p.set_defaults(func=cmd_landscape)
