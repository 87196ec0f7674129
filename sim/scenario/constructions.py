"""The constructions of a world built from data: power, rivalry, interests, alliances and
sanctions, each a pure function of sim.data and the request (docs/DATA.md, sim.scenario.build_world
lists them)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from sim import data
from sim.scenario.datasets import (
    INTERESTS_MIN,
    KNOWN_PACTS,
    POWER_FLOOR,
    RIVALRY_APRIN,
    RIVALRY_OTHER,
    RIVALRY_PRINCIPAL,
    SANCTION_WEIGHTS,
    TRADE_COMPLETE,
    TRADE_PARTIAL,
    Request,
    eu_members,
    un_permanent_five,
)

# --------------------------------------------------------------------------- the constructions


def sig4(x: float) -> float:
    """``x`` to 4 significant figures."""
    return float(f"{x:.4g}")


def power_values(req: Request) -> tuple[dict[int, float], dict[int, dict[int, float]]]:
    """First-year CINC per state and, for a span, every year's CINC (missing years left out)."""
    series = data.cinc_series(req.states, req.years)
    power = {c: max(POWER_FLOOR, sig4(float(series.loc[req.first, c]))) for c in req.states}
    yearly: dict[int, dict[int, float]] = {c: {} for c in req.states}
    if req.first != req.last:
        for c in req.states:
            for y in req.years:
                v = series.loc[y, c]
                if pd.notna(v):
                    yearly[c][y] = max(POWER_FLOOR, sig4(float(v)))
    return power, yearly


def rivalry_value(row: pd.Series) -> float:
    """Principal 0.9, asymmetric principal 0.75, any other strategic rivalry 0.6."""
    if row.principal:
        return RIVALRY_PRINCIPAL
    if row.aprin:
        return RIVALRY_APRIN
    return RIVALRY_OTHER


def rivalry_kind(value: float) -> str:
    return {RIVALRY_PRINCIPAL: "principal", RIVALRY_APRIN: "asymmetric principal"}.get(
        value, "strategic"
    )


@dataclass(frozen=True)
class RivalryChange:
    """A rivalry's value for a dyad from January of ``year`` on (0: it ended)."""

    a: int
    b: int
    year: int
    value: float
    rivalry: str  # the TSS rivalry's name (the one ending, for a 0)
    span: str


def _active(codes: set[int], year: int) -> pd.DataFrame:
    """TSS rivalries between two of ``codes`` active in ``year``, each with its ``value``.

    The book codes rivalries to its publication (2020): for a later year the rivalries ongoing
    then (end 2020) are taken to continue, and none can be known to have started.
    """
    rows = data.rivalries(min(year, data.RIVALRY_YEARS.last))
    rows = rows[rows.ccode1.isin(codes) & rows.ccode2.isin(codes)].copy()
    rows["value"] = [rivalry_value(r) for _, r in rows.iterrows()]
    return rows


def _strongest(rows: pd.DataFrame) -> dict[tuple[int, int], pd.Series]:
    best: dict[tuple[int, int], pd.Series] = {}
    for _, r in rows.iterrows():
        key = (int(r.ccode1), int(r.ccode2))
        if key not in best or r.value > best[key].value:
            best[key] = r
    return best


def _rivalry_span(r: pd.Series) -> str:
    end = "ongoing" if r.end >= data.RIVALRY_YEARS.last else str(int(r.end))
    return f"{int(r.start)}-{end}"


def rivalry_values(
    req: Request,
) -> tuple[dict[tuple[int, int], tuple[float, str, str]], list[RivalryChange]]:
    """Initial rivalry per dyad ``(value, name, span)`` and the changes inside the span."""
    codes = set(req.states)
    initial = {
        k: (float(r.value), str(r.rivalry), _rivalry_span(r))
        for k, r in _strongest(_active(codes, req.first)).items()
    }
    changes: list[RivalryChange] = []
    before = dict(initial)
    for y in req.years[1:]:
        now = _strongest(_active(codes, y))
        for k in sorted(set(before) | set(now)):
            old = before.get(k)
            new = now.get(k)
            if new is not None and (old is None or old[0] != new.value):
                changes.append(
                    RivalryChange(*k, y, float(new.value), str(new.rivalry), _rivalry_span(new))
                )
            elif new is None and old is not None:
                changes.append(RivalryChange(*k, y, 0.0, old[1], old[2]))
        before = {k: (float(r.value), str(r.rivalry), _rivalry_span(r)) for k, r in now.items()}
    return initial, changes


@dataclass(frozen=True)
class Interests:
    """Interest compatibility from UN ideal points: the matrix and how it was made."""

    values: dict[tuple[int, int], float]  # (a, b) in world order, |C| >= 0.05, 2 decimals
    ideal: dict[int, float]  # each state's mean ideal point (states without votes left out)
    sd: float
    years: list[int]
    state_years: int
    note: str


def interests_values(req: Request) -> Interests:
    """``C = clip(1 - |d| / (2 sd), -1, 1)`` from mean ideal points over the span's years.

    ``sd`` is the (sample) standard deviation of every state's ideal point in every year of the
    span that had a session with recorded votes (all states in the data, not only the world's).
    A span with no such year (1964 alone) takes the nearest years on each side, and says so.
    """
    years = [y for y in req.years if _has_votes(y)]
    note = ""
    if not years:
        lo, hi = req.first - 1, req.last + 1
        while lo >= data.IDEAL_YEARS.first and not _has_votes(lo):
            lo -= 1
        while hi <= data.IDEAL_YEARS.last and not _has_votes(hi):
            hi += 1
        years = [y for y in (lo, hi) if data.IDEAL_YEARS.first <= y <= data.IDEAL_YEARS.last]
        note = f"no recorded votes in {req.span}: the years {', '.join(map(str, years))} are used"
    frames = [data.ideal_points(y).ideal for y in years]
    pooled = pd.concat(frames)
    sd = float(pooled.std(ddof=1))
    mean = pd.concat(frames, axis=1).mean(axis=1)
    ideal = {c: float(mean[c]) for c in req.states if c in mean.index and pd.notna(mean[c])}
    codes = [c for c in req.states if c in ideal]
    x = np.array([ideal[c] for c in codes])
    C = np.clip(1.0 - np.abs(x[:, None] - x[None, :]) / (2.0 * sd), -1.0, 1.0)
    values: dict[tuple[int, int], float] = {}
    for i, a in enumerate(codes):
        for j in range(i + 1, len(codes)):
            if abs(C[i, j]) >= INTERESTS_MIN:
                values[(a, codes[j])] = round(float(C[i, j]), 2)
    return Interests(values, ideal, sd, years, len(pooled), note)


def _has_votes(year: int) -> bool:
    if not data.IDEAL_YEARS.first <= year <= data.IDEAL_YEARS.last:
        return False
    try:
        data.ideal_points(year)
    except data.DataError:
        return False
    return True


# --------------------------------------------------------------------------- alliances


@dataclass
class TreatyPlan:
    """A multilateral pact as a treaty: members, steps in force and how it was found."""

    name: str
    members: list[int]
    first: int  # the first year it is in force in the world (its start step is January of it)
    end_year: int | None = None  # the first year without it (end step: January of it)
    clique: int = 0  # the largest ATOP clique size among its dyads in the full data
    known: str = ""  # the recognised pact, if any
    left: dict[int, int] = field(default_factory=dict)  # member -> first year ATOP drops it
    joined: dict[int, int] = field(default_factory=dict)  # state -> first year ATOP adds it

    @property
    def notes(self) -> list[str]:
        """Membership changes ATOP records inside the span (the model decides membership)."""
        out = [
            f"{y}: ATOP no longer links {data.iso3(c)} to the others" for c, y in self.left.items()
        ]
        out += [f"{y}: {data.iso3(c)} joins in ATOP" for c, y in self.joined.items()]
        return out


@dataclass(frozen=True)
class Alliances:
    """Initial ATOP alliances: treaties (multilateral) and bilateral ties, and later changes."""

    year: int  # the ATOP year the initial alliances come from
    treaties: list[TreatyPlan]
    bilateral: dict[tuple[int, int], int]  # dyad -> ATOP pledge code (3 both, 1/2 one-way)
    bilateral_changes: list[str]
    note: str


def atop_year(year: int) -> int:
    return min(year, data.ATOP_YEARS.last)


def _pacts(year: int, codes: set[int]) -> pd.DataFrame:
    d = data.defence_pacts(atop_year(year))
    return d[d.ccode1.isin(codes) & d.ccode2.isin(codes)]


def _multilateral_cliques(pacts: pd.DataFrame, order: dict[int, int]) -> list[list[int]]:
    """Maximal cliques of the multilateral (clique >= 3) defence graph, in world order."""
    import networkx as nx

    g = nx.Graph()
    multi = pacts[pacts.clique >= 3]
    g.add_edges_from(zip(multi.ccode1.astype(int), multi.ccode2.astype(int), strict=True))
    cliques = [sorted(c, key=order.__getitem__) for c in nx.find_cliques(g)]
    return sorted(cliques, key=lambda c: (-len(c), [order[x] for x in c]))


def _pact_name(members: list[int], year: int, power: dict[int, float]) -> tuple[str, str]:
    present = set(members)
    for name, signature, first, last in KNOWN_PACTS:
        if signature <= present and first <= year <= last:
            return name, name
    top = sorted(members, key=lambda c: -power.get(c, 0.0))
    head = "-".join(data.iso3(c) for c in top[:4])
    more = f" +{len(members) - 4}" if len(members) > 4 else ""
    return f"pact {head}{more}", ""


def alliance_values(req: Request, power: dict[int, float]) -> Alliances:
    """ATOP defence pacts of the first year as treaties and ties, and the changes in the span."""
    order = {c: i for i, c in enumerate(req.states)}
    codes = set(req.states)
    year0 = atop_year(req.first)
    note = (
        f"ATOP v5.1 ends in {data.ATOP_YEARS.last}: the alliances of {data.ATOP_YEARS.last} are "
        f"used for {req.first}"
        if year0 != req.first
        else ""
    )
    pacts = _pacts(req.first, codes)
    treaties: list[TreatyPlan] = []
    names: set[str] = set()

    def new_treaty(members: list[int], year: int, frame: pd.DataFrame) -> TreatyPlan:
        name, known = _pact_name(members, year, power)
        base, k = name, 2
        while name in names:
            name, k = f"{base} #{k}", k + 1
        names.add(name)
        inside = frame[frame.ccode1.isin(members) & frame.ccode2.isin(members)]
        return TreatyPlan(name, members, year, None, int(inside.clique.max()), known)

    for members in _multilateral_cliques(pacts, order):
        treaties.append(new_treaty(members, req.first, pacts))
    bilateral = {
        (int(r.ccode1), int(r.ccode2)): int(r.pledge) for r in pacts[pacts.clique < 3].itertuples()
    }
    bilateral_changes: list[str] = []
    # changes inside the span (ATOP years only): whole pacts that end or begin become treaty
    # steps; a member leaving or joining is a note (membership is the model's to decide)
    prev_bi = set(bilateral)
    last_atop = min(req.last, data.ATOP_YEARS.last)
    for y in range(req.first + 1, last_atop + 1):
        frame = _pacts(y, codes)
        multi = frame[frame.clique >= 3]
        edges = {(int(a), int(b)) for a, b in zip(multi.ccode1, multi.ccode2, strict=True)}
        live = [t for t in treaties if t.end_year is None]
        for t in live:
            pairs = {(a, b) for i, a in enumerate(t.members) for b in t.members[i + 1 :]}
            pairs = {tuple(sorted(p)) for p in pairs}
            kept = pairs & edges
            if not kept:
                t.end_year = y
                continue
            for c in t.members:
                if c not in t.left and not any(c in p for p in kept):
                    t.left[c] = y
        for clique in _multilateral_cliques(frame, order):
            host = [
                t for t in treaties if t.end_year is None and len(set(t.members) & set(clique)) >= 2
            ]
            if not host:
                treaties.append(new_treaty(clique, y, frame))
                continue
            for c in clique:
                if all(c not in t.members for t in host):
                    host[0].joined.setdefault(c, y)
        bi = {(int(r.ccode1), int(r.ccode2)) for r in frame[frame.clique < 3].itertuples()}
        for a, b in sorted(bi - prev_bi, key=lambda p: (order[p[0]], order[p[1]])):
            if (a, b) not in edges:
                bilateral_changes.append(f"{data.iso3(a)}-{data.iso3(b)}: bilateral pact from {y}")
        for a, b in sorted(prev_bi - bi, key=lambda p: (order[p[0]], order[p[1]])):
            if (a, b) not in edges:
                bilateral_changes.append(
                    f"{data.iso3(a)}-{data.iso3(b)}: bilateral pact ends after {y - 1}"
                )
        prev_bi = bi
    return Alliances(year0, treaties, bilateral, bilateral_changes, note)


# --------------------------------------------------------------------------- sanctions


@dataclass
class RegimePlan:
    """A run of consecutive years in which the same senders sanction a target at one level."""

    senders: tuple[int, ...]
    target: int
    level: float
    first: int
    last: int
    cases: set[int]
    parts: str  # how the level was made, e.g. "complete trade 0.4 + financial 0.3"


def sanction_level(flags: dict[str, int], descr: str) -> tuple[float, str]:
    """The severity of a sender-target-year from its GSDB type flags (see the module doc)."""
    parts: list[str] = []
    level = 0.0
    bans = set(filter(None, (s.strip() for s in descr.split(","))))
    if bans & {"exp_compl", "imp_compl"}:
        level, parts = TRADE_COMPLETE, [f"complete trade {TRADE_COMPLETE:g}"]
    elif flags.get("trade") or bans:
        level, parts = TRADE_PARTIAL, [f"partial trade {TRADE_PARTIAL:g}"]
    for kind, w in SANCTION_WEIGHTS.items():
        if flags.get(kind):
            level += w
            parts.append(f"{kind} {w:g}")
    return min(1.0, round(level, 2)), " + ".join(parts) or "none"


def _expand_senders(row: pd.Series, year: int, world: set[int]) -> tuple[set[int], str]:
    if pd.notna(row.sender):
        return ({int(row.sender)} & world), ""
    org = str(row.sender_org)
    if org == "EU":
        return eu_members(year) & world, "EU"
    if org == "UN":
        return set(un_permanent_five(year)) & world, "UN"
    return set(), org


def sanctions_values(req: Request) -> tuple[list[RegimePlan], dict[str, int]]:
    """GSDB regimes among the chosen states, and the count of skipped organisation senders."""
    world = set(req.states)
    order = {c: i for i, c in enumerate(req.states)}
    yearly: dict[tuple[int, tuple[int, ...]], dict[int, tuple[float, str, set[int]]]] = defaultdict(
        dict
    )
    skipped: dict[str, int] = defaultdict(int)
    lo = max(req.first, data.SANCTION_YEARS.first)
    hi = min(req.last, data.SANCTION_YEARS.last)
    for y in range(lo, hi + 1):
        s = data.sanctions(y)
        s = s[s.target.isin(world)]
        cases: dict[tuple[int, int], dict] = {}
        for _, r in s.iterrows():
            senders, org = _expand_senders(r, y, world)
            if org not in ("", "EU", "UN"):
                skipped[org] += 1
                continue
            target = int(r.target)
            senders.discard(target)
            if not senders:
                continue
            c = cases.setdefault(
                (int(r.case_id), target), {"senders": set(), "flags": {}, "descr": set()}
            )
            c["senders"] |= senders
            for k in ("trade", *SANCTION_WEIGHTS):
                c["flags"][k] = max(c["flags"].get(k, 0), int(r[k]))
            c["descr"] |= set(filter(None, str(r.descr_trade).split(",")))
        merged: dict[tuple[int, tuple[int, ...]], dict] = {}
        for (case, target), c in cases.items():
            key = (target, tuple(sorted(c["senders"], key=order.__getitem__)))
            m = merged.setdefault(key, {"flags": {}, "descr": set(), "cases": set()})
            for k, v in c["flags"].items():
                m["flags"][k] = max(m["flags"].get(k, 0), v)
            m["descr"] |= c["descr"]
            m["cases"].add(case)
        for key, m in merged.items():
            level, parts = sanction_level(m["flags"], ",".join(sorted(m["descr"])))
            if level > 0:
                yearly[key][y] = (level, parts, m["cases"])
    regimes: list[RegimePlan] = []
    for (target, senders), by_year in yearly.items():
        cur: RegimePlan | None = None
        for y in sorted(by_year):
            level, parts, cases = by_year[y]
            if cur is not None and cur.last == y - 1 and cur.level == level:
                cur.last = y
                cur.cases |= cases
                continue
            cur = RegimePlan(senders, target, level, y, y, set(cases), parts)
            regimes.append(cur)
    regimes.sort(key=lambda r: (order[r.target], r.first, [order[s] for s in r.senders]))
    return regimes, dict(skipped)
