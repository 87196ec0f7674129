"""What the model says about the Iran scenario (README, "What the Iran scenario shows").

These are the claims README and docs/ODD.md §9 make, checked at the size they are made: shares by
their 95% Wilson interval over 200 seeded replications, counterfactuals paired over the same seeds
(a one-sided exact sign test on the runs that differ, at ALPHA, Holm-corrected over the family of
counterfactual claims). Nothing here is a wanted answer: when the model changes, these claims are
re-measured and README follows the model, not the other way round.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from sim.metrics import ALIGNED, allied_with_stronger
from sim.runner import Condition, run_conditions
from sim.scenario import load_scenario
from sim.summary import wilson
from sim.world import compile_world

ROOT = Path(__file__).resolve().parents[1]
N = 200
REASONS = (
    "historical_distrust",
    "nonalignment_doctrine",
    "expanding_options",
    "partner_hedging",
    "prioritizing_interests",
)
ALPHA = 0.01
PAIRED_CLAIMS = 4  # the counterfactual claims below, for Holm's correction


@pytest.fixture(scope="module")
def iran():
    sc = load_scenario(ROOT / "scenarios" / "iran_2021.yaml")
    conds = [Condition("baseline"), Condition("-reasons", REASONS)]
    conds += [Condition("-reasons@IRN", tuple(f"{r}@IRN" for r in REASONS))]
    conds += [Condition(f"-{r}", (r,)) for r in REASONS]
    conds += [Condition("-sanctions_pressure", ("sanctions_pressure",))]
    # each reason kept alone: which of them suffices to keep Iran out of a great-power alliance
    conds += [Condition(f"only {r}", tuple(x for x in REASONS if x != r)) for r in REASONS]
    res = run_conditions(sc, conds, replications=N, steps=sc.params.steps, workers=2)
    return compile_world(sc), res


def junior(world, records, sid="IRN") -> np.ndarray:
    """Runs in which ``sid`` ends allied with a stronger state (a great-power alliance)."""
    i = world.index[sid]
    return np.array([allied_with_stronger(r.final_ties, r.final_power)[i] for r in records])


def tie(world, records, a, b, level) -> np.ndarray:
    i, j = world.index[a], world.index[b]
    return np.array([r.final_ties[i, j] == level for r in records])


def paired_more(more: np.ndarray, less: np.ndarray, rank: int) -> None:
    """Paired over common seeds: ``more`` holds in more runs than ``less``; one-sided exact sign
    test on the discordant runs, Holm-corrected (``rank`` = the claim's place, 0 first)."""
    up, down = int((more & ~less).sum()), int((~more & less).sum())
    assert up > down, (up, down)
    p = binomtest(up, up + down, 0.5, alternative="greater").pvalue
    assert p < ALPHA / (PAIRED_CLAIMS - rank), p


def test_iran_keeps_the_powers_as_friends_not_allies(iran):
    world, res = iran
    base = res["baseline"]
    assert wilson(int(junior(world, base).sum()), N)[1] < 0.05  # never a great power's ally
    assert tie(world, base, "IRN", "IND", 1).mean() > 0.9
    for partner in ("RUS", "CHN"):  # friends at the end in about half to two thirds of the runs
        assert wilson(int(tie(world, base, "IRN", partner, 1).sum()), N)[0] > 0.4


def test_the_2006_defence_agreement_with_syria_holds_so_iran_counts_as_aligned(iran):
    world, res = iran
    base = res["baseline"]
    assert wilson(int(tie(world, base, "IRN", "SYR", 2).sum()), N)[0] > 0.95
    i = world.index["IRN"]
    aligned = np.array([r.status[-1, i] == ALIGNED for r in base])
    assert wilson(int(aligned.sum()), N)[0] > 0.95


def test_nato_core_holds_and_alliances_form_elsewhere(iran):
    world, res = iran
    base = res["baseline"]
    for a, b in (("USA", "GBR"), ("USA", "FRA"), ("USA", "DEU"), ("GBR", "FRA")):
        assert wilson(int(tie(world, base, a, b, 2).sum()), N)[0] > 0.95, (a, b)


def test_without_the_five_reasons_iran_allies_with_a_great_power(iran):
    world, res = iran
    off = junior(world, res["-reasons"])
    assert wilson(int(off.sum()), N)[0] > 0.5
    assert tie(world, res["-reasons"], "IRN", "CHN", 2).mean() > 0.5
    paired_more(off, junior(world, res["baseline"]), 0)


def test_irans_own_reasons_explain_about_half(iran):
    """Switched off for Iran alone, the five reasons let Iran ally with a great power in about
    half the runs; switched off for everyone, in all: the partners' own reasons (China's options,
    its ties with Iran's rivals) do the rest."""
    world, res = iran
    own = junior(world, res["-reasons@IRN"])
    lo, hi = wilson(int(own.sum()), N)
    assert lo > 0.3 and hi < 0.75
    paired_more(junior(world, res["-reasons"]), own, 1)


@pytest.mark.parametrize(
    ("reason", "alone"),
    [
        ("nonalignment_doctrine", "suffices"),
        ("expanding_options", "partly"),
        ("historical_distrust", "no"),
        ("partner_hedging", "no"),
        ("prioritizing_interests", "no"),
    ],
)
def test_which_reason_alone_keeps_iran_out_of_a_great_power_alliance(iran, reason, alone):
    """Each reason kept alone (the other four off for everyone): does it keep Iran out?"""
    world, res = iran
    share = junior(world, res[f"only {reason}"])
    lo, hi = wilson(int(share.sum()), N)
    expected = {"suffices": hi < 0.1, "partly": lo > 0.2 and hi < 0.8, "no": lo > 0.5}
    assert expected[alone], (lo, hi)


def test_the_doctrine_is_the_only_reason_whose_absence_matters(iran):
    """Switched off one at a time, only "neither East nor West" lets Iran ally with a power."""
    world, res = iran
    for r in REASONS:
        lo, hi = wilson(int(junior(world, res[f"-{r}"]).sum()), N)
        assert lo > 0.3 if r == "nonalignment_doctrine" else hi < 0.1, r


def test_sanctions_cost_iran_friends(iran):
    """With sanctions off Iran keeps China and Pakistan as friends in every run: the sanctions'
    pressure on third parties outweighs the support they push Iran to seek."""
    world, res = iran
    for partner, rank in (("CHN", 2), ("PAK", 3)):
        paired_more(
            tie(world, res["-sanctions_pressure"], "IRN", partner, 1),
            tie(world, res["baseline"], "IRN", partner, 1),
            rank,
        )
