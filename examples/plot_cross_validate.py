"""
Cross-validate an aggregator with gold labels
=============================================

Aggregators are scikit-learn estimators whose ``score(X, y)`` is the accuracy
of their consensus against gold labels, so scikit-learn's ``cross_val_score``
and ``GridSearchCV`` work on votes as they do on features: the worker
parameters are learned on the training tasks, and the held-out tasks are
labeled with them (each held-out task's posterior depends only on its own
votes; a worker never seen in training counts as the average worker).

The data is ``act_cf``, weather-sentiment tweets labeled on CrowdFlower: 300
tasks, 5 classes, 461 workers who answered two tasks each (median). With so
few answers per worker, the smoothing of Dawid-Skene's confusion matrices,
``alpha``, decides how much a worker's handful of answers is trusted.
"""

# %%
# Held-out accuracy
# -----------------
#
# ``votes[train]`` is the subset of tasks a cross-validation splitter picks,
# so any splitter works. Shuffle the tasks: a dataset's file order is rarely
# random.

import matplotlib.pyplot as plt
import numpy as np
from sklearn.model_selection import GridSearchCV, KFold, cross_val_score

from skcrowd import DawidSkene, GoldMajorityVote, MajorityVote, OneCoinDawidSkene
from skcrowd.datasets import load_dataset
from skcrowd.metrics import NEG_LOG_LOSS

votes, gold = load_dataset("act_cf", return_X_y=True)
print(votes)
cv = KFold(n_splits=5, shuffle=True, random_state=0)

candidates = {
    "MajorityVote": MajorityVote(),
    "OneCoinDawidSkene": OneCoinDawidSkene(),
    "DawidSkene (alpha=0.01)": DawidSkene(),
    "GoldMajorityVote": GoldMajorityVote(),
}
for name, model in candidates.items():
    scores = cross_val_score(model, votes, gold, cv=cv)
    print(f"{name:25s} {scores.mean():.3f} +- {scores.std():.3f}")

# %%
# ``GoldMajorityVote`` weighs each worker by its accuracy on the gold labels
# of the training folds: it can only be evaluated this way, on tasks whose
# gold it did not see. Dawid-Skene with the default, nearly unsmoothed
# confusion matrices trusts two answers too much.
#
# Tuning the smoothing
# --------------------
#
# A grid search over ``alpha`` with two scorers: accuracy (the default
# ``score``) and the log loss of the posteriors against gold
# (:data:`skcrowd.metrics.NEG_LOG_LOSS`), which also rewards calibrated
# probabilities.

alphas = np.logspace(-3, 2, 11)
search = GridSearchCV(DawidSkene(), {"alpha": alphas}, cv=cv,
                      scoring={"accuracy": None, "log_loss": NEG_LOG_LOSS},
                      refit="accuracy")
search.fit(votes, gold)
results = search.cv_results_
print("best alpha by accuracy:", search.best_params_["alpha"].round(3))
print("best alpha by log loss:",
      alphas[np.argmax(results["mean_test_log_loss"])].round(3))

fig, (ax_acc, ax_loss) = plt.subplots(1, 2, figsize=(9, 3.5), sharex=True)
for ax, key, label in ((ax_acc, "accuracy", "held-out accuracy"),
                       (ax_loss, "log_loss", "held-out log loss")):
    sign = 1 if key == "accuracy" else -1
    mean = sign * results[f"mean_test_{key}"]
    std = results[f"std_test_{key}"]
    ax.plot(alphas, mean, "o-", color="#08519c", label="DawidSkene")
    ax.fill_between(alphas, mean - std, mean + std, color="#9ecae1", alpha=0.5)
    ax.set_xscale("log")
    ax.set_xlabel("alpha (Dirichlet smoothing of the confusion matrices)")
    ax.set_ylabel(label)
baseline = cross_val_score(MajorityVote(), votes, gold, cv=cv).mean()
ax_acc.axhline(baseline, color="gray", linestyle="--", label="MajorityVote")
ax_acc.legend(loc="lower center", fontsize=8)
fig.suptitle("act_cf: 5-fold cross-validation over alpha")
fig.tight_layout()
plt.show()

# %%
# Too little smoothing trusts each worker's two answers; too much makes
# every worker look alike and loses what the answers say about them. Both
# scorers agree on the order of magnitude.
#
# An honest estimate of the tuned model
# -------------------------------------
#
# ``search.best_score_`` is optimistic: ``alpha`` was chosen on the same
# folds. Nesting the search in an outer cross-validation scores the whole
# procedure, tuning included, on tasks it never saw.

outer = KFold(n_splits=5, shuffle=True, random_state=1)
tuned = GridSearchCV(DawidSkene(), {"alpha": alphas}, cv=cv)
nested = cross_val_score(tuned, votes, gold, cv=outer)
print(f"best_score_ (optimistic) {search.best_score_:.3f}")
print(f"nested cross-validation  {nested.mean():.3f} +- {nested.std():.3f}")

# %%
# Even tuned, Dawid-Skene trails majority vote here: with two answers per
# worker there is little to learn about each worker, and a model that learns
# 25 numbers per worker pays for it. On datasets where workers answer many
# tasks the order reverses (see
# :ref:`sphx_glr_auto_examples_plot_compare_aggregators.py`). Deciding this
# from data rather than from habit is what cross-validation on a sample of
# gold labels is for.
