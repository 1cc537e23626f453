"""GoldMajorityVote, IWMV, TwoThird and PlantNet: hand-worked cases, rules,
properties and bad input."""

import numpy as np
import pandas as pd
import pytest
from sklearn.exceptions import ConvergenceWarning

from skcrowd import (
    IWMV,
    GoldMajorityVote,
    MajorityVote,
    PlantNet,
    TwoThird,
    Votes,
)
from skcrowd.datasets import load_dataset

# A small crowd: rows are tasks, columns workers, -1 = no vote.
CROWD = np.array([
    [0, 0, 1],
    [1, 1, 1],
    [0, 0, 1],
    [1, 0, 0],
    [1, 1, 0],
])


ALL = [GoldMajorityVote, IWMV, TwoThird, PlantNet]


# ---------------------------------------------------------------------------
# Behaviour every model shares


@pytest.mark.parametrize("cls", ALL)
def test_string_labels_and_proba(cls):
    votes = [["cat", "cat", "dog"], ["dog", "dog", "dog"], ["cat", "cat", None]]
    model = cls().fit(votes, np.array(["cat", None, None], dtype=object))
    assert model.classes_.tolist() == ["cat", "dog"]
    assert model.consensus_label_.tolist() == ["cat", "dog", "cat"]
    proba = model.predict_proba(votes)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.predict(votes).tolist() == ["cat", "dog", "cat"]


@pytest.mark.parametrize("cls", ALL)
def test_multiclass_and_class_nobody_voted_for(cls):
    votes = Votes.from_long(
        ["t1", "t1", "t1", "t2", "t2", "t2", "t3", "t3", "t3"],
        ["a", "b", "c", "a", "b", "c", "a", "b", "c"],
        ["x", "x", "x", "y", "y", "y", "w", "w", "x"],
        classes=["w", "x", "y", "z"],
    )
    model = cls().fit(votes, np.array(["x", None, None], dtype=object))
    assert model.classes_.tolist() == ["w", "x", "y", "z"]
    assert model.consensus_proba_.shape == (3, 4)
    np.testing.assert_allclose(model.consensus_proba_.sum(axis=1), 1.0)
    assert model.consensus_label_[:2].tolist() == ["x", "y"]


@pytest.mark.parametrize("cls", [GoldMajorityVote, IWMV, PlantNet])
def test_ties_go_to_smallest_label_and_single_votes(cls):
    model = cls().fit(CROWD, np.array([0, -1, -1, -1, -1]))
    # one vote each for "1" and "0" from equally weighted new workers: a tie
    new = pd.DataFrame({"task": ["tie", "tie", "one"], "worker": ["u", "v", "u"],
                        "label": [1, 0, 1]})
    assert model.predict(new).tolist() == [0, 1]


@pytest.mark.parametrize("cls", ALL)
def test_unseen_workers_get_the_average_worker(cls):
    model = cls().fit(CROWD, np.array([0, 1, -1, -1, -1]))
    new = {"t": {"stranger": 1}, "s": {"stranger": 0, "other": 0}}
    proba = model.predict_proba(new)
    assert proba.shape == (2, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


@pytest.mark.parametrize("cls", ALL)
def test_worker_and_task_permutation_invariance(cls):
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(40, 6))
    X[rng.random(X.shape) < 0.3] = -1
    X[:, 0] = np.where(X[:, 0] < 0, 0, X[:, 0])
    gold = np.full(40, -1)
    gold[:5] = X[:5, 0]
    base = cls().fit(X, gold).consensus_label_
    cols, rows = rng.permutation(6), rng.permutation(40)
    permuted = cls().fit(X[rows][:, cols], gold[rows]).consensus_label_
    np.testing.assert_array_equal(permuted, base[rows])


# ---------------------------------------------------------------------------
# GoldMajorityVote


def test_gold_majority_vote_hand_worked():
    gold = np.array([0, 1, -1, -1, -1])
    model = GoldMajorityVote().fit(CROWD, gold)
    # gold tasks 0 and 1: workers 0 and 1 right twice, worker 2 right once
    np.testing.assert_allclose(model.worker_accuracy_, [1.0, 1.0, 0.5])
    np.testing.assert_allclose(model.worker_gold_votes_, [2, 2, 2])
    # task 3: votes 1 (w0, weight 1) vs 0 (w1 + w2, weight 1.5)
    np.testing.assert_allclose(model.consensus_proba_[3], [0.6, 0.4])
    assert model.consensus_label_.tolist() == [0, 1, 0, 0, 1]


def test_gold_majority_vote_default_accuracy_for_workers_without_gold():
    X = np.array([[0, 0, -1], [1, 0, -1], [1, 1, 0], [0, 1, 1]])
    gold = np.array([0, 1, -1, -1])
    model = GoldMajorityVote().fit(X, gold)
    # workers 0 (2/2) and 1 (1/2) answered gold; worker 2 gets their mean
    np.testing.assert_allclose(model.worker_accuracy_, [1.0, 0.5, 0.75])
    assert model.default_accuracy_ == 0.75
    fixed = GoldMajorityVote(unknown_accuracy=0.1).fit(X, gold)
    np.testing.assert_allclose(fixed.worker_accuracy_, [1.0, 0.5, 0.1])
    # an unseen worker weighs default_accuracy_: 0.75 for "1" vs 0.5 for "0"
    new = pd.DataFrame({"task": [0, 0], "worker": [1, "new"], "label": [0, 1]})
    np.testing.assert_allclose(model.predict_proba(new), [[0.4, 0.6]])


def test_gold_majority_vote_gold_dict_and_clamping():
    model = GoldMajorityVote().fit(CROWD, {0: 1, 1: 1})
    assert model.consensus_label_[0] == 1  # the gold label wins
    np.testing.assert_allclose(model.consensus_proba_[0], [0.0, 1.0])


def test_gold_majority_vote_needs_gold():
    with pytest.raises(ValueError, match="requires y to be passed.*gold labels"):
        GoldMajorityVote().fit(CROWD)
    with pytest.raises(ValueError, match="pass gold labels in y"):
        GoldMajorityVote().fit(CROWD, np.full(5, -1))


def test_gold_majority_vote_bad_unknown_accuracy():
    with pytest.raises(ValueError, match="unknown_accuracy"):
        GoldMajorityVote(unknown_accuracy=1.5).fit(CROWD, [0, 1, -1, -1, -1])
    with pytest.raises(ValueError, match="unknown_accuracy"):
        GoldMajorityVote(unknown_accuracy="median").fit(CROWD, [0, 1, -1, -1, -1])


# ---------------------------------------------------------------------------
# IWMV


def test_iwmv_hand_worked_log_odds():
    model = IWMV().fit(CROWD)
    # majority vote 0,1,0,0,1; agreements 4/5, 5/5, 2/5; smoothed (a+1)/(n+2)
    accuracy = np.array([5 / 7, 6 / 7, 3 / 7])
    np.testing.assert_allclose(model.worker_accuracy_, accuracy)
    np.testing.assert_allclose(model.worker_weight_,
                               np.log(accuracy / (1 - accuracy)))
    assert model.consensus_label_.tolist() == [0, 1, 0, 0, 1]
    assert model.converged_ and model.n_iter_ == 1


def test_iwmv_linear_is_li_and_yu_algorithm():
    model = IWMV(weighting="linear", alpha=0).fit(CROWD)
    np.testing.assert_allclose(model.worker_accuracy_, [0.8, 1.0, 0.4])
    np.testing.assert_allclose(model.worker_weight_, [0.6, 1.0, -0.2])


def test_iwmv_log_odds_proba_is_the_one_coin_posterior():
    X = np.array([[0, 1, 2, 2], [1, 1, 0, -1], [2, 2, 2, 0], [0, 0, 1, 1],
                  [1, 2, 2, 2]])
    model = IWMV().fit(X)
    a = model.worker_accuracy_
    K = 3
    expected = []
    for row in X:
        like = np.ones(K)
        for w, label in enumerate(row):
            if label >= 0:
                like *= np.where(np.arange(K) == label, a[w], (1 - a[w]) / (K - 1))
        expected.append(like / like.sum())
    np.testing.assert_allclose(model.consensus_proba_, expected)


def test_iwmv_labels_are_a_fixed_point_and_beat_majority_vote():
    votes, gold = load_dataset("zheng_product", return_X_y=True)
    model = IWMV().fit(votes)
    assert model.converged_
    again = IWMV(max_iter=1)
    # one more round from the converged labels changes nothing
    reference = np.searchsorted(model.classes_, model.consensus_label_)
    agreed = np.bincount(votes.worker, votes.label == reference[votes.task],
                         minlength=votes.n_workers)
    given = np.bincount(votes.worker, minlength=votes.n_workers)
    accuracy = (agreed + 1.0) / (given + 2.0)
    np.testing.assert_allclose(model.worker_accuracy_, accuracy)
    assert model.score(votes, gold) > MajorityVote().fit(votes).score(votes, gold)
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        again.fit(votes)


def test_iwmv_worse_than_chance_worker_counts_against():
    X = np.array([[0, 0, 1], [1, 1, 0], [0, 0, 1], [1, 1, 0]])
    model = IWMV().fit(X)
    assert model.worker_weight_[2] < 0
    # alone, the adversary's vote for 1 makes 0 more likely
    new = {"t": {2: 1}}
    assert model.predict(new).tolist() == [0]


def test_iwmv_bad_input():
    with pytest.raises(ValueError, match="weighting"):
        IWMV(weighting="exp").fit(CROWD)
    with pytest.raises(ValueError, match="alpha > 0"):
        IWMV(alpha=0).fit(CROWD)
    with pytest.raises(ValueError, match="max_iter"):
        IWMV(max_iter=0).fit(CROWD)


# ---------------------------------------------------------------------------
# TwoThird


def test_two_third_rule():
    X = np.array([
        [0, 0, 1, -1, -1],   # 2 of 3 = 2/3: accepted
        [0, 1, 2, -1, -1],   # 1/3 each: no consensus
        [0, 1, -1, -1, -1],  # 1 of 2: no
        [1, 1, -1, -1, -1],  # 2 of 2: accepted
        [1, -1, -1, -1, -1],  # a single vote: too few votes
        [1, 1, 1, 0, -1],    # 3 of 4: accepted
        [0, 0, 0, 1, 1],     # 3 of 5 < 2/3: no
    ])
    model = TwoThird().fit(X)
    assert model.consensus_reached_.tolist() == [True, False, False, True, False,
                                                 True, False]
    assert model.consensus_label_.tolist() == [0, -1, -1, 1, -1, 1, -1]
    assert model.predict(X).tolist() == model.consensus_label_.tolist()
    np.testing.assert_allclose(model.consensus_proba_[0], [2 / 3, 1 / 3, 0])
    relaxed = TwoThird(threshold=0.6, min_votes=1).fit(X)
    assert relaxed.consensus_label_.tolist() == [0, -1, -1, 1, 1, 1, 0]


def test_two_third_missing_output_for_strings_and_score():
    votes = [["a", "a", "b"], ["a", "b", None]]
    model = TwoThird().fit(votes)
    assert model.consensus_label_.tolist() == ["a", -1]
    assert TwoThird(missing_label="").fit(votes).predict(votes).tolist() == ["a", ""]
    # a task without consensus counts as an error
    assert model.score(votes, ["a", "a"]) == 0.5
    # gold labels are consensus
    gold_model = TwoThird().fit(votes, ["a", "b"])
    assert gold_model.consensus_label_.tolist() == ["a", "b"]


def test_two_third_bad_input():
    with pytest.raises(ValueError, match="threshold"):
        TwoThird(threshold=0.5).fit(CROWD)
    with pytest.raises(ValueError, match="min_votes"):
        TwoThird(min_votes=-1).fit(CROWD)


# ---------------------------------------------------------------------------
# PlantNet

PLANTS = {"t1": {"ann": "rose", "bob": "rose", "cid": "tulip"},
          "t2": {"ann": "tulip", "bob": "tulip", "cid": "tulip"},
          "t3": {"ann": "lily", "cid": "rose"}}


def test_plantnet_hand_worked():
    model = PlantNet(vote_credit=1.0).fit(PLANTS)
    # first round, all weights log(2.1): t3 is a tie -> "lily"; ann agreed on
    # 3 classes, bob on 2, cid on 1
    n = np.array([3.0, 2.0, 1.0])
    np.testing.assert_array_equal(model.worker_n_identified_, n)
    np.testing.assert_allclose(model.worker_weight_,
                               n ** 0.5 - n ** 0.2 + np.log(2.1))
    w = model.worker_weight_
    # t1: rose (ann + bob) vs tulip (cid): confidence 2.235 > 2, accuracy 0.75
    np.testing.assert_allclose(model.consensus_confidence_[0], w[0] + w[1])
    np.testing.assert_allclose(model.consensus_accuracy_[0], (w[0] + w[1]) / w.sum())
    assert model.consensus_valid_.tolist() == [True, True, False]
    assert model.consensus_label_.tolist() == ["rose", "tulip", "lily"]
    assert model.converged_


def test_plantnet_authors_count_fully():
    # without authors and with Pl@ntNet's 1/10 credit nobody gets past n = 0
    assert PlantNet().fit(PLANTS).worker_n_identified_.tolist() == [0, 0, 0]
    authors = {"t1": "bob", "t2": "cid", "t3": "ann"}
    model = PlantNet().fit(PLANTS, authors=authors)
    # only t2 is valid (3 x log(2.1) > 2; t1 has 2 x log(2.1) < 2): its author
    # cid identified "tulip"; the weight of n = 1 is still log(2.1), so it stops
    assert model.worker_n_identified_.tolist() == [0, 0, 1]
    same = PlantNet().fit(PLANTS, authors=["bob", "cid", "ann"])
    np.testing.assert_array_equal(same.worker_n_identified_,
                                  model.worker_n_identified_)


def test_plantnet_is_majority_vote_with_few_classes():
    votes, _ = load_dataset("zheng_dog", return_X_y=True)
    np.testing.assert_array_equal(PlantNet().fit(votes).consensus_label_,
                                  MajorityVote().fit(votes).consensus_label_)


def test_plantnet_bad_input():
    with pytest.raises(ValueError, match="alpha >= beta"):
        PlantNet(alpha=0.1, beta=0.5).fit(PLANTS)
    with pytest.raises(ValueError, match="theta_acc"):
        PlantNet(theta_acc=1.5).fit(PLANTS)
    with pytest.raises(ValueError, match="vote_credit"):
        PlantNet(vote_credit=2).fit(PLANTS)
    with pytest.raises(ValueError, match="authors has 2 entries"):
        PlantNet().fit(PLANTS, authors=["ann", "bob"])
