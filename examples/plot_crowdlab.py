"""
==============================================================
CROWDLAB: consensus labels, worst annotators, items to relabel
==============================================================

Fifty annotators each labeled about 10% of 300 items; a few of them are
careless. Majority vote over 3 votes per item is wrong on one item in seven.
:class:`~skcrowd.CrowdLab` adds what a classifier learns from the items'
features: it combines out-of-fold predicted probabilities with the votes,
weighting the classifier and every annotator by how well they agree with the
consensus, and returns

* a consensus label and a confidence score for every item,
* a quality score for every vote and every annotator,
* a classifier, refitted on the consensus, for new items.

:func:`skcrowd.crowdlab.active_learning_scores` (ActiveLab) then says which
items to send for another label.
"""

# %%
# A simulated crowd
# -----------------
# :func:`~skcrowd.simulation.make_classification_crowd` draws features from
# :func:`~sklearn.datasets.make_classification` and votes from annotators
# with confusion matrices; the last five annotators are noisy (30% accurate).
# ``Y[i, j]`` is annotator ``j``'s label of item ``i``, -1 when absent. The
# last 50 items are kept apart as new, unlabeled items.
import matplotlib.pyplot as plt
import numpy as np

from skcrowd import CrowdLab, MajorityVote
from skcrowd.crowdlab import active_learning_scores
from skcrowd.simulation import make_classification_crowd

X_all, Y_all, y_all, truth = make_classification_crowd(n_samples=350,
                                                       random_state=0)
X, Y, y_true = X_all[:300], Y_all[:300], y_all[:300]
X_new, y_new = X_all[300:], y_all[300:]
print(f"{Y.shape[0]} items, {Y.shape[1]} annotators, "
      f"{(Y >= 0).sum()} votes ({(Y >= 0).sum(axis=1).mean():.1f} per item)")

majority = MajorityVote().fit(Y).consensus_label_
print(f"majority vote accuracy: {np.mean(majority == y_true):.3f}")

# %%
# Consensus labels
# ----------------
# ``fit(X, Y)`` trains a clone of the classifier (``LogisticRegression`` by
# default) on the majority vote with 5-fold cross-validation, so that every
# item's probabilities come from a model that never saw it, then combines
# them with the votes.
model = CrowdLab(random_state=0).fit(X, Y)
print(f"CROWDLAB consensus accuracy: {np.mean(model.consensus_label_ == y_true):.3f}")
print(f"classifier alone (out-of-fold): "
      f"{np.mean(model.oof_proba_.argmax(axis=1) == y_true):.3f}")
print(f"weight of the classifier: {model.model_weight_:.2f}, mean weight of an "
      f"annotator: {model.annotator_weights_.mean():.2f}")

# %%
# The consensus quality is the posterior probability of the consensus label:
# wrong consensus labels have low scores, so they are the ones to review.
right = model.consensus_label_ == y_true
fig, ax = plt.subplots(figsize=(6, 3.5))
bins = np.linspace(0, 1, 26)
ax.hist(model.consensus_quality_[right], bins=bins, alpha=0.7, label="right")
ax.hist(model.consensus_quality_[~right], bins=bins, alpha=0.7, label="wrong")
ax.set_xlabel("consensus_quality_")
ax.set_ylabel("items")
ax.set_title("Consensus quality of right and wrong consensus labels")
ax.legend()
fig.tight_layout()

# %%
# Worst annotators
# ----------------
# ``annotator_quality_`` blends the quality of an annotator's labels with
# their agreement with the consensus. The five noisy annotators come last.
order = np.argsort(model.annotator_quality_)
print("annotator  quality  true accuracy  labels  agreement  worst class")
for j in order[:8]:
    print(f"{model.annotator_ids_[j]:>9}  {model.annotator_quality_[j]:7.3f}  "
          f"{truth.annotator_accuracy[j]:13.2f}  {model.annotator_n_labels_[j]:6.0f}  "
          f"{model.annotator_consensus_agreement_[j]:9.2f}  "
          f"{model.annotator_worst_class_[j]:>11}")

fig, ax = plt.subplots(figsize=(5, 4))
colors = np.where(truth.noisy, "tab:red", "tab:blue")
ax.scatter(truth.annotator_accuracy, model.annotator_quality_, c=colors)
ax.set_xlabel("true accuracy of the annotator")
ax.set_ylabel("annotator_quality_")
ax.set_title("Annotator quality (red: noisy annotators)")
fig.tight_layout()

# %%
# Every single vote has a score too: ``label_quality_`` is a sparse matrix
# with one entry per vote. The lowest-scored votes are mostly wrong.
votes = model.label_quality_.tocoo()
item, annotator, score = votes.row, votes.col, votes.data
lowest = np.argsort(score)[:50]
wrong_vote = Y[item, model.annotator_ids_[annotator]] != y_true[item]
print(f"share of wrong votes: all {wrong_vote.mean():.2f}, "
      f"50 lowest-scored {wrong_vote[lowest].mean():.2f}")

# %%
# Items to relabel
# ----------------
# ActiveLab scores shrink the consensus quality by how much evidence stands
# behind it: an item with a doubtful consensus and few votes comes first.
# Items with no vote yet are scored from the classifier alone.
scores, _ = active_learning_scores(Y, model.oof_proba_)
to_relabel = np.argsort(scores)[:20]
print(f"wrong consensus among the 20 items to relabel first: "
      f"{np.mean(~right[to_relabel]):.2f} (overall {np.mean(~right):.2f})")

_, new_scores = active_learning_scores(Y, model.oof_proba_,
                                       pred_probs_unlabeled=model.predict_proba(X_new))
# both kinds of items are ranked on one scale: the next 20 labels go to
next_up = np.argsort(np.concatenate([scores, new_scores]))[:20]
print(f"next 20 labels: {np.sum(next_up < len(scores))} to labeled items, "
      f"{np.sum(next_up >= len(scores))} to new items")

# %%
# New items
# ---------
# ``estimator_`` was refitted on the consensus labels, so ``predict`` labels
# new items from their features alone.
print(f"accuracy of {type(model.estimator_).__name__} on the 50 new items: "
      f"{np.mean(model.predict(X_new) == y_new):.3f}")

plt.show()
