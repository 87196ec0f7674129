"""Print a state's utility terms (friendship / alliance) toward each partner at the end of one run."""
import sys
import numpy as np
from sim.scenario import load_scenario, ablate
from sim.world import compile_world
from sim.model import AlignmentModel
from sim.runner import seed_for

sid = sys.argv[1]; factors = tuple(a for a in sys.argv[2:] if "=" not in a); sets=[a for a in sys.argv[2:] if "=" in a]
import os
sc = ablate(load_scenario(os.environ.get("SCEN", "scenarios/iran_2021.yaml"), sets), factors)
w = compile_world(sc)
m = AlignmentModel(w, sc.mechanisms, sc.params, rng=seed_for(sc.seed, 0))
m.run_for(sc.params.steps)
t = m.steps
terms = m.rule.terms(m.ties, m.dyadic, m.active_regimes(t))
i = w.index[sid]
names = list(terms)
print("partner tie  " + " ".join(f"{n[:9]:>9s}" for n in names) + "    sumF   sumA")
for j, pid in enumerate(w.ids):
    if j == i: continue
    F = [terms[n][0][i, j] for n in names]; A = [terms[n][1][i, j] for n in names]
    print(f"{pid:4s} F {m.ties[i,j]}  " + " ".join(f"{x:9.2f}" for x in F) + f"  {sum(F):6.2f}")
    print(f"     A    " + " ".join(f"{x:9.2f}" for x in A) + f"         {sum(A):6.2f}")
    F2 = [terms[n][0][j, i] for n in names]; A2 = [terms[n][1][j, i] for n in names]
    print(f" <-  F    " + " ".join(f"{x:9.2f}" for x in F2) + f"  {sum(F2):6.2f}")
    print(f" <-  A    " + " ".join(f"{x:9.2f}" for x in A2) + f"         {sum(A2):6.2f}")
