"""Bloc mode: the alliance-only limit of hedgesim, where it must reduce to landscape theory.

Friendship is switched off and every state sits in one of two blocs. A state activated at random
switches sides when that lowers its own frustration ``F_i = sum_j s_j p_ij d_ij`` (Axelrod &
Bennett 1993). Such moves never raise the energy, so runs end in a local minimum of the landscape
that :mod:`sim.landscape.solver` enumerates exactly — the validation in docs/VALIDATION.md.

Activation is asynchronous random (one state drawn uniformly at a time, N draws per step), so the
chance of reaching each minimum from a given start is exactly computable
(:func:`reach_probabilities`) and tests can compare simulated frequencies against it.
"""

from __future__ import annotations

from pathlib import Path

import mesa
import numpy as np

from sim.errors import InputError
from sim.landscape import solver as ls
from sim.scenario.schema import Scenario

MAX_CSV_BYTES = 8 * 2**20
"""A propensity matrix of 500 states is ~2 MB as CSV; more is not a matrix anyone wrote."""


def _check_csv(path: Path) -> None:
    """Read only a regular file of bounded size (``csv: /dev/zero`` once read 7 GB in 17 s)."""
    import stat

    try:
        st = path.stat()
    except OSError as exc:
        raise InputError.plain(str(path), f"cannot read: {exc.strerror or exc}") from None
    if not stat.S_ISREG(st.st_mode):
        raise InputError.plain(str(path), "not a regular file (a CSV matrix is expected)")
    if st.st_size > MAX_CSV_BYTES:
        raise InputError.plain(
            str(path), f"larger than {MAX_CSV_BYTES // 2**20} MiB (a CSV matrix is expected)"
        )


def propensity_matrix(sc: Scenario, base_dir: Path | None = None) -> np.ndarray:
    """The symmetric propensity matrix of a scenario's landscape block (recentred and scaled)."""
    ids = list(sc.states)
    idx = {s: i for i, s in enumerate(ids)}
    n = len(ids)
    spec = sc.landscape
    if spec.csv:
        path = Path(spec.csv)
        if base_dir is not None and not path.is_absolute():
            path = base_dir / path
        _check_csv(path)
        try:
            names, raw = ls.read_propensity_csv(path)
        except (OSError, ValueError) as exc:
            raise InputError.single(str(path), str(exc)) from None
        if sorted(names) != sorted(ids):
            raise InputError.single(
                str(path), f"states {sorted(names)} differ from the scenario's {sorted(ids)}"
            )
        order = [names.index(s) for s in ids]
        x = raw[np.ix_(order, order)]
        p = (x - spec.center) / spec.unit
    elif spec.propensity:
        p = np.zeros((n, n))
        for a, row in spec.propensity.items():
            for b, v in row.items():
                p[idx[a], idx[b]] = p[idx[b], idx[a]] = (v - spec.center) / spec.unit
    else:
        from sim.model.world import compile_world

        d = compile_world(sc).dyads
        p = d["interests"] - d["rivalry"] - (d["distrust"] + d["distrust"].T) / 2.0
    np.fill_diagonal(p, 0.0)
    return p


class BlocState(mesa.Agent):
    """A state that can only choose a side."""

    model: BlocModel

    def __init__(self, model: BlocModel, index: int, bloc: int) -> None:
        super().__init__(model)
        self.index = index
        self.bloc = bloc

    def frustration(self, bloc: int | None = None) -> float:
        """``F_i`` if this state sat in ``bloc`` (default: where it is)."""
        b = self.bloc if bloc is None else bloc
        apart = self.model.blocs != b
        apart[self.index] = False
        return float(self.model.weights[self.index] @ apart)

    def step(self) -> None:
        """Switch sides if that lowers my own frustration (by more than rounding)."""
        here, there = self.frustration(), self.frustration(1 - self.bloc)
        # the solver's rule: a switch counts when dE = 2 s_i dF < -tol
        if 2.0 * self.model.sizes[self.index] * (there - here) < -self.model.tol:
            self.bloc = 1 - self.bloc
            self.model.blocs[self.index] = self.bloc
            self.model.switches += 1


class BlocModel(mesa.Model):
    """Two blocs, selfish switching: the landscape-theory limit of the alignment model."""

    def __init__(
        self,
        sizes: np.ndarray,
        propensity: np.ndarray,
        *,
        initial: np.ndarray | None = None,
        rng: np.random.SeedSequence | int | None = None,
    ) -> None:
        super().__init__(rng=rng)
        self.sizes = np.asarray(sizes, dtype=float)
        self.propensity = np.asarray(propensity, dtype=float)
        n = len(self.sizes)
        self.weights = self.propensity * self.sizes[None, :]  # F_i = weights[i] @ d_i
        self.tol = ls.tolerance(self.sizes, self.propensity)
        start = self.rng.integers(0, 2, n) if initial is None else np.asarray(initial)
        self.blocs = start.astype(np.int8).copy()
        self.order = [BlocState(self, i, int(b)) for i, b in enumerate(self.blocs)]
        self.switches = 0
        self.energy_trace = [self.energy()]

    def energy(self) -> float:
        return ls.energy(self.blocs, self.sizes, self.propensity)

    def stable(self) -> bool:
        """No state can lower its frustration by switching: a local minimum."""
        return all(
            2.0 * self.sizes[a.index] * (a.frustration(1 - a.bloc) - a.frustration()) >= -self.tol
            for a in self.order
        )

    def step(self) -> None:
        before = self.switches
        for k in self.rng.integers(0, len(self.order), len(self.order)):
            self.order[k].step()
        if self.switches != before:
            self.energy_trace.append(self.energy())
        if self.switches == before and self.stable():
            self.running = False

    def run(self, max_steps: int = 100_000) -> np.ndarray:
        """Step until stable; return the final configuration."""
        while self.running and self.steps < max_steps:
            self.step()
        return self.blocs.copy()


def reach_probabilities(
    sizes: np.ndarray, propensity: np.ndarray
) -> tuple[ls.Landscape, np.ndarray]:
    """Exact chance of ending in each local minimum from a uniformly random start.

    Under random asynchronous activation the next effective move from a configuration is a
    switch by a uniformly chosen state among those whose switch lowers their frustration, so
    ``P(end = m | c)`` is the mean over improving switches of ``P(end = m | c')``; processing
    configurations by increasing energy makes every ``c'`` known before ``c``. Exponential in N:
    meant for validation at N <= 18.
    """
    land = ls.enumerate_landscape(sizes, propensity)
    n = len(sizes)
    if n > 18:
        raise ValueError("reach_probabilities is exact and meant for N <= 18")
    m = 1 << (n - 1)
    bits = ((np.arange(m)[:, None] >> np.arange(n - 1)[None, :]) & 1).astype(np.int8)
    configs = np.concatenate([np.zeros((m, 1), np.int8), bits], axis=1)
    e = ls.energies(configs, sizes, propensity)
    tol = ls.tolerance(sizes, propensity)
    index = {tuple(mn.config.tolist()): k for k, mn in enumerate(land.minima)}
    prob = np.zeros((m, len(land.minima)))
    full = m - 1
    for code in np.argsort(e, kind="stable"):
        cfg = configs[code]
        if (key := tuple(cfg.tolist())) in index:
            prob[code, index[key]] = 1.0
            continue
        nxt = []
        for i in range(n):
            other = code ^ full if i == 0 else code ^ (1 << (i - 1))
            if e[other] < e[code] - tol:
                nxt.append(other)
        prob[code] = prob[nxt].mean(axis=0)
    return land, prob.mean(axis=0)
