"""Quick calibration probe (not shipped as product): Iran status shares per condition."""
import sys, collections
import numpy as np
from sim.scenario import load_scenario, resolve_ablation, ablate
from sim.world import compile_world
from sim.runner import simulate, seed_for
from sim.metrics import STATUSES

sets = sys.argv[2:] if len(sys.argv) > 2 else []
R = int(sys.argv[1]) if len(sys.argv) > 1 else 40
sc = load_scenario("scenarios/iran_2021.yaml", sets)
w = compile_world(sc)
conds = [("baseline", ())] + resolve_ablation(sc, "all")
i = w.index["IRN"]
for label, f in conds:
    s2 = ablate(sc, f)
    st = collections.Counter(); part = collections.Counter(); allies = collections.Counter(); nall=0
    for r in range(R):
        rec = simulate(w, s2, seed_for(sc.seed, r))
        st[STATUSES[rec.status[-1, i]]] += 1
        for j in np.flatnonzero(rec.final_ties[i] == 1): part[w.ids[j]] += 1
        for j in np.flatnonzero(rec.final_ties[i] == 2): allies[w.ids[j]] += 1
        nall += rec.system[-1, 0]
    print(f"{label:28s} " + " ".join(f"{k}={st[k]/R:.2f}" for k in STATUSES),
          "| F:", " ".join(f"{k}{v*100//R}" for k, v in part.most_common(6)),
          "| A:", " ".join(f"{k}{v*100//R}" for k, v in allies.most_common(3)), f"| sysA={nall/R:.1f}")
# global alliance frequencies in baseline
cnt = collections.Counter(); fcnt = collections.Counter()
for r in range(R):
    rec = simulate(w, sc, seed_for(sc.seed, r))
    a, b = np.nonzero(np.triu(rec.final_ties == 2))
    for x, y in zip(a, b): cnt[w.ids[x] + "-" + w.ids[y]] += 1
    a, b = np.nonzero(np.triu(rec.final_ties == 1))
    for x, y in zip(a, b): fcnt[w.ids[x] + "-" + w.ids[y]] += 1
print("alliances:", " ".join(f"{k}:{v*100//R}" for k, v in cnt.most_common(14)))
print("friendships:", " ".join(f"{k}:{v*100//R}" for k, v in fcnt.most_common(30)))
