"""Dawid-Skene and one-coin Dawid-Skene: hand-worked steps, EM properties,
published accuracy."""

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from skcrowd import DawidSkene, OneCoinDawidSkene, as_votes
from skcrowd.datasets import load_dataset

EM_MODELS = [DawidSkene, OneCoinDawidSkene]

# 3 tasks, 2 workers, 2 classes: task 0 both say 0, task 1 they disagree,
# task 2 both say 1.
HAND = np.array([[0, 0], [1, 0], [1, 1]])


def test_first_m_and_e_step_by_hand():
    # Initial posteriors are the vote shares: [1, 0], [.5, .5], [0, 1].
    # Expected counts (true class x given label), then + alpha = 1:
    #   worker 0: class 0 -> [1, .5],  class 1 -> [0, 1.5]
    #   worker 1: class 0 -> [1.5, 0], class 1 -> [.5, 1]
    # class counts [1.5, 1.5] -> prior [.5, .5].
    model = DawidSkene(alpha=1.0, max_iter=1, tol=0).fit(HAND)
    np.testing.assert_allclose(model.class_prior_, [0.5, 0.5])
    np.testing.assert_allclose(
        model.confusion_matrices_,
        [[[4 / 7, 3 / 7], [2 / 7, 5 / 7]], [[5 / 7, 2 / 7], [3 / 7, 4 / 7]]],
    )
    # E-step: task 0: (.5 * 4/7 * 5/7, .5 * 2/7 * 3/7) ∝ (20, 6);
    # task 1: (3/7 * 5/7, 5/7 * 3/7): a tie; task 2: (6, 20).
    np.testing.assert_allclose(
        model.consensus_proba_,
        [[20 / 26, 6 / 26], [0.5, 0.5], [6 / 26, 20 / 26]],
    )
    log_likelihood = np.log(0.5 * 26 / 49) * 2 + np.log(0.5 * 30 / 49)
    log_prior = np.log(model.confusion_matrices_).sum() + np.log([0.5, 0.5]).sum()
    assert model.log_likelihood_ == pytest.approx((log_likelihood + log_prior) / 3)


def test_one_coin_m_step_by_hand():
    # Expected correct answers from the vote shares: worker 0: 1 + .5 + 1,
    # worker 1: 1 + .5 + 1, out of 3 answers each; alpha = 1 -> 3.5 / 5.
    model = OneCoinDawidSkene(alpha=1.0, max_iter=1, tol=0).fit(HAND)
    np.testing.assert_allclose(model.worker_accuracy_, [0.7, 0.7])


@pytest.mark.parametrize("cls", EM_MODELS)
@pytest.mark.parametrize("dataset", ["zheng_dog", "act_sp"])
@pytest.mark.parametrize("init", ["majority", "random"])
def test_log_likelihood_never_decreases(cls, dataset, init):
    votes, _ = load_dataset(dataset, return_X_y=True)
    model = cls(init=init, random_state=0, max_iter=50, tol=0).fit(votes)
    steps = np.diff(model.log_likelihood_history_)
    assert steps.min() >= -1e-10
    assert model.n_iter_ == 50


@pytest.mark.parametrize("cls", EM_MODELS)
def test_posteriors_are_distributions(cls):
    votes, _ = load_dataset("zheng_face", return_X_y=True)
    model = cls().fit(votes)
    for proba in (model.consensus_proba_, model.predict_proba(votes)):
        assert proba.shape == (votes.n_tasks, 4)
        assert proba.min() >= 0
        np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("cls", EM_MODELS)
def test_permuting_workers_and_tasks_permutes_the_output(cls):
    rng = np.random.default_rng(0)
    X = rng.integers(-1, 3, size=(60, 8))
    X[:, 0] = rng.integers(0, 3, size=60)  # every task has a vote
    reference = cls(max_iter=50, tol=0).fit(X)
    rows, cols = rng.permutation(60), rng.permutation(8)
    permuted = cls(max_iter=50, tol=0).fit(X[rows][:, cols])
    np.testing.assert_allclose(permuted.consensus_proba_,
                               reference.consensus_proba_[rows], atol=1e-8)
    name = "confusion_matrices_" if cls is DawidSkene else "worker_accuracy_"
    np.testing.assert_allclose(getattr(permuted, name),
                               getattr(reference, name)[cols], atol=1e-8)


@pytest.mark.parametrize(
    "dataset, minimum", [("zheng_product", 0.935), ("zheng_sentiment", 0.955)]
)
def test_dawid_skene_reaches_published_accuracy(dataset, minimum):
    # Crowd-Kit paper (JOSS 2024): 0.940 and 0.960.
    votes, gold = load_dataset(dataset, return_X_y=True)
    assert DawidSkene().fit(votes).score(votes, gold) >= minimum


def test_predict_is_the_fitted_consensus():
    votes, _ = load_dataset("zheng_dog", return_X_y=True)
    model = DawidSkene().fit(votes)
    np.testing.assert_allclose(model.predict_proba(votes), model.consensus_proba_)
    np.testing.assert_array_equal(model.predict(votes), model.fit_predict(votes))


def test_unseen_worker_is_the_pooled_worker():
    # An unseen worker gets the confusion matrix of all votes pooled:
    # (expected counts of every worker + alpha), normalised; at convergence
    # the expected counts come from the fitted posteriors.
    votes, _ = load_dataset("zheng_dog", return_X_y=True)
    model = DawidSkene(tol=1e-12, max_iter=1000).fit(votes)
    post = model.consensus_proba_
    counts = np.zeros((4, 4))
    np.add.at(counts.T, votes.label, post[votes.task])
    pooled = (counts + model.alpha) / (counts + model.alpha).sum(1, keepdims=True)
    proba = model.predict_proba({"new task": {"stranger": 2}})
    expected = model.class_prior_ * pooled[:, 2]
    np.testing.assert_allclose(proba[0], expected / expected.sum(), rtol=1e-6)


def test_gold_labels_clamp_posteriors_and_add_classes():
    X = np.array([[0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 1, 1]])
    model = DawidSkene(max_iter=500).fit(X, [-1, 0, None, 2])
    assert model.classes_.tolist() == [0, 1, 2]
    np.testing.assert_allclose(model.consensus_proba_[1], [1, 0, 0])
    np.testing.assert_allclose(model.consensus_proba_[3], [0, 0, 1])
    np.testing.assert_allclose(model.consensus_proba_.sum(axis=1), 1.0)
    # the gold-only class keeps a (small, smoothed) prior
    assert 0 < model.class_prior_[2] < 0.5
    by_id = DawidSkene(max_iter=500).fit(X, {1: 0, 3: 2})
    np.testing.assert_allclose(by_id.consensus_proba_, model.consensus_proba_)


def test_gold_improves_worker_estimates():
    votes, gold = load_dataset("welinder_bluebirds", return_X_y=True)
    half = np.where(np.arange(len(gold)) % 2 == 0, gold, -1)
    model = DawidSkene().fit(votes, half)
    held_out = np.where(np.arange(len(gold)) % 2 == 1, gold, -1)
    unsupervised = DawidSkene().fit(votes).score(votes, held_out)
    assert model.score(votes, held_out) >= unsupervised


def test_verbose_prints_one_line_per_iteration(capsys):
    DawidSkene(max_iter=3, tol=0, verbose=1).fit(HAND)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 3
    assert all("log-likelihood" in line and "change" in line for line in lines)


def test_convergence_warning_when_max_iter_is_reached():
    votes, _ = load_dataset("zheng_dog", return_X_y=True)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        model = DawidSkene(max_iter=2).fit(votes)
    assert not model.converged_ and model.n_iter_ == 2


@pytest.mark.parametrize(
    "params, match",
    [({"alpha": 0}, "'alpha' parameter"), ({"max_iter": 0}, "'max_iter'"),
     ({"init": "kmeans"}, "'init' parameter"), ({"tol": -1}, "'tol'")],
)
def test_bad_hyperparameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        DawidSkene(**params).fit(HAND)


def test_predict_errors_name_the_problem():
    model = DawidSkene().fit(HAND)
    with pytest.raises(ValueError, match=r"Labels \[7\] were not seen in fit"):
        model.predict([[7, 0]])
    with pytest.raises(ValueError, match="X has 3 features.*one column per worker"):
        model.predict([[0, 1, 1]])
    with pytest.raises(ValueError, match="y has 2 gold labels but X has 3 tasks"):
        model.score(HAND, [0, 1])


def test_single_class_and_single_vote_tasks():
    model = DawidSkene().fit({"a": {"w": "yes"}, "b": {"v": "yes"}})
    np.testing.assert_allclose(model.consensus_proba_, 1.0)
    votes = as_votes({"a": {"w": 0}, "b": {"v": 1}, "c": {"w": 1, "v": 1}})
    proba = OneCoinDawidSkene().fit(votes).consensus_proba_
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
