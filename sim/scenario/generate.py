"""Random worlds: synthetic scenarios of any size, for benchmarks, scaling studies and fuzzing.

Why synthetic: the Iran case has 13 states; the UN has 193. A seeded generator gives worlds of any
size with the same structure (a few rival camps, sparse rivalry, correlated interests) so speed and
behaviour can be measured beyond the shipped cases.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.scenario.schema import Scenario


def random_world_document(
    n: int, *, seed: int = 0, camps: int = 3, density: float = 0.08, steps: int = 200
) -> dict[str, Any]:
    """A scenario document with ``n`` states in ``camps`` loose camps (plain data, validatable)."""
    rng = np.random.default_rng(np.random.SeedSequence(seed))
    ids = [f"S{i:03d}" for i in range(n)]
    power = rng.lognormal(-4.5, 1.0, n)
    power = np.clip(power / power.sum(), 1e-5, 1.0)
    camp = rng.integers(0, camps, n)
    states = {
        sid: {
            "name": f"State {i}",
            "power": float(round(power[i], 6)) or 1e-6,
            "preferences": {
                "security": float(round(rng.uniform(0.5, 2.0), 3)),
                "autonomy": float(round(rng.uniform(0.5, 2.0), 3)),
                "options": float(round(rng.uniform(0.2, 1.5), 3)),
                "interests": float(round(rng.uniform(0.5, 1.5), 3)),
            },
        }
        for i, sid in enumerate(ids)
    }
    rivalry: dict[str, dict[str, float]] = {}
    interests: dict[str, dict[str, float]] = {}
    distrust: dict[str, dict[str, float]] = {}
    for i in range(n):
        for j in range(i + 1, n):
            same = camp[i] == camp[j]
            if not same and rng.random() < density:
                rivalry.setdefault(ids[i], {})[ids[j]] = float(round(rng.uniform(0.3, 1.0), 3))
            if rng.random() < 2 * density:
                base = 0.5 if same else -0.3
                interests.setdefault(ids[i], {})[ids[j]] = float(
                    round(np.clip(base + rng.normal(0, 0.3), -1, 1), 3)
                )
            if rng.random() < density:
                distrust.setdefault(ids[i], {})[ids[j]] = float(round(rng.uniform(0, 1), 3))
    return {
        "name": f"random_{n}",
        "states": states,
        "rivalry": rivalry,
        "interests": interests,
        "distrust": distrust,
        "params": {"steps": steps},
        "focal": ids[:1],
        "replications": 1,
        "seed": seed,
    }


def random_world(n: int, **kw: Any) -> Scenario:
    """A validated random scenario (see :func:`random_world_document`)."""
    return Scenario.model_validate(random_world_document(n, **kw))
