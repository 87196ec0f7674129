"""The scenario file format, as pydantic models.

Why pydantic: a scenario is hand-written data, and a user who mistypes a key or puts a distrust of
1.7 must be told *where*, not get a wrong result. Every model forbids unknown keys and bounds every
number; the checks that span several fields (ids that must exist, pairs that must not be self-ties)
live in :func:`sim.scenario.cross_check`, which reports them with the same field paths.

Dyadic data is given sparsely as nested mappings ``row id -> column id -> value``:
``distrust.IRN.RUS`` is Iran's distrust of Russia. The same dotted paths are what ``--set`` and
sweeps address.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

StateId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")]
Unit = Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)]
Signed = Annotated[float, Field(ge=-1.0, le=1.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)]
Dyads = dict[StateId, dict[StateId, float]]

MECHANISMS: tuple[str, ...] = (
    "security_autonomy",
    "abandonment_entrapment",
    "partner_hedging",
    "historical_distrust",
    "sanctions_pressure",
    "expanding_options",
    "prioritizing_interests",
)
"""The switchable mechanisms, in the order the summary reports them."""

DYADIC_FIELDS: tuple[str, ...] = ("distrust", "rivalry", "interests", "affinity", "hedging")
SYMMETRIC_FIELDS: frozenset[str] = frozenset({"rivalry", "interests", "affinity"})


class Strict(BaseModel):
    """Base for every scenario model: unknown keys are errors, not silently ignored, and types are
    strict — ``power: true``, ``power: "0.5"`` or ``steps: 2.0`` is a YAML author's typo to be told
    about, not a value to coerce (an integer is still a valid float)."""

    model_config = ConfigDict(extra="forbid", frozen=False, validate_assignment=False, strict=True)


class Preferences(Strict):
    """How one state weighs the mechanisms: the same rule for all, different weights per state."""

    security: Weight = Field(1.0, description="Value of protection against rivals.")
    autonomy: Weight = Field(
        1.0, description="Cost of binding obligations (lost freedom of action)."
    )
    options: Weight = Field(1.0, description="Value of keeping ties to competing camps open.")
    interests: Weight = Field(1.0, description="Weight on its own interests over a partner's line.")
    hedging: Weight = Field(
        1.0, description="How much its partners' hedging worries it (0: not at all)."
    )
    distrust: Weight = Field(1.0, description="How much its historical distrust weighs (0: not).")


class StateSpec(Strict):
    """One state: a name, a material capability share and its preferences."""

    name: Annotated[str, StringConstraints(min_length=1, max_length=80)]
    power: Annotated[float, Field(ge=1e-6, le=1.0, allow_inf_nan=False)] = Field(
        description="Material capability, e.g. a Correlates of War CINC share (at least 1e-6, "
        "so relative powers stay strictly inside (0, 1) and no utility can become infinite)."
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


class Event(Strict):
    """A scheduled change to dyadic data: a betrayal, a channel opening, a deal.

    ``changes`` uses the same nested ``from -> to -> value`` form as the dyadic fields. With
    ``until`` the change is reverted at that step (a temporary channel).
    """

    name: Annotated[str, StringConstraints(min_length=1, max_length=120)]
    step: Annotated[int, Field(ge=0)]
    until: Annotated[int, Field(ge=1)] | None = None
    field: Literal["distrust", "rivalry", "interests", "affinity", "hedging"]
    mode: Literal["add", "set"] = "add"
    changes: Dyads = Field(min_length=1)


class Mechanism(Strict):
    """A switchable term of the utility: off means its contribution is exactly zero."""

    enabled: bool = True
    weight: Weight = 1.0


class SecurityAutonomy(Mechanism):
    """Morrow (1991): alliances buy security with autonomy; weaker states pay more per unit."""

    alliance_reliability: Unit = Field(
        0.75, description="Share of alliance commitments honoured (Leeds, Long & Mitchell 2000)."
    )
    friendship_reliability: Unit = Field(0.25, description="Support expected from a mere friend.")
    autonomy_cost: Weight = Field(1.0, description="Scale of the autonomy cost of an alliance.")


class AbandonmentEntrapment(Mechanism):
    """Snyder (1984): binding ties drag you into your ally's quarrels you do not share."""

    friendship_factor: Unit = Field(0.1, description="Share of entrapment a friendship carries.")


class PartnerHedging(Mechanism):
    """A partner tied to your rivals is a less reliable ally; a friendship loses less from it."""

    friendship_factor: Unit = 0.2


class HistoricalDistrust(Mechanism):
    """Distrust discounts ties, binding ones more; betrayals raise it, kept ties slowly lower it."""

    friendship_factor: Unit = 0.3
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
    """Sanctions push the target toward non-senders and raise third parties' cost of ties."""

    support_friendship: Unit = Field(0.6, description="Share of support a friendship provides.")
    third_party: Weight = Field(1.0, description="Scale of third parties' cost of ties.")
    third_party_friendship: Unit = 0.5


class ExpandingOptions(Mechanism):
    """Kuik's hedging: ties to rival camps at once are worth more; an alliance forecloses them."""

    alliance_factor: Weight = Field(1.0, description="Cost of options an alliance forecloses.")


class PrioritizingInterests(Mechanism):
    """An alliance forces policy alignment; divergent interests then cost the state."""

    friendship_factor: Unit = 0.1


class Mechanisms(Strict):
    """Every mechanism of the decision rule, each with a weight and an on/off switch."""

    security_autonomy: SecurityAutonomy = Field(default_factory=SecurityAutonomy)
    abandonment_entrapment: AbandonmentEntrapment = Field(default_factory=AbandonmentEntrapment)
    partner_hedging: PartnerHedging = Field(default_factory=PartnerHedging)
    historical_distrust: HistoricalDistrust = Field(default_factory=HistoricalDistrust)
    sanctions_pressure: SanctionsPressure = Field(default_factory=SanctionsPressure)
    expanding_options: ExpandingOptions = Field(default_factory=ExpandingOptions)
    prioritizing_interests: PrioritizingInterests = Field(default_factory=PrioritizingInterests)


class Params(Strict):
    """Model-wide parameters that are not a mechanism."""

    steps: Annotated[int, Field(ge=1, le=100_000)] = 200
    temperature: Annotated[float, Field(gt=0.0, le=100.0, allow_inf_nan=False)] = Field(
        0.1, description="Logit temperature: higher means noisier choices (bounded rationality)."
    )
    inertia: Weight = Field(0.2, description="Utility bonus for keeping the current tie level.")
    cooperation: Weight = Field(
        0.5, description="Gains from cooperation of any tie, scaled by interest compatibility."
    )
    alliance_gains: Weight = Field(
        0.5,
        description="Extra gains of an alliance (joint planning, arms, bases), scaled likewise.",
    )
    friendship_cost: Weight = Field(0.1, description="Upkeep of a friendship.")
    alliance_cost: Weight = Field(0.2, description="Upkeep of an alliance.")
    rivalry_cost: Weight = Field(1.0, description="Cost of a tie with a rival, per unit rivalry.")
    rival_threshold: Unit = Field(
        0.5, description="Rivalry at or above which two states count as rival camps."
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
    states: dict[StateId, StateSpec] = Field(min_length=2, max_length=500)
    distrust: Dyads = Field(default_factory=dict, description="Directed, in [0, 1].")
    rivalry: Dyads = Field(default_factory=dict, description="Symmetric, in [0, 1].")
    interests: Dyads = Field(default_factory=dict, description="Symmetric, in [-1, 1].")
    affinity: Dyads = Field(default_factory=dict, description="Symmetric, in [-1, 1].")
    hedging: Dyads = Field(default_factory=dict, description="Directed perception, in [0, 1].")
    ties: dict[StateId, dict[StateId, Literal["none", "friendship", "alliance"]]] = Field(
        default_factory=dict, description="Initial ties, symmetric."
    )
    sanctions: list[SanctionsRegime] = Field(default_factory=list)
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
    focal: list[StateId] = Field(default_factory=list)
    replications: Annotated[int, Field(ge=1, le=1_000_000)] = 100
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0


FIELD_RANGES: dict[str, tuple[float, float]] = {
    "distrust": (0.0, 1.0),
    "rivalry": (0.0, 1.0),
    "interests": (-1.0, 1.0),
    "affinity": (-1.0, 1.0),
    "hedging": (0.0, 1.0),
}
