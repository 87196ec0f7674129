"""Print the termination hazard of ATOP defence-pact dyads (issue 11, part 2) as a Markdown table.

Why: the model's institutional stickiness is calibrated to how often real defence ties end.
The estimators live in sim.data.estimates (tested on constructed spells); this script only
applies them to the vendored ATOP v5.1 data and formats the result.

Usage: python validation/alliance_hazard.py [--top 40]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from sim import data  # noqa: E402
from sim.data.estimates import alliance_hazard_table  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=40, help="top N states by CINC (default 40)")
    args = ap.parse_args(argv)
    s = data.alliance_spells()
    print(
        f"ATOP v5.1 defence-pact dyad spells 1946-2018: {len(s)} spells, "
        f"{int(s.years.sum())} spell-years; outcomes "
        + ", ".join(f"{k} {v}" for k, v in s.outcome.value_counts().items())
        + f"; {int(s.left_truncated.sum())} already running in 1946\n"
    )
    print(
        "| subset | ended | spell-years | hazard /yr | Poisson 95% CI | year-bootstrap 95% CI "
        "| half-life (yr) | KM spells (ended) | KM median (yr) |"
    )
    print("|---|---:|---:|---:|---|---|---:|---:|---:|")
    for r in alliance_hazard_table(args.top):
        h = r.hazard
        med = "not reached" if math.isinf(r.km_median) else f"{r.km_median:.0f}"
        print(
            f"| {r.subset} | {h.events} | {h.exposure:.0f} | {h.rate:.4f} "
            f"| {h.low:.4f}-{h.high:.4f} | {r.boot_low:.4f}-{r.boot_high:.4f} | {h.half_life:.0f} "
            f"| {r.km_spells} ({r.km_ended}) | {med} |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
