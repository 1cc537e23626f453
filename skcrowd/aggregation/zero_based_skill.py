"""Zero-Based Skill: weighted majority vote with skills learned by steps."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from ..base import BaseAggregator, vote_counts
from .vote import _clamped_argmax, _VoteCounting, agreement_counts

__all__ = ["ZeroBasedSkill"]


class ZeroBasedSkill(_VoteCounting):
    """Zero-Based Skill: skills move step by step toward agreement.

    Every worker starts with the skill ``1 / K``. Each iteration takes the
    skill-weighted majority vote (ties to the smallest label; gold labels
    where ``y`` gives them), measures each worker's agreement with it (the
    share of its votes that match, as :class:`Wawa` does) and moves the
    skills a gradient step toward it::

        skill <- skill + learning_rate * (agreement - skill)

    i.e. a step on the squared error between skills and agreements. The
    learning rate starts at ``learning_rate_init`` and is multiplied by
    ``learning_rate_decay`` every ``decay_every`` iterations. The consensus
    is the skill-weighted vote; ``predict_proba`` gives each class's share
    of the weighted votes (the class shares of all votes for a task without
    votes). Workers unseen at fit get the mean skill.

    Parameters
    ----------
    learning_rate_init : float, default=1.0
        Initial step size, in (0, 1].
    learning_rate_decay : float, default=0.5
        Factor applied to the step size every ``decay_every`` iterations, in
        (0, 1].
    decay_every : int, default=20
        Number of iterations between two decays.
    max_iter : int, default=100
        Maximum number of iterations.
    tol : float, default=1e-6
        Stop when no skill changes by more. With ``tol=0`` exactly
        ``max_iter`` iterations run.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Share of each class among all votes.
    worker_skill_ : ndarray of shape (n_workers,)
        Learned skill (vote weight) of each worker.
    worker_agreement_ : ndarray of shape (n_workers,)
        Share of each worker's votes that agree with the last weighted vote.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Weighted-vote label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Weighted vote shares of each fitted task.
    n_iter_ : int
        Number of iterations run.
    converged_ : bool
        Whether the skills changed by less than ``tol``.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    See Also
    --------
    Wawa : one step with ``learning_rate_init=1`` from equal skills.

    References
    ----------
    D. Ustalov, N. Pavlichenko, B. Tseitlin, "Learning from Crowds with
    Crowd-Kit", Journal of Open Source Software 9(96):6227, 2024
    (``ZeroBasedSkill``).

    Examples
    --------
    >>> from skcrowd import ZeroBasedSkill
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 1], [1, 0, 0], [0, 1, 0]]
    >>> zbs = ZeroBasedSkill().fit(votes)
    >>> zbs.consensus_label_.tolist()
    [0, 1, 0, 0, 0]
    >>> zbs.worker_skill_.round(2)
    array([0.8, 0.8, 0.6])
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "learning_rate_init": [Interval(Real, 0, 1, closed="right")],
        "learning_rate_decay": [Interval(Real, 0, 1, closed="right")],
        "decay_every": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }

    def __init__(self, *, learning_rate_init=1.0, learning_rate_decay=0.5,
                 decay_every=20, max_iter=100, tol=1e-6, missing_label=-1):
        self.learning_rate_init = learning_rate_init
        self.learning_rate_decay = learning_rate_decay
        self.decay_every = decay_every
        self.max_iter = max_iter
        self.tol = tol
        self.missing_label = missing_label

    def _learn_workers(self, votes, counts, gold):
        skill = np.full(votes.n_workers, 1.0 / max(votes.n_classes, 1))
        learning_rate = self.learning_rate_init
        self.converged_ = False
        for n_iter in range(1, self.max_iter + 1):
            self.n_iter_ = n_iter
            if n_iter % self.decay_every == 0:
                learning_rate *= self.learning_rate_decay
            # Wawa's agreement, with the skill-weighted vote as the reference
            reference = _clamped_argmax(vote_counts(votes, skill), gold)
            agreed, given = agreement_counts(votes, reference)
            self.worker_agreement_ = np.divide(agreed, given, out=np.zeros_like(agreed),
                                               where=given > 0)
            step = learning_rate * (self.worker_agreement_ - skill)
            skill = skill + step
            if np.all(np.abs(step) <= self.tol):
                self.converged_ = True
                break
        self.worker_skill_ = skill

    def _worker_weight(self, votes):
        return np.append(self.worker_skill_, self.worker_skill_.mean())
