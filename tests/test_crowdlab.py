"""Tests of CROWDLAB: the CrowdLab meta-estimator and the function API."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest
import sklearn
from scipy.special import log_softmax
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import (
    GridSearchCV,
    cross_val_predict,
    cross_val_score,
)
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from skcrowd import CrowdLab, DawidSkene, MajorityVote, Votes
from skcrowd.crowdlab import (
    active_learning_scores,
    label_quality,
    label_quality_ensemble,
)
from skcrowd.simulation import make_classification_crowd


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Many tiny LogisticRegression fits: BLAS threads only add overhead."""
    with threadpool_limits(limits=1):
        yield


# Checks whose premise does not hold when y is a vote matrix.
NOT_APPLICABLE = {
    "check_supervised_y_2d": (
        "a 2-D y is the vote matrix, one column per annotator: a single column "
        "is one annotator, not a column-vector mistake, so no "
        "DataConversionWarning is due"
    ),
    "check_classifiers_classes": (
        "it uses the labels [-1, 1], and -1 is missing_label (no vote), as in "
        "scikit-learn's semi-supervised estimators; CrowdLab(missing_label=None) "
        "accepts them (test_minus_one_is_a_label_without_missing_label)"
    ),
    "check_classifiers_one_label_sample_weights": (
        "fit passes **fit_params (here sample_weight) through to the inner "
        "estimator, whose error names the single class left, not sample_weight; "
        "routing is tested in test_fit_params_reach_the_inner_estimator"
    ),
}


@parametrize_with_checks(
    [CrowdLab()], expected_failed_checks=lambda estimator: NOT_APPLICABLE
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


# ----------------------------------------------------------------------
# the acceptance data of the issue: 300 items, 50 annotators, 3 classes,
# ~10% labeling rate, the last 5 annotators noisy
@pytest.fixture(scope="module")
def crowd():
    return make_classification_crowd(random_state=0)


@pytest.fixture(scope="module")
def fitted(crowd):
    X, Y, y_true, truth = crowd
    return CrowdLab(random_state=0).fit(X, Y)


def test_consensus_accuracy_beats_majority_vote(crowd, fitted):
    X, Y, y_true, truth = crowd
    accuracy = np.mean(fitted.consensus_label_ == y_true)
    majority = np.mean(MajorityVote().fit(Y).consensus_label_ == y_true)
    assert accuracy >= 0.97
    assert accuracy >= majority + 0.08


def test_noisy_annotators_get_the_lowest_quality(crowd, fitted):
    X, Y, y_true, truth = crowd
    worst = fitted.annotator_ids_[np.argsort(fitted.annotator_quality_)[:5]]
    assert sorted(worst.tolist()) == np.flatnonzero(truth.noisy).tolist()


def test_consensus_quality_separates_right_from_wrong(crowd, fitted):
    X, Y, y_true, truth = crowd
    right = fitted.consensus_label_ == y_true
    assert (~right).any()
    assert roc_auc_score(right, fitted.consensus_quality_) >= 0.8


def test_fitted_attributes_are_consistent(crowd, fitted):
    X, Y, y_true, truth = crowd
    m = fitted
    n, k = len(X), len(m.classes_)
    assert m.consensus_proba_.shape == (n, k)
    np.testing.assert_allclose(m.consensus_proba_.sum(axis=1), 1.0)
    # the consensus is always the argmax of the final posterior
    top = m.consensus_proba_.max(axis=1)
    picked = m.consensus_proba_[np.arange(n), np.searchsorted(m.classes_,
                                                              m.consensus_label_)]
    np.testing.assert_array_equal(picked, top)
    np.testing.assert_array_equal(m.consensus_quality_, top)
    # per item, the share of its votes equal to the (final) consensus
    code = np.searchsorted(m.classes_, m.consensus_label_)
    np.testing.assert_allclose(m.annotator_agreement_,
                               (Y == code[:, None]).sum(axis=1) / (Y >= 0).sum(axis=1))
    # one score per vote, at the vote's place
    rows, cols = np.nonzero(Y >= 0)
    lq = m.label_quality_.tocoo()
    assert lq.nnz == len(rows)
    np.testing.assert_allclose(
        m.label_quality_[rows, cols], m.consensus_proba_[rows, Y[rows, cols]])
    np.testing.assert_array_equal(m.annotator_n_labels_, (Y >= 0).sum(axis=0))
    agree = [np.mean(Y[Y[:, j] >= 0, j] == m.consensus_label_[Y[:, j] >= 0])
             for j in range(Y.shape[1])]
    np.testing.assert_allclose(m.annotator_consensus_agreement_, agree)
    assert m.annotator_weights_.shape == (Y.shape[1],)
    assert m.model_weight_ > 0 and m.temperature_ > 0
    assert set(m.annotator_worst_class_) <= set(m.classes_)
    assert m.n_features_in_ == X.shape[1]
    assert m.oof_proba_.shape == (n, k)
    # predictions come from the classifier refitted on the consensus
    np.testing.assert_array_equal(m.predict(X), m.estimator_.predict(X))
    np.testing.assert_allclose(m.predict_proba(X).sum(axis=1), 1.0)


def test_function_api_matches_the_estimator(crowd, fitted):
    X, Y, y_true, truth = crowd
    result = label_quality(Y, fitted.oof_proba_, calibrate=False)
    np.testing.assert_array_equal(result.consensus_label, fitted.consensus_label_)
    np.testing.assert_allclose(result.consensus_proba, fitted.consensus_proba_)
    np.testing.assert_allclose(result.annotator_quality, fitted.annotator_quality_)


# ----------------------------------------------------------------------
# the function API against a reference derived by hand
VOTES = np.array([[0, 0, -1], [1, -1, 0], [-1, 1, 1], [0, 1, 1]])
PROBS = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8], [0.3, 0.7]])


def _reference(Y, P, eps=1e-6):
    """CROWDLAB written out with loops over a dense matrix, one pass."""
    n, m = Y.shape
    k = P.shape[1]
    given = [[(j, Y[i, j]) for j in range(m) if Y[i, j] >= 0] for i in range(n)]
    counts = np.array([[sum(lab == c for _, lab in g) for c in range(k)]
                       for g in given], dtype=float)
    n_votes = counts.sum(axis=1)
    # majority vote, ties to the model's most probable class
    consensus = np.array([max(np.flatnonzero(row == row.max()), key=lambda c: P[i, c])
                          for i, row in enumerate(counts)])
    multi = n_votes > 1
    p_agree = np.mean([counts[i, consensus[i]] / n_votes[i]
                       for i in range(n) if multi[i]])
    p_other = (1 - p_agree) / (k - 1)
    shares = np.bincount(consensus[multi], minlength=k) / multi.sum()
    baseline = 1 - shares.max()
    model_error = np.mean(P[multi].argmax(axis=1) != consensus[multi])
    w_model = max(1 - model_error / baseline, eps) * np.sqrt(n_votes.mean())
    w_annot = np.empty(m)
    for j in range(m):
        hits = pairs = 0
        for i in range(n):
            if Y[i, j] >= 0:
                others = [lab for jj, lab in given[i] if jj != j]
                hits += sum(lab == Y[i, j] for lab in others)
                pairs += len(others)
        w_annot[j] = max(1 - (1 - hits / pairs) / baseline, eps)
    post = np.empty((n, k))
    for i in range(n):
        num = w_model * P[i].copy()
        den = w_model
        for j, lab in given[i]:
            like = np.full(k, p_other)
            like[lab] = p_agree
            num += w_annot[j] * like
            den += w_annot[j]
        post[i] = num / den
    return post, w_model, w_annot, p_agree


def test_function_api_equals_hand_derived_reference():
    result = label_quality(VOTES, PROBS, calibrate=False)
    post, w_model, w_annot, p_agree = _reference(VOTES, PROBS)
    # the numbers worked out on paper: every item has 2+ votes, so the mean
    # agreement with the majority vote [0, 0, 1, 1] is (1 + 1/2 + 1 + 2/3)/4;
    # the baseline error is 1/2, the model never disagrees, mean votes 9/4
    assert p_agree == pytest.approx(19 / 24)
    assert w_model == pytest.approx(1.5)
    # annotators agree with the others 1/4, 3/4 and 1/2 of the time
    np.testing.assert_allclose(w_annot, [1e-6, 0.5, 1e-6])
    assert post[0, 0] == pytest.approx((1.5 * 0.9 + (0.5 + 1e-6) * 19 / 24) / 2.000001)
    assert result.model_weight == pytest.approx(w_model)
    np.testing.assert_allclose(result.annotator_weights, w_annot)
    np.testing.assert_allclose(result.consensus_proba, post)
    np.testing.assert_array_equal(result.consensus_label, post.argmax(axis=1))
    np.testing.assert_allclose(result.consensus_quality, post.max(axis=1))
    np.testing.assert_allclose(result.annotator_agreement, [1, 0.5, 1, 2 / 3])
    rows, cols = np.nonzero(VOTES >= 0)
    np.testing.assert_allclose(result.label_quality[rows, cols],
                               post[rows, VOTES[rows, cols]])
    # annotator quality: the model's share of a typical item's weight times
    # the mean label score, plus the rest times the consensus agreement
    share = 1.5 / (1.5 + w_annot.mean() * 9 / 4)
    for j in range(3):
        mine = VOTES[:, j] >= 0
        label_score = post[mine, VOTES[mine, j]].mean()
        agreement = np.mean(VOTES[mine, j] == post[mine].argmax(axis=1))
        assert result.annotator_quality[j] == pytest.approx(
            share * label_score + (1 - share) * agreement)
    # annotator 0 is right on 1/2 of the class-0 items and 0/1 class-1 items;
    # the others are always right: ties go to the class they saw most, 1
    assert result.annotator_worst_class.tolist() == [1, 1, 1]


def test_float_and_string_labels_count_like_integers():
    # cleanlab 2.9 miscounts float labels; here the label type never matters
    as_float = np.where(VOTES >= 0, VOTES, np.nan).astype(float)
    as_text = np.where(VOTES >= 0, np.array(["a", "b"])[VOTES], "")
    ref = label_quality(VOTES, PROBS)
    for votes, kwargs in ((as_float, {}), (as_text, {"missing_label": ""})):
        other = label_quality(votes, PROBS, **kwargs)
        np.testing.assert_allclose(other.consensus_proba, ref.consensus_proba)
        np.testing.assert_allclose(other.annotator_quality, ref.annotator_quality)
        assert other.temperature == pytest.approx(ref.temperature)
    assert label_quality(as_text, PROBS, missing_label="").consensus_label.tolist() == [
        "a", "a", "b", "b"]


def test_vote_formats_give_the_same_result():
    ref = label_quality(VOTES, PROBS)
    rows, cols = np.nonzero(VOTES >= 0)
    long = pd.DataFrame({"task": rows, "worker": cols, "label": VOTES[rows, cols]})
    answers = {i: {j: int(VOTES[i, j]) for j in range(3) if VOTES[i, j] >= 0}
               for i in range(4)}
    for votes in (long, answers, Votes.from_wide(VOTES)):
        other = label_quality(votes, PROBS)
        np.testing.assert_allclose(other.consensus_proba, ref.consensus_proba)
        np.testing.assert_allclose(other.annotator_quality, ref.annotator_quality)


def test_inputs_are_not_modified():
    votes = VOTES.copy()
    probs = PROBS.copy()
    votes.flags.writeable = False
    probs.flags.writeable = False
    label_quality(votes, probs)
    active_learning_scores(votes, probs, pred_probs_unlabeled=probs)
    np.testing.assert_array_equal(votes, VOTES)
    np.testing.assert_array_equal(probs, PROBS)


def test_passes_stop_at_a_fixed_point(crowd, fitted):
    X, Y, y_true, truth = crowd
    one = label_quality(Y, fitted.oof_proba_, calibrate=False, n_iter=1)
    many = label_quality(Y, fitted.oof_proba_, calibrate=False, n_iter=50)
    for result in (one, many):
        np.testing.assert_array_equal(result.consensus_label,
                                      result.consensus_proba.argmax(axis=1))
    # at the fixed point another pass changes nothing
    again = label_quality(Y, fitted.oof_proba_, calibrate=False, n_iter=51)
    np.testing.assert_allclose(again.consensus_proba, many.consensus_proba)


def test_permuting_items_and_annotators_permutes_the_result(crowd, fitted):
    X, Y, y_true, truth = crowd
    rng = np.random.RandomState(0)
    rows, cols = rng.permutation(Y.shape[0]), rng.permutation(Y.shape[1])
    ref = label_quality(Y, fitted.oof_proba_)
    perm = label_quality(Y[rows][:, cols], fitted.oof_proba_[rows])
    np.testing.assert_allclose(perm.consensus_proba, ref.consensus_proba[rows])
    np.testing.assert_allclose(perm.annotator_quality, ref.annotator_quality[cols])


# ----------------------------------------------------------------------
# calibration, ensembles, ActiveLab
def test_calibration_recovers_a_known_temperature():
    rng = np.random.RandomState(0)
    shares = rng.dirichlet(np.ones(3), size=40)
    # 10 votes per item in exact proportion to rational shares
    counts = np.floor(shares * 10).astype(int)
    counts[np.arange(40), counts.argmax(axis=1)] += 10 - counts.sum(axis=1)
    task = np.repeat(np.repeat(np.arange(40), 3), counts.ravel())
    label = np.repeat(np.tile(np.arange(3), 40), counts.ravel())
    votes = Votes(task, np.arange(len(task)), label, task_ids=np.arange(40),
                  worker_ids=np.arange(len(task)), classes=np.arange(3))
    empirical = counts / 10
    # an overconfident model: the vote shares sharpened by temperature 1/2
    with np.errstate(divide="ignore"):
        sharp = np.exp(log_softmax(np.log(empirical) / 0.5, axis=1))
    sharp = np.clip(sharp, 1e-12, None)
    sharp /= sharp.sum(axis=1, keepdims=True)
    result = label_quality(votes, sharp)
    assert result.temperature == pytest.approx(2.0, rel=1e-3)


def test_calibration_never_increases_the_cross_entropy(crowd, fitted):
    X, Y, y_true, truth = crowd
    counts = np.stack([(Y == c).sum(axis=1) for c in range(3)], axis=1)
    shares = counts / counts.sum(axis=1, keepdims=True)
    probs = fitted.oof_proba_
    T = label_quality(Y, probs).temperature

    def loss(t):
        return -np.sum(shares * log_softmax(np.log(probs) / t, axis=1))

    assert loss(T) <= loss(1.0)
    assert loss(T) <= min(loss(T * 1.01), loss(T / 1.01))


def test_ensemble_weighs_models_by_their_agreement():
    poor = np.array([[0.4, 0.6], [0.5, 0.5], [0.6, 0.4], [0.5, 0.5]])
    result = label_quality_ensemble(VOTES, [PROBS, poor], calibrate=False)
    assert result.model_weight.shape == (2,)
    assert result.model_weight[0] > result.model_weight[1]
    single = label_quality(VOTES, PROBS, calibrate=False)
    alone = label_quality_ensemble(VOTES, PROBS[None], calibrate=False)
    np.testing.assert_allclose(alone.consensus_proba, single.consensus_proba)
    with pytest.raises(ValueError, match="n_models, n_items, n_classes"):
        label_quality_ensemble(VOTES, PROBS)


def test_active_learning_scores_follow_the_formula():
    votes = np.vstack([VOTES, [-1, -1, -1]])  # a last item without any label
    probs = np.vstack([PROBS, [[0.7, 0.3]]])
    unlabeled = np.array([[0.7, 0.3], [0.5, 0.5]])
    scores, scores_unl = active_learning_scores(
        votes, probs, pred_probs_unlabeled=unlabeled, calibrate=False)
    result = label_quality(votes, probs, calibrate=False)
    a = result.annotator_weights
    w = result.model_weight
    evidence = w + np.array([a[0] + a[1], a[0] + a[2], a[1] + a[2],
                             a.sum(), 0.0])
    expected = (evidence * result.consensus_quality + a.mean() / 2) / (
        evidence + a.mean())
    np.testing.assert_allclose(scores, expected)
    # an item without a label scores like the same item outside the votes
    assert scores_unl[0] == pytest.approx(scores[-1])
    # the most uncertain unlabeled item comes first
    assert scores_unl[1] < scores_unl[0]
    # without any votes the model and an annotator weigh 1 each
    _, only = active_learning_scores(pred_probs_unlabeled=unlabeled)
    np.testing.assert_allclose(only, (unlabeled.max(axis=1) + 0.5) / 2)


def test_active_learning_scores_bad_input():
    with pytest.raises(ValueError, match="pred_probs is required"):
        active_learning_scores(VOTES)
    with pytest.raises(ValueError, match="pred_probs_unlabeled"):
        active_learning_scores()
    with pytest.raises(ValueError, match="3 columns"):
        active_learning_scores(VOTES, PROBS, pred_probs_unlabeled=np.ones((2, 3)) / 3)


# ----------------------------------------------------------------------
# cost: nothing of size items x annotators
def test_memory_does_not_grow_with_the_number_of_annotators():
    rng = np.random.RandomState(0)
    n_items, n_votes = 2_000, 6_000
    task = np.repeat(np.arange(n_items), 3)
    probs = rng.dirichlet(np.ones(4), size=n_items)
    label = rng.randint(0, 4, n_votes)
    peaks = []
    # the same votes from 300 annotators, then from 6,000 (one vote each):
    # a dense items x annotators float matrix would take 4.8 MB, then 96 MB
    for n_annotators in (300, 6_000):
        worker = rng.permutation(np.arange(n_votes) % n_annotators)
        votes = Votes(task, worker, label, task_ids=np.arange(n_items),
                      worker_ids=np.arange(n_annotators), classes=np.arange(4))
        tracemalloc.start()
        label_quality(votes, probs)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
    # per-annotator tables (n_annotators x n_classes) grow, nothing else
    dense = n_items * 6_000 * 8
    assert peaks[0] < 0.02 * dense and peaks[1] < 0.05 * dense


# ----------------------------------------------------------------------
# bad input
def test_rows_of_y_must_match_x(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(ValueError, match="Y has 299 rows of votes but X has 300"):
        CrowdLab().fit(X, Y[:-1])


def test_annotator_without_labels_is_ignored_with_a_warning(crowd):
    X, Y, y_true, truth = crowd
    Y = Y.copy()
    Y[:, 7] = -1
    with pytest.warns(UserWarning, match=r"1 annotator\(s\) gave no label.*\[7\]"):
        model = CrowdLab(random_state=0).fit(X, Y)
    assert 7 not in model.annotator_ids_.tolist()
    assert len(model.annotator_quality_) == 49
    with pytest.warns(UserWarning, match=r"\[7\]"):
        label_quality(Y, model.oof_proba_)


def test_items_without_labels_are_decided_by_the_model(crowd):
    X, Y, y_true, truth = crowd
    Y = Y.copy()
    Y[:20] = -1
    model = CrowdLab(random_state=0, calibrate=False).fit(X, Y)
    np.testing.assert_allclose(model.consensus_proba_[:20], model.oof_proba_[:20])
    assert np.isnan(model.annotator_agreement_[:20]).all()
    # their probabilities come from a model trained on the voted items only,
    # on the default aggregator's labels (majority vote, seeded ties)
    seed = np.random.RandomState(0).randint(np.iinfo(np.int32).max)
    labels = MajorityVote(tie_breaking="random", random_state=seed).fit(Y)
    fresh = LogisticRegression().fit(X[20:], labels.consensus_label_[20:])
    np.testing.assert_allclose(model.oof_proba_[:20], fresh.predict_proba(X[:20]))
    result = label_quality(Y, model.oof_proba_, calibrate=False)
    np.testing.assert_allclose(result.consensus_proba[:20], model.oof_proba_[:20])


@pytest.mark.parametrize("bad, match", [
    (np.nan, r"NaN or infinite values in rows \[2\]"),
    (-0.5, r"rows \[2\] .* not probability distributions"),
    (0.9, r"rows \[2\] .*row 2 sums to 1.7"),
])
def test_probabilities_must_be_rows_of_the_simplex(bad, match):
    probs = PROBS.copy()
    probs[2, 0] = bad
    with pytest.raises(ValueError, match=match):
        label_quality(VOTES, probs)


def test_probabilities_must_have_one_row_per_item_and_column_per_class():
    with pytest.raises(ValueError, match="one row per item"):
        label_quality(VOTES, PROBS[:3])
    with pytest.raises(ValueError, match="pass classes"):
        label_quality(VOTES + 5, PROBS)


def test_labels_outside_classes_are_refused(crowd, fitted):
    with pytest.raises(ValueError, match=r"Labels \[2\] are not in classes"):
        label_quality(np.where(VOTES >= 0, 2 * VOTES, -1), PROBS, classes=[0, 1])
    X, Y, y_true, truth = crowd
    held_out = Y.copy()
    held_out[0, np.flatnonzero(Y[0] >= 0)[0]] = 7
    with pytest.raises(ValueError, match=r"Labels \[7\] of y are not in classes_"):
        fitted.score(X, held_out)


def test_single_annotator_works(crowd):
    X, Y, y_true, truth = crowd
    rng = np.random.RandomState(0)
    y = np.where(rng.uniform(size=len(y_true)) < 0.8, y_true, (y_true + 1) % 3)
    model = CrowdLab(random_state=0).fit(X, y)
    assert model.annotator_quality_.shape == (1,)
    assert np.all(np.isfinite(model.consensus_proba_))
    # the model corrects part of the annotator's mistakes
    assert np.mean(model.consensus_label_ == y_true) > np.mean(y == y_true)
    result = label_quality(y[:, None], model.oof_proba_)
    assert np.isfinite(result.annotator_weights).all()


def test_needs_two_classes(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(ValueError, match="one class"):
        CrowdLab().fit(X, np.where(Y >= 0, 1, -1))


def test_y_is_required(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(ValueError, match="requires y to be passed"):
        CrowdLab().fit(X, None)


def test_bad_hyperparameters_are_named(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(ValueError, match="n_rounds"):
        CrowdLab(n_rounds=0).fit(X, Y)
    with pytest.raises(TypeError, match="aggregator must be a skcrowd aggregator"):
        CrowdLab(aggregator=LogisticRegression()).fit(X, Y)
    with pytest.raises(ValueError, match="n_iter"):
        label_quality(VOTES, PROBS, n_iter=0)


# ----------------------------------------------------------------------
# scikit-learn integration
def test_other_vote_formats_align_with_x(crowd):
    X, Y, y_true, truth = crowd
    X, Y = X[:120], Y[:120]
    ref = CrowdLab(GaussianNB(), random_state=0).fit(X, Y)
    rows, cols = np.nonzero(Y >= 0)
    order = np.random.RandomState(1).permutation(len(rows))  # any row order
    long = pd.DataFrame({"task": rows[order], "worker": cols[order],
                         "label": Y[rows, cols][order]})
    answers = {int(i): {int(j): int(Y[i, j]) for j in np.flatnonzero(Y[i] >= 0)}
               for i in range(len(Y))[::-1]}
    for votes in (Votes.from_wide(Y), long, answers):
        other = CrowdLab(GaussianNB(), random_state=0).fit(X, votes)
        np.testing.assert_allclose(other.consensus_proba_, ref.consensus_proba_)
    frame = pd.DataFrame(X, index=[f"item{i}" for i in range(len(X))])
    long_ids = long.assign(task=frame.index[long["task"]])
    other = CrowdLab(GaussianNB(), random_state=0).fit(frame, long_ids)
    np.testing.assert_allclose(other.consensus_proba_, ref.consensus_proba_)
    with pytest.raises(ValueError, match="are not rows of X"):
        CrowdLab(GaussianNB()).fit(X, long.assign(task=long["task"] + 1000))


def test_string_labels_with_missing_label(crowd):
    X, Y, y_true, truth = crowd
    names = np.array(["cat", "dog", "owl"])
    text = np.where(Y >= 0, names[np.maximum(Y, 0)], "")
    model = CrowdLab(random_state=0, missing_label="").fit(X, text)
    assert model.classes_.tolist() == ["cat", "dog", "owl"]
    ref = CrowdLab(random_state=0).fit(X, Y)
    np.testing.assert_array_equal(model.consensus_label_, names[ref.consensus_label_])
    assert set(model.predict(X[:5])) <= set(names)


def test_minus_one_is_a_label_without_missing_label(crowd):
    X, Y, y_true, truth = crowd
    y = np.where(y_true == 0, -1, 1)
    model = CrowdLab(missing_label=None).fit(X, y)
    assert model.classes_.tolist() == [-1, 1]


def test_score_is_agreement_with_held_out_votes(crowd, fitted):
    X, Y, y_true, truth = crowd
    predicted = fitted.predict(X)
    rows, cols = np.nonzero(Y >= 0)
    agreement = np.mean(Y[rows, cols] == predicted[rows])
    assert fitted.score(X, Y) == pytest.approx(agreement)
    # with one vote per item it is the accuracy
    assert fitted.score(X, y_true) == pytest.approx(np.mean(predicted == y_true))
    weights = np.zeros(len(X))
    weights[:10] = 1
    first = rows < 10
    assert fitted.score(X, Y, sample_weight=weights) == pytest.approx(
        np.mean(Y[rows[first], cols[first]] == predicted[rows[first]]))


@pytest.fixture(scope="module")
def small(crowd):
    X, Y, y_true, truth = crowd
    return X[:150], Y[:150], y_true[:150]


def test_cross_val_predict_and_pipeline(small):
    X, Y, y_true = small
    predicted = cross_val_predict(CrowdLab(LogisticRegression(), cv=3, random_state=0),
                                  X, Y, cv=3)
    assert predicted.shape == (len(X),)
    assert np.mean(predicted == y_true) > 0.85
    pipe = make_pipeline(StandardScaler(), CrowdLab(cv=3, random_state=0)).fit(X, Y)
    assert np.mean(pipe.predict(X) == y_true) > 0.85
    assert 0.5 < pipe.score(X, Y) <= 1


def test_cross_val_score_and_grid_search(small):
    X, Y, y_true = small
    scores = cross_val_score(CrowdLab(cv=3, random_state=0), X, Y, cv=3)
    assert scores.shape == (3,) and np.all(scores > 0.5)
    search = GridSearchCV(CrowdLab(LogisticRegression(), cv=3, random_state=0),
                          {"estimator__C": [0.01, 1.0]}, cv=2).fit(X, Y)
    assert search.best_params_["estimator__C"] in (0.01, 1.0)
    assert search.best_estimator_.estimator_.C == search.best_params_["estimator__C"]


class _RecordingLR(LogisticRegression):
    """LogisticRegression remembering the sample weights it was fitted with."""

    def fit(self, X, y, sample_weight=None):
        self.seen_weight_ = sample_weight
        return super().fit(X, y, sample_weight=sample_weight)


def test_fit_params_reach_the_inner_estimator(crowd):
    X, Y, y_true, truth = crowd
    weights = np.linspace(0.5, 1.5, len(X))
    # without metadata routing they are passed through
    model = CrowdLab(_RecordingLR()).fit(X, Y, sample_weight=weights)
    np.testing.assert_allclose(model.estimator_.seen_weight_, weights)
    with sklearn.config_context(enable_metadata_routing=True):
        requested = _RecordingLR().set_fit_request(sample_weight=True)
        model = CrowdLab(requested).fit(X, Y, sample_weight=weights)
        np.testing.assert_allclose(model.estimator_.seen_weight_, weights)
        with pytest.raises(UnsetMetadataPassedError, match="sample_weight"):
            CrowdLab(_RecordingLR()).fit(X, Y, sample_weight=weights)


def test_rounds_and_other_aggregators(crowd):
    X, Y, y_true, truth = crowd
    for model in (CrowdLab(n_rounds=2, random_state=0),
                  CrowdLab(aggregator=DawidSkene(tol=1e-3, max_iter=500))):
        model.fit(X, Y)
        assert np.mean(model.consensus_label_ == y_true) >= 0.95
        np.testing.assert_array_equal(
            model.consensus_label_, model.classes_[model.consensus_proba_.argmax(1)])


def test_random_state_makes_fit_reproducible(crowd):
    X, Y, y_true, truth = crowd
    a = CrowdLab(random_state=3).fit(X, Y)
    b = CrowdLab(random_state=3).fit(X, Y)
    np.testing.assert_array_equal(a.consensus_proba_, b.consensus_proba_)
