"""The small five-state world shared by the sweep tests (a sweep file names it as quad.yaml)."""

from __future__ import annotations

from pathlib import Path

SCENARIO = """\
name: quad
states:
  USA: {name: United States, power: 0.1331}
  RUS: {name: Russia, power: 0.0365}
  CHN: {name: China, power: 0.2306}
  IND: {name: India, power: 0.0868}
  IRN: {name: Iran, power: 0.0153}
distrust:
  IRN: {USA: 0.9, RUS: 0.4, CHN: 0.3}
  IND: {CHN: 0.6}
rivalry:
  USA: {RUS: 0.8, CHN: 0.7, IRN: 0.9}
  IND: {CHN: 0.5}
interests:
  IND: {USA: 0.4, RUS: 0.4}
  IRN: {RUS: 0.3, CHN: 0.4}
sanctions:
  - name: max pressure
    senders: [USA]
    targets: [IRN]
    level: 0.6
focal: [IRN, IND]
params: {steps: 8, temperature: 0.3}
seed: 11
"""


def write(tmp: Path, text: str, name: str = "sweep.yaml") -> Path:
    """Write the shared scenario and a sweep file naming it; return the sweep file."""
    (tmp / "quad.yaml").write_text(SCENARIO)
    p = tmp / name
    p.write_text(text)
    return p
