"""WDS: Dawid-Skene's confusion diagonals weighting the votes."""

import numpy as np
import pandas as pd
import pytest

from skcrowd import WDS, DawidSkene, Votes

X = np.array([
    [0, 0, 1, 2],
    [1, 1, 1, -1],
    [2, 2, 0, 2],
    [0, 0, 0, 1],
    [1, 2, 1, 1],
    [2, 2, 2, 0],
])


def _weighted_shares(votes_matrix, confusion):
    """Hand computation: sum of confusion[w, k, k] over the votes k of a task."""
    n_classes = confusion.shape[1]
    shares = []
    for row in votes_matrix:
        score = np.zeros(n_classes)
        for worker, label in enumerate(row):
            if label >= 0:
                score[label] += confusion[worker, label, label]
        shares.append(score / score.sum())
    return np.array(shares)


def test_wds_is_the_diagonal_weighted_vote_of_dawid_skene():
    wds = WDS().fit(X)
    ds = DawidSkene().fit(X)
    np.testing.assert_allclose(wds.confusion_matrices_, ds.confusion_matrices_)
    np.testing.assert_allclose(wds.class_prior_, ds.class_prior_)
    expected = _weighted_shares(X, ds.confusion_matrices_)
    np.testing.assert_allclose(wds.consensus_proba_, expected)
    np.testing.assert_array_equal(wds.consensus_label_, expected.argmax(axis=1))
    np.testing.assert_allclose(wds.predict_proba(X), expected)
    assert wds.n_iter_ >= 1 and wds.converged_


def test_wds_unseen_worker_uses_the_pooled_worker():
    wds = WDS().fit(X)
    # the pooled worker: Dawid-Skene's M-step on every worker's counts summed,
    # the same row DawidSkene itself uses for unseen workers
    pooled = wds._params_with_unseen["confusion_matrices"][-1]
    assert wds._params_with_unseen["confusion_matrices"].shape[0] == X.shape[1] + 1
    new = pd.DataFrame({"task": ["a", "a"], "worker": [0, "stranger"],
                        "label": [0, 2]})
    score = np.array([wds.confusion_matrices_[0, 0, 0], 0, pooled[2, 2]])
    np.testing.assert_allclose(wds.predict_proba(new), [score / score.sum()])


def test_wds_string_labels_ties_and_gold():
    votes = [["b", "b"], ["a", "a"], ["b", "b"], ["a", "a"]]
    wds = WDS().fit(votes)
    assert wds.classes_.tolist() == ["a", "b"]
    # two identical workers, symmetric classes: one against one is a tie,
    # which goes to the smallest label
    assert wds.predict([["a", "b"], ["b", "a"]]).tolist() == ["a", "a"]
    np.testing.assert_allclose(wds.predict_proba([["b", "a"]]), [[0.5, 0.5]])
    clamped = WDS().fit(votes, ["a", None, None, None])
    assert clamped.consensus_label_[0] == "a"
    np.testing.assert_allclose(clamped.consensus_proba_[0], [1.0, 0.0])


def test_wds_class_nobody_voted_for_and_single_votes():
    votes = Votes.from_long(["t1", "t1", "t2", "t3"], ["u", "v", "u", "v"],
                            ["x", "x", "y", "x"], classes=["x", "y", "z"])
    wds = WDS(max_iter=2000).fit(votes)
    assert wds.classes_.tolist() == ["x", "y", "z"]
    assert wds.consensus_proba_.shape == (3, 3)
    np.testing.assert_allclose(wds.consensus_proba_.sum(axis=1), 1.0)
    assert wds.consensus_label_.tolist() == ["x", "y", "x"]
    assert wds.class_prior_[2] > 0  # the unvoted class keeps its smoothed prior


def test_wds_bad_input():
    with pytest.raises(ValueError, match="alpha"):
        WDS(alpha=0).fit(X)
    with pytest.raises(ValueError, match="init"):
        WDS(init="spectral").fit(X)


def test_wds_partial_fit_weights_votes_with_its_online_confusions():
    model = WDS().partial_fit(X[:3], classes=[0, 1, 2]).partial_fit(X[3:])
    expected = _weighted_shares(X, model.confusion_matrices_)
    np.testing.assert_allclose(model.predict_proba(X), expected)
