"""The estimates document and file that sim.validation.estimate's waves produce.

Why apart from the estimation: what the file holds (each constant's summary, the accepted sets,
the statistics with their variances, the schema's defaults as a reference point, each wave's
size) is a format that sim.experiments.posterior reads and checks; the waves' arithmetic is
another job.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from sim.experiments.posterior import KIND, MARKER
from sim.validation.estimate import (
    CUTOFF,
    MD_FLOOR,
    MD_REL,
    OBS_REL,
    PRIORS,
    Plan,
    Target,
    Wave,
    _write_own,
)


def _r(x: float) -> float:
    return float(f"{x:.4g}")


def document(
    tgt: Target, waves: list[Wave], plan: Plan, reference: Wave | None = None
) -> dict[str, Any]:
    """The estimates file's content (sim.experiments.posterior.EstimatesFile)."""
    vals = np.concatenate([w.values for w in waves])
    worst = np.concatenate([w.worst for w in waves])
    mean = np.concatenate([w.mean for w in waves])
    aucs = np.concatenate([w.auc for w in waves])
    ok = worst <= CUTOFF
    notes = []
    if not ok.any():
        best = np.argsort(worst)[: max(1, len(worst) // 20)]
        ok = np.zeros_like(ok)
        ok[best] = True
        notes.append(
            f"no design point had every implausibility <= {CUTOFF}: `accepted` holds the best 5% "
            f"(largest I {worst[best].max():.2f}); the model does not match the training record "
            "at the stated discrepancy"
        )
    acc = vals[ok]
    params = {}
    for k, p in enumerate(PRIORS):
        col = acc[:, k]
        params[p.path] = {
            "default": p.default,
            "prior": [p.low, p.high],
            "scale": p.scale,
            "median": _r(float(np.median(col))),
            "q05": _r(float(np.quantile(col, 0.05))),
            "q95": _r(float(np.quantile(col, 0.95))),
            "low": _r(float(col.min())),
            "high": _r(float(col.max())),
        }
    accepted = [
        {
            "values": {p.path: _r(float(v)) for p, v in zip(PRIORS, vals[i], strict=True)},
            "implausibility": _r(float(worst[i])),
            "statistics": {
                **{n: _r(float(mean[i, s])) for s, n in enumerate(tgt.names)},
                "auc_last": _r(float(aucs[i])),
            },
        }
        for i in np.flatnonzero(ok)
    ]
    notes += [
        "Waves without an emulator: wave 2 samples the padded box of wave 1's non-implausible "
        "points and runs every point; `accepted` is every evaluated point of any wave that is "
        "non-implausible.",
        "The schema's defaults are not changed by this file; `--defaults estimated` uses the "
        "medians, `--ensemble K` draws accepted sets.",
    ]
    return {
        "kind": KIND,
        "version": 1,
        "method": (
            f"history matching: max_s I_s(x) <= {CUTOFF}, I_s = |z - mean| / sqrt(V_obs + V_md + "
            f"V_run (1 + 1/M)), V_obs = ({OBS_REL} z)^2, V_md = ({MD_REL} z)^2 + {MD_FLOOR}^2"
        ),
        "training": {
            "world": f"top {plan.top} by CINC {plan.first}, {plan.first}-{plan.last}, monthly, "
            f"{plan.first} ATOP pacts, no later treaty changes (hedgesim build-world "
            f"--span {plan.first}-{plan.last} --top {plan.top} --no-alliance-changes)",
            "states": len(tgt.ids),
            "target": "ATOP v5.1 defence pacts (either direction), among system members",
            "seed": plan.seed,
        },
        "statistics": [
            {
                "name": n,
                "observed": float(tgt.observed[s]),
                "obs_sd": _r(math.sqrt(tgt.obs_var[s])),
                "md_sd": _r(math.sqrt(tgt.md_var[s])),
            }
            for s, n in enumerate(tgt.names)
        ],
        "parameters": params,
        "accepted": accepted,
        "reference": {}
        if reference is None
        else {
            "what": "the schema's defaults, scored like a design point",
            "replications": reference.replications,
            "statistics": {n: _r(float(reference.mean[0, s])) for s, n in enumerate(tgt.names)},
            "implausibility": {n: _r(float(reference.impl[0, s])) for s, n in enumerate(tgt.names)},
            "max_implausibility": _r(float(reference.worst[0])),
            "non_implausible": bool(reference.ok[0]),
            "auc_last": _r(float(reference.auc[0])),
        },
        "waves": [
            {
                "wave": w.index,
                "points": len(w.values),
                "replications": w.replications,
                "runs": w.runs,
                "non_implausible": int(w.ok.sum()),
                "directory": w.directory.name,
                "min_implausibility": _r(float(w.worst.min())),
            }
            for w in waves
        ],
        "notes": notes,
    }


def write_estimates(doc: dict[str, Any], path: str | Path) -> Path:
    """Write the estimates file (never over a file the estimation did not write)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = MARKER + "\n" + yaml.safe_dump(doc, sort_keys=False, width=120)
    _write_own(path, text, MARKER)
    return path


def frame(waves: list[Wave], tgt: Target) -> pd.DataFrame:
    """Every evaluated point: values, statistics' means, implausibilities (for the report)."""
    rows = []
    for w in waves:
        for i in range(len(w.values)):
            row: dict[str, Any] = {"wave": w.index}
            row.update({p.path: w.values[i, k] for k, p in enumerate(PRIORS)})
            row.update({n: w.mean[i, s] for s, n in enumerate(tgt.names)})
            row.update({f"I_{n}": w.impl[i, s] for s, n in enumerate(tgt.names)})
            row["I_max"], row["auc_last"] = w.worst[i], w.auc[i]
            rows.append(row)
    return pd.DataFrame(rows)
