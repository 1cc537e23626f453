"""Vote-counting aggregators: majority vote, vote shares, weighted votes."""

import warnings
from collections.abc import Mapping
from numbers import Integral, Real

import numpy as np
from scipy.special import softmax
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels import hard_vote_rows
from .._online import with_pool
from .._parallel import worker_agreement
from .._votes import Votes, lookup
from ..base import (
    BaseAggregator,
    argmax_rows,
    class_totals,
    normalize_rows,
    vote_counts,
)

__all__ = [
    "GoldMajorityVote",
    "IWMV",
    "MajorityVote",
    "PlantNet",
    "TwoThird",
    "VoteProportions",
    "Wawa",
]


class _VoteCounting(BaseAggregator):
    """Shared fit of the vote-counting models: the class prior is the share of
    all votes, used for tasks without votes; gold labels clamp the fitted
    consensus.

    Models that define ``_stat_class_axes`` are written over additive
    counts (``_count_stats``, ``_m_step``) and so learn online with exact
    counts; the others override ``_learn_workers`` / ``_worker_weight``.
    """

    _online_exact = True
    _param_names = ("class_prior",)
    _vote_weight_param = "worker_agreement"  # per-worker param weighing votes

    def _worker_weight(self, votes):
        """Weight of each worker code (None: every worker counts 1)."""
        return None

    def _fit_votes(self, votes, gold):
        if self._stat_class_axes is not None:
            stats = self._count_stats(votes, gold)
            self._set_params(self._m_step(with_pool(stats, self._worker_stat_keys)),
                             votes.n_workers)
            return self._posterior_from_params(votes, self._params_with_unseen, gold)
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

    def _count_stats(self, votes, gold):
        """Additive statistics of votes: the number of votes per class."""
        return {"class_counts": class_totals(votes)}

    def _m_step(self, stats):
        counts = stats["class_counts"]
        return {"class_prior": normalize_rows(counts[None], 1.0 / len(counts))[0]}

    def _predict_with_params(self, votes, params):
        counts = vote_counts(votes, params.get(self._vote_weight_param))
        return self._shares(counts, params["class_prior"])

    def _predict_proba_votes(self, votes):
        if self._stat_class_axes is not None:
            return self._predict_with_params(votes, self._params_with_unseen)
        counts = vote_counts(votes, self._worker_weight(votes))
        return self._proba_from_counts(counts)

    def _shares(self, counts, class_prior):
        """Posterior rows from vote counts (a temporary: overwritten)."""
        return normalize_rows(counts, class_prior, out=counts)

    def _proba_from_counts(self, counts):
        return self._shares(counts, self.class_prior_)


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
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
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
    ...     [["dog", "cat", None]]).tolist() in (["cat"], ["dog"])
    True
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "tie_breaking": [StrOptions({"smallest", "random"})],
        "random_state": ["random_state"],
    }

    _stat_class_axes = {"class_counts": (0,)}

    def __init__(self, *, tie_breaking="smallest", random_state=None, store=None,
                 n_worker_slots=None, allow_new_classes=False, missing_label=-1):
        self.tie_breaking = tie_breaking
        self.random_state = random_state
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _shares(self, counts, class_prior):
        hard_vote_rows(counts, np.asarray(class_prior, dtype=np.float64), counts)
        return counts

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
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
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

    _stat_class_axes = {"class_counts": (0,)}

    def __init__(self, *, store=None, n_worker_slots=None, allow_new_classes=False,
                 missing_label=-1):
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label


class Wawa(_VoteCounting):
    """Worker Agreement With Aggregate: majority vote weighted by skill.

    Each worker's weight is the share of its votes that agree with the
    (unweighted) majority vote, ties to the smallest label, or with the gold
    label where ``y`` gives one; the consensus is the weighted vote.
    Workers unseen at fit get the pooled weight: the share of all votes that
    agree with the majority.

    Parameters
    ----------
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
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

    _param_names = ("class_prior", "worker_agreement")
    _worker_param_names = ("worker_agreement",)
    _worker_stat_keys = ("agreed", "given")
    _stat_class_axes = {"class_counts": (0,), "agreed": (), "given": ()}

    def __init__(self, *, store=None, n_worker_slots=None, allow_new_classes=False,
                 missing_label=-1):
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _count_stats(self, votes, gold):
        counts = vote_counts(votes)
        agreed, given = agreement_counts(votes, _clamped_argmax(counts, gold))
        return {"class_counts": class_totals(votes), "agreed": agreed,
                "given": given}

    def _m_step(self, stats):
        agreed, given = stats["agreed"], stats["given"]
        return {
            **super()._m_step(stats),
            "worker_agreement": np.divide(agreed, given, out=np.zeros_like(agreed),
                                          where=given > 0),
        }


# ----------------------------------------------------------------------
# Weighted votes whose worker weights come from agreement with a reference
def agreement_counts(votes, reference, mask=None):
    """Vote weight of each worker that agrees with ``reference``, and in all.

    ``reference`` holds one class code per task (-1: no reference, the
    task's votes are skipped); ``mask`` (one bool per task) restricts the
    count to some tasks. Returns ``(agreed, given)``, two arrays of shape
    (n_workers,).
    """
    return worker_agreement(votes, np.asarray(reference),
                            None if mask is None else np.asarray(mask, dtype=bool))


def _clamped_argmax(scores, gold):
    """Top class of each row (ties to the smallest), gold labels where known."""
    reference = argmax_rows(scores)
    known = gold >= 0
    reference[known] = gold[known]
    return reference


class _CountWeightedVote(_VoteCounting):
    """Weighted votes whose worker weights are functions of per-worker counts
    of agreement with a reference label per task.

    A subclass defines ``_reference_stats(votes, reference)`` (the additive
    counts of votes against one reference class per task, -1 = none),
    ``_iterate(votes, gold, base)`` (the reference of the given tasks and
    their counts, with ``base`` the counts of every other task, None in
    ``fit``), ``_old_reference(state, old_gold)`` (the reference a kept task
    was counted against) and ``_worker_values(stats, n_classes)`` (a value
    per worker row and which rows count in the mean that an unseen worker
    gets).

    ``fit`` is the iteration on all tasks; ``partial_fit`` re-runs it on the
    batch's tasks only, the counts of every other task held fixed, and
    replaces these tasks' old contribution (counted against their stored
    consensus) by the new one. One batch is therefore ``fit``; with many,
    earlier tasks keep the reference they had when they were last scored.
    The mean value over workers (what an unseen worker gets) is kept as two
    global counts, updated from the old and new rows of the batch's workers.
    """

    _SUM, _COUNT = "worker_value_sum", "worker_value_count"

    def _count_stats(self, votes, gold):
        stats, n_iter, converged = self._iterate(votes, gold, None)
        self._fit_iterations = n_iter, converged
        stats.update(self._value_totals(stats, votes.n_classes))
        return stats

    def _value_totals(self, rows, n_classes):
        values, counted = self._worker_values(rows, n_classes)
        return {self._SUM: np.float64(values[counted].sum()),
                self._COUNT: np.float64(counted.sum())}

    def _mean_value(self, stats, empty):
        """Mean value over the counted workers (``empty`` without any)."""
        count = float(stats[self._COUNT])
        return float(stats[self._SUM]) / count if count > 0 else empty

    def _count_delta(self, all_votes, old_votes, gold, old_gold, stored, state):
        before = self._reference_stats(old_votes,
                                       self._old_reference(state, old_gold))
        keys = self._worker_stat_keys
        base = {k: stored[k] - before[k] for k in keys}
        new, _, _ = self._iterate(all_votes, gold, base)
        delta = {k: new[k] - before[k] for k in new}
        rows = {k: stored[k] + delta[k] for k in keys}
        now = self._value_totals(rows, all_votes.n_classes)
        then = self._value_totals(stored, all_votes.n_classes)
        delta.update({k: now[k] - then[k] for k in now})
        return delta

    @staticmethod
    def _old_reference(state, old_gold):
        """The label each kept task was counted against: its stored
        consensus (the gold label where known)."""
        posterior = state["posterior"]
        reference = (np.argmax(posterior, axis=1) if posterior.shape[1]
                     else np.zeros(len(posterior), dtype=np.intp))
        reference[~state["known"]] = -1
        return reference

    def _finish_iterations(self, name):
        """``n_iter_`` / ``converged_`` of fit; warn when not converged."""
        n_iter, converged = self.__dict__.pop("_fit_iterations")
        self.n_iter_, self.converged_ = n_iter, converged
        if not converged:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter="
                f"{self.max_iter} iterations ({name} still change); increase "
                "max_iter.",
                ConvergenceWarning,
                stacklevel=5,
            )


class GoldMajorityVote(_CountWeightedVote):
    """Majority vote weighted by each worker's accuracy on gold tasks.

    ``fit(X, y)`` needs gold labels in ``y`` for some tasks (``missing_label``,
    ``None`` or ``NaN`` elsewhere). Each worker's weight is the share of its
    votes on gold tasks that match the gold label; a task's consensus is the
    weighted vote (ties to the smallest label) and its ``predict_proba`` the
    weighted vote shares. Tasks with a gold label keep it as their fitted
    consensus.

    A worker who answered no gold task (and a worker unseen at fit) gets
    ``unknown_accuracy``: by default the mean accuracy of the workers who did
    answer gold tasks, i.e. the population-average worker.

    Parameters
    ----------
    unknown_accuracy : "mean" or float in [0, 1], default="mean"
        Weight of workers without any vote on a gold task.
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values (votes and gold labels).
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes; the answer for tasks whose
        voters all weigh 0.
    worker_accuracy_ : ndarray of shape (n_workers,)
        Accuracy of each worker on the gold tasks (``unknown_accuracy`` for
        workers without gold votes); the worker weights.
    worker_gold_votes_ : ndarray of shape (n_workers,)
        Number (weight) of each worker's votes on gold tasks.
    default_accuracy_ : float
        The accuracy given to workers without gold votes and unseen workers.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers seen in fit.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Weighted-vote label of each fitted task (the gold label where known).
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Weighted vote shares of each fitted task.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    ``partial_fit`` is exact: the worker accuracies are ratios of additive
    counts (votes on gold tasks, and those matching the gold label) and the
    default accuracy the mean of those ratios, kept as a running sum over
    the workers; so any split of the votes (and gold labels) into batches
    ends where ``fit`` on everything ends. Before any gold label has
    arrived every worker weighs 1 (a plain majority vote).

    See Also
    --------
    Wawa : the same weighted vote with agreement with the majority instead of
        gold accuracy.

    References
    ----------
    The gold-standard ("honeypot") worker weighting of e.g. C. Callison-Burch,
    "Fast, Cheap, and Creative: Evaluating Translation Quality Using Amazon's
    Mechanical Turk", EMNLP 2009; as ``GoldMajorityVote`` in Crowd-Kit
    (Ustalov et al., JOSS 2024).

    Examples
    --------
    >>> from skcrowd import GoldMajorityVote
    >>> votes = [[0, 0, 1], [1, 1, 0], [0, 1, 1], [1, 0, 0]]
    >>> gold = [0, 1, -1, -1]
    >>> model = GoldMajorityVote().fit(votes, gold)
    >>> model.worker_accuracy_
    array([1., 1., 0.])
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 0]
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "unknown_accuracy": [StrOptions({"mean"}),
                             Interval(Real, 0, 1, closed="both")],
    }
    _param_names = ("class_prior", "worker_accuracy", "worker_gold_votes",
                    "default_accuracy")
    _worker_param_names = ("worker_accuracy", "worker_gold_votes")
    _worker_stat_keys = ("agreed", "given")
    _stat_class_axes = {"class_counts": (0,), "agreed": (), "given": (),
                        _CountWeightedVote._SUM: (),
                        _CountWeightedVote._COUNT: ()}
    _vote_weight_param = "worker_accuracy"

    def __init__(self, *, unknown_accuracy="mean", store=None, n_worker_slots=None,
                 allow_new_classes=False, missing_label=-1):
        self.unknown_accuracy = unknown_accuracy
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags

    def fit(self, X, y=None):
        """Learn worker accuracies on the gold tasks and the weighted votes.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes, in any format accepted by :func:`skcrowd.as_votes`.
        y : array-like of shape (n_tasks,) or dict
            Gold labels of some tasks (``missing_label``, ``None`` or ``NaN``
            where unknown), aligned with the task order of X, or a dict
            ``{task: label}``. Required.

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target "
                "y is None: pass gold labels in y (one per task, missing_label, "
                "None or NaN where unknown) so worker accuracies can be measured."
            )
        return super().fit(X, y)

    def _fit_votes(self, votes, gold):
        if not (votes.weight * (gold[votes.task] >= 0) > 0).any():
            raise ValueError(
                f"{type(self).__name__} learns worker weights from gold labels, "
                "but no task with a known gold label in y has a vote: pass gold "
                "labels in y for tasks that workers answered."
            )
        posterior = super()._fit_votes(votes, gold)
        del self._fit_iterations
        return posterior

    def _reference_stats(self, votes, reference):
        agreed, given = agreement_counts(votes, reference)
        return {"class_counts": class_totals(votes), "agreed": agreed,
                "given": given}

    def _iterate(self, votes, gold, base):
        return self._reference_stats(votes, gold), 1, True

    @staticmethod
    def _old_reference(state, old_gold):
        return old_gold

    @staticmethod
    def _worker_values(stats, n_classes):
        agreed, given = stats["agreed"], stats["given"]
        answered = given > 0
        accuracy = np.divide(agreed, given, out=np.zeros_like(agreed),
                             where=answered)
        return accuracy, answered

    def _m_step(self, stats):
        accuracy, answered = self._worker_values(stats, len(stats["class_counts"]))
        if self.unknown_accuracy == "mean":
            default = self._mean_value(stats, 1.0)
        else:
            default = float(self.unknown_accuracy)
        accuracy[~answered] = default
        accuracy[-1] = default  # the row of every unseen worker
        return {**super()._m_step(stats), "worker_accuracy": accuracy,
                "worker_gold_votes": stats["given"],
                "default_accuracy": default}


class IWMV(_CountWeightedVote):
    """Iterative weighted majority voting (Li & Yu, 2014).

    Starts from the majority vote, then alternates two steps until the
    labels stop changing:

    1. each worker's accuracy ``a_w`` is the share of its votes that agree
       with the current labels (gold labels where ``y`` gives them),
       smoothed toward chance: ``a_w = (agreed + alpha) / (answered + K
       alpha)`` with ``K`` classes;
    2. each task's label is the weighted vote ``argmax_k sum_w v_w 1(vote_w
       = k)`` (ties to the smallest label), with the weight ``v_w`` of
       ``weighting``:

       - ``"log_odds"``: ``v_w = log((K - 1) a_w / (1 - a_w))``, the weight of
         the oracle MAP rule when every worker is a "one-coin" worker (right
         with probability ``a_w``, wrong labels equally likely);
       - ``"linear"``: ``v_w = K a_w - 1``, the first-order expansion of the
         log-odds around chance (``a_w = 1/K``) used by Li & Yu's Algorithm 1
         (with ``alpha=0`` it is exactly their IWMV).

    A worker at chance level weighs 0 and a worse-than-chance worker counts
    against the labels it gives. ``predict_proba`` is the softmax of the
    weighted scores: with ``"log_odds"`` it is the posterior of the one-coin
    model with a uniform class prior. Workers unseen at fit get the weight
    of the mean accuracy; tasks without votes get ``class_prior_``.

    Parameters
    ----------
    weighting : {"log_odds", "linear"}, default="log_odds"
        How an accuracy becomes a vote weight (see above).
    alpha : float, default=1.0
        Pseudo-count pulling each accuracy toward chance (``1/K``); keeps
        log-odds weights finite, so it must be positive with
        ``weighting="log_odds"``.
    max_iter : int, default=100
        Maximum number of weight/label updates (per batch in
        ``partial_fit``).
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes (for tasks without votes).
    worker_accuracy_ : ndarray of shape (n_workers,)
        Smoothed agreement of each worker with the final labels.
    worker_weight_ : ndarray of shape (n_workers,)
        Vote weight of each worker.
    n_iter_ : int
        Number of weight/label updates run.
    converged_ : bool
        Whether the labels stopped changing within ``max_iter``.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers seen in fit.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Weighted-vote label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Softmax of the weighted vote scores of each fitted task.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    ``partial_fit`` keeps, per worker, the counts of its votes and of those
    that agree with the label of their task. A batch re-runs the iteration
    above on the batch's tasks only (with all their votes so far), starting
    from their majority vote, with the counts of every other task held
    fixed; the batch's tasks' old counts (against the labels they had) are
    replaced by the new ones. On one batch this is ``fit``; over many, a
    task keeps the label it had when last scored (its votes are re-counted
    when it comes back), so the result is close to ``fit`` on everything
    (zheng_product in 10 batches: within 0.002 of its accuracy). Unseen
    workers get the mean accuracy, kept as a running sum over the workers
    (approximate after ``allow_new_classes`` grew ``classes_``: the
    smoothing depends on ``K``).

    See Also
    --------
    Wawa : one step of the same idea with the raw agreement as the weight.
    OneCoinDawidSkene : the full EM of the one-coin model.

    References
    ----------
    H. Li and B. Yu, "Error Rate Bounds and Iterative Weighted Majority
    Voting for Crowdsourcing", arXiv:1411.4086, 2014.

    Examples
    --------
    >>> from skcrowd import IWMV
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 1], [1, 0, 0], [1, 1, 0]]
    >>> model = IWMV().fit(votes)
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 0, 1]
    >>> model.worker_weight_.round(2)
    array([ 0.92,  1.79, -0.29])
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "weighting": [StrOptions({"log_odds", "linear"})],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }
    _param_names = ("class_prior", "worker_accuracy", "worker_weight")
    _worker_param_names = ("worker_accuracy", "worker_weight")
    _worker_stat_keys = ("agreed", "given")
    _stat_class_axes = {"class_counts": (0,), "agreed": (), "given": (),
                        _CountWeightedVote._SUM: (),
                        _CountWeightedVote._COUNT: ()}
    _vote_weight_param = "worker_weight"

    def __init__(self, *, weighting="log_odds", alpha=1.0, max_iter=100,
                 store=None, n_worker_slots=None, allow_new_classes=False,
                 missing_label=-1):
        self.weighting = weighting
        self.alpha = alpha
        self.max_iter = max_iter
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _validate_params(self):
        super()._validate_params()
        if self.weighting == "log_odds" and self.alpha <= 0:
            raise ValueError(
                "IWMV with weighting='log_odds' needs alpha > 0 (a worker who "
                f"always agrees would get an infinite weight); got alpha="
                f"{self.alpha}. Use a positive alpha or weighting='linear'."
            )

    def _weights(self, accuracy, n_classes):
        """Vote weight of each accuracy."""
        if n_classes < 2:
            return np.ones_like(accuracy)
        if self.weighting == "linear":
            return n_classes * accuracy - 1.0
        return np.log((n_classes - 1) * accuracy) - np.log1p(-accuracy)

    def _worker_values(self, stats, n_classes):
        """Smoothed accuracy of each worker row; rows with votes count."""
        agreed, given = stats["agreed"], stats["given"]
        total = given + n_classes * self.alpha
        accuracy = np.divide(agreed + self.alpha, total,
                             out=np.full_like(agreed, 1.0 / max(n_classes, 1)),
                             where=total > 0)
        return accuracy, given > 0

    @staticmethod
    def _reference_stats(votes, reference):
        agreed, given = agreement_counts(votes, reference)
        return {"class_counts": class_totals(votes), "agreed": agreed,
                "given": given}

    def _iterate(self, votes, gold, base):
        n_classes = votes.n_classes
        reference = _clamped_argmax(vote_counts(votes), gold)
        converged, n_iter = False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            stats = self._reference_stats(votes, reference)
            rows = stats if base is None else {
                k: base[k] + stats[k] for k in self._worker_stat_keys}
            weight = self._weights(self._worker_values(rows, n_classes)[0],
                                   n_classes)
            updated = _clamped_argmax(vote_counts(votes, weight), gold)
            if np.array_equal(updated, reference):
                converged = True
                break
            reference = updated
        return stats, n_iter, converged

    def _fit_votes(self, votes, gold):
        posterior = super()._fit_votes(votes, gold)
        self._finish_iterations("the labels")
        return posterior

    def _m_step(self, stats):
        n_classes = len(stats["class_counts"])
        accuracy = self._worker_values(stats, n_classes)[0]
        accuracy[-1] = self._mean_value(stats, 1.0 / max(n_classes, 1))
        return {**super()._m_step(stats), "worker_accuracy": accuracy,
                "worker_weight": self._weights(accuracy, n_classes)}

    def _shares(self, counts, class_prior):
        has_votes = np.asarray(np.abs(counts).sum(axis=1) > 0)
        proba = np.tile(class_prior, (counts.shape[0], 1))
        proba[has_votes] = softmax(counts[has_votes], axis=1)
        return proba


def _fill_missing(labels, accepted, fill):
    """``labels`` with ``fill`` where not ``accepted``, in a dtype holding both."""
    if accepted.all():
        return labels
    fill_kind = np.asarray(fill).dtype.kind
    if (labels.dtype.kind in "iufb" and fill_kind in "iufb") or (
            labels.dtype.kind in "US" and fill_kind in "US"):
        dtype = np.result_type(labels.dtype, np.asarray(fill).dtype)
    else:
        dtype = object
    out = labels.astype(dtype)
    out[~accepted] = fill
    return out


class TwoThird(_VoteCounting):
    """Two-third agreement: a label is accepted only with a clear consensus.

    A task gets a label when it has at least ``min_votes`` votes and one
    label holds at least ``threshold`` (two thirds) of them; every other task
    gets no label: ``predict`` returns ``missing_label`` for it (as
    scikit-learn's semi-supervised estimators mark unlabeled samples) and
    ``consensus_reached_`` is False. This is peerannot's ``TwoThird``
    strategy, a filter that keeps only the tasks with a reliable answer.
    An accepted label is unique, so there are no ties; a single-vote task
    never reaches consensus with the default ``min_votes=2``.

    ``predict_proba`` gives the vote shares of every task (as
    :class:`VoteProportions`), so soft labels exist for all tasks; tasks
    with a gold label in ``y`` keep it as their fitted consensus.

    Parameters
    ----------
    threshold : float in (0.5, 1], default=2/3
        Share of the votes the top label needs.
    min_votes : float, default=2
        Number (total weight) of votes a task needs.
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``, and is the output for tasks without
        consensus.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes; the soft label of a task
        without votes.
    consensus_reached_ : ndarray of shape (n_tasks,) of bool
        Whether each fitted task reached the consensus (or has a gold label).
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers seen in fit.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Accepted label of each fitted task, ``missing_label`` without one.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Vote shares of each fitted task.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    The rule reads each task's vote counts only, so ``partial_fit`` is
    exact: any split of the votes into batches ends where ``fit`` on
    everything ends; :meth:`consensus` gives ``missing_label`` to the tasks
    without consensus and says which tasks reached it (``reached``).

    References
    ----------
    T. Lefort, B. Charlier, A. Joly, J. Salmon, "Peerannot: classification
    for crowdsourced image datasets with Python", Computo, 2024
    (``peerannot.models.TwoThird``: "accepts the label given with a two
    third consensus on at least 2 votes and returns -1 otherwise").

    Examples
    --------
    >>> from skcrowd import TwoThird
    >>> votes = [["a", "a", "b"], ["a", "b", None], ["b", None, None]]
    >>> model = TwoThird().fit(votes)
    >>> model.consensus_label_.tolist()
    ['a', -1, -1]
    >>> model.consensus_reached_.tolist()
    [True, False, False]
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "threshold": [Interval(Real, 0.5, 1, closed="right")],
        "min_votes": [Interval(Real, 0, None, closed="left")],
    }

    _stat_class_axes = {"class_counts": (0,)}

    def __init__(self, *, threshold=2 / 3, min_votes=2, store=None,
                 n_worker_slots=None, allow_new_classes=False, missing_label=-1):
        self.threshold = threshold
        self.min_votes = min_votes
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _accepted(self, counts):
        """Tasks whose top label reaches the threshold with enough votes."""
        total = counts.sum(axis=1)
        top = counts.max(axis=1) if counts.shape[1] else np.zeros(len(counts))
        # a small tolerance so that 2 of 3 votes reach a threshold of 2/3
        return (total >= self.min_votes) & (total > 0) & (
            top >= self.threshold * total * (1 - 1e-12))

    def _fit_votes(self, votes, gold):
        self.consensus_reached_ = self._accepted(vote_counts(votes)) | (gold >= 0)
        return super()._fit_votes(votes, gold)

    def fit(self, X, y=None):
        """Count the votes and accept the labels with a two-third consensus.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes, in any format accepted by :func:`skcrowd.as_votes`.
        y : array-like of shape (n_tasks,) or dict, default=None
            Known gold labels of some tasks, as in
            :meth:`skcrowd.base.BaseAggregator.fit`.

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        super().fit(X, y)
        self.consensus_label_ = _fill_missing(
            self.consensus_label_, self.consensus_reached_, self.missing_label)
        return self

    def _predict_labels(self, votes):
        """The accepted label of each task, ``missing_label`` without one.

        ``predict`` returns these, and ``score`` counts a task without
        consensus as an error (use ``consensus_reached_`` for coverage).
        """
        labels = self._labels_from_proba(self._predict_proba_votes(votes))
        return _fill_missing(labels, self._accepted(vote_counts(votes)),
                             self.missing_label)

    def consensus(self, *, refresh=True):
        """Current consensus of every task seen by ``partial_fit``.

        Parameters
        ----------
        refresh : bool, default=True
            Recompute every task's vote shares from all its votes; with
            False, each keeps those computed when its last batch arrived.

        Returns
        -------
        consensus : Bunch
            ``task_ids``, ``labels`` (``missing_label`` for the tasks without
            consensus), ``proba`` (vote shares, columns ``classes_``) and
            ``reached`` (whether each task reached the consensus or has a
            gold label), tasks in order of arrival.
        """
        result = super().consensus(refresh=refresh)
        kept = self.store_.all_votes()
        votes = Votes(lookup(result.task_ids, kept["task"]),
                      np.zeros(len(kept["label"]), dtype=np.int64),
                      kept["label"], kept["weight"], task_ids=result.task_ids,
                      worker_ids=np.array([0]), classes=self.classes_)
        gold = self.store_.all_tasks()[2]
        result.reached = self._accepted(vote_counts(votes)) | (gold >= 0)
        result.labels = _fill_missing(result.labels, result.reached,
                                      self.missing_label)
        return result


class PlantNet(_CountWeightedVote):
    """Pl@ntNet's vote weighting: trust grows with the classes a worker knows.

    The label aggregation of the Pl@ntNet citizen-science platform, as in
    peerannot's ``PlantNet`` strategy. A worker's weight grows with ``n_w``,
    the number of distinct classes (species) it has identified correctly:

    ``w = n_w ** alpha - n_w ** beta + log(2.1)``

    (every worker starts at ``log(2.1)``). A task's label is the weighted
    vote (ties to the smallest label); its *confidence* is the weight of the
    votes for that label and its *accuracy* that weight over the weight of
    all its votes. A task is *valid* when confidence > ``theta_conf`` and
    accuracy > ``theta_acc``. Then

    ``n_w = |A_w| + round(vote_credit * |B_w \\ A_w|)``

    where ``A_w`` holds the labels of the valid tasks that ``w`` authored and
    labeled like the consensus (pass ``authors`` to :meth:`fit`) and ``B_w``
    the labels ``w`` gave in agreement with the consensus of any task
    (Pl@ntNet credits a vote on another user's observation a tenth of an
    authored one). Weights, labels, validity and ``n_w`` are updated in turn
    until ``n_w`` stops changing.

    With few classes and no authorship (most crowdsourcing data sets)
    ``n_w`` stays 0 or 1 and this is a plain majority vote; the rule is made
    for thousands of species. ``predict_proba`` gives the weighted vote
    shares; workers unseen at fit get the mean weight. Tasks with a gold
    label keep it (they count as valid).

    Parameters
    ----------
    alpha : float, default=0.5
        Exponent of the growing term of the weight; at least ``beta``.
    beta : float, default=0.2
        Exponent of the subtracted term of the weight.
    theta_conf : float, default=2.0
        Confidence a task needs to be valid.
    theta_acc : float in [0, 1], default=0.7
        Accuracy a task needs to be valid.
    vote_credit : float in [0, 1], default=0.1
        Credit of a class identified by a vote on a task the worker did not
        author.
    max_iter : int, default=100
        Maximum number of updates of ``n_w`` (per batch in
        ``partial_fit``).
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes (for tasks without votes).
    worker_n_identified_ : ndarray of shape (n_workers,)
        ``n_w``, the credited number of classes each worker identified.
    worker_weight_ : ndarray of shape (n_workers,)
        Vote weight of each worker.
    consensus_valid_ : ndarray of shape (n_tasks,) of bool
        Validity of each fitted task.
    consensus_confidence_ : ndarray of shape (n_tasks,)
        Weight of the votes for each fitted task's label.
    consensus_accuracy_ : ndarray of shape (n_tasks,)
        Share of the vote weight for each fitted task's label.
    n_iter_ : int
        Number of updates run.
    converged_ : bool
        Whether ``n_w`` stopped changing within ``max_iter``.
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

    Notes
    -----
    ``n_w`` is a function of additive counts: per worker and class, the
    number of its votes that agree with their task's label (and of those on
    valid tasks it authored). ``partial_fit`` keeps these counts and
    re-runs the updates above on the batch's tasks only (with all their
    votes so far), the counts of every other task held fixed, replacing the
    batch's tasks' old counts (against the labels they had) by the new
    ones. On one batch this is ``fit``; over many, a task keeps the label it
    had when last scored until it comes back, so the result is close to
    ``fit`` on everything. Authorship is not kept by the stores, so
    ``partial_fit`` credits every class with ``vote_credit`` (pass
    ``authors`` to :meth:`fit`); the per-task validity, confidence and
    accuracy attributes are set by ``fit`` only. Unseen workers get the mean
    weight, kept as a running sum over the workers.

    References
    ----------
    T. Lefort, A. Affouard, B. Charlier, J.-C. Lombardo, M. Chouet, H. Goëau,
    J. Salmon, P. Bonnet, A. Joly, "Cooperative learning of Pl@ntNet's
    Artificial Intelligence algorithm: how does it work and how can we
    improve it?", arXiv:2406.03356, 2024; peerannot's
    ``peerannot.models.aggregation.plantnet.PlantNet`` (validity thresholds
    2 and 0.7, base weight log(2.1)).

    Examples
    --------
    >>> from skcrowd import PlantNet
    >>> votes = {"t1": {"ann": "rose", "bob": "rose", "cid": "tulip"},
    ...          "t2": {"ann": "tulip", "bob": "tulip", "cid": "tulip"},
    ...          "t3": {"ann": "lily", "cid": "rose"}}
    >>> model = PlantNet(vote_credit=1.0).fit(votes)
    >>> model.worker_n_identified_.tolist()
    [3.0, 2.0, 1.0]
    >>> model.consensus_label_.tolist()
    ['rose', 'tulip', 'lily']
    >>> model.consensus_valid_.tolist()
    [True, True, False]
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "beta": [Interval(Real, 0, None, closed="left")],
        "theta_conf": [Interval(Real, 0, None, closed="left")],
        "theta_acc": [Interval(Real, 0, 1, closed="both")],
        "vote_credit": [Interval(Real, 0, 1, closed="both")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
    }

    #: Weight of a worker who identified no class yet (Pl@ntNet's constant).
    BASE_WEIGHT = float(np.log(2.1))

    _param_names = ("class_prior", "worker_n_identified", "worker_weight")
    _worker_param_names = ("worker_n_identified", "worker_weight")
    _worker_stat_keys = ("agreed_classes", "authored_classes", "given")
    _stat_class_axes = {"class_counts": (0,), "agreed_classes": (0,),
                        "authored_classes": (0,), "given": (),
                        _CountWeightedVote._SUM: (),
                        _CountWeightedVote._COUNT: ()}
    _vote_weight_param = "worker_weight"

    def __init__(self, *, alpha=0.5, beta=0.2, theta_conf=2.0, theta_acc=0.7,
                 vote_credit=0.1, max_iter=100, store=None, n_worker_slots=None,
                 allow_new_classes=False, missing_label=-1):
        self.alpha = alpha
        self.beta = beta
        self.theta_conf = theta_conf
        self.theta_acc = theta_acc
        self.vote_credit = vote_credit
        self.max_iter = max_iter
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _validate_params(self):
        super()._validate_params()
        if self.alpha < self.beta:
            raise ValueError(
                "PlantNet needs alpha >= beta so that a worker's weight grows "
                f"with the classes it identified; got alpha={self.alpha} and "
                f"beta={self.beta}."
            )

    def fit(self, X, y=None, *, authors=None):
        """Learn the worker weights and the weighted votes.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes, in any format accepted by :func:`skcrowd.as_votes`.
        y : array-like of shape (n_tasks,) or dict, default=None
            Known gold labels of some tasks, as in
            :meth:`skcrowd.base.BaseAggregator.fit`.
        authors : array-like of shape (n_tasks,) or dict, default=None
            The worker who authored (submitted) each task, in the task order
            of X (``None`` where unknown), or a dict ``{task: worker}``.
            Classes identified on authored valid tasks count fully in
            ``n_w``; without authors only ``vote_credit`` applies.

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        self._authors = authors
        try:
            return super().fit(X, y)
        finally:
            del self._authors

    def _author_codes(self, votes):
        """Worker code of each task's author (-1 when unknown)."""
        authors = getattr(self, "_authors", None)
        if authors is None:
            return np.full(votes.n_tasks, -1, dtype=np.int64)
        if isinstance(authors, Mapping):
            values = [authors.get(t) for t in votes.task_ids.tolist()]
        else:
            values = list(np.asarray(authors, dtype=object))
            if len(values) != votes.n_tasks:
                raise ValueError(
                    f"authors has {len(values)} entries but X has "
                    f"{votes.n_tasks} tasks; give one author per task (None "
                    "where unknown) or a dict {task: worker}."
                )
        index = {w: i for i, w in enumerate(votes.worker_ids.tolist())}
        return np.array([index.get(a, -1) if a is not None else -1
                         for a in values], dtype=np.int64)

    def _weight_of(self, n_identified):
        return (n_identified ** self.alpha - n_identified ** self.beta
                + self.BASE_WEIGHT)

    def _n_identified(self, stats):
        """Credited number of distinct classes of each worker row."""
        n_authored = (stats["authored_classes"] > 0).sum(axis=1)
        n_agreed = (stats["agreed_classes"] > 0).sum(axis=1)
        return n_authored + np.round(self.vote_credit * (n_agreed - n_authored))

    def _worker_values(self, stats, n_classes):
        """Vote weight of each worker row; rows with votes count."""
        return self._weight_of(self._n_identified(stats)), stats["given"] > 0

    @staticmethod
    def _reference_stats(votes, reference, valid=None, author=None):
        """Per worker and class, its votes that agree with the task's label
        (and those on valid tasks it authored), as counts of votes."""
        n_workers, n_classes = votes.n_workers, votes.n_classes
        agree = (votes.label == reference[votes.task]) & (reference[votes.task] >= 0)
        pair = votes.worker.astype(np.int64) * n_classes + votes.label
        size = n_workers * n_classes
        agreed = np.bincount(pair[agree], minlength=size).reshape(n_workers, -1)
        if author is None:
            authored = np.zeros_like(agreed)
        else:
            mine = agree & valid[votes.task] & (author[votes.task] == votes.worker)
            authored = np.bincount(pair[mine], minlength=size).reshape(n_workers, -1)
        return {"class_counts": class_totals(votes),
                "agreed_classes": agreed.astype(np.float64),
                "authored_classes": authored.astype(np.float64),
                "given": np.bincount(votes.worker, minlength=n_workers).astype(
                    np.float64)}

    def _scores(self, votes, weight, gold):
        """Labels, confidence, accuracy and validity of weighted votes."""
        scores = vote_counts(votes, weight)
        labels = _clamped_argmax(scores, gold)
        confidence = scores[np.arange(votes.n_tasks), labels]
        total = scores.sum(axis=1)
        accuracy = np.divide(confidence, total, out=np.zeros_like(total),
                             where=total > 0)
        valid = ((confidence > self.theta_conf) & (accuracy > self.theta_acc)
                 | (gold >= 0))
        return labels, confidence, accuracy, valid

    def _iterate(self, votes, gold, base):
        author = self._author_codes(votes)
        n_identified = (np.zeros(votes.n_workers) if base is None
                        else self._n_identified(base))
        converged, n_iter = False, 0
        while n_iter < self.max_iter:
            n_iter += 1
            labels, _, _, valid = self._scores(
                votes, self._weight_of(n_identified), gold)
            stats = self._reference_stats(votes, labels, valid, author)
            rows = stats if base is None else {
                k: base[k] + stats[k] for k in self._worker_stat_keys}
            updated = self._n_identified(rows)
            if np.array_equal(updated, n_identified):
                converged = True
                break
            n_identified = updated
        return stats, n_iter, converged

    def _fit_votes(self, votes, gold):
        posterior = super()._fit_votes(votes, gold)
        self._finish_iterations("the identified-class counts")
        _, self.consensus_confidence_, self.consensus_accuracy_, \
            self.consensus_valid_ = self._scores(votes, self.worker_weight_, gold)
        return posterior

    def _m_step(self, stats):
        weight, _ = self._worker_values(stats, len(stats["class_counts"]))
        weight[-1] = self._mean_value(stats, self.BASE_WEIGHT)
        return {**super()._m_step(stats),
                "worker_n_identified": self._n_identified(stats).astype(float),
                "worker_weight": weight}
