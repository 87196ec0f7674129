"""Where every random number of a run comes from.

Reproducibility rule: replication ``r`` of a scenario with root seed ``S`` uses
``SeedSequence(S, spawn_key=(r,))`` — the r-th child of ``SeedSequence(S)`` — whatever the number
of workers, the chunking or the backend; every condition of a run reuses those seeds (common
random numbers), and run ``i`` of a sweep uses ``SeedSequence(S, spawn_key=(i,))``.

From a replication's seed, hedgesim derives the streams it draws from itself, so that no result
depends on how Mesa seeds its own generators:

* :func:`decision_stream`: the reviews and logit choices of every pair and treaty member, one
  uniform draw per ordered pair per step (docs/ODD.md §7.12);
* :func:`mesa_seed`: what the Mesa model is seeded with (``model.rng``, ``model.random``);
  hedgesim draws nothing from it.
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


def decision_stream(seed: np.random.SeedSequence) -> np.random.Generator:
    """The generator a replication draws its reviews and choices from.

    It is the stream of ``numpy.random.default_rng(seed)`` after one integer draw below 2**31 - 1
    (the draw Mesa 3.5 takes to seed the standard library's ``random``), so results stay those of
    earlier versions.
    """
    g = np.random.default_rng(seed)
    g.integers(np.iinfo(np.int32).max)
    return g


def mesa_seed(seed: np.random.SeedSequence) -> np.random.SeedSequence:
    """What the Mesa model is seeded with (hedgesim draws nothing from ``model.rng``)."""
    return seed
