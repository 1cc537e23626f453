"""Tests of LearningFromCrowds (Raykar et al., JMLR 2010)."""

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_score
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.estimator_checks import parametrize_with_checks
from threadpoolctl import threadpool_limits

from skcrowd import DawidSkene, LearningFromCrowds, MajorityVote
from skcrowd.simulation import make_classification_crowd


@pytest.fixture(autouse=True, scope="module")
def _one_blas_thread():
    """Many tiny LogisticRegression fits: BLAS threads only add overhead."""
    with threadpool_limits(limits=1):
        yield


NOT_APPLICABLE = {
    "check_supervised_y_2d": (
        "a 2-D y is the vote matrix, one column per annotator: a single column "
        "is one annotator, so no DataConversionWarning is due"
    ),
    "check_classifiers_classes": (
        "it uses the labels [-1, 1], and -1 is missing_label (no vote); "
        "LearningFromCrowds(missing_label=None) accepts them"
    ),
    "check_non_transformer_estimators_n_iter": (
        "it fits unscaled iris, on which the default inner LogisticRegression "
        "raises its own ConvergenceWarning (alone too), an error under this "
        "test configuration; n_iter_ is tested in test_em_bookkeeping"
    ),
}


@parametrize_with_checks(
    [LearningFromCrowds()], expected_failed_checks=lambda estimator: NOT_APPLICABLE
)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@pytest.fixture(scope="module")
def crowd():
    return make_classification_crowd(random_state=0)


@pytest.fixture(scope="module")
def fitted(crowd):
    X, Y, y_true, truth = crowd
    return LearningFromCrowds().fit(X, Y)


def test_beats_majority_vote_and_dawid_skene(crowd, fitted):
    X, Y, y_true, truth = crowd
    accuracy = np.mean(fitted.consensus_label_ == y_true)
    majority = np.mean(MajorityVote().fit(Y).consensus_label_ == y_true)
    dawid_skene = np.mean(DawidSkene().fit(Y).consensus_label_ == y_true)
    assert accuracy >= 0.95
    assert accuracy >= majority + 0.08
    assert accuracy > dawid_skene
    # the classifier alone generalises: it predicts the items' true classes
    assert np.mean(fitted.predict(X) == y_true) >= 0.9


def test_confusion_matrices_find_the_noisy_annotators(crowd, fitted):
    X, Y, y_true, truth = crowd
    diagonal = np.einsum("jkk->j", fitted.confusion_matrices_) / 3
    worst = np.argsort(diagonal)[:5]
    assert sorted(worst.tolist()) == np.flatnonzero(truth.noisy).tolist()
    np.testing.assert_allclose(fitted.confusion_matrices_.sum(axis=2), 1.0)


def test_em_bookkeeping(fitted):
    history = fitted.log_likelihood_history_
    assert fitted.converged_
    assert len(history) == fitted.n_iter_
    assert fitted.log_likelihood_ == history[-1]
    # EM with a (nearly) exact weighted fit never decreases the objective
    assert np.all(np.diff(history) > -1e-6)
    np.testing.assert_allclose(fitted.consensus_proba_.sum(axis=1), 1.0)
    np.testing.assert_array_equal(
        fitted.consensus_label_, fitted.classes_[fitted.consensus_proba_.argmax(1)])


def test_with_a_constant_classifier_it_is_dawid_skene(crowd):
    # a classifier that only learns the class frequencies makes the model
    # exactly Dawid-Skene: the weighted class frequencies are DS's prior
    X, Y, y_true, truth = crowd
    lfc = LearningFromCrowds(DummyClassifier(strategy="prior"), alpha=1e-6,
                             tol=1e-10, max_iter=500).fit(X, Y)
    ds = DawidSkene(alpha=1e-6, tol=1e-10, max_iter=500).fit(Y)
    np.testing.assert_allclose(lfc.consensus_proba_, ds.consensus_proba_, atol=1e-4)
    np.testing.assert_allclose(lfc.confusion_matrices_, ds.confusion_matrices_,
                               atol=1e-4)


def test_items_without_votes_get_the_classifier_prediction(crowd):
    X, Y, y_true, truth = crowd
    Y = Y.copy()
    Y[:15] = -1
    model = LearningFromCrowds().fit(X, Y)
    np.testing.assert_allclose(model.consensus_proba_[:15], model.predict_proba(X[:15]))


def test_score_and_model_selection(crowd, fitted):
    X, Y, y_true, truth = crowd
    accuracy = np.mean(fitted.predict(X) == y_true)
    assert fitted.score(X, y_true) == pytest.approx(accuracy)
    scores = cross_val_score(LearningFromCrowds(tol=1e-3), X[:150], Y[:150], cv=2)
    assert np.all(scores > 0.5)


def test_string_labels(crowd):
    X, Y, y_true, truth = crowd
    names = np.array(["cat", "dog", "owl"])
    text = np.where(Y >= 0, names[np.maximum(Y, 0)], None)
    model = LearningFromCrowds(tol=1e-3).fit(X, text)
    assert model.classes_.tolist() == names.tolist()
    assert np.mean(model.consensus_label_ == names[y_true]) >= 0.95


def test_single_annotator(crowd):
    X, Y, y_true, truth = crowd
    rng = np.random.RandomState(0)
    y = np.where(rng.uniform(size=len(y_true)) < 0.8, y_true, (y_true + 1) % 3)
    model = LearningFromCrowds(tol=1e-3).fit(X, y)
    assert model.confusion_matrices_.shape == (1, 3, 3)
    assert np.mean(model.predict(X) == y_true) > np.mean(y == y_true)


# ----------------------------------------------------------------------
# bad input
def test_needs_sample_weight(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(TypeError, match="KNeighborsClassifier.fit takes no sample_"):
        LearningFromCrowds(KNeighborsClassifier()).fit(X, Y)


def test_rows_of_y_must_match_x(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(ValueError, match="Y has 300 rows of votes but X has 200"):
        LearningFromCrowds().fit(X[:200], Y)


def test_warns_when_not_converged(crowd):
    X, Y, y_true, truth = crowd
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=1"):
        LearningFromCrowds(max_iter=1).fit(X, Y)


def test_annotator_without_labels_is_ignored(crowd):
    X, Y, y_true, truth = crowd
    Y = Y.copy()
    Y[:, 0] = -1
    with pytest.warns(UserWarning, match=r"gave no label.*\[0\]"):
        model = LearningFromCrowds(tol=1e-3).fit(X, Y)
    assert model.confusion_matrices_.shape[0] == 49
    assert model.annotator_ids_[0] == 1


def test_bad_hyperparameters_are_named(crowd):
    X, Y, y_true, truth = crowd
    with pytest.raises(ValueError, match="alpha"):
        LearningFromCrowds(alpha=0).fit(X, Y)
    with pytest.raises(ValueError, match="estimator"):
        LearningFromCrowds(estimator="logistic").fit(X, Y)


def test_inputs_are_not_modified(crowd):
    X, Y, y_true, truth = crowd
    X, Y = X.copy(), Y.copy()
    X.flags.writeable = False
    Y.flags.writeable = False
    LearningFromCrowds(LogisticRegression(), tol=1e-3).fit(X, Y)
    np.testing.assert_array_equal(Y, crowd[1])
