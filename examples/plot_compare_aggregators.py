"""
Compare aggregators on real crowdsourcing datasets
==================================================

Every aggregator registered in :data:`skcrowd.aggregation.AGGREGATORS` is
fitted on real datasets shipped with skcrowd, and its consensus is scored
against the datasets' gold labels. The datasets differ in shape: 39 workers
who each answered all 108 tasks (``welinder_bluebirds``), four classes and
about ten votes per task (``zheng_dog``, ``zheng_face``), two classes and ten
votes per task from 164 workers (``snow_rte``), and eight classes with two or
three votes per task (``rodrigues_labelme``).

No model wins everywhere: that is why skcrowd ships many, and why a model
should be chosen with gold labels for a sample of your own tasks (see
:ref:`sphx_glr_auto_examples_plot_cross_validate.py`).
"""

# %%
# Fit every aggregator on every dataset
# -------------------------------------
#
# Each model is fitted on all the votes of a dataset with its default
# hyperparameters (seeded where it has a ``random_state``), then
# ``score(votes, gold)`` gives its accuracy against the gold labels. Models
# that need gold labels in ``fit`` are left out, since gold would then be
# both their input and their yardstick; a model that cannot handle a dataset
# (e.g. a binary-only model on four classes) raises a ``ValueError`` that
# names the problem, and its cell is left empty.

import time
import warnings

import matplotlib.pyplot as plt
import numpy as np
from sklearn.exceptions import ConvergenceWarning

from skcrowd.aggregation import AGGREGATORS
from skcrowd.datasets import load_dataset

DATASETS = ["welinder_bluebirds", "zheng_dog", "zheng_face", "snow_rte",
            "rodrigues_labelme"]

data = {name: load_dataset(name, return_X_y=True) for name in DATASETS}
for name, (votes, _) in data.items():
    print(f"{name:20s} {votes}")


def fit_and_score(cls, votes, gold):
    """Accuracy against gold, fit seconds, and whether the fit converged."""
    model = cls()
    if "random_state" in model.get_params():
        model.set_params(random_state=0)
    tic = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(votes)
    seconds = time.perf_counter() - tic
    converged = not any(issubclass(w.category, ConvergenceWarning)
                        for w in caught)
    return model.score(votes, gold), seconds, converged


accuracy = {}  # method -> {dataset: accuracy}
seconds = {}   # method -> total fit time
notes = []     # (method, what happened)
for cls in AGGREGATORS.values():
    if cls().__sklearn_tags__().target_tags.required:
        notes.append((cls.__name__, "needs gold labels in fit: left out"))
        continue
    accuracy[cls.__name__], seconds[cls.__name__] = {}, 0.0
    for name, (votes, gold) in data.items():
        try:
            score, fit_seconds, converged = fit_and_score(cls, votes, gold)
        except ValueError as exc:
            notes.append((cls.__name__, f"{name}: {str(exc).splitlines()[0][:60]}"))
            continue
        accuracy[cls.__name__][name] = score
        seconds[cls.__name__] += fit_seconds
        if not converged:
            notes.append((cls.__name__, f"{name}: stopped at max_iter, not converged"))

# %%
# The table
# ---------
#
# Accuracy against gold on each dataset, the mean over the datasets a model
# could fit, and the total fit time. ``TwoThird`` is a filter rather than a
# guess: it labels only tasks with a two-thirds majority and leaves the
# others unlabeled, which counts as wrong here.

width = max(len(name) for name in accuracy)
short = [name.split("_")[-1][:9] for name in DATASETS]
print(f"{'method':{width}s} " + " ".join(f"{s:>9s}" for s in short)
      + f" {'mean':>7s} {'seconds':>8s}")
for method, scores in sorted(accuracy.items(),
                             key=lambda item: -np.mean(list(item[1].values()))):
    cells = " ".join(f"{scores[name]:9.3f}" if name in scores else f"{'-':>9s}"
                     for name in DATASETS)
    print(f"{method:{width}s} {cells} {np.mean(list(scores.values())):7.3f} "
          f"{seconds[method]:8.2f}")
for method, note in notes:
    print(f"note: {method}: {note}")

# %%
# Gain over majority vote
# -----------------------
#
# Each dot is one dataset: the accuracy of a model minus that of majority
# vote on the same dataset; the bar is the mean gain. Where every worker
# answers many tasks (``welinder_bluebirds``), a full confusion matrix per
# worker can be estimated and pays off; a single accuracy per worker cannot
# represent workers whose errors depend on the true class, and may then do
# worse than majority vote. With two or three votes per task
# (``rodrigues_labelme``) the gains of every model are small.

baseline = accuracy["MajorityVote"]
methods = sorted((m for m in accuracy if m != "MajorityVote"),
                 key=lambda m: np.mean([accuracy[m][d] - baseline[d]
                                        for d in accuracy[m]]))
fig, ax = plt.subplots(figsize=(7, 0.35 * len(methods) + 1.2))
markers = dict(zip(DATASETS, "osD^v", strict=True))
in_legend = set()
for row, method in enumerate(methods):
    gains = {d: accuracy[method][d] - baseline[d] for d in accuracy[method]}
    ax.barh(row, np.mean(list(gains.values())), color="#9ecae1")
    for dataset, gain in gains.items():
        ax.plot(gain, row, markers[dataset], color="#08519c", markersize=5,
                label=None if dataset in in_legend else dataset)
        in_legend.add(dataset)
ax.axvline(0, color="black", linewidth=0.8)
ax.set_yticks(range(len(methods)), methods)
ax.set_xlabel("accuracy minus majority vote's (bar: mean over datasets)")
ax.legend(loc="lower right", fontsize=8, title="dataset", title_fontsize=8)
ax.set_title("Aggregators against majority vote, on gold labels")
fig.tight_layout()
plt.show()
