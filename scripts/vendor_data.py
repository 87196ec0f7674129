"""Rebuild the vendored data in sim/data/ from the shared reference copies (issue 11).

Why a script: the files under sim/data/ are product (the loader reads them at run time), so how
each was cut from its source must be repeatable and reviewable, not a one-off notebook step. Run
it again and you get byte-identical files (gzip written with a zero timestamp, rows sorted,
floats printed with a fixed number of significant digits).

Usage: python scripts/vendor_data.py [--source ../shared/data] [--out sim/data]

The source directory is the project's shared/data (see its README for where each file was
taken from). Nothing here invents or imputes a value; the only derived columns are the
undirected pledge code and the clique size of the ATOP defence file and the organisation name
of GSDB senders that are not states, each described in sim/data/README.md.
"""

from __future__ import annotations

import argparse
import gzip
import io
from pathlib import Path

import networkx as nx
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]

# Documented ISO3 recodes where countrycode has none but the COW code is today's state:
# COW 345 ("Yugoslavia", 1944-) is the code COW keeps for Serbia after 2006.
ISO3_RECODES = {345: "SRB"}


def _write(df: pd.DataFrame, path: Path, float_format: str | None = None) -> None:
    """CSV (gzip with mtime 0 when the name ends .gz) so a rebuild is byte-identical."""
    text = df.to_csv(index=False, float_format=float_format, lineterminator="\n")
    if path.suffix == ".gz":
        buf = io.BytesIO()
        with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as f:
            f.write(text.encode())
        path.write_bytes(buf.getvalue())
    else:
        path.write_text(text)
    print(
        f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {len(df)} rows, "
        f"{path.stat().st_size / 1024:.0f} KB"
    )


def states(src: Path, out: Path, codes: set[int]) -> None:
    """One row per COW code used anywhere in the vendored files (names, abbreviation, ISO3)."""
    s = pd.read_csv(src / "cow_states_2016.csv")
    s = s.sort_values(["ccode", "styear"]).groupby("ccode", as_index=False).last()
    s = s[s.ccode.isin(codes)]
    iso = s.iso3c.copy()
    for code, value in ISO3_RECODES.items():
        iso[s.ccode == code] = value
    df = pd.DataFrame({"ccode": s.ccode, "abb": s.stateabb, "iso3": iso, "name": s.statenme})
    _write(df, out / "states.csv")


def cinc(src: Path, out: Path) -> set[int]:
    """State-year CINC, 1946-2022; the only NMC column hedgesim uses."""
    n = pd.read_csv(src / "cow_nmc_v7_1946_2022.csv")
    df = n[["ccode", "year", "cinc"]].dropna().sort_values(["ccode", "year"])
    _write(df, out / "cinc.csv.gz", float_format="%.6g")
    return set(df.ccode)


def clique_sizes(edges: pd.DataFrame) -> dict[tuple[int, int], int]:
    """For one year's undirected defence graph, the size of the largest clique holding each edge.

    Why: the shared ATOP copy is the dyad-year file, which carries no alliance id, so which
    pact a dyad shares and how many members it has is not in it. A multilateral pact of k
    members shows as a k-clique (every member pledged to every other), so the largest clique
    containing a dyad is a lower bound on the member count of its largest pact, and 2 means the
    dyad is in no triangle: bilateral ties only.
    """
    g = nx.Graph()
    g.add_edges_from(zip(edges.ccode1, edges.ccode2, strict=True))
    best: dict[tuple[int, int], int] = {}
    for clique in nx.find_cliques(g):
        k = len(clique)
        members = sorted(clique)
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                if best.get((a, b), 0) < k:
                    best[(a, b)] = k
    return best


def atop_defence(src: Path, out: Path) -> set[int]:
    """Undirected dyad-years with a defence pledge in either direction, 1946-2018."""
    d = pd.read_csv(src / "atop_v5_1_ddyr_1946_2018.csv.gz")
    d = d[d.atop_defense == 1]
    lo = d[["ccode1", "ccode2"]].min(axis=1)
    hi = d[["ccode1", "ccode2"]].max(axis=1)
    # pledge bit 1: the lower code pledged to the higher; bit 2: the higher to the lower.
    bit = (d.ccode1 == lo).map({True: 1, False: 2})
    u = pd.DataFrame({"year": d.year, "ccode1": lo, "ccode2": hi, "bit": bit})
    u = u.groupby(["year", "ccode1", "ccode2"], as_index=False).bit.sum()
    u = u.rename(columns={"bit": "pledge"})
    cliques: list[int] = []
    for _year, g in u.groupby("year", sort=True):
        best = clique_sizes(g)
        cliques.extend(best[(a, b)] for a, b in zip(g.ccode1, g.ccode2, strict=True))
    u = u.sort_values(["year", "ccode1", "ccode2"]).reset_index(drop=True)
    u["clique"] = cliques
    _write(u, out / "atop_defence.csv.gz")
    return set(u.ccode1) | set(u.ccode2)


def ideal_points(src: Path, out: Path) -> set[int]:
    """State-year UNGA ideal points with the 5-95% interval (the only columns hedgesim uses)."""
    u = pd.read_csv(src / "unga_idealpoints_bsv_jun2024.csv")
    df = pd.DataFrame(
        {
            "ccode": u.ccode,
            "year": u.year,
            "ideal": u.IdealPointAll,
            "q05": u["Q5%All"],
            "q95": u["Q95%All"],
            "nvotes": u.NVotesAll,
        }
    ).sort_values(["ccode", "year"])
    _write(df, out / "idealpoints.csv.gz", float_format="%.5g")
    return set(df.ccode)


def rivalries(src: Path, out: Path) -> set[int]:
    """Thompson, Sakuwa & Suhas (2021) strategic rivalries that last into 1946 or later."""
    r = pd.read_csv(src / "rivalries_tss2021_1494_2020.csv")
    r = r[r.end >= 1946].drop(columns=["stateabb1", "stateabb2"])
    _write(r, out / "rivalries.csv")
    return set(r.ccode1) | set(r.ccode2)


def sanctions(src: Path, out: Path) -> set[int]:
    """GSDB release 4 sender-target-years whose target is a state, with the type fields.

    Senders that are organisations (EU, UN, Arab League...) keep their GSDB name in
    ``sender_org`` (their ``sender`` is empty): GSDB does not expand them to members, and a
    world builder may want to (EU sanctions on Iran are the main European measure).
    """
    g = pd.read_csv(src / "gsdb_v4_sender_target_year.csv")
    g = g[g.target_ccode.notna()]
    org = g.sender.where(g.sender_ccode.isna(), "")
    df = pd.DataFrame(
        {
            "case_id": g.case_id,
            "year": g.year,
            "sender": g.sender_ccode.astype("Int64"),
            "sender_org": org,
            "target": g.target_ccode.astype(int),
            "trade": g.trade,
            "descr_trade": g.descr_trade.fillna(""),
            "arms": g.arms,
            "military": g.military,
            "financial": g.financial,
            "travel": g.travel,
            "other": g.other,
            "sender_mult": g.sender_mult,
        }
    ).sort_values(["year", "target", "case_id", "sender", "sender_org"])
    _write(df, out / "sanctions.csv.gz")
    return set(df.sender.dropna().astype(int)) | set(df.target)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--source", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--out", type=Path, default=ROOT / "sim" / "data")
    args = ap.parse_args(argv)
    src, out = args.source, args.out
    if not (src / "README.md").exists():
        ap.error(f"{src}: not the shared data folder (no README.md); pass --source")
    codes = cinc(src, out)
    codes |= atop_defence(src, out)
    codes |= ideal_points(src, out)
    codes |= rivalries(src, out)
    codes |= sanctions(src, out)
    states(src, out, codes)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
