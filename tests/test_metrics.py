"""Tests of skcrowd.metrics: partial gold, calibration, scorers."""

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss
from sklearn.metrics import log_loss as sk_log_loss
from sklearn.model_selection import GridSearchCV, cross_val_score

from skcrowd import DawidSkene, MajorityVote
from skcrowd.metrics import (
    SCORERS,
    accuracy,
    brier_score,
    expected_calibration_error,
    get_scorer,
    log_loss,
    make_posterior_scorer,
    reliability_table,
)
from skcrowd.simulation import make_crowd


def test_accuracy_ignores_unknown_gold():
    assert accuracy([0, 1, -1, 1], [0, 0, 1, 1]) == pytest.approx(2 / 3)
    assert accuracy([0.0, np.nan, 1.0], [0, 1, 1]) == 1.0
    assert accuracy(["a", None, "b"], ["a", "a", "a"]) == 0.5
    assert accuracy(["a", "?", "b"], ["a", "a", "b"], missing_label="?") == 1.0
    assert accuracy([0, 1, 1], [0, 1, 0], sample_weight=[1, 1, 2]) == 0.5


def test_accuracy_bad_input():
    with pytest.raises(ValueError, match="no known gold"):
        accuracy([-1, -1], [0, 1])
    with pytest.raises(ValueError, match="y_pred has 3"):
        accuracy([0, 1], [0, 1, 1])


def _calibrated(rng, n, k, sharpen=1.0):
    """Posteriors and labels drawn from them; sharpen > 1 over-confident."""
    proba = rng.dirichlet(np.full(k, 0.7), size=n)
    u = rng.random(n)[:, None]
    y = (u > np.cumsum(proba, axis=1)).sum(axis=1).clip(0, k - 1)
    shown = proba**sharpen
    shown /= shown.sum(axis=1, keepdims=True)
    return y, shown


def test_ece_near_zero_for_calibrated_posteriors():
    rng = np.random.default_rng(0)
    y, proba = _calibrated(rng, 50_000, 4)
    assert expected_calibration_error(y, proba, n_bins=15) < 0.01
    assert expected_calibration_error(y, proba, strategy="quantile") < 0.01


def test_ece_large_for_overconfident_posteriors():
    rng = np.random.default_rng(0)
    y, proba = _calibrated(rng, 50_000, 4, sharpen=4.0)
    ece = expected_calibration_error(y, proba, n_bins=15)
    assert ece > 0.1
    # the reliability table shows it: accuracy below confidence
    table = reliability_table(y, proba, n_bins=15)
    weighted_gap = np.sum(table.count * (table.confidence - table.accuracy))
    assert weighted_gap / table.count.sum() == pytest.approx(ece, rel=1e-6)


def test_ece_hand_worked():
    proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    y = [0, 1, 1, 0]
    # bins of width 0.2: {0.6} right, {0.8} right, {0.9, 0.9} half right
    ece = expected_calibration_error(y, proba, n_bins=5)
    assert ece == pytest.approx(0.25 * 0.4 + 0.25 * 0.2 + 0.5 * 0.4)
    table = reliability_table(y, proba, n_bins=5)
    assert table.count.tolist() == [1, 1, 2]
    np.testing.assert_allclose(table.accuracy, [1, 1, 0.5])
    # one bin: accuracy 3/4, mean confidence 0.8
    assert expected_calibration_error(y, proba, n_bins=1) == pytest.approx(0.05)


def test_log_loss_and_brier_match_sklearn():
    rng = np.random.default_rng(1)
    y, proba = _calibrated(rng, 500, 3)
    assert log_loss(y, proba) == pytest.approx(sk_log_loss(y, proba, labels=[0, 1, 2]))
    # binary Brier: sklearn's is mean (p1 - y)^2, ours sums both classes
    yb, pb = _calibrated(rng, 500, 2)
    assert brier_score(yb, pb) == pytest.approx(2 * brier_score_loss(yb, pb[:, 1]))


def test_metrics_with_classes_and_unknown_gold():
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.5, 0.5]])
    gold = np.array(["cat", "dog", None], dtype=object)
    loss = log_loss(gold, proba, classes=["cat", "dog"])
    assert loss == pytest.approx(-np.mean(np.log([0.8, 0.7])))
    assert brier_score(gold, proba, classes=["cat", "dog"]) == pytest.approx(
        (2 * 0.2**2 + 2 * 0.3**2) / 2
    )


@pytest.mark.parametrize(
    "proba, y, match",
    [
        (np.array([[0.5, 0.6]]), [0], "not probability distributions"),
        (np.array([[np.nan, 1.0]]), [0], r"Rows \[0\]"),
        (np.array([0.5, 0.5]), [0], "2-D"),
        (np.array([[0.5, 0.5]]), [0, 1], "2 labels but proba has 1"),
        (np.array([[0.5, 0.5]]), [5], "not among the classes"),
        (np.array([[0.5, 0.5]]), [-1], "no known gold"),
    ],
)
def test_bad_posteriors(proba, y, match):
    with pytest.raises(ValueError, match=match):
        log_loss(y, proba)


def test_bad_options():
    proba = np.array([[0.5, 0.5]])
    with pytest.raises(ValueError, match="strategy"):
        expected_calibration_error([0], proba, strategy="nope")
    with pytest.raises(ValueError, match="n_bins"):
        expected_calibration_error([0], proba, n_bins=0)
    with pytest.raises(ValueError, match="classes has 3"):
        log_loss([0], proba, classes=[0, 1, 2])
    with pytest.raises(ValueError, match="Unknown scorer.*neg_log_loss"):
        get_scorer("nope")


def test_scorers_in_grid_search_with_partial_gold():
    votes, y_true, _ = make_crowd(150, 12, 3, votes_per_task=5, random_state=0)
    gold = np.where(np.arange(150) % 3 == 0, y_true, -1)
    search = GridSearchCV(
        DawidSkene(max_iter=2000), {"alpha": [0.01, 1.0]}, cv=3,
        scoring={name: scorer for name, scorer in SCORERS.items()},
        refit="neg_log_loss",
    ).fit(votes, gold)
    results = search.cv_results_
    assert np.all(results["mean_test_neg_log_loss"] < 0)
    assert np.all(results["mean_test_neg_expected_calibration_error"] <= 0)
    assert np.all((results["mean_test_accuracy"] > 0.5)
                  & (results["mean_test_accuracy"] <= 1))
    # the accuracy scorer agrees with the aggregator's own score
    scores = cross_val_score(MajorityVote(), votes, gold, cv=3,
                             scoring=get_scorer("accuracy"))
    own = cross_val_score(MajorityVote(), votes, gold, cv=3)
    np.testing.assert_allclose(scores, own)


def test_scorer_maps_string_classes():
    votes = [["a", "b", "a"], ["b", "b", "b"], ["a", "a", "b"]]
    model = MajorityVote().fit(votes)
    scorer = make_posterior_scorer(log_loss, greater_is_better=False)
    value = scorer(model, votes, ["a", "b", None])
    assert value == pytest.approx(0.0, abs=1e-9)
    assert "log_loss" in repr(scorer)
