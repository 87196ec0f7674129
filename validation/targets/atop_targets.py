"""Write an ATOP defence-pact target table for a set of states and years (issue 11, part 2).

Why: ``hedgesim fit`` and the held-out tests score simulated alliance probabilities per dyad
against what ATOP v5.1 records. The table has every unordered dyad in every year with an
explicit 0 (ATOP itself lists only allied dyad-years), built by sim.data.defence_pact_table.

States: ISO3 codes, COW abbreviations or numbers, or ``--top N`` (the N states with the highest
CINC in the first year). Years: ``--years 2000`` or ``--years 1990-2010`` (1946-2018).

Usage: python validation/targets/atop_targets.py --top 40 --years 1990-2018 --out FILE.csv
       python validation/targets/atop_targets.py --states USA GBR RUS CHN --years 2010
It refuses to overwrite an existing file (use a new name).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run as a plain script from anywhere
    sys.path.insert(0, str(ROOT))

from sim import data  # noqa: E402


def parse_years(text: str) -> list[int]:
    """``"2000"`` or ``"1990-2010"`` (inclusive) to a list of years."""
    first, _, last = text.partition("-")
    try:
        lo, hi = int(first), int(last or first)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"years: expected YEAR or FIRST-LAST, got {text!r}"
        ) from None
    if hi < lo:
        raise argparse.ArgumentTypeError(f"years: {lo} is after {hi}")
    return list(range(lo, hi + 1))


def top_states(n: int, year: int) -> list[int]:
    """COW codes of the ``n`` states with the highest CINC in ``year``."""
    return [int(c) for c in data.cinc(year).nlargest(n).index]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    who = ap.add_mutually_exclusive_group(required=True)
    who.add_argument("--states", nargs="+", help="ISO3 codes, COW abbreviations or numbers")
    who.add_argument("--top", type=int, help="the N states with the highest CINC in the first year")
    ap.add_argument("--years", type=parse_years, required=True, help="YEAR or FIRST-LAST")
    ap.add_argument("--out", type=Path, required=True, help="CSV file to write (must not exist)")
    args = ap.parse_args(argv)
    if args.out.exists():
        ap.error(f"{args.out}: already exists; choose a new file name")
    try:
        ids = args.states if args.states else top_states(args.top, args.years[0])
        table = data.defence_pact_table(ids, args.years)
    except data.DataError as exc:
        ap.error(str(exc))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False, lineterminator="\n")
    print(
        f"{args.out}: {len(table)} dyad-years, {int(table.pact.sum())} with a defence pact "
        f"(ATOP v5.1, either direction), {args.years[0]}-{args.years[-1]}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
