"""KOS: message passing for binary tasks (Karger, Oh and Shah, 2011)."""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from .._online import (
    running_average,
    running_estimates,
    shared_vote_weight,
    with_pool,
)
from ..base import BaseAggregator

__all__ = ["KOS"]


class KOS(BaseAggregator):
    """KOS: iterative message passing on the task-worker graph (binary).

    Every vote is an edge of the bipartite task-worker graph, with ``A = +1``
    for the second class of ``classes_`` and ``-1`` for the first (times the
    vote's weight). Each edge carries a task message ``x`` (how strongly the
    other workers of the task vote for the second class) and a worker message
    ``y`` (how reliable the worker is, judged on its other tasks)::

        x[i -> j] = sum over the other workers j' of task i: A[i, j'] y[j' -> i]
        y[j -> i] = sum over the other tasks i' of worker j: A[i', j] x[i' -> j]

    starting from ``y ~ N(1, 1)``. Each iteration is two passes over the
    votes; worker messages are rescaled to unit root-mean-square and
    positive mean (the labels depend on their signs only, and workers are
    taken to be better than random on average). A fitted task's label is
    the sign of ``sum_j A[i, j] y[j -> i]``; where it is 0 (no information
    from the messages) the majority vote decides.

    ``predict_proba``: KOS gives signs, not probabilities. Its scores are
    mapped to log-odds by one factor ``c``: the logistic regression (no
    intercept) of the posteriors that a one-coin model would give the fitted
    tasks, with each worker's accuracy estimated by its (Laplace-smoothed)
    agreement with the KOS labels, on the KOS scores. So the KOS decision
    (the sign) is kept and the confidence is that of the matching one-coin
    model, on average. ``worker_reliability_`` is each worker's reliability
    ``sum_i A[i, j] x[i -> j]`` times ``c``: the log-odds that one vote of
    the worker adds. New tasks are scored with these reliabilities (a task's
    log-odds is the signed sum over its votes); unseen workers get the mean
    reliability (or 0 if it is negative).

    ``partial_fit``: a batch's local problem is its tasks with all their
    votes so far. The first batch is ``fit`` on it. A later batch ``t``
    runs the same message passing on its local graph, started from the
    workers' current reliabilities (new workers: the mean) instead of
    ``N(1, 1)``, and calibrates its reliabilities to log-odds as ``fit``
    does. Message passing needs the graph, so the messages of earlier
    batches are not kept: each worker keeps a running, vote-weighted mean
    of its batch reliabilities, ``R <- (1 - eta_t) R + eta_t * scale *
    v * r_batch`` and ``V <- (1 - eta_t) V + eta_t * scale * v`` with ``v``
    its votes on tasks shared with another worker, ``eta_t =
    (learning_offset + t) ** -learning_decay`` and ``scale`` = tasks seen /
    tasks in the batch (stepwise EM's schedule); ``worker_reliability_`` is
    ``R / V``. The batch's tasks are scored with these reliabilities, as
    ``predict_proba`` scores new tasks (the first batch keeps ``fit``'s
    posteriors).

    Parameters
    ----------
    max_iter : int, default=100
        Maximum number of message-passing iterations.
    tol : float, default=1e-6
        Stop when the worker messages change by less (relative, root mean
        square). With ``tol=0`` exactly ``max_iter`` iterations run. On
        small or very irregular graphs the dominant eigenvalues of the
        message-passing operator can be complex and the messages rotate
        instead of converging; then ``max_iter`` iterations run, as in the
        paper's fixed-iteration algorithm, and ``converged_`` is False.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial worker messages ``N(1, 1)``.
    learning_offset : float, default=10.0
        ``partial_fit`` only: the step size of batch ``t`` is
        ``(learning_offset + t) ** -learning_decay`` (names and defaults of
        :class:`~sklearn.decomposition.LatentDirichletAllocation`).
    learning_decay : float in (0, 1], default=0.7
        ``partial_fit`` only: how fast the step size decays.
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots (memory bounded up front for
        unbounded worker populations); None keeps one slot per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``
        instead of raising (KOS still accepts at most two).
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values (at most two).
    worker_reliability_ : ndarray of shape (n_workers,)
        Each worker's KOS reliability, scaled to the log-odds (for the
        second class) that one of its votes for the second class adds;
        negative for adversaries.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        KOS label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task (see above).
    n_iter_ : int
        Number of iterations run by ``fit``.
    converged_ : bool
        Whether the messages changed by less than ``tol`` in ``fit``.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    References
    ----------
    D. R. Karger, S. Oh and D. Shah, "Iterative Learning for Reliable
    Crowdsourcing Systems", Advances in Neural Information Processing Systems
    24 (NIPS 2011); "Budget-Optimal Task Allocation for Reliable
    Crowdsourcing Systems", Operations Research 62(1):1-24, 2014.

    Examples
    --------
    >>> from skcrowd import KOS
    >>> from skcrowd.simulation import make_crowd
    >>> votes, truth, _ = make_crowd(300, 30, 2, votes_per_task=5,
    ...                              strategy="hammer-spammer", ratio=0.4,
    ...                              hammer_accuracy=0.8, random_state=0)
    >>> kos = KOS(random_state=0).fit(votes)
    >>> kos.converged_
    True
    >>> print(f"{(kos.consensus_label_ == truth).mean():.2f}")
    0.83
    >>> kos.predict_proba(votes[:3]).round(2)
    array([[0.  , 1.  ],
           [0.05, 0.95],
           [0.23, 0.77]])

    Online, in two batches of tasks:

    >>> online = KOS(random_state=0)
    >>> online = online.partial_fit(votes[:150]).partial_fit(votes[150:])
    >>> print(f"{(online.consensus().labels == truth).mean():.2f}")
    0.83
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }
    _param_names = ("worker_reliability",)
    _worker_param_names = ("worker_reliability",)
    # running (vote-weighted) mean of the batch reliabilities, see _online
    _worker_stat_keys = ("reliability", "evidence")
    _stat_class_axes = {"reliability": (), "evidence": ()}

    def __init__(self, *, max_iter=100, tol=1e-6, random_state=None,
                 learning_offset=10.0, learning_decay=0.7, store=None,
                 n_worker_slots=None, allow_new_classes=False, missing_label=-1):
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    @staticmethod
    def _check_binary(votes):
        if votes.n_classes > 2:
            raise ValueError(
                f"KOS is a binary method but the votes have {votes.n_classes} "
                f"classes {votes.classes.tolist()[:10]}; it accepts at most 2. Use "
                "a multi-class aggregator (e.g. DawidSkene, MACE or GLAD)."
            )

    @staticmethod
    def _signed(votes):
        """+weight for a vote for the second class, -weight for the first."""
        return np.where(votes.label == 1, votes.weight, -votes.weight)

    def _fit_votes(self, votes, gold):
        posterior, self.worker_reliability_, self.n_iter_, self.converged_ = (
            self._pass_messages(votes, gold))
        return posterior

    def _pass_messages(self, votes, gold, start=None):
        """Message passing from ``N(1, 1)`` (or each worker's ``start``);
        returns the posterior, the reliabilities, the number of iterations
        and whether they converged."""
        self._check_binary(votes)
        if votes.n_classes < 2:
            return (np.ones((votes.n_tasks, votes.n_classes)),
                    np.ones(votes.n_workers), 0, True)
        signed = self._signed(votes)
        gold_votes = (gold >= 0)[votes.task]
        gold_sign = np.where(gold == 1, 1.0, -1.0)[votes.task[gold_votes]]
        if start is not None and start.mean() > 0:
            y = start[votes.worker] / start.mean()
        else:
            rng = check_random_state(self.random_state)
            y = rng.normal(1.0, 1.0, size=votes.n_votes)
        x = np.zeros(votes.n_votes)
        norm = 1.0
        converged, n_iter = False, 0
        for _ in range(self.max_iter):
            n_iter += 1
            x = self._messages(votes.task, votes.n_tasks, signed, y)
            if gold_votes.any():
                # a gold task tells each of its workers its label, as
                # strongly as the strongest task message
                x[gold_votes] = gold_sign * max(np.abs(x).max(), 1.0)
            new = self._messages(votes.worker, votes.n_workers, signed, x)
            norm = np.sqrt(np.mean(new**2))
            if norm == 0:  # no worker shares a task with another: no signal
                y, norm = new, 1.0
                converged = True
                break
            # orientation: workers are better than random on average (the
            # prior behind KOS's N(1, 1) start); also stops a sign flip per
            # iteration when the dominant eigenvalue is negative
            new /= norm if new.sum() >= 0 else -norm
            change = np.sqrt(np.mean((new - y) ** 2))
            y = new
            if change < self.tol:
                converged = True
                break
        score = np.bincount(votes.task, signed * y, minlength=votes.n_tasks)
        scale = self._log_odds_scale(votes, signed, score)
        # the workers' messages to new tasks: sums over all their tasks, on
        # the scale of y
        reliability = scale / norm * np.bincount(
            votes.worker, signed * x, minlength=votes.n_workers)
        posterior = self._posterior(votes, signed, scale * score)
        known = gold >= 0
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
        return posterior, reliability, n_iter, converged

    def _m_step(self, stats):
        """partial_fit: reliabilities from the running means (the last,
        pooled row is unused: predictions give unseen workers the mean)."""
        estimates = running_estimates(stats, ("reliability",), fill=0.0)
        return {"worker_reliability": estimates["reliability"]}

    def _online_step(self, votes, old_votes, gold, old_gold, stored, global_stats,
                     eta, scale):
        """partial_fit on the batch's tasks (see the class docstring)."""
        first = not stored["evidence"].any()
        start = None if first else running_estimates(
            stored, ("reliability",))["reliability"]
        posterior, reliability, _, _ = self._pass_messages(votes, gold, start)
        rows = running_average(stored, {"reliability": reliability},
                               shared_vote_weight(votes), eta, scale)
        if not first and votes.n_classes == 2:
            params = self._m_step(with_pool(rows, self._worker_stat_keys))
            posterior = self._scored(votes, params["worker_reliability"])
        return rows, {}, posterior, np.nan

    @staticmethod
    def _messages(group, n_groups, signed, incoming):
        """For every vote: sum over the other votes of its group of signed *
        incoming (the sum over the group minus the vote's own term)."""
        own = signed * incoming
        return np.bincount(group, own, minlength=n_groups)[group] - own

    @staticmethod
    def _log_odds_scale(votes, signed, score):
        """Factor c such that expit(c * score) best matches (in cross-entropy)
        the one-coin posteriors given the workers' agreement with sign(score)."""
        label = (score > 0).astype(votes.label.dtype)
        agreeing = votes.weight * (votes.label == label[votes.task])
        agree = np.bincount(votes.worker, agreeing, minlength=votes.n_workers)
        given = np.bincount(votes.worker, votes.weight, minlength=votes.n_workers)
        accuracy = (agree + 1.0) / (given + 2.0)
        weight = np.log(accuracy / (1.0 - accuracy))
        target = expit(np.bincount(votes.task, signed * weight[votes.worker],
                                   minlength=votes.n_tasks))
        scale = 0.0
        if not np.any(score):
            return scale
        for _ in range(100):  # Newton on a convex 1-D problem
            fitted = expit(scale * score)
            grad = np.sum((fitted - target) * score)
            hess = np.sum(fitted * (1.0 - fitted) * score**2)
            if hess <= 0:
                break
            step = grad / hess
            scale -= step
            if abs(step) <= 1e-10 * (1.0 + abs(scale)):
                break
        return max(scale, 0.0)

    def _predict_proba_votes(self, votes):
        self._check_binary(votes)
        if len(self.classes_) < 2:
            return np.ones((votes.n_tasks, len(self.classes_)))
        # unseen workers: the mean reliability, never against their own vote
        reliability = np.append(self.worker_reliability_,
                                max(self.worker_reliability_.mean(), 0.0))
        return self._scored(votes, reliability)

    def _scored(self, votes, reliability):
        """Posterior of each task: its log-odds are the signed sum of its
        workers' reliabilities."""
        signed = self._signed(votes)
        log_odds = np.bincount(votes.task, signed * reliability[votes.worker],
                               minlength=votes.n_tasks)
        return self._posterior(votes, signed, log_odds)

    @staticmethod
    def _posterior(votes, signed, log_odds):
        """Posterior from the log-odds of the second class; where they are 0
        (no evidence from the messages, e.g. workers who share no task with
        anyone), the vote shares."""
        positive = expit(log_odds)
        tie = log_odds == 0
        if tie.any():
            counts = votes.task_counts()
            share = 0.5 * (np.bincount(votes.task, signed, minlength=votes.n_tasks)
                           + counts)
            positive[tie] = np.divide(share, counts, out=np.full_like(share, 0.5),
                                      where=counts > 0)[tie]
        return np.column_stack([1.0 - positive, positive])
