"""Diagonal and clustered Dawid-Skene: hand-worked steps, reductions to
Dawid-Skene, EM properties, edge cases and bad input."""

import numpy as np
import pytest

from skcrowd import ClusteredDawidSkene, DawidSkene, DiagonalDawidSkene, Votes
from skcrowd.datasets import load_dataset

MODELS = [DiagonalDawidSkene, ClusteredDawidSkene]


def crowd(n_tasks, good, bad, n_classes=3, accuracy=0.9, votes_per_task=5, seed=0):
    """Wide vote matrix: ``good`` workers right with ``accuracy`` (errors
    spread evenly), ``bad`` workers answering uniformly at random."""
    rng = np.random.default_rng(seed)
    n_workers = good + bad
    truth = rng.integers(0, n_classes, n_tasks)
    X = np.full((n_tasks, n_workers), -1)
    for i in range(n_tasks):
        for j in rng.choice(n_workers, votes_per_task, replace=False):
            if j < good and rng.random() < accuracy:
                X[i, j] = truth[i]
            elif j < good:
                X[i, j] = (truth[i] + rng.integers(1, n_classes)) % n_classes
            else:
                X[i, j] = rng.integers(0, n_classes)
    return X, truth


# ----------------------------------------------------------------------
# DiagonalDawidSkene
def test_diagonal_m_step_by_hand():
    # 3 tasks, 2 workers, classes 0-2. Vote shares: t0 [1, 0, 0],
    # t1 [0, .5, .5], t2 [0, 0, 1]. Expected answers per true class:
    #   worker 0: class 0 -> {0: 1}; class 1 -> {1: .5}; class 2 -> {1: .5, 2: 1}
    #   worker 1: class 0 -> {0: 1}; class 1 -> {2: .5}; class 2 -> {2: 1.5}
    # accuracy = (correct + 1) / (answered + 2) with alpha = 1.
    X = [[0, 0], [1, 2], [2, 2]]
    model = DiagonalDawidSkene(alpha=1.0, max_iter=1, tol=0).fit(X)
    np.testing.assert_allclose(model.worker_class_accuracy_,
                               [[2 / 3, 1.5 / 2.5, 2 / 3.5],
                                [2 / 3, 1 / 2.5, 2.5 / 3.5]])
    np.testing.assert_allclose(model.class_prior_, np.array([2, 1.5, 2.5]) / 6)


def test_diagonal_errors_are_spread_evenly():
    X, _ = crowd(80, 6, 0, n_classes=4)
    model = DiagonalDawidSkene().fit(X)
    confusion = model._confusion(model._fitted_params())
    np.testing.assert_allclose(confusion.sum(axis=2), 1.0)
    off = confusion[:, ~np.eye(4, dtype=bool)].reshape(6, 4, 3)
    np.testing.assert_allclose(off, off[:, :, :1].repeat(3, axis=2))
    np.testing.assert_allclose(np.einsum("wkk->wk", confusion),
                               model.worker_class_accuracy_)


def test_diagonal_is_dawid_skene_for_two_classes():
    # With two classes a diagonal-plus-uniform row is a full row.
    votes, _ = load_dataset("zheng_product", return_X_y=True)
    diagonal = DiagonalDawidSkene().fit(votes)
    full = DawidSkene().fit(votes)
    np.testing.assert_allclose(diagonal.consensus_proba_, full.consensus_proba_,
                               atol=1e-10)
    np.testing.assert_allclose(diagonal.worker_class_accuracy_,
                               np.einsum("wkk->wk", full.confusion_matrices_))


# ----------------------------------------------------------------------
# ClusteredDawidSkene
def test_one_cluster_is_dawid_skene_of_one_pooled_worker():
    # n_clusters=1: every worker answers with the same matrix, i.e. the
    # Dawid-Skene model of the votes with all workers merged into one.
    votes, _ = load_dataset("zheng_dog", return_X_y=True)
    clustered = ClusteredDawidSkene(n_clusters=1, max_iter=30, tol=0).fit(votes)
    pooled = Votes(votes.task, np.zeros_like(votes.worker), votes.label,
                   task_ids=votes.task_ids, worker_ids=["everyone"],
                   classes=votes.classes)
    single = DawidSkene(max_iter=30, tol=0).fit(pooled)
    np.testing.assert_allclose(clustered.consensus_proba_, single.consensus_proba_,
                               atol=1e-10)
    np.testing.assert_allclose(clustered.cluster_confusion_matrices_,
                               single.confusion_matrices_)
    np.testing.assert_allclose(clustered.log_likelihood_history_,
                               single.log_likelihood_history_)


def test_initial_clusters_sort_workers_by_nuclear_norm():
    # Good workers have near-identity confusion matrices (large nuclear
    # norm), random workers flat ones: the first M-step's hard split puts the
    # 4 good workers in cluster 0 and the 4 random ones in cluster 1.
    X, _ = crowd(300, 4, 4, votes_per_task=6)
    model = ClusteredDawidSkene(n_clusters=2, max_iter=1, tol=0).fit(X)
    np.testing.assert_array_equal(model.cluster_membership_,
                                  np.repeat(np.eye(2), 4, axis=0))
    # after convergence the memberships stay sharp and separate the groups
    model = ClusteredDawidSkene(n_clusters=2).fit(X)
    assert model.worker_cluster_.tolist() == [0] * 4 + [1] * 4
    good = np.diag(model.cluster_confusion_matrices_[0]).min()
    bad = np.diag(model.cluster_confusion_matrices_[1]).max()
    assert good > 0.8 and bad < 0.5


def test_memberships_are_distributions():
    votes, _ = load_dataset("zheng_face", return_X_y=True)
    model = ClusteredDawidSkene(n_clusters=4).fit(votes)
    assert model.cluster_membership_.shape == (votes.n_workers, 4)
    np.testing.assert_allclose(model.cluster_membership_.sum(axis=1), 1.0)
    np.testing.assert_allclose(model.cluster_prior_.sum(), 1.0)
    np.testing.assert_allclose(model.cluster_confusion_matrices_.sum(axis=2), 1.0)


def test_too_many_clusters_is_an_error():
    with pytest.raises(ValueError, match=r"n_clusters=4 .* number of workers \(3\)"):
        ClusteredDawidSkene(n_clusters=4).fit([[0, 1, 1], [1, 1, 0]])


# ----------------------------------------------------------------------
# both
@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("dataset", ["zheng_dog", "act_cf_amt"])
@pytest.mark.parametrize("init", ["majority", "random"])
def test_objective_never_decreases(cls, dataset, init):
    votes, _ = load_dataset(dataset, return_X_y=True)
    model = cls(init=init, random_state=0, max_iter=40, tol=0).fit(votes)
    assert np.diff(model.log_likelihood_history_).min() >= -1e-10
    assert model.n_iter_ == 40


@pytest.mark.parametrize("cls", MODELS)
def test_posteriors_are_distributions(cls):
    votes, _ = load_dataset("zheng_face", return_X_y=True)
    model = cls().fit(votes)
    for proba in (model.consensus_proba_, model.predict_proba(votes)):
        assert proba.shape == (votes.n_tasks, 4)
        assert proba.min() >= 0
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("cls", MODELS)
def test_permuting_workers_and_tasks_permutes_the_output(cls):
    X, _ = crowd(60, 6, 2, votes_per_task=4, seed=1)
    reference = cls(max_iter=50, tol=0).fit(X)
    rng = np.random.default_rng(0)
    rows, cols = rng.permutation(60), rng.permutation(8)
    permuted = cls(max_iter=50, tol=0).fit(X[rows][:, cols])
    np.testing.assert_allclose(permuted.consensus_proba_,
                               reference.consensus_proba_[rows], atol=1e-8)
    if cls is DiagonalDawidSkene:
        np.testing.assert_allclose(permuted.worker_class_accuracy_,
                                   reference.worker_class_accuracy_[cols])


def test_permuting_workers_keeps_the_clusters():
    # cluster numbers may be relabelled (the initial split sorts workers and
    # breaks ties by position): compare the partition and the matrices
    X, _ = crowd(200, 4, 4, votes_per_task=6, seed=2)
    reference = ClusteredDawidSkene().fit(X)
    cols = np.random.default_rng(1).permutation(8)
    permuted = ClusteredDawidSkene().fit(X[:, cols])
    np.testing.assert_allclose(permuted.consensus_proba_, reference.consensus_proba_,
                               atol=1e-8)
    same = reference.worker_cluster_[cols][:, None] == reference.worker_cluster_[cols]
    np.testing.assert_array_equal(
        permuted.worker_cluster_[:, None] == permuted.worker_cluster_, same)


@pytest.mark.parametrize("cls", MODELS)
def test_unseen_worker_is_the_population_average(cls):
    X, _ = crowd(100, 5, 1, votes_per_task=4)
    model = cls().fit(X)
    new = {"t": {"stranger": 1}}
    params = model._average_worker(model._fitted_params())
    log_confusion = model._log_confusion(params)[-1]  # the appended worker
    expected = np.log(model.class_prior_) + log_confusion[:, 1]
    expected = np.exp(expected - expected.max())
    np.testing.assert_allclose(model.predict_proba(new)[0],
                               expected / expected.sum())
    if cls is ClusteredDawidSkene:
        np.testing.assert_allclose(params["cluster_membership"][-1],
                                   model.cluster_prior_)


@pytest.mark.parametrize("cls", MODELS)
def test_strings_ties_single_votes_and_unvoted_classes(cls):
    votes = Votes.from_dict(
        {
            "t1": {"ann": "cat", "bob": "cat", "cy": "dog"},
            "t2": {"ann": "dog", "bob": "dog", "cy": "dog"},
            "t3": {"ann": "cat"},  # a single vote
            "t4": {"bob": "cat", "cy": "dog"},  # a tie
            "t5": {"ann": "cat", "bob": "cat", "cy": "cat"},
        },
        classes=["bird", "cat", "dog"],  # nobody voted "bird"
    )
    model = cls(n_clusters=2) if cls is ClusteredDawidSkene else cls()
    labels = model.fit_predict(votes)
    assert model.classes_.tolist() == ["bird", "cat", "dog"]
    assert labels[[0, 1, 2, 4]].tolist() == ["cat", "dog", "cat", "cat"]
    proba = model.consensus_proba_
    assert proba.shape == (5, 3)
    assert (proba[:, 0] > 0).all()  # the unvoted class keeps a prior
    assert model.class_prior_[0] > 0
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("cls", MODELS)
def test_non_positive_smoothing_is_an_error(cls):
    with pytest.raises(ValueError, match="'alpha' parameter .* must be a float"):
        cls(alpha=0.0).fit([[0, 1], [1, 1]])


def test_non_positive_cluster_count_is_an_error():
    with pytest.raises(ValueError, match="'n_clusters' parameter .* range"):
        ClusteredDawidSkene(n_clusters=0).fit([[0, 1], [1, 1]])
