"""Vote-counting aggregators: majority vote, vote shares, Wawa."""

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import StrOptions

from ..base import BaseAggregator, normalize_rows, vote_counts

__all__ = ["MajorityVote", "VoteProportions", "Wawa"]


def top_classes(counts):
    """Indicator of the classes with the most votes of each row (all ties)."""
    return (counts == counts.max(axis=1, keepdims=True)) & (counts > 0)


class _VoteCounting(BaseAggregator):
    """Shared fit of the vote-counting models: the class prior is the share of
    all votes, used for tasks without votes; gold labels clamp the fitted
    consensus."""

    def _worker_weight(self, votes):
        """Weight of each worker code (None: every worker counts 1)."""
        return None

    def _fit_votes(self, votes, gold):
        counts = vote_counts(votes)
        self.class_prior_ = normalize_rows(
            counts.sum(axis=0, keepdims=True), 1.0 / votes.n_classes
        )[0]
        self._learn_workers(votes, counts, gold)
        posterior = self._predict_proba_votes(votes)
        known = gold >= 0
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
        return posterior

    def _learn_workers(self, votes, counts, gold):
        """Hook for weighted votes; plain counting learns nothing per worker."""

    def _predict_proba_votes(self, votes):
        counts = vote_counts(votes, self._worker_weight(votes))
        return self._proba_from_counts(counts)

    def _proba_from_counts(self, counts):
        return normalize_rows(counts, self.class_prior_)


class MajorityVote(_VoteCounting):
    """Majority vote: the label given most often wins.

    ``predict_proba`` is the hard vote: 1 for the winning class, ``1/m``
    each for ``m`` tied classes; a task without votes gets the share of each
    class among all votes. Use :class:`VoteProportions` for soft labels.

    Parameters
    ----------
    tie_breaking : {"smallest", "random"}, default="smallest"
        ``"smallest"`` gives a tie to the smallest label of ``classes_``
        (deterministic, as in the Crowd-Kit paper's benchmarks); ``"random"``
        draws one of the tied labels with ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seeds random tie-breaking; an int makes ``predict`` reproducible.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers seen in fit.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks, in the order of ``consensus_label_``.
    consensus_label_ : ndarray of shape (n_tasks,)
        Majority label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Hard vote of each fitted task.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    See Also
    --------
    VoteProportions : soft labels from the same counts.
    Wawa : majority vote weighted by each worker's agreement with it.

    Examples
    --------
    >>> from skcrowd import MajorityVote
    >>> votes = [["cat", "cat", "dog"], ["dog", "cat", None]]
    >>> MajorityVote().fit_predict(votes).tolist()
    ['cat', 'cat']
    >>> MajorityVote(tie_breaking="random", random_state=0).fit(votes).predict(
    ...     [["dog", "cat"]]).tolist() in (["cat"], ["dog"])
    True
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "tie_breaking": [StrOptions({"smallest", "random"})],
        "random_state": ["random_state"],
    }

    def __init__(self, *, tie_breaking="smallest", random_state=None,
                 missing_label=-1):
        self.tie_breaking = tie_breaking
        self.random_state = random_state
        self.missing_label = missing_label

    def _proba_from_counts(self, counts):
        top = top_classes(counts).astype(np.float64)
        return normalize_rows(top, self.class_prior_)

    def _labels_from_proba(self, proba):
        if self.tie_breaking == "smallest":
            return super()._labels_from_proba(proba)
        rng = check_random_state(self.random_state)
        tied = proba == proba.max(axis=1, keepdims=True)
        keys = rng.uniform(0.5, 1.0, size=proba.shape) * tied
        return self.classes_[np.argmax(keys, axis=1)]


class VoteProportions(_VoteCounting):
    """Soft labels: each class's share of a task's votes.

    This is peerannot's ``NaiveSoft``. ``predict`` takes the class with the
    largest share (ties to the smallest label), i.e. the majority vote.

    Parameters
    ----------
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes; the soft label of a task
        without votes.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers seen in fit.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Label with the largest share, per fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Vote shares of each fitted task.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Examples
    --------
    >>> from skcrowd import VoteProportions
    >>> VoteProportions().fit([[0, 0, 1], [1, 1, -1]]).consensus_proba_.round(2)
    array([[0.67, 0.33],
           [0.  , 1.  ]])
    """

    def __init__(self, *, missing_label=-1):
        self.missing_label = missing_label


class Wawa(_VoteCounting):
    """Worker Agreement With Aggregate: majority vote weighted by skill.

    Each worker's weight is the share of its votes that agree with the
    (unweighted) majority vote, ties to the smallest label, or with the gold
    label where ``y`` gives one; the consensus is the weighted vote.
    Workers unseen at fit get the mean weight.

    Parameters
    ----------
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes.
    worker_agreement_ : ndarray of shape (n_workers,)
        Share of each worker's votes that agree with the majority vote.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers seen in fit.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Weighted-vote label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Weighted vote shares of each fitted task.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    References
    ----------
    Appen (formerly CrowdFlower), "Worker Agreement With Aggregate"; as
    implemented in Crowd-Kit (Ustalov et al., JOSS 2024).

    Examples
    --------
    >>> from skcrowd import Wawa
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 1], [1, 0, 0]]
    >>> wawa = Wawa().fit(votes)
    >>> wawa.worker_agreement_.round(2)
    array([0.75, 1.  , 0.5 ])
    >>> wawa.consensus_label_.tolist()
    [0, 1, 0, 0]
    """

    def __init__(self, *, missing_label=-1):
        self.missing_label = missing_label

    def _learn_workers(self, votes, counts, gold):
        reference = np.argmax(counts, axis=1)
        known = gold >= 0
        reference[known] = gold[known]
        agree = votes.weight * (votes.label == reference[votes.task])
        given = np.bincount(votes.worker, votes.weight, minlength=votes.n_workers)
        agreed = np.bincount(votes.worker, agree, minlength=votes.n_workers)
        self.worker_agreement_ = np.divide(
            agreed, given, out=np.zeros_like(agreed), where=given > 0
        )

    def _worker_weight(self, votes):
        weights = self.worker_agreement_
        return np.append(weights, weights.mean())
