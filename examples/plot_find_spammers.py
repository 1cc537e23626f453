"""
Find spammers
=============

A spammer answers without looking at the task: every row of their confusion
matrix is the same distribution. Raykar & Yu's *spammer score* measures how
far a worker is from that, from 0 (spammer) to 1 (a perfect worker). Here a
simulated crowd of 100 workers, 30% of them spammers, labels 1,000 tasks;
Dawid-Skene estimates every worker's confusion matrix without any gold label,
and the spammer score of those estimates finds the spammers.
"""

# %%
# A hammer-spammer crowd
# ----------------------
#
# ``make_crowd`` returns the votes, the true labels and the true worker
# parameters, here which workers are spammers.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.metrics import roc_auc_score

from skcrowd import DawidSkene, MajorityVote
from skcrowd.identification import spammer_score
from skcrowd.plotting import plot_confusion_matrices, plot_worker_quality
from skcrowd.simulation import make_crowd

votes, y_true, truth = make_crowd(
    n_tasks=1000, n_workers=100, n_classes=4, strategy="hammer-spammer",
    ratio=0.3, hammer_accuracy=0.8, votes_per_task=7, random_state=0,
)
is_spammer = truth.worker_type == "spammer"
print(votes, f"- {is_spammer.sum()} spammers")

# %%
# Scores from the estimated confusion matrices
# --------------------------------------------
#
# No gold label is used: the confusion matrices are Dawid-Skene's estimates.

model = DawidSkene().fit(votes)
score = spammer_score(model.confusion_matrices_)
print(f"AUROC of the spammer score: {roc_auc_score(is_spammer, -score):.3f}")
mv_accuracy = MajorityVote().fit(votes).score(votes, y_true)
print(f"majority vote accuracy:     {mv_accuracy:.3f}")
print(f"Dawid-Skene accuracy:       {model.score(votes, y_true):.3f}")

fig, ax = plt.subplots(figsize=(6, 3.5))
plot_worker_quality(score[~is_spammer], bins=25, label="spammer score", ax=ax)
plot_worker_quality(score[is_spammer], bins=25, label="spammer score", ax=ax)
ax.legend(["hammers", "spammers"])
fig.tight_layout()

# %%
# The most and least trusted workers
# ----------------------------------
#
# The confusion matrices of the best- and worst-scored workers show why.

order = np.argsort(score)
shown = np.concatenate([order[:2], order[-2:]])
plot_confusion_matrices(model.confusion_matrices_, workers=shown)
plt.show()
