"""The scenario file format, as pydantic models.

Why pydantic: a scenario is hand-written data, and a user who mistypes a key or puts a distrust of
1.7 must be told *where*, not get a wrong result. Every model forbids unknown keys and bounds every
number; the checks that span several fields (ids that must exist, pairs that must not be self-ties)
live in :func:`sim.scenario.load.cross_check`, which reports them with the same field paths.

Dyadic data is given sparsely as nested mappings ``row id -> column id -> value``:
``distrust.IRN.RUS`` is Iran's distrust of Russia. The same dotted paths are what ``--set`` and
sweeps address.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

LEVELS: tuple[str, ...] = ("none", "friendship", "alliance")
"""Tie levels, by code 0, 1, 2 (``sim.model.ties`` gives them their weights)."""

UNIT = (0.0, 1.0)
SIGNED = (-1.0, 1.0)
POWER = (1e-6, 1.0)
"""At least 1e-6, so relative powers stay strictly inside (0, 1) and no utility is infinite."""
WEIGHT = (0.0, 100.0)


def _bounded(bounds: tuple[float, float]) -> Any:
    return Annotated[float, Field(ge=bounds[0], le=bounds[1], allow_inf_nan=False)]


StateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")]
Unit = _bounded(UNIT)
Power = _bounded(POWER)
Weight = _bounded(WEIGHT)
Dyads = dict[StateId, dict[StateId, float]]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
"""A calendar month, ``YYYY-MM`` (a scenario's ``start``, dates of events and regimes)."""

MECHANISMS: tuple[str, ...] = (
    "security",
    "autonomy",
    "entrapment",
    "partner_hedging",
    "historical_distrust",
    "sanctions_pressure",
    "expanding_options",
    "nonalignment_doctrine",
    "prioritizing_interests",
    "institutions",
)
"""The switchable mechanisms, in the order the summary reports them (docs/ODD.md §7)."""

PER_STATE: dict[str, tuple[str, ...]] = {
    "security": ("security",),
    "autonomy": ("autonomy",),
    "partner_hedging": ("hedging",),
    "historical_distrust": ("distrust",),
    "expanding_options": ("options",),
    "prioritizing_interests": ("interests",),
    "nonalignment_doctrine": ("doctrine",),
}
"""Mechanisms a single state can switch off (``--ablate MECH@ID``), and the preferences of that
state set to 0 to do it."""

PREFERENCES: tuple[str, ...] = (
    "security",
    "autonomy",
    "options",
    "interests",
    "hedging",
    "distrust",
    "doctrine",
)
"""A state's preference weights: what an event may change with ``field: preferences.NAME``."""

STATE_FIELDS: tuple[str, ...] = ("power", *(f"preferences.{p}" for p in PREFERENCES))
"""Event fields that change one number per state (``changes: {ID: value}``)."""

STEP_YEARS: dict[str, float] = {"week": 7 / 365.25, "month": 1 / 12, "year": 1.0}
"""Length of one step in years, by the scenario's ``step`` (time constants are given in years)."""

DYADIC_FIELDS: tuple[str, ...] = ("distrust", "rivalry", "interests", "affinity", "hedging")
SYMMETRIC_FIELDS: frozenset[str] = frozenset({"rivalry", "interests", "affinity"})

FIELD_RANGES: dict[str, tuple[float, float]] = {
    "distrust": UNIT,
    "rivalry": UNIT,
    "interests": SIGNED,
    "affinity": SIGNED,
    "hedging": UNIT,
    "power": POWER,
    **{f"preferences.{p}": WEIGHT for p in PREFERENCES},
}
"""Range of every field an event may change (changes are clipped to it)."""


DATE_FIELDS: dict[str, dict[str, str]] = {
    "sanctions": {"start_date": "start", "end_date": "end"},
    "treaties": {"start_date": "start", "end_date": "end"},
    "events": {"date": "step", "until_date": "until"},
}
"""Dated twins of step fields: each list's date field -> the step field it stands for. A date
needs the scenario's ``start``; loading turns it into that step (sim.scenario.calendar
.step_of_date), so the validated scenario, its dump and its hash are those of the same scenario
written in steps (the dates are kept on the object, not dumped)."""


class Strict(BaseModel):
    """Base for every scenario model: unknown keys are errors, not silently ignored, and types are
    strict — ``power: true``, ``power: "0.5"`` or ``steps: 2.0`` is a YAML author's typo to be told
    about, not a value to coerce (an integer is still a valid float)."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False, strict=True)


class Preferences(Strict):
    """How one state weighs the mechanisms: the same rule for all, different weights per state.

    Each is a multiplier of one mechanism's term for this state (0 switches the mechanism off for
    it alone, which is what ``--ablate MECH@ID`` does).
    """

    security: Weight = Field(1.0, description="Value of protection against its threats.")
    autonomy: Weight = Field(
        1.0, description="Value of freedom of action: the junior partner's cost, the senior's gain."
    )
    options: Weight = Field(
        1.0, description="Value of the ties an alliance would foreclose (ties with its rivals)."
    )
    interests: Weight = Field(
        1.0, description="Cost of following an ally's line where interests conflict."
    )
    hedging: Weight = Field(
        1.0, description="How much its partners' ties with its rivals discount their help."
    )
    distrust: Weight = Field(1.0, description="How much its distrust discounts a partner's help.")
    doctrine: Weight = Field(
        0.0,
        description="Strength of a non-alignment doctrine ('neither East nor West'): the cost of "
        "an alliance with a great power (0: no such doctrine).",
    )


YearKey = Annotated[int, Field(ge=1000, le=3000)]


class StateSpec(Strict):
    """One state: a name, a material capability share and its preferences."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    power: Power = Field(
        description="Material capability at the start, e.g. a Correlates of War CINC share (at "
        "least 1e-6, so relative powers stay strictly inside (0, 1) and no utility can become "
        "infinite)."
    )
    power_series: dict[YearKey, Power] = Field(
        default_factory=dict,
        description="Power by calendar year (needs the scenario's `start`): year Y's value "
        "applies from the first step of January Y.",
    )
    preferences: Preferences = Field(default_factory=Preferences)


class SanctionsRegime(Strict):
    """Who sanctions whom, how hard, and over which steps."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    senders: list[StateId] = Field(min_length=1)
    targets: list[StateId] = Field(min_length=1)
    level: Unit = Field(description="Severity in [0, 1].")
    secondary: Unit = Field(
        0.5, description="How hard third parties trading with a target are pressed, in [0, 1]."
    )
    start: Annotated[int, Field(ge=0)] = 0
    end: Annotated[int, Field(ge=1)] | None = Field(None, description="First step without it.")
    start_date: Month | None = Field(
        None, exclude=True, description="Instead of `start`: the month it begins, YYYY-MM."
    )
    end_date: Month | None = Field(
        None, exclude=True, description="Instead of `end`: the first month without it, YYYY-MM."
    )
    in_force_years: Annotated[float, Field(ge=0.0, le=200.0, allow_inf_nan=False)] = Field(
        0.0,
        description="Years the measures had already been in force at `start` (their bite has "
        "built up and the target has partly adapted).",
    )


class Event(Strict):
    """A scheduled change: to dyadic data (a betrayal, a channel opening, a deal), to a state's
    power, or to one of its preferences (a security need that jumps).

    ``changes`` uses the nested ``from -> to -> value`` form for dyadic fields and ``ID -> value``
    for ``power`` and ``preferences.NAME``. With ``until`` the change is reverted at that step.
    ``date`` and ``until_date`` give the same by calendar month (see :data:`DATE_FIELDS`).
    """

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    step: Annotated[int, Field(ge=0)] | None = Field(
        None, description="Step at which it happens (or give `date`)."
    )
    until: Annotated[int, Field(ge=1)] | None = Field(
        None, description="Step at which the change is reverted (or give `until_date`)."
    )
    date: Month | None = Field(
        None, exclude=True, description="Instead of `step`: the month it happens, YYYY-MM."
    )
    until_date: Month | None = Field(
        None, exclude=True, description="Instead of `until`: the month it is reverted, YYYY-MM."
    )
    field: Literal[(*DYADIC_FIELDS, *STATE_FIELDS)]  # type: ignore[valid-type]
    mode: Literal["add", "set"] = "add"
    changes: dict[StateId, float | dict[StateId, float]] = Field(min_length=1)


class Treaty(Strict):
    """A multilateral (or bilateral) alliance treaty: one object with members (NATO, CSTO).

    While in force, every pair of members is allied. Each member decides each step whether to
    stay (its commitment covers the whole treaty); a non-member joins only with every member's
    consent, and only if ``open``.
    """

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    members: list[StateId] = Field(min_length=2, description="Members when it enters into force.")
    start: Annotated[int, Field(ge=0)] = Field(0, description="Step it enters into force.")
    end: Annotated[int, Field(ge=1)] | None = Field(None, description="First step without it.")
    start_date: Month | None = Field(
        None, exclude=True, description="Instead of `start`: the month it enters into force."
    )
    end_date: Month | None = Field(
        None, exclude=True, description="Instead of `end`: the first month without it, YYYY-MM."
    )
    open: bool = Field(True, description="Whether other states may join (with consent).")


class Mechanism(Strict):
    """A switchable term of the utility: off means its contribution is exactly zero."""

    enabled: bool = True
    weight: Weight = 1.0


class Security(Mechanism):
    """Balance of threat (Walt 1987): a tie is worth the share of one's threats it removes.

    The threat of a rival k is its rivalry times its power relative to the state's and its
    partners'; a partner's help against k is its power times the reliability of the tie level,
    discounted by rivalry with the partner, distrust and the partner's ties with k.
    """

    alliance_reliability: Unit = Field(
        0.75, description="Share of alliance commitments honoured (Leeds, Long & Mitchell 2000)."
    )
    friendship_reliability: Unit = Field(
        0.1, description="Share of a partner's power a non-binding friend brings (estimated)."
    )


class Autonomy(Mechanism):
    """Morrow (1991): alliances trade security for autonomy. Every alliance costs its members
    freedom of action (``commitment``); in an asymmetric one the junior partner pays for the
    protection it gains with policy concessions to the senior (the exchange's price, a share
    ``bargain`` of the junior's security surplus, times the asymmetry ``2 b - 1``)."""

    commitment: Weight = Field(
        0.03, description="Freedom of action any ally gives up (per unit of autonomy preference)."
    )
    bargain: Unit = Field(
        0.5,
        description="Share of the junior's security surplus paid to the senior at full "
        "asymmetry (0.5: the Nash bargaining split).",
    )


class Entrapment(Mechanism):
    """Snyder (1984): an ally's quarrels that one does not share, weighted by the opponent's power
    relative to one's own, are the expected cost of the commitment."""

    weight: Weight = 0.4


class PartnerHedging(Mechanism):
    """A partner tied to one's rival (or seen hedging) helps less against that rival."""


class HistoricalDistrust(Mechanism):
    """Distrust discounts a partner's expected help (Kydd 2005); betrayals raise it (a broken
    alliance one wanted to keep), kept ties slowly lower it toward the historical core."""

    betrayal_learning: Unit = Field(
        0.05, description="Distrust added when a partner breaks an alliance one wanted to keep."
    )
    trust_learning: Annotated[float, Field(ge=0.0, le=0.5, allow_inf_nan=False)] = Field(
        0.02, description="Per-step relaxation of learned distrust while a tie is kept."
    )
    memory: Unit = Field(
        0.8, description="Share of historical distrust that experience cannot erase."
    )


class SanctionsPressure(Mechanism):
    """Sanctions push a target toward non-senders and raise third parties' cost of ties with it;
    their bite builds up while in force and fades as the target adapts."""

    third_party: Weight = Field(1.0, description="Scale of third parties' cost of ties.")
    rent: Unit = Field(
        0.5,
        description="Share of the target's gain from a tie with a non-sender that the "
        "non-sender earns (sanctions busting pays; 0.5: an even split of the gains from trade).",
    )
    buildup_years: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)] = Field(
        1.0, description="Time for the cost of a regime to build up (1 - exp(-t / this))."
    )
    adaptation_half_life_years: (
        Annotated[float, Field(gt=0.0, le=1000.0, allow_inf_nan=False)] | None
    ) = Field(
        5.0,
        description="Years for adaptation and evasion to halve a regime's bite (null: never).",
    )


class ExpandingOptions(Mechanism):
    """Kuik's hedging: an alliance with j costs the payoff of one's ties with j's rivals, which
    the alliance forecloses in proportion to their rivalry with j."""


class NonalignmentDoctrine(Mechanism):
    """A state doctrine against alignment with great powers ("neither East nor West"): an alliance
    costs ``doctrine`` times the partner's power relative to the strongest state."""


class PrioritizingInterests(Mechanism):
    """An alliance makes a state follow the line of the alliance, set mostly by the stronger
    partner; where interests conflict that costs it."""


class Institutions(Mechanism):
    """Treaties are sticky (exit and audience costs): keeping an alliance, or staying in a
    treaty, is worth an exit cost. Both are estimated so that the alliances of worlds built from
    data end at the rates ATOP v5.1 records for them (docs/ODD.md §7.11;
    validation/exit_costs.py)."""

    exit_cost: Weight = Field(
        1.0,
        description="Value of keeping a bilateral alliance (estimated: the top-40 worlds of "
        "1950-70, 1970-90 and 1992-2010 then lose their bilateral pacts at ATOP's 0.027 a year; "
        "95% interval 0.6-2.5).",
    )
    treaty_exit_cost: Weight = Field(
        0.9,
        description="Value of staying in a treaty (estimated likewise against ATOP's 0.0050 a "
        "year for dyads in multilateral pacts; 95% interval 0.7-1.4).",
    )


class Mechanisms(Strict):
    """Every mechanism of the decision rule, each with a weight and an on/off switch."""

    security: Security = Field(default_factory=Security)
    autonomy: Autonomy = Field(default_factory=Autonomy)
    entrapment: Entrapment = Field(default_factory=Entrapment)
    partner_hedging: PartnerHedging = Field(default_factory=PartnerHedging)
    historical_distrust: HistoricalDistrust = Field(default_factory=HistoricalDistrust)
    sanctions_pressure: SanctionsPressure = Field(default_factory=SanctionsPressure)
    expanding_options: ExpandingOptions = Field(default_factory=ExpandingOptions)
    nonalignment_doctrine: NonalignmentDoctrine = Field(default_factory=NonalignmentDoctrine)
    prioritizing_interests: PrioritizingInterests = Field(default_factory=PrioritizingInterests)
    institutions: Institutions = Field(default_factory=Institutions)


class Params(Strict):
    """Model-wide parameters that are not a mechanism."""

    steps: Annotated[int, Field(ge=1, le=100_000)] = 200
    temperature: Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False)] = Field(
        0.013, description="Logit temperature: higher means noisier choices (bounded rationality)."
    )
    inertia: Weight = Field(
        0.05, description="Utility of keeping the current level of a friendship or of no tie."
    )
    cooperation: Weight = Field(
        0.5, description="Gains of any tie per unit of interest compatibility (negative: losses)."
    )
    alliance_gains: Weight = Field(
        0.0, description="Extra gains of an alliance per unit of compatibility (arms, bases)."
    )
    friendship_cost: Weight = Field(0.03, description="Upkeep of a friendship.")
    alliance_cost: Weight = Field(0.03, description="Upkeep of an alliance (or of a treaty).")
    rivalry_cost: Weight = Field(1.0, description="Cost of a tie with a rival, per unit rivalry.")
    rival_threshold: Unit = Field(
        0.5, description="Rivalry at or above which two states count as rival camps."
    )
    review_years: Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False)] = Field(
        1.0,
        description="Mean time between reviews of a tie (or a treaty membership), in years: "
        "each step a pair reviews its tie with probability step / review_years.",
    )
    verdict_window: Annotated[int, Field(ge=1, le=100_000)] = Field(
        24, description="Steps at the end over which the time-window verdict is taken."
    )
    record_every: Annotated[int, Field(ge=1)] = 1
    friendship: bool = Field(
        True, description="Allow non-binding friendships; off gives the alliance-only world."
    )


class LandscapeSpec(Strict):
    """Inputs of the two-bloc limit (Axelrod & Bennett): sizes are the states' power.

    Propensities are given on a declared scale and recentred: ``p = (x - center) / unit`` (a 1-5
    survey scale is ``center: 3``). Give them by id pair, or as a CSV matrix with state ids as
    header and index (path relative to the scenario file). With neither, they are derived from the
    scenario: ``p = interests - rivalry - (distrust_ij + distrust_ji) / 2``.
    """

    propensity: Dyads = Field(default_factory=dict, description="Symmetric, on the scale below.")
    csv: str | None = None
    center: Annotated[float, Field(allow_inf_nan=False)] = 0.0
    unit: Annotated[float, Field(gt=0.0, allow_inf_nan=False)] = 1.0


class Scenario(Strict):
    """A whole world: states, what they perceive of each other, pressures, events, parameters."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    description: str = ""
    start: Month | None = Field(
        None, description="Calendar month of step 0 and step 1, as YYYY-MM (e.g. 2005-01)."
    )
    step: Literal["week", "month", "year"] = Field(
        "month", description="Length of one step; time constants of mechanisms are in years."
    )
    states: dict[StateId, StateSpec] = Field(min_length=2, max_length=500)
    distrust: Dyads = Field(default_factory=dict, description="Directed, in [0, 1].")
    rivalry: Dyads = Field(default_factory=dict, description="Symmetric, in [0, 1].")
    interests: Dyads = Field(default_factory=dict, description="Symmetric, in [-1, 1].")
    affinity: Dyads = Field(default_factory=dict, description="Symmetric, in [-1, 1].")
    hedging: Dyads = Field(default_factory=dict, description="Directed perception, in [0, 1].")
    ties: dict[StateId, dict[StateId, Literal[LEVELS]]] = Field(  # type: ignore[valid-type]
        default_factory=dict, description="Initial ties, symmetric."
    )
    sanctions: list[SanctionsRegime] = Field(default_factory=list)
    treaties: list[Treaty] = Field(default_factory=list)
    events: list[Event] = Field(default_factory=list)
    mechanisms: Mechanisms = Field(default_factory=Mechanisms)
    params: Params = Field(default_factory=Params)
    counterfactuals: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Named groups of mechanisms to switch off together (for --ablate NAME).",
    )
    landscape: LandscapeSpec = Field(default_factory=LandscapeSpec)
    sweep: dict[str, Any] | None = Field(
        None, exclude=True, description="A sweep over this scenario (read by hedgesim sweep)."
    )
    pattern: dict[str, Any] | None = Field(
        None, exclude=True, description="A pattern's checks (read by hedgesim validate)."
    )
    focal: list[StateId] = Field(default_factory=list)
    targets: str | None = Field(None, description="Observed ties to score runs against (CSV).")
    replications: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
