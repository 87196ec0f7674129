"""A scenario built from data: ``hedgesim build-world`` (issue 11, item 1).

Why a builder: a world whose every number comes from the datasets analysts already cite (COW
capabilities, ATOP alliances, strategic rivalries, UN voting, GSDB sanctions) is one they can
check, and one hedgesim can be scored on. The builder writes an *ordinary* scenario file: runnable
by ``hedgesim run`` as it is, editable and diffable, every value followed by a comment naming the
dataset, the year and the construction.

The constructions are fixed (the Iran scenario uses the same ones by hand, and a test compares
them):

- **power**: COW NMC v7.0 CINC of the first year, 4 significant figures (at least 1e-6, the
  schema's floor); for a span, ``power_series`` gives every year's CINC.
- **rivalry**: Thompson, Sakuwa & Suhas (2021) strategic rivalries active in the first year:
  principal 0.9, asymmetric principal 0.75, any other 0.6 (the highest if a dyad has several).
  A change inside a span (a rivalry starts or ends) is a ``set`` event at January of the year it
  starts / of the year after it ends.
- **interests**: UNGA ideal points (Bailey, Strezhnev & Voeten), each state's mean over the
  span's years; ``C = clip(1 - |d| / (2 sd), -1, 1)`` with ``sd`` the standard deviation of all
  states' ideal points over the same years; written where ``|C| >= 0.05``, to 2 decimals.
- **alliances**: ATOP v5.1 defence pledges (either direction) in the first year (2018 for later
  years). Multilateral dyads (``clique >= 3`` in :mod:`sim.data`) become treaties, one per maximal
  clique of mutually allied states in the world; bilateral ones become ``ties: alliance``.
- **sanctions**: GSDB release 4 sender-target-years among the chosen states (EU senders expanded
  to the EU members in the world, UN senders to the permanent five present), one regime per run
  of consecutive years with the same senders and level;
  ``level = min(1, trade + 0.3 financial + 0.1 arms + 0.1 military + 0.05 travel + 0.05 other)``
  with trade 0.4 for a complete export or import ban, 0.2 for a partial one; ``secondary`` 0.2.

Everything here is a pure function of :mod:`sim.data` and its arguments; writing the file is
the command's job (sim/cli_data.py).
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import yaml

from sim import __version__, data
from sim.world import step_of_month

MARKER = "# hedgesim build-world: generated from data (hedgesim may replace this file with --force)"
"""First line of every file the builder writes: ``--force`` replaces only files that start so."""

FIRST_YEAR, LAST_FIRST_YEAR = data.ATOP_YEARS.first, data.ATOP_YEARS.last
LAST_YEAR = data.CINC_YEARS.last  # a span may run on past ATOP (pacts then stay at 2018's)

RIVALRY_PRINCIPAL, RIVALRY_APRIN, RIVALRY_OTHER = 0.9, 0.75, 0.6
INTERESTS_MIN = 0.05
SECONDARY = 0.2
POWER_FLOOR = 1e-6  # the schema's lowest power (relative powers stay inside (0, 1))
SEED = 1

TRADE_COMPLETE, TRADE_PARTIAL = 0.4, 0.2
SANCTION_WEIGHTS = {"financial": 0.3, "arms": 0.1, "military": 0.1, "travel": 0.05, "other": 0.05}

# EU (EEC from 1958) membership by COW code: first and last year as a member. Why here: GSDB
# names the EU as one sender and does not expand it; these are the accession treaties' dates.
# The UK left on 31 January 2020 but applied EU sanctions through the transition to 31 December
# 2020, so 2020 counts. 260 is West Germany (to 1990), 255 unified Germany.
EU_MEMBERS: dict[int, tuple[int, int]] = {
    211: (1958, 9999), 220: (1958, 9999), 260: (1958, 1990), 255: (1991, 9999),
    325: (1958, 9999), 212: (1958, 9999), 210: (1958, 9999),
    390: (1973, 9999), 205: (1973, 9999), 200: (1973, 2020),
    350: (1981, 9999), 235: (1986, 9999), 230: (1986, 9999),
    305: (1995, 9999), 375: (1995, 9999), 380: (1995, 9999),
    352: (2004, 9999), 316: (2004, 9999), 366: (2004, 9999), 310: (2004, 9999),
    367: (2004, 9999), 368: (2004, 9999), 338: (2004, 9999), 290: (2004, 9999),
    317: (2004, 9999), 349: (2004, 9999),
    355: (2007, 9999), 360: (2007, 9999), 344: (2013, 9999),
}  # fmt: skip


def un_permanent_five(year: int) -> tuple[int, ...]:
    """COW codes of the UN Security Council's permanent members in ``year``: the USA, the UK,
    France, the USSR/Russia (COW 365 for both) and China's seat, held by the Republic of China
    (713) until resolution 2758 (25 October 1971), by the People's Republic (710) from 1972."""
    return (2, 200, 220, 365, 713 if year < 1972 else 710)


def eu_members(year: int) -> set[int]:
    """COW codes of the EU (EEC) members in ``year``."""
    return {c for c, (a, b) in EU_MEMBERS.items() if a <= year <= b}


# Multilateral pacts recognised by a signature: states that only this pact makes mutual allies.
# A clique containing every signature state (and inside the pact's years) takes the pact's name;
# any other clique is named after its members. Why a signature: our ATOP copy has no alliance id.
KNOWN_PACTS: tuple[tuple[str, frozenset[int], int, int], ...] = (
    ("NATO", frozenset({2, 20, 200}), 1949, 9999),  # USA, Canada, UK
    ("NATO", frozenset({2, 200, 325}), 1949, 9999),  # USA, UK, Italy
    ("NATO", frozenset({2, 200, 260}), 1955, 1990),  # USA, UK, West Germany
    ("NATO", frozenset({2, 200, 255}), 1990, 9999),  # USA, UK, Germany
    ("Warsaw Pact", frozenset({365, 290, 315}), 1955, 1991),  # USSR, Poland, Czechoslovakia
    ("Rio Treaty", frozenset({2, 140, 160}), 1947, 9999),  # USA, Brazil, Argentina
    ("Arab League pact", frozenset({651, 670, 663}), 1950, 9999),  # Egypt, Saudi Arabia, Jordan
    ("CSTO", frozenset({365, 371, 705}), 1992, 9999),  # Russia, Armenia, Kazakhstan
    ("SEATO", frozenset({2, 840, 800}), 1955, 1977),  # USA, Philippines, Thailand
)


@dataclass(frozen=True)
class Request:
    """What to build: the years (inclusive), the states (COW codes, in order) and options."""

    first: int
    last: int
    states: tuple[int, ...]
    step: str = "month"
    focal: tuple[int, ...] = ()
    alliances: bool = True
    name: str | None = None
    command: str = ""

    @property
    def years(self) -> list[int]:
        return list(range(self.first, self.last + 1))

    @property
    def steps(self) -> int:
        per_year = {"month": 12, "year": 1}[self.step]
        return per_year * (self.last - self.first + 1)

    @property
    def start(self) -> str:
        return f"{self.first}-01"

    def january(self, year: int) -> int:
        """The step at which a change dated January ``year`` applies (0 for the first year)."""
        return 0 if year <= self.first else step_of_month(self.start, self.step, year)

    @property
    def span(self) -> str:
        return str(self.first) if self.first == self.last else f"{self.first}-{self.last}"


# --------------------------------------------------------------------------- choosing states


def check_years(first: int, last: int) -> None:
    """The first year must have ATOP data (1946-2018); a span may run to CINC's last year."""
    if not FIRST_YEAR <= first <= LAST_FIRST_YEAR:
        raise data.DataError(
            f"the first year must be in {FIRST_YEAR}-{LAST_FIRST_YEAR} (ATOP v5.1 defence "
            f"pacts give the initial alliances), got {first}"
        )
    if not first <= last <= LAST_YEAR:
        raise data.DataError(
            f"the last year must be in {first}-{LAST_YEAR} (COW NMC v7.0 CINC ends in "
            f"{LAST_YEAR}), got {last}"
        )


def members(year: int) -> pd.Series:
    """CINC of every system member in ``year``, highest first (ties by COW code)."""
    c = data.cinc(year)
    return c.iloc[np.lexsort((c.index.to_numpy(), -c.to_numpy()))]


def top_states(n: int, year: int) -> list[int]:
    """The ``n`` states with the highest CINC in ``year``."""
    c = members(year)
    if n > len(c):
        raise data.DataError(f"--top {n}: COW NMC v7.0 has only {len(c)} states in {year}")
    return [int(x) for x in c.index[:n]]


def all_states(year: int) -> list[int]:
    """Every system member in ``year`` (every state with a CINC), highest CINC first."""
    return [int(x) for x in members(year).index]


def resolve_states(ids: Iterable[data.StateId], year: int, at_least: int = 2) -> list[int]:
    """COW codes of ``ids`` (ISO3, COW abbreviation or number), checked to be members in
    ``year`` and listed once each (at least ``at_least`` of them)."""
    out: list[int] = []
    seen: dict[int, str] = {}
    present = set(data.cinc(year).index)
    span = data.states().set_index("ccode")
    for sid in ids:
        code = data.to_ccode(sid)
        if code in seen:
            raise data.DataError(f"{sid!r} and {seen[code]!r} are the same state ({code})")
        seen[code] = str(sid)
        if code not in present:
            row = span.loc[code]
            gap = pd.notna(row.first_year) and row.first_year <= year <= row.last_year
            raise data.DataError(
                f"{sid} ({row['name']}) is not a system member in {year}: COW NMC v7.0 has it "
                f"{row.first_year}-{row.last_year}" + (f", with a gap in {year}" if gap else "")
            )
        out.append(code)
    if len(out) < at_least:
        raise data.DataError(f"give at least {at_least} states")
    return out


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


# --------------------------------------------------------------------------- YAML text


def num(x: float) -> str:
    """A float as YAML that reads back as the same float (never exponent notation, which
    YAML 1.1 readers such as PyYAML take for a string)."""
    return np.format_float_positional(float(x), trim="0")


def key(s: str) -> str:
    """A mapping key or plain scalar, quoted when YAML would read it as something else."""
    return s if isinstance(yaml.safe_load(s), str) and s.strip() == s else json.dumps(s)


def quoted(s: str) -> str:
    """A double-quoted YAML string (JSON's escapes are valid YAML)."""
    return json.dumps(s, ensure_ascii=False)


def _years(first: int, last: int) -> str:
    return str(first) if first == last else f"{first}-{last}"


class Writer:
    """Lines of YAML with comments: ``item`` puts a comment after a value, ``note`` writes a
    wrapped comment block. Why by hand: comments are the point (dataset, year, construction of
    every value), and no dependency is needed to write them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, s: str = "") -> None:
        self.lines.append(s)

    def item(self, s: str, note: str = "", width: int = 36) -> None:
        note = " ".join(note.split())
        self.lines.append(f"{s.ljust(width)} # {note}" if note else s)

    def note(self, s: str, indent: str = "") -> None:
        self.lines += textwrap.wrap(
            " ".join(s.split()), 100, initial_indent=f"{indent}# ", subsequent_indent=f"{indent}# "
        )

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def default_name(req: Request, how: str) -> str:
    return f"world_{req.span.replace('-', '_')}_{how}"


def build_world(req: Request, how: str = "states") -> str:
    """The scenario text for ``req``; ``how`` names the state choice in the default name."""
    check_years(req.first, req.last)
    if len(set(req.states)) != len(req.states) or len(req.states) < 2:
        raise data.DataError("a world needs at least two distinct states")
    power, yearly = power_values(req)
    iso = {c: data.iso3(c) for c in req.states}
    order = {c: i for i, c in enumerate(req.states)}
    w = Writer()
    w.line(MARKER)
    w.note(
        f"Built by: {req.command or 'sim.build_world'} (hedgesim {__version__}). Sources (full "
        "citations and terms in sim/data/README.md): COW National Material Capabilities v7.0 "
        "(Singer, Bremer & Stuckey 1972); ATOP v5.1 (Leeds et al. 2002); strategic rivalries "
        "(Thompson, Sakuwa & Suhas 2021); UNGA ideal points (Bailey, Strezhnev & Voeten 2017); "
        "Global Sanctions Data Base release 4 (Felbermayr et al. 2020; Kirilakha et al. 2021). "
        "Everything not written here takes the schema's default (see hedgesim schema)."
    )
    w.line(f"name: {quoted(req.name or default_name(req, how))}")
    w.line(f"description: {quoted(f'{len(req.states)} states built from data for {req.span}.')}")
    w.item(f"start: {quoted(req.start)}", f"step 1 is {_when(req, req.first)}")
    w.item(f"step: {req.step}", f"one step = one {req.step}")
    w.line()
    _write_states(w, req, power, yearly, iso)
    _write_rivalry(w, req, iso, order)
    _write_interests(w, req, iso, order)
    if req.alliances:
        _write_alliances(w, req, alliance_values(req, power), iso, order)
    else:
        w.line("# alliances: none (built with --no-alliances: the world starts with no ties)")
        w.line()
    _write_sanctions(w, req, iso)
    w.line("params:")
    w.item(f"  steps: {req.steps}", f"{req.step}s of {req.span}")
    w.line()
    if req.focal:
        w.line(f"focal: {_ids(req.focal)}")
    w.item("replications: 100", "hedgesim build-world's default")
    w.item(f"seed: {SEED}", "fixed, so a rebuilt world gives the same runs")
    return w.text()


def _ids(codes: Sequence[int]) -> str:
    return "[" + ", ".join(key(data.iso3(c)) for c in codes) + "]"


def _when(req: Request, year: int) -> str:
    return f"January {year}" if req.step == "month" else f"the year {year}"


def _write_states(w: Writer, req: Request, power, yearly, iso: dict[int, str]) -> None:
    w.note(f"power: COW NMC v7.0 CINC of {req.first}, 4 significant figures (at least 1e-6).")
    if req.first != req.last:
        unit = "January of Y" if req.step == "month" else "step Y"
        w.note(f"power_series: CINC of every year {req.span}; year Y's value applies from {unit}.")
    names = data.states().set_index("ccode")["name"]
    raw = data.cinc(req.first)
    w.line("states:")
    for c in req.states:
        w.line(f"  {key(iso[c])}:")
        w.line(f"    name: {quoted(str(names.loc[c]))}")
        note = f"COW NMC v7.0 CINC {req.first}"
        if raw.loc[c] < POWER_FLOOR:
            note += f" is {raw.loc[c]:.3g}: raised to the schema's floor {POWER_FLOOR:g}"
        w.item(f"    power: {num(power[c])}", note)
        if yearly.get(c):
            body = ", ".join(f"{y}: {num(v)}" for y, v in yearly[c].items())
            note = f"COW NMC v7.0 CINC by year {req.span}"
            missing = [str(y) for y in req.years if y not in yearly[c]]
            if missing:
                note += f"; none (not a system member) in {', '.join(missing)}"
            w.item(f"    power_series: {{{body}}}", note, 0)
    w.line()


def _write_rivalry(w: Writer, req: Request, iso: dict[int, str], order: dict[int, int]) -> None:
    initial, changes = rivalry_values(req)
    w.note(
        f"rivalry: strategic rivalries (Thompson, Sakuwa & Suhas 2021) active in {req.first}: "
        f"principal {RIVALRY_PRINCIPAL:g}, asymmetric principal {RIVALRY_APRIN:g}, any other "
        f"{RIVALRY_OTHER:g} (the highest if a dyad has several). The book codes rivalries to "
        f"{data.RIVALRY_YEARS.last}; later years continue the rivalries ongoing then."
    )
    rows: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for (a, b), (v, name, span) in initial.items():
        a, b = sorted((a, b), key=order.__getitem__)
        rows[a].append((b, num(v), f'TSS "{name}" ({span}), {rivalry_kind(v)}'))
    _nested(w, "rivalry", rows, iso, order)
    if not changes:
        w.line("events: []")
        w.line()
        return
    w.note(
        "events: a rivalry that starts or ends inside the span is set at January of the year "
        "it starts / of the year after it ends (Thompson, Sakuwa & Suhas 2021)."
    )
    w.line("events:")
    for ch in changes:
        a, b = sorted((ch.a, ch.b), key=order.__getitem__)
        verb = "ends" if ch.value == 0 else "from"
        w.item(
            f"  - name: {quoted(f'rivalry {iso[a]}-{iso[b]} {verb} {ch.year}')}",
            f'TSS "{ch.rivalry}" ({ch.span})',
        )
        w.item(f"    step: {req.january(ch.year)}", _when(req, ch.year))
        w.line("    field: rivalry")
        w.line("    mode: set")
        note = f"ended in {ch.year - 1}" if ch.value == 0 else f"{rivalry_kind(ch.value)}"
        w.item(f"    changes: {{{key(iso[a])}: {{{key(iso[b])}: {num(ch.value)}}}}}", note)
    w.line()


def _nested(
    w: Writer,
    name: str,
    rows: dict[int, list[tuple[int, str, str]]],
    iso: dict[int, str],
    order: dict[int, int],
    row_notes: dict[int, str] | None = None,
) -> None:
    """A dyadic mapping ``a: {b: value}`` in world order, one commented value a line."""
    if not rows:
        w.line(f"{name}: {{}}")
        w.line()
        return
    w.line(f"{name}:")
    for a in sorted(rows, key=order.__getitem__):
        w.item(f"  {key(iso[a])}:", (row_notes or {}).get(a, ""))
        for b, value, note in sorted(rows[a], key=lambda r: order[r[0]]):
            w.item(f"    {key(iso[b])}: {value}", note)
    w.line()


def _write_interests(w: Writer, req: Request, iso: dict[int, str], order: dict[int, int]) -> None:
    it = interests_values(req)
    yrs = _years(it.years[0], it.years[-1])
    w.note(
        f"interests: UNGA ideal points (Bailey, Strezhnev & Voeten 2017), each state's mean over "
        f"{yrs}; C = clip(1 - |d| / (2 sd), -1, 1) with sd = {it.sd:.4f}, the sample standard "
        f"deviation of all states' ideal points in those years ({it.state_years} state-years). "
        f"Written where |C| >= {INTERESTS_MIN:g}, to 2 decimals; each comment gives |d|."
    )
    if it.note:
        w.note(f"note: {it.note}")
    absent = [iso[c] for c in req.states if c not in it.ideal]
    if absent:
        w.note(f"no ideal point in {yrs} (no UN votes): {', '.join(absent)}; interests stay 0.")
    rows: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for (a, b), v in it.values.items():
        rows[a].append((b, num(v), f"|d| {abs(it.ideal[a] - it.ideal[b]):.3f}"))
    notes = {a: f"mean ideal point {it.ideal[a]:.3f}" for a in rows}
    _nested(w, "interests", rows, iso, order, notes)


def _write_alliances(
    w: Writer, req: Request, al: Alliances, iso: dict[int, str], order: dict[int, int]
) -> None:
    w.note(
        f"alliances: ATOP v5.1 defence pledges (either direction) in {al.year}. Dyads of "
        "multilateral pacts (in a triangle of mutual pledges that year: the `clique` proxy >= 3 "
        "of sim.data) form treaties, one per maximal clique of mutually allied states in this "
        "world; the others are bilateral `ties: alliance`. Our ATOP copy has no alliance id, so "
        "a treaty is named after a recognised pact whose signature members it holds, or after "
        "its largest members."
    )
    if al.note:
        w.note(f"note: {al.note}.")
    if not al.treaties:
        w.line("treaties: []")
    else:
        w.line("treaties:")
        for t in al.treaties:
            how = f"{t.known}: its signature members are in it" if t.known else "largest members"
            w.item(f"  - name: {quoted(t.name)}", how)
            year = atop_year(t.first)
            w.item(
                f"    members: {_ids(t.members)}",
                f"ATOP v5.1 {year}: every pair pledged defence (largest clique in all of ATOP "
                f"that year: {t.clique})",
            )
            if t.first > req.first:
                w.item(f"    start: {req.january(t.first)}", f"ATOP: in force from {t.first}")
            if t.end_year is not None:
                w.item(
                    f"    end: {req.january(t.end_year)}",
                    f"ATOP: no pledge among its members in {t.end_year}",
                )
            for n in t.notes:
                w.note(f"{n} (membership is left to the model)", "    ")
    w.line()
    how = {3: "both pledged", 1: "{a} pledged to {b}", 2: "{b} pledged to {a}"}
    rows: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for (a, b), pledge in al.bilateral.items():
        x, y = sorted((a, b), key=order.__getitem__)
        note = how[pledge].format(a=iso[a], b=iso[b])
        rows[x].append((y, "alliance", f"ATOP v5.1 {al.year}: bilateral defence pact, {note}"))
    if al.bilateral_changes:
        w.note("bilateral pacts that change inside the span (ties have no scheduled change):")
        for n in al.bilateral_changes:
            w.note(f"  {n}")
    _nested(w, "ties", rows, iso, order)


def _write_sanctions(w: Writer, req: Request, iso: dict[int, str]) -> None:
    regimes, skipped = sanctions_values(req)
    w.note(
        "sanctions: Global Sanctions Data Base release 4, sender-target-years among these "
        "states (EU senders = the EU members here, UN = the permanent five here). level = "
        "min(1, 0.4 complete trade ban or 0.2 partial + 0.3 financial + 0.1 arms + 0.1 military "
        "+ 0.05 travel + 0.05 other) over a year's cases with the same senders and target; "
        f"consecutive years at one level form one regime. secondary {SECONDARY:g}: an "
        "assumption, GSDB does not code secondary sanctions."
    )
    if req.first < data.SANCTION_YEARS.first:
        w.note(f"GSDB starts in {data.SANCTION_YEARS.first}: no sanctions before it.")
    if skipped:
        orgs = ", ".join(f"{k} ({v})" for k, v in sorted(skipped.items()))
        w.note(f"left out, sender-years of other organisations: {orgs}")
    if not regimes:
        w.line("sanctions: []")
        w.line()
        return
    w.line("sanctions:")
    seen: set[str] = set()
    for r in regimes:
        senders = "-".join(iso[s] for s in r.senders)
        if len(r.senders) > 5:
            senders = f"{iso[r.senders[0]]} and {len(r.senders) - 1} others"
        name = f"GSDB {senders} on {iso[r.target]} {_years(r.first, r.last)}"
        base, k = name, 2
        while name in seen:
            name, k = f"{base} #{k}", k + 1
        seen.add(name)
        w.item(f"  - name: {quoted(name)}", f"GSDB cases {', '.join(map(str, sorted(r.cases)))}")
        w.line(f"    senders: {_ids(r.senders)}")
        w.line(f"    targets: {_ids([r.target])}")
        w.item(f"    level: {num(r.level)}", f"GSDB {_years(r.first, r.last)}: {r.parts}")
        w.item(f"    secondary: {num(SECONDARY)}", "assumption (see above)")
        if r.first > req.first:
            w.item(f"    start: {req.january(r.first)}", _when(req, r.first))
        if r.last < req.last:
            w.item(
                f"    end: {req.january(r.last + 1)}",
                f"{_when(req, r.last + 1)} (GSDB: at this level to {r.last})",
            )
    w.line()
