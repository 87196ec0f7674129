"""Where every random number of a run comes from.

Reproducibility rule: replication ``r`` of a scenario with root seed ``S`` uses
``SeedSequence(S, spawn_key=(r,))`` — the r-th child of ``SeedSequence(S)`` — whatever the number
of workers, the chunking or the backend; every condition of a run reuses those seeds (common
random numbers), and run ``i`` of a sweep uses ``SeedSequence(S, spawn_key=(i,))``.

From a replication's seed, hedgesim derives the streams it draws from as two children of that
seed (``seed.spawn(2)``, built without changing ``seed``), so that no result depends on how Mesa
seeds or uses its own generators:

* child 0, :func:`decision_stream`: the reviews and logit choices of every pair and treaty member,
  one uniform draw per ordered pair per step (docs/ODD.md §7.12);
* child 1, :func:`mesa_seed`: what the Mesa model is seeded with (``model.rng``,
  ``model.random``); hedgesim draws nothing from it.
"""

from __future__ import annotations

import numpy as np


def replication_seed(root: int, index: int) -> np.random.SeedSequence:
    """The seed of replication (or sweep run) ``index``: ``SeedSequence(root).spawn(n)[index]``."""
    return np.random.SeedSequence(root, spawn_key=(index,))


def seed_value(seq: np.random.SeedSequence) -> int:
    """A 63-bit integer fingerprint of a run's seed (recorded with every result)."""
    return int(seq.generate_state(1, np.uint64)[0] >> np.uint64(1))


def as_seed(rng: int | np.random.SeedSequence) -> np.random.SeedSequence:
    """A run's seed from an integer (``SeedSequence(rng)``) or a SeedSequence (as it is)."""
    if isinstance(rng, np.random.SeedSequence):
        return rng
    return np.random.SeedSequence(int(rng))


DECISIONS, MESA = 0, 1
"""The children of a replication's seed: its decision stream, and the seed Mesa gets."""


def child(seed: np.random.SeedSequence, k: int) -> np.random.SeedSequence:
    """``seed.spawn(k + 1)[k]``, without spawning (``seed`` is left as it was)."""
    return np.random.SeedSequence(
        seed.entropy, spawn_key=(*seed.spawn_key, k), pool_size=seed.pool_size
    )


def decision_stream(seed: np.random.SeedSequence) -> np.random.Generator:
    """The generator a replication draws its reviews and choices from: its seed's child 0."""
    return np.random.default_rng(child(seed, DECISIONS))


def mesa_seed(seed: np.random.SeedSequence) -> np.random.SeedSequence:
    """What the Mesa model is seeded with: the seed's child 1 (hedgesim draws nothing from it)."""
    return child(seed, MESA)
