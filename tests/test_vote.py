"""Vote-counting aggregators."""

import numpy as np
import pytest

from skcrowd import MajorityVote, VoteProportions, Wawa
from skcrowd.datasets import load_dataset


@pytest.mark.parametrize(
    "dataset, published", [("zheng_product", 0.897), ("zheng_sentiment", 0.932)]
)
def test_majority_vote_matches_the_crowd_kit_paper(dataset, published):
    # Crowd-Kit paper (JOSS 2024): MV with ties broken toward the smallest label.
    votes, gold = load_dataset(dataset, return_X_y=True)
    assert round(MajorityVote().fit(votes).score(votes, gold), 3) == published


def test_ties_go_to_the_smallest_label():
    X = [["b", "a"], ["c", "b"], ["a", "a"]]
    model = MajorityVote().fit(X)
    assert model.consensus_label_.tolist() == ["a", "b", "a"]
    np.testing.assert_allclose(model.consensus_proba_[0], [0.5, 0.5, 0])


def test_random_ties_are_seeded_and_reach_every_tied_label():
    X = [["b", "a"]] * 200
    first = MajorityVote(tie_breaking="random", random_state=3).fit_predict(X)
    again = MajorityVote(tie_breaking="random", random_state=3).fit_predict(X)
    np.testing.assert_array_equal(first, again)
    assert set(first) == {"a", "b"}
    assert 60 < (first == "a").sum() < 140
    # a clear winner is never randomised
    clear = MajorityVote(tie_breaking="random", random_state=3).fit_predict(
        [["b", "a", "b"]] * 50)
    assert set(clear) == {"b"}


def test_vote_proportions_are_the_vote_shares():
    X = np.array([[0, 0, 1, -1], [2, 1, 1, 1]])
    proba = VoteProportions().fit(X).consensus_proba_
    np.testing.assert_allclose(proba, [[2 / 3, 1 / 3, 0], [0, 3 / 4, 1 / 4]])


def test_wawa_by_hand():
    # Majority: 0, 1, 0, 0.  Worker agreement: 3/4, 4/4, 2/4.
    X = [[0, 0, 1], [1, 1, 1], [0, 0, 1], [1, 0, 0]]
    model = Wawa().fit(X)
    np.testing.assert_allclose(model.worker_agreement_, [0.75, 1.0, 0.5])
    # task 3: label 1 weighs .75, label 0 weighs 1 + .5
    np.testing.assert_allclose(model.consensus_proba_[3], [1.5 / 2.25, 0.75 / 2.25])
    # an unseen worker weighs the mean agreement, 0.75
    proba = model.predict_proba({"t": {"new": 1, 0: 0}})
    np.testing.assert_allclose(proba[0], [0.75 / 1.5, 0.75 / 1.5])


@pytest.mark.parametrize("cls", [MajorityVote, VoteProportions, Wawa])
def test_gold_clamps_the_fitted_consensus(cls):
    X = [[0, 0, 1], [1, 1, 0]]
    model = cls().fit(X, [1, None])
    np.testing.assert_allclose(model.consensus_proba_[0], [0, 1])
    assert model.consensus_label_.tolist()[0] == 1


def test_bad_tie_policy_is_named():
    with pytest.raises(ValueError, match="'tie_breaking' parameter"):
        MajorityVote(tie_breaking="largest").fit([[0, 1]])
