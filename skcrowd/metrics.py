"""Metrics of consensus labels and posteriors against (partial) gold labels.

Gold labels are usually known for a few tasks only: every function here
ignores the tasks whose gold label is unknown (``missing_label``, ``None`` or
``NaN``). The scorers at the end plug these metrics into scikit-learn's model
selection: ``GridSearchCV(DawidSkene(), grid, scoring=NEG_LOG_LOSS)``.
"""

import numpy as np
from sklearn.utils import Bunch

from ._votes import _as_1d, _missing_mask, _narrow_object, lookup

__all__ = [
    "ACCURACY",
    "NEG_BRIER_SCORE",
    "NEG_EXPECTED_CALIBRATION_ERROR",
    "NEG_LOG_LOSS",
    "PosteriorScorer",
    "SCORERS",
    "accuracy",
    "brier_score",
    "expected_calibration_error",
    "get_scorer",
    "log_loss",
    "make_posterior_scorer",
    "reliability_table",
]


def _known_gold(y_true, missing_label):
    """The known gold labels and the mask of the tasks that have one."""
    gold = _as_1d(y_true, "y_true")
    known = ~_missing_mask(gold, missing_label)
    labels = gold[known]
    if labels.dtype.kind == "O":
        labels = _narrow_object(labels)
    if labels.dtype.kind == "f" and labels.size and np.all(np.mod(labels, 1) == 0):
        labels = labels.astype(np.int64)
    return labels, known


def _check_proba(proba):
    proba = np.asarray(proba, dtype=np.float64)
    if proba.ndim != 2:
        raise ValueError(
            f"proba must be a 2-D array (n_tasks, n_classes); got shape "
            f"{proba.shape}."
        )
    bad = ~np.all(np.isfinite(proba), axis=1) | (proba < 0).any(axis=1) | (
        np.abs(proba.sum(axis=1) - 1.0) > 1e-6
    )
    if bad.any():
        rows = np.flatnonzero(bad)
        raise ValueError(
            f"Rows {rows[:10].tolist()} of proba ({len(rows)} in all) are not "
            "probability distributions: each row must be finite, non-negative "
            "and sum to 1."
        )
    return proba


def _gold_codes(y_true, proba, classes, missing_label):
    """Column index of each known gold label, and the known-task mask."""
    proba = _check_proba(proba)
    labels, known = _known_gold(y_true, missing_label)
    if len(known) != len(proba):
        raise ValueError(
            f"y_true has {len(known)} labels but proba has {len(proba)} rows; "
            "give one gold label per task (missing_label where unknown)."
        )
    if not known.any():
        raise ValueError(
            "y_true holds no known gold label (all are missing_label, None or "
            "NaN): nothing to score against."
        )
    n_classes = proba.shape[1]
    classes = np.arange(n_classes) if classes is None else np.asarray(classes)
    if len(classes) != n_classes:
        raise ValueError(
            f"classes has {len(classes)} values but proba has {n_classes} "
            "columns; give the label of every column."
        )
    codes = lookup(classes, labels)
    if (codes < 0).any():
        unknown = np.unique(labels[codes < 0].astype(object)).tolist()
        raise ValueError(
            f"Gold labels {unknown[:10]} are not among the classes "
            f"{classes.tolist()} of the columns of proba."
        )
    return codes, proba[known], known


def accuracy(y_true, y_pred, *, missing_label=-1, sample_weight=None):
    """Share of the tasks with a known gold label whose prediction is right.

    Parameters
    ----------
    y_true : array-like of shape (n_tasks,)
        Gold labels; ``missing_label``, ``None`` or ``NaN`` where unknown.
    y_pred : array-like of shape (n_tasks,)
        Predicted (consensus) labels.
    missing_label : scalar, default=-1
        Marks an unknown gold label.
    sample_weight : array-like of shape (n_tasks,), default=None
        Weight of each task.

    Returns
    -------
    accuracy : float

    Examples
    --------
    >>> from skcrowd.metrics import accuracy
    >>> accuracy([0, 1, -1, 1], [0, 0, 1, 1])
    0.6666666666666666
    >>> accuracy(["cat", None, "dog"], ["cat", "dog", "cat"])
    0.5
    """
    labels, known = _known_gold(y_true, missing_label)
    y_pred = _as_1d(y_pred, "y_pred")
    if len(y_pred) != len(known):
        raise ValueError(
            f"y_true has {len(known)} labels but y_pred has {len(y_pred)}."
        )
    if not known.any():
        raise ValueError(
            "y_true holds no known gold label (all are missing_label, None or "
            "NaN): nothing to score against."
        )
    hit = (y_pred[known] == labels).astype(np.float64)
    weight = None if sample_weight is None else np.asarray(sample_weight)[known]
    return float(np.average(hit, weights=weight))


def reliability_table(y_true, proba, *, classes=None, n_bins=10,
                      strategy="uniform", missing_label=-1):
    """Confidence and accuracy of the top class, binned by confidence.

    The data of a reliability diagram and of the expected calibration error:
    tasks with a known gold label are grouped by the probability of their most
    probable class (the confidence); each bin reports its mean confidence,
    its accuracy and its number of tasks.

    Parameters
    ----------
    y_true : array-like of shape (n_tasks,)
        Gold labels; ``missing_label``, ``None`` or ``NaN`` where unknown.
    proba : array-like of shape (n_tasks, n_classes)
        Posterior of each task.
    classes : array-like of shape (n_classes,), default=None
        Label of each column of ``proba`` (``classes_`` of an aggregator);
        ``0..n_classes-1`` when None.
    n_bins : int, default=10
        Number of bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width bins on [0, 1], or bins holding equal numbers of tasks.
    missing_label : scalar, default=-1
        Marks an unknown gold label.

    Returns
    -------
    table : Bunch
        ``confidence``, ``accuracy`` and ``count`` per non-empty bin, and the
        bin ``edges``.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import reliability_table
    >>> proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> table = reliability_table([0, 1, 1, -1], proba, n_bins=2)
    >>> table.count.tolist(), table.accuracy.tolist()
    ([3], [0.6666666666666666])
    """
    codes, proba, _ = _gold_codes(y_true, proba, classes, missing_label)
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer; got {n_bins}.")
    confidence = proba.max(axis=1)
    correct = (proba.argmax(axis=1) == codes).astype(np.float64)
    if strategy == "uniform":
        edges = np.linspace(0.0, 1.0, int(n_bins) + 1)
    elif strategy == "quantile":
        edges = np.quantile(confidence, np.linspace(0.0, 1.0, int(n_bins) + 1))
        edges[0], edges[-1] = 0.0, 1.0
    else:
        raise ValueError(
            f"strategy must be 'uniform' or 'quantile'; got {strategy!r}."
        )
    which = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0,
                    len(edges) - 2)
    count = np.bincount(which, minlength=len(edges) - 1)
    sum_conf = np.bincount(which, confidence, minlength=len(edges) - 1)
    sum_hit = np.bincount(which, correct, minlength=len(edges) - 1)
    full = count > 0
    return Bunch(
        confidence=sum_conf[full] / count[full],
        accuracy=sum_hit[full] / count[full],
        count=count[full],
        edges=edges,
    )


def expected_calibration_error(y_true, proba, *, classes=None, n_bins=10,
                               strategy="uniform", missing_label=-1):
    """Expected calibration error (ECE) of the top-class confidence.

    ``ECE = sum_b (n_b / n) |accuracy_b - confidence_b|`` over the bins of
    :func:`reliability_table` (Guo et al. 2017): 0 when the tasks given a
    confidence of 0.8 are right 80% of the time, and so on.

    Parameters
    ----------
    y_true : array-like of shape (n_tasks,)
        Gold labels; ``missing_label``, ``None`` or ``NaN`` where unknown.
    proba : array-like of shape (n_tasks, n_classes)
        Posterior of each task.
    classes : array-like of shape (n_classes,), default=None
        Label of each column of ``proba``; ``0..n_classes-1`` when None.
    n_bins : int, default=10
        Number of confidence bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-count bins.
    missing_label : scalar, default=-1
        Marks an unknown gold label.

    Returns
    -------
    ece : float
        In [0, 1]; lower is better.

    References
    ----------
    C. Guo, G. Pleiss, Y. Sun, K. Q. Weinberger, "On Calibration of Modern
    Neural Networks", ICML 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import expected_calibration_error
    >>> proba = np.array([[0.9, 0.1], [0.9, 0.1], [0.2, 0.8]])
    >>> round(expected_calibration_error([0, 1, 1], proba, n_bins=5), 4)
    0.3333
    """
    table = reliability_table(y_true, proba, classes=classes, n_bins=n_bins,
                              strategy=strategy, missing_label=missing_label)
    weight = table.count / table.count.sum()
    return float(np.sum(weight * np.abs(table.accuracy - table.confidence)))


def log_loss(y_true, proba, *, classes=None, eps=1e-15, missing_label=-1):
    """Mean negative log-probability of the gold label (cross-entropy).

    Parameters
    ----------
    y_true : array-like of shape (n_tasks,)
        Gold labels; ``missing_label``, ``None`` or ``NaN`` where unknown.
    proba : array-like of shape (n_tasks, n_classes)
        Posterior of each task.
    classes : array-like of shape (n_classes,), default=None
        Label of each column of ``proba``; ``0..n_classes-1`` when None.
    eps : float, default=1e-15
        Probabilities are clipped to ``[eps, 1]`` so a confident mistake costs
        ``-log(eps)`` instead of infinity.
    missing_label : scalar, default=-1
        Marks an unknown gold label.

    Returns
    -------
    loss : float
        Lower is better.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import log_loss
    >>> proba = np.array([[0.5, 0.5], [0.25, 0.75]])
    >>> round(log_loss([0, 1], proba), 4)  # -(log 0.5 + log 0.75) / 2
    0.4904
    """
    codes, proba, _ = _gold_codes(y_true, proba, classes, missing_label)
    p = proba[np.arange(len(codes)), codes]
    return float(-np.mean(np.log(np.clip(p, eps, 1.0))))


def brier_score(y_true, proba, *, classes=None, missing_label=-1):
    """Multi-class Brier score: mean squared distance to the one-hot gold.

    ``mean_i sum_k (proba[i, k] - [y_i == k])^2``, in [0, 2] (Brier 1950's
    original multi-category form).

    Parameters
    ----------
    y_true : array-like of shape (n_tasks,)
        Gold labels; ``missing_label``, ``None`` or ``NaN`` where unknown.
    proba : array-like of shape (n_tasks, n_classes)
        Posterior of each task.
    classes : array-like of shape (n_classes,), default=None
        Label of each column of ``proba``; ``0..n_classes-1`` when None.
    missing_label : scalar, default=-1
        Marks an unknown gold label.

    Returns
    -------
    score : float
        Lower is better.

    References
    ----------
    G. W. Brier, "Verification of forecasts expressed in terms of
    probability", Monthly Weather Review 78(1), 1950.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.metrics import brier_score
    >>> brier_score([0, 1], np.array([[1.0, 0.0], [0.5, 0.5]]))
    0.25
    """
    codes, proba, _ = _gold_codes(y_true, proba, classes, missing_label)
    onehot = np.zeros_like(proba)
    onehot[np.arange(len(codes)), codes] = 1.0
    return float(np.mean(np.sum((proba - onehot) ** 2, axis=1)))


# ----------------------------------------------------------------------
# scorers for scikit-learn's model selection
class PosteriorScorer:
    """A scorer ``scorer(estimator, X, y)`` built on the posterior of X.

    It calls ``estimator.predict_proba(X)`` and compares it with the gold
    labels ``y`` (unknown gold ignored), mapping gold labels to columns
    through ``estimator.classes_``. Any callable with this signature is a
    valid ``scoring`` for :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate`. Build one with
    :func:`make_posterior_scorer`.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, proba, classes=..., missing_label=..., **kwargs)``.
    sign : {1, -1}
        -1 for losses, so that greater is better as scikit-learn expects.
    kwargs : dict
        Extra keyword arguments of ``metric``.

    Examples
    --------
    >>> from skcrowd.metrics import NEG_LOG_LOSS
    >>> NEG_LOG_LOSS
    make_posterior_scorer(log_loss, greater_is_better=False)
    """

    def __init__(self, metric, sign, kwargs):
        self.metric = metric
        self.sign = sign
        self.kwargs = kwargs

    def __call__(self, estimator, X, y, sample_weight=None):
        """Score ``estimator`` on votes X against the gold labels y."""
        proba = estimator.predict_proba(X)
        missing = getattr(estimator, "missing_label", -1)
        value = self.metric(y, proba, classes=estimator.classes_,
                            missing_label=missing, **self.kwargs)
        return self.sign * value

    def __repr__(self):
        extra = "".join(f", {k}={v!r}" for k, v in self.kwargs.items())
        return (f"make_posterior_scorer({self.metric.__name__}, greater_is_better="
                f"{self.sign > 0}{extra})")


def _top_accuracy(y_true, proba, *, classes=None, missing_label=-1):
    """Accuracy of the most probable class (ties: smallest label)."""
    codes, proba, _ = _gold_codes(y_true, proba, classes, missing_label)
    return float(np.mean(proba.argmax(axis=1) == codes))


_top_accuracy.__name__ = "accuracy"


def make_posterior_scorer(metric, *, greater_is_better=True, **kwargs):
    """Make a scorer of aggregators from a metric of posteriors.

    Parameters
    ----------
    metric : callable
        ``metric(y_true, proba, *, classes, missing_label, **kwargs)``, such
        as :func:`log_loss`, :func:`brier_score` or
        :func:`expected_calibration_error`.
    greater_is_better : bool, default=True
        False for losses: the scorer then returns the negated metric.
    **kwargs
        Passed on to ``metric`` (e.g. ``n_bins=15``).

    Returns
    -------
    scorer : PosteriorScorer
        ``scorer(estimator, X, y)``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skcrowd import DawidSkene
    >>> from skcrowd.metrics import (ACCURACY, expected_calibration_error,
    ...                              make_posterior_scorer)
    >>> from skcrowd.simulation import make_crowd
    >>> votes, y_true, _ = make_crowd(120, 10, 3, votes_per_task=5, random_state=0)
    >>> gold = np.where(np.arange(120) % 2 == 0, y_true, -1)  # half known
    >>> scorer = make_posterior_scorer(expected_calibration_error,
    ...                                greater_is_better=False, n_bins=5)
    >>> search = GridSearchCV(DawidSkene(), {"alpha": [0.01, 1.0]}, cv=3,
    ...                       scoring={"ece": scorer, "accuracy": ACCURACY},
    ...                       refit="accuracy").fit(votes, gold)
    >>> search.best_params_ in [{"alpha": 0.01}, {"alpha": 1.0}]
    True
    >>> bool(search.cv_results_["mean_test_ece"].max() <= 0)
    True
    """
    return PosteriorScorer(metric, 1 if greater_is_better else -1, kwargs)


#: Scorer of the accuracy of the posterior's top class.
ACCURACY = make_posterior_scorer(_top_accuracy)
#: Scorer of the negated log loss of the posteriors.
NEG_LOG_LOSS = make_posterior_scorer(log_loss, greater_is_better=False)
#: Scorer of the negated Brier score of the posteriors.
NEG_BRIER_SCORE = make_posterior_scorer(brier_score, greater_is_better=False)
#: Scorer of the negated expected calibration error.
NEG_EXPECTED_CALIBRATION_ERROR = make_posterior_scorer(
    expected_calibration_error, greater_is_better=False
)

#: Scorers by name, for :func:`get_scorer`.
SCORERS = {
    "accuracy": ACCURACY,
    "neg_log_loss": NEG_LOG_LOSS,
    "neg_brier_score": NEG_BRIER_SCORE,
    "neg_expected_calibration_error": NEG_EXPECTED_CALIBRATION_ERROR,
}


def get_scorer(name):
    """The scorer of aggregators called ``name``.

    Parameters
    ----------
    name : str
        One of ``"accuracy"``, ``"neg_log_loss"``, ``"neg_brier_score"``,
        ``"neg_expected_calibration_error"``.

    Returns
    -------
    scorer : PosteriorScorer

    Examples
    --------
    >>> from sklearn.model_selection import cross_val_score
    >>> from skcrowd import DawidSkene
    >>> from skcrowd.metrics import get_scorer
    >>> from skcrowd.simulation import make_crowd
    >>> votes, y_true, _ = make_crowd(90, 10, 3, votes_per_task=5, random_state=0)
    >>> scores = cross_val_score(DawidSkene(), votes, y_true, cv=3,
    ...                          scoring=get_scorer("neg_log_loss"))
    >>> bool((scores <= 0).all())
    True
    """
    try:
        return SCORERS[name]
    except (KeyError, TypeError):
        raise ValueError(
            f"Unknown scorer {name!r}; choose one of {sorted(SCORERS)}."
        ) from None
