"""
Reproduce the peerannot simulation table
========================================

Lefort et al. (peerannot, Computo 2024) compare aggregators on simulated
crowds whose worker model is known: independent confusion matrices (the
Dawid-Skene model), students copying a teacher's mistakes (correlated
workers), and good/bad workers on easy/hard tasks (task difficulty). This
example simulates the same settings with :func:`skcrowd.simulation.make_crowd`
over a few seeds and plots each method's accuracy on the simulated tasks.
``benchmarks/simulation_table.py`` prints the full table (300 seeds, the
published numbers beside ours, and each finding tested seed by seed: GLAD's
lead under discrete difficulty is about 0.6 points, too small to see over
the three seeds of this example).
"""

# %%
# The settings
# ------------

import matplotlib.pyplot as plt
import numpy as np

from skcrowd import GLAD, ClusteredDawidSkene, DawidSkene, MajorityVote
from skcrowd.simulation import make_crowd

settings = {
    "independent confusion": dict(n_workers=30, strategy="independent-confusion"),
    "student-teacher": dict(n_workers=30, strategy="student-teacher", ratio=0.8),
    "discrete difficulty": dict(n_workers=100, strategy="discrete-difficulty",
                                ratio=0.35),
}
methods = {
    "MV": lambda: MajorityVote(),
    "DS": lambda: DawidSkene(max_iter=500),
    "GLAD": lambda: GLAD(),
    "DSWC[L=10]": lambda: ClusteredDawidSkene(n_clusters=10, max_iter=500),
}
seeds = range(3)

# %%
# Accuracy on the simulated tasks
# -------------------------------

accuracy = np.zeros((len(settings), len(methods), len(seeds)))
for i, kwargs in enumerate(settings.values()):
    for s in seeds:
        votes, y_true, _ = make_crowd(n_tasks=200, n_classes=5, votes_per_task=10,
                                      random_state=s, **kwargs)
        for j, make in enumerate(methods.values()):
            accuracy[i, j, s] = np.mean(make().fit_predict(votes) == y_true)

for name, row in zip(settings, accuracy.mean(axis=2), strict=True):
    cells = "  ".join(f"{m} {a:.3f}" for m, a in zip(methods, row, strict=True))
    print(f"{name:22s} {cells}")

fig, ax = plt.subplots(figsize=(7, 3.5))
width = 0.8 / len(methods)
for j, name in enumerate(methods):
    ax.bar(np.arange(len(settings)) + j * width, accuracy[:, j].mean(axis=1),
           width, yerr=accuracy[:, j].std(axis=1), label=name)
ax.set_xticks(np.arange(len(settings)) + 0.4 - width / 2, list(settings))
ax.set_ylim(0.5, 1.0)
ax.set_ylabel("accuracy")
ax.legend(ncol=4, fontsize="small")
fig.tight_layout()
plt.show()
