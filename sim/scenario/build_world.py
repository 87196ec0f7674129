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
the command's job (sim/cli/build_world.py). The request and the constructions' numbers are in
sim.scenario.datasets, the constructions in sim.scenario.constructions, the writing here.
"""

from __future__ import annotations

import json
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import yaml

from sim import data
from sim._version import __version__
from sim.scenario.constructions import (
    Alliances,
    alliance_values,
    atop_year,
    interests_values,
    power_values,
    rivalry_kind,
    rivalry_values,
    sanctions_values,
)
from sim.scenario.datasets import (
    INTERESTS_MIN,
    POWER_FLOOR,
    RIVALRY_APRIN,
    RIVALRY_OTHER,
    RIVALRY_PRINCIPAL,
    SECONDARY,
    SEED,
    Request,
    check_years,
)

MARKER = "# hedgesim build-world: generated from data (hedgesim may replace this file with --force)"
"""First line of every file the builder writes: ``--force`` replaces only files that start so."""


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
        f"Built by: {req.command or 'sim.scenario.build_world'} (hedgesim {__version__}). "
        "Sources (full citations and terms in sim/data/README.md): COW National Material "
        "Capabilities v7.0 (Singer, Bremer & Stuckey 1972); ATOP v5.1 (Leeds et al. 2002); "
        "strategic rivalries (Thompson, Sakuwa & Suhas 2021); UNGA ideal points (Bailey, "
        "Strezhnev & Voeten 2017); Global Sanctions Data Base release 4 (Felbermayr et al. "
        "2020; Kirilakha et al. 2021). "
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
    if not req.alliance_changes:
        w.note(
            f"built with --no-alliance-changes: only the treaties of {al.year}, with no scheduled "
            "end; the pacts ATOP records later in the span are left out (the estimation and the "
            "held-out tests predict them)."
        )
    treaties = al.treaties
    if not req.alliance_changes:
        treaties = [replace(t, end_year=None) for t in treaties if t.first == req.first]
    if not treaties:
        w.line("treaties: []")
    else:
        w.line("treaties:")
        for t in treaties:
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
