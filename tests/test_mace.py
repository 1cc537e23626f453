"""MACE: published accuracy, hand-worked expectations, restarts, EM."""

import numpy as np
import pytest
from scipy.special import digamma

from skcrowd import MACE, Votes
from skcrowd.datasets import load_dataset
from skcrowd.simulation import make_crowd


@pytest.fixture(scope="module")
def crowd():
    votes, truth, _ = make_crowd(150, 12, 3, strategy="hammer-spammer", ratio=0.3,
                                 hammer_accuracy=0.8, votes_per_task=4,
                                 random_state=0)
    return votes, truth


# ----------------------------------------------------------------------
# accuracy on the shipped data
@pytest.mark.parametrize("name, published", [("zheng_product", 0.929),
                                             ("zheng_sentiment", 0.950)])
def test_accuracy_matches_crowd_kit_paper(name, published):
    # Crowd-Kit paper (JOSS 2024) numbers; measured 0.931 and 0.955
    votes, gold = load_dataset(name, return_X_y=True)
    model = MACE(random_state=0).fit(votes)
    assert abs(np.mean(model.consensus_label_ == gold) - published) <= 0.01


@pytest.mark.parametrize("name, reference", [("zheng_product", 0.836),
                                             ("zheng_sentiment", 0.957)])
def test_papers_uniform_prior_matches_crowd_kit_without_its_index_bug(name,
                                                                      reference):
    # MACE as published (uniform true labels). Crowd-Kit 1.4.2's MACE sums
    # the M-step counts with groupby (workers in sorted id order) but reads
    # the parameters back by first-appearance codes, so on zheng_product the
    # workers' parameters are shuffled between iterations; its 0.929 comes
    # from that. Renaming the workers so that both orders agree, Crowd-Kit
    # gives 0.836 (VB) / 0.835 (EM) and 0.957 / 0.959: the references here.
    votes, gold = load_dataset(name, return_X_y=True)
    for method in ("vb", "em"):
        model = MACE(fit_prior=False, method=method, n_restarts=3,
                     random_state=0).fit(votes)
        assert abs(np.mean(model.consensus_label_ == gold) - reference) <= 0.01


# ----------------------------------------------------------------------
# the model, by hand
def _one_vote():
    return Votes([0], [0], [1], task_ids=["t"], worker_ids=["w"], classes=[0, 1])


def test_expected_counts_by_hand():
    # spam probability 0.4, spam labels (0.25, 0.75); the worker votes 1:
    # P(vote | true 0) = 0.4 * 0.75 = 0.3, P(vote | true 1) = 0.6 + 0.3 = 0.9,
    # so the posterior is (0.25, 0.75); the vote was "known" only if the
    # truth is 1 and the worker did not spam: 0.75 * 0.6 / 0.9 = 0.5
    params = {"class_prior": np.array([0.5, 0.5]),
              "spam_probability": np.array([0.4]),
              "spam_label_distribution": np.array([[0.25, 0.75]])}
    clamp = np.array([-1], dtype=np.int32)
    posterior, stats, log_likelihood = MACE()._e_step(_one_vote(), params, clamp,
                                                      accumulate=True)
    np.testing.assert_allclose(posterior, [[0.25, 0.75]])
    np.testing.assert_allclose(log_likelihood, np.log(0.5 * 0.3 + 0.5 * 0.9))
    np.testing.assert_allclose(stats["knowing_counts"], [0.5])
    np.testing.assert_allclose(stats["spam_label_counts"], [[0.0, 0.5]])
    np.testing.assert_allclose(stats["class_counts"], [0.25, 0.75])


def test_m_steps_by_hand():
    stats = {"knowing_counts": np.array([3.0]),
             "spam_label_counts": np.array([[1.0, 0.0]]),
             "class_counts": np.array([2.0, 2.0])}
    em = MACE(method="em", smoothing=0.5, fit_prior=False)._m_step(stats)
    np.testing.assert_allclose(em["spam_probability"], [1.5 / 5.0])
    np.testing.assert_allclose(em["spam_label_distribution"], [[0.75, 0.25]])
    np.testing.assert_allclose(em["class_prior"], [0.5, 0.5])
    # variational Bayes: exp(E[log p]) weights, stored normalised (the vote
    # likelihoods are the same up to one factor per vote)
    vb = MACE(spam_prior=0.5, knowing_prior=0.5, strategy_prior=10.0)._m_step(stats)
    spam = np.exp(digamma(1.5) - digamma(4.5))
    knowing = np.exp(digamma(3.5) - digamma(4.5))
    strategy = np.exp(digamma([11.0, 10.0]) - digamma(21.0))
    for true in (0, 1):
        for label in (0, 1):
            unnormalised = spam * strategy[label] + knowing * (label == true)
            normalised = (vb["spam_probability"][0]
                          * vb["spam_label_distribution"][0, label]
                          + (1 - vb["spam_probability"][0]) * (label == true))
            np.testing.assert_allclose(
                normalised, unnormalised / (spam * strategy.sum() + knowing))


# ----------------------------------------------------------------------
# restarts
def test_restarts_start_from_different_random_parameters(crowd):
    votes, _ = crowd
    model = MACE(n_restarts=5, random_state=0).fit(votes)
    runs = model.restart_log_likelihoods_
    assert len(np.unique(runs)) == 5  # each run started somewhere else
    assert model.log_likelihood_ == runs.max()  # the best one is kept
    again = MACE(n_restarts=5, random_state=0).fit(votes)
    np.testing.assert_array_equal(again.restart_log_likelihoods_, runs)
    other = MACE(n_restarts=5, random_state=1).fit(votes)
    assert not np.array_equal(other.restart_log_likelihoods_, runs)


def test_em_objective_never_decreases(crowd):
    votes, _ = crowd
    for fit_prior in (True, False):
        model = MACE(method="em", fit_prior=fit_prior, tol=0, max_iter=80,
                     n_restarts=2, random_state=0).fit(votes)
        assert np.all(np.diff(model.log_likelihood_history_) >= -1e-12)


# ----------------------------------------------------------------------
# properties
def test_posteriors_sum_to_one_and_spam_parameters_are_probabilities(crowd):
    votes, _ = crowd
    for method in ("vb", "em"):
        model = MACE(method=method, random_state=0).fit(votes)
        np.testing.assert_allclose(model.consensus_proba_.sum(axis=1), 1.0)
        np.testing.assert_allclose(model.predict_proba(votes[:9]).sum(axis=1), 1.0)
        np.testing.assert_allclose(model.spam_label_distribution_.sum(axis=1), 1.0)
        assert np.all((model.spam_probability_ > 0) & (model.spam_probability_ < 1))


def test_spammers_are_found(crowd):
    votes, _ = crowd
    _, _, truth = make_crowd(150, 12, 3, strategy="hammer-spammer", ratio=0.3,
                             hammer_accuracy=0.8, votes_per_task=4, random_state=0)
    model = MACE(random_state=0).fit(votes)
    spammer = truth.worker_type == "spammer"
    assert model.spam_probability_[spammer].min() > model.spam_probability_[
        ~spammer].max()


def test_worker_permutation_invariance(crowd):
    # random starts are drawn per worker position, so compare converged fits
    votes, _ = crowd
    order = np.random.default_rng(3).permutation(votes.n_workers)
    renamed = Votes(votes.task, order[votes.worker], votes.label, votes.weight,
                    task_ids=votes.task_ids, worker_ids=np.arange(votes.n_workers),
                    classes=votes.classes)
    a = MACE(tol=1e-10, max_iter=2000, n_restarts=2, random_state=0).fit(votes)
    b = MACE(tol=1e-10, max_iter=2000, n_restarts=2, random_state=0).fit(renamed)
    np.testing.assert_allclose(a.consensus_proba_, b.consensus_proba_, atol=1e-6)
    np.testing.assert_allclose(a.spam_probability_, b.spam_probability_[order],
                               atol=1e-6)


# ----------------------------------------------------------------------
# awkward inputs
def test_strings_ties_single_votes_unseen_workers_and_unvoted_classes():
    votes = [["cat", "cat", "dog", None], ["dog", "dog", "dog", "cat"],
             ["cat", None, None, None], [None, None, None, None],
             ["cat", "dog", None, None], ["dog", "cat", "cat", "cat"]]
    gold = [None, None, None, "bird", None, None]
    model = MACE(random_state=0).fit(votes, gold)
    assert model.classes_.tolist() == ["bird", "cat", "dog"]
    assert model.consensus_label_.tolist()[:4] == ["cat", "dog", "cat", "bird"]
    assert np.all(model.consensus_proba_[[0, 1, 2, 4, 5], 0] > 0)
    assert np.all(model.class_prior_ > 0)
    tie = MACE(random_state=0).fit([["a", "b"], ["a", "b"], ["b", "a"]])
    assert tie.predict([["a", "b"]]).tolist() == ["a"]
    unseen = model.predict_proba({"x": {"newcomer": "dog"}})[0]
    assert unseen.argmax() == 2


def test_gold_votes_that_disagree_are_counted_as_spam():
    votes = [[0, 0], [1, 1], [0, 1], [1, 0]]
    model = MACE(method="em", fit_prior=False, n_restarts=1, random_state=0)
    model.fit(votes, [0, 1, 0, 1])
    # worker 1 was right twice and wrong twice on gold tasks
    assert model.spam_probability_[1] > model.spam_probability_[0]
    np.testing.assert_array_equal(model.consensus_label_, [0, 1, 0, 1])


@pytest.mark.parametrize("param, value", [("method", "gibbs"), ("n_restarts", 0),
                                          ("smoothing", 0.0), ("spam_prior", -1.0),
                                          ("strategy_prior", 0.0)])
def test_bad_hyperparameters_are_named(param, value):
    with pytest.raises(ValueError, match=param):
        MACE(**{param: value}).fit([[0, 1], [1, 1]])
