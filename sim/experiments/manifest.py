"""A sweep directory's record: the manifest, its fingerprint, and what a resume finds on disk.

``manifest.json`` says what the sweep is (the spec as written, the scenario, every cell with its
values and scenario hash, seeds, recording, versions) and records each invocation; its
fingerprint identifies the sweep, so re-running the same command resumes it and a different sweep
is refused (``--force`` replaces only what hedgesim wrote). Resuming checks every part on disk
(sim.results.parts): damaged ones are refused, or dropped and run again with ``--repair``.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from sim._version import __version__
from sim.errors import InputError
from sim.results.parts import REPAIR_HINT, check_sweep
from sim.results.records import read_manifest
from sim.results.store import MANIFEST, SweepStore, versions
from sim.scenario.load import scenario_hash

if TYPE_CHECKING:
    from sim.experiments.design import Design

MANIFEST_KIND = "hedgesim-sweep"
MANIFEST_VERSION = 1
SEEDING = (
    "run i uses SeedSequence(root_seed, spawn_key=(i,)); i = cell * replications + replication"
)


def fingerprint(design: Design) -> str:
    """What makes two sweeps the same: model version, resolved cells, values, seeds, recording
    (sim.results.records.fingerprint_of recomputes it from a manifest)."""
    what = {
        "version": __version__,
        "root": design.root_seed,
        "replications": design.spec.replications,
        "record_every": design.spec.record_every,
        "columns": design.columns,
        "dtypes": design.dtypes,
        "cells": design.cells,
        "hashes": design.cell_hashes,
    }
    if design.spec.ties is not None:  # only then: older sweeps keep their fingerprints
        what["ties"] = design.spec.ties
    blob = json.dumps(what, sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def manifest_of(design: Design, fmt: str) -> dict[str, Any]:
    spec = design.spec
    return {
        "kind": MANIFEST_KIND,
        "manifest_version": MANIFEST_VERSION,
        "fingerprint": fingerprint(design),
        "name": spec.name,
        "spec_file": str(Path(spec.source).resolve()),
        "scenario_file": str(Path(spec.scenario_source).resolve()),
        "spec": spec.raw,
        "scenario": {
            "name": design.base.name,
            "hash": scenario_hash(design.base),
            "ids": list(design.base.states),
            "names": [s.name for s in design.base.states.values()],
            "focal": list(design.base.focal),
            "states_reported": design.reported_states,
        },
        # the base scenario's calendar; a cell whose parameters set ``start`` or ``step`` has
        # its own (the readers date each run's steps by its cell: sim.results.read)
        "calendar": {"start": design.base.start, "step": design.base.step},
        "design": {
            "sampler": spec.sampler,
            "n": spec.n,
            "second_order": spec.second_order if spec.sampler == "sobol" else None,
            "levels": spec.levels if spec.sampler == "morris" else None,
            "problem": design.problem,
            "parameters": [
                {
                    "name": p.name,
                    "kind": p.kind,
                    "values": list(p.values) if p.values is not None else None,
                    "bounds": list(p.bounds) if p.bounds is not None else None,
                }
                for p in spec.parameters
            ],
            "n_cases": len(spec.cases),
            "columns": design.columns,
            "dtypes": design.dtypes,
            "cells": design.cells,
            "cell_hashes": design.cell_hashes,
        },
        "replications": spec.replications,
        "steps": design.base.params.steps,
        "record_every": spec.record_every,
        "ties": spec.ties,
        "root_seed": design.root_seed,
        "seeding": SEEDING,
        "n_cells": design.n_cells,
        "n_runs": design.n_runs,
        "format": fmt,
        "checksums": "sha256",
        "versions": versions(),
        "command": None,
        "created": now(),
        "invocations": [],
        "complete": False,
    }


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _conflict(old: dict[str, Any], new: dict[str, Any]) -> str:
    """Why a directory's manifest describes another sweep, in the user's terms."""
    if old.get("kind") != MANIFEST_KIND:
        return "its manifest.json is not a hedgesim sweep manifest"
    ov, nv = old.get("versions", {}).get("hedgesim"), new["versions"]["hedgesim"]
    if ov != nv:
        return f"it was written by hedgesim {ov}, this is {nv}"
    for key, what in (
        ("n_cells", "cells"),
        ("replications", "replications"),
        ("root_seed", "root seed"),
        ("record_every", "recording"),
        ("ties", "ties kept"),
    ):
        if old.get(key) != new[key]:
            return f"{what}: {old.get(key)} there, {new[key]} here"
    if old.get("design", {}).get("columns") != new["design"]["columns"]:
        return "it sweeps other parameters"
    if old.get("design", {}).get("cells") != new["design"]["cells"]:
        return "its parameter values differ"
    return "the scenario differs"


# ------------------------------------------------------------------------------------------------
# Running
# ------------------------------------------------------------------------------------------------


def resume_state(
    store: SweepStore, found: Any, manifest: dict[str, Any], force: bool, repair: bool
) -> tuple[dict[str, Any] | None, list[str], list[str], np.ndarray]:
    """What is already on disk for this sweep: the old manifest (for its history), the entries
    kept by ``--force``, notes for the user, and the mask of runs done (every part checked by
    ``sim.results.read``; damaged parts refused, or dropped with ``repair``)."""
    kept: list[str] = []
    notes: list[str] = []
    old = found.meta if found.kind == "sweep" else None
    has_parts = bool(store.run_parts() or store.step_parts() or store.tie_parts())
    if old is not None and old.get("fingerprint") != manifest["fingerprint"]:
        if not force:
            raise InputError.plain(
                str(store.root),
                f"holds a different sweep ({_conflict(old, manifest)}); "
                "use --force to replace what hedgesim wrote there (files it did not write "
                "are kept), or choose another --out",
            )
        kept, old = store.clear(), None
    elif old is None and has_parts:
        if force:
            kept = store.clear()
        elif not repair:
            raise InputError.plain(
                str(store.root),
                "holds sweep results without a manifest.json; --repair keeps the "
                "parts that belong to this sweep (each run's id is checked) and runs the rest, "
                "--force replaces them",
            )
    elif force:
        kept = found.kept()
    if old is not None:
        try:
            read_manifest(store.root)
        except InputError as exc:
            if not repair:
                first = exc.problems[0]
                raise InputError.plain(
                    first.source,
                    f"{first.message}; run the sweep command again with --repair to rewrite it "
                    "from the sweep file",
                ) from None
            notes.append(f"{store.manifest_path}: rewritten from the sweep file ({exc})")
        if old.get("format", "parquet") != manifest["format"]:
            raise InputError.plain(
                str(store.root),
                f"was written as {old.get('format')}; re-run with "
                f"--format {old.get('format')} to resume it (or --force to start over)",
            )
    files = (old or {}).get("files")
    if not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        files = sorted(found.owned) if old is not None else []
    manifest["files"] = sorted(set(files) | {MANIFEST})
    chk = check_sweep(store.root, manifest, columns=[], steps_mode="verify")
    if chk.damaged and not repair:
        chk.raise_damaged(REPAIR_HINT)
    for first, why in chk.damaged.items():
        store.drop(first)
        path, _, reason = why.partition(": ")
        notes.append(f"dropped {path} ({reason}); its runs run again")
    for p in [*chk.orphans, *chk.debris]:  # a killed sweep's unfinished chunks
        p.unlink(missing_ok=True)
    notes += [w for w in chk.warnings if "never committed" not in w]
    assert chk.done is not None
    return old, kept, notes, chk.done
