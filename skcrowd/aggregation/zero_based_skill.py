"""Zero-Based Skill: weighted majority vote with skills learned by steps."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._online import running_average, running_estimates, with_pool
from ..base import BaseAggregator, class_totals, normalize_rows, vote_counts
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

    ``partial_fit`` applies the same rule batch by batch, as Crowd-Kit
    describes the model (a gradient step after each pool of tasks). The
    first batch is ``fit`` on that batch. In a later batch ``t``, its tasks
    (with all their votes so far) get the weighted vote under the current
    skills, and each of its workers' skill moves toward its agreement with
    that vote on the batch::

        skill <- skill + eta_w * (agreement_batch - skill)

    iterated on the batch until the vote stops changing the skills. The
    step ``eta_w`` is the batch's share of the worker's running vote count
    ``V <- (1 - eta_t) V + eta_t * scale * votes_batch`` with ``eta_t =
    (learning_offset + t) ** -learning_decay`` and ``scale`` = tasks seen /
    tasks in the batch (stepwise EM's schedule): a worker with many votes
    in the batch moves by about ``eta_t``, one with a single vote by much
    less, and a new worker takes its batch agreement. ``class_prior_``
    counts every vote exactly.

    Parameters
    ----------
    learning_rate_init : float, default=1.0
        Initial step size of ``fit``'s iterations, in (0, 1].
    learning_rate_decay : float, default=0.5
        Factor applied to that step size every ``decay_every`` iterations, in
        (0, 1].
    decay_every : int, default=20
        Number of iterations between two decays.
    max_iter : int, default=100
        Maximum number of iterations (per batch in ``partial_fit``).
    tol : float, default=1e-6
        Stop when no skill changes by more. With ``tol=0`` exactly
        ``max_iter`` iterations run.
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
    worker_skill_ : ndarray of shape (n_workers,)
        Learned skill (vote weight) of each worker.
    worker_agreement_ : ndarray of shape (n_workers,)
        Share of each worker's votes that agree with the last weighted vote
        (``partial_fit``: the running mean over its batches).
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Weighted-vote label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Weighted vote shares of each fitted task.
    n_iter_ : int
        Number of iterations run by ``fit``.
    converged_ : bool
        Whether the skills changed by less than ``tol`` in ``fit``.
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

    Online, batch by batch:

    >>> online = ZeroBasedSkill().partial_fit({"t1": {"ann": 0, "bob": 0}},
    ...                                       classes=[0, 1])
    >>> online = online.partial_fit({"t2": {"ann": 1, "bob": 0, "cy": 0}})
    >>> online.consensus().labels.tolist()
    [0, 0]
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "learning_rate_init": [Interval(Real, 0, 1, closed="right")],
        "learning_rate_decay": [Interval(Real, 0, 1, closed="right")],
        "decay_every": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
    }
    _param_names = ("class_prior", "worker_skill", "worker_agreement")
    _worker_param_names = ("worker_skill", "worker_agreement")
    # running (vote-weighted) means of skill and agreement, see _online
    _worker_stat_keys = ("skill", "agreement", "evidence")
    _stat_class_axes = {"class_counts": (0,), "skill": (), "agreement": (),
                        "evidence": ()}

    def __init__(self, *, learning_rate_init=1.0, learning_rate_decay=0.5,
                 decay_every=20, max_iter=100, tol=1e-6, learning_offset=10.0,
                 learning_decay=0.7, store=None, n_worker_slots=None,
                 allow_new_classes=False, missing_label=-1):
        self.learning_rate_init = learning_rate_init
        self.learning_rate_decay = learning_rate_decay
        self.decay_every = decay_every
        self.max_iter = max_iter
        self.tol = tol
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _iterate(self, votes, gold, skill, step):
        """Weighted vote, agreement, ``skill <- step(skill, agreement, given,
        n_iter)`` until no skill moves by more than ``tol``. Returns the
        skills, the last agreements and votes per worker, the number of
        iterations and whether they converged."""
        for n_iter in range(1, self.max_iter + 1):
            # Wawa's agreement, with the skill-weighted vote as the reference
            reference = _clamped_argmax(vote_counts(votes, skill), gold)
            agreed, given = agreement_counts(votes, reference)
            agreement = np.divide(agreed, given, out=np.zeros_like(agreed),
                                  where=given > 0)
            new = step(skill, agreement, given, n_iter)
            moved = np.abs(new - skill)
            skill = new
            if np.all(moved <= self.tol):
                return skill, agreement, given, n_iter, True
        return skill, agreement, given, self.max_iter, False

    def _learning_step(self, skill, agreement, given, n_iter):
        # the rate is multiplied by the decay at every multiple of decay_every
        rate = self.learning_rate_init * self.learning_rate_decay ** (
            n_iter // self.decay_every)
        return skill + rate * (agreement - skill)

    def _fit_skills(self, votes, gold):
        """fit's iterations from the skill 1 / K."""
        start = np.full(votes.n_workers, 1.0 / max(votes.n_classes, 1))
        return self._iterate(votes, gold, start, self._learning_step)

    def _count_stats(self, votes, gold):
        """fit: the skills learned on ``votes``, as running-mean statistics
        (each worker's skill and agreement times its votes)."""
        skill, agreement, given, self.n_iter_, self.converged_ = self._fit_skills(
            votes, gold)
        zeros = {k: np.zeros(votes.n_workers) for k in self._worker_stat_keys}
        return self._skill_stats(votes, skill, agreement, given, zeros, 1.0, 1.0)

    @staticmethod
    def _skill_stats(votes, skill, agreement, given, stored, eta, scale):
        rows = running_average(stored, {"skill": skill, "agreement": agreement},
                               given, eta, scale)
        return {"class_counts": class_totals(votes), **rows}

    def _m_step(self, stats):
        # the last worker row is the pooled one: unseen workers get the mean
        estimates = running_estimates(stats, ("skill", "agreement"))
        for value in estimates.values():
            value[-1] = value[:-1].mean() if len(value) > 1 else value[-1]
        counts = stats["class_counts"]
        return {"class_prior": normalize_rows(counts[None], 1.0 / len(counts))[0],
                "worker_skill": estimates["skill"],
                "worker_agreement": estimates["agreement"]}

    def _predict_with_params(self, votes, params):
        counts = vote_counts(votes, params["worker_skill"])
        return self._shares(counts, params["class_prior"])

    def _online_step(self, votes, old_votes, gold, old_gold, stored, global_stats,
                     eta, scale):
        """partial_fit on the batch's tasks (see the class docstring)."""
        if not stored["evidence"].any():  # the first batch: fit on it
            skill, agreement, given, _, _ = self._fit_skills(votes, gold)
        else:
            known = stored["evidence"] > 0
            start = np.full(votes.n_workers, 1.0 / max(votes.n_classes, 1))
            start[known] = stored["skill"][known] / stored["evidence"][known]

            def step(skill, agreement, given, n_iter):
                rows = running_average(stored, {"skill": agreement}, given,
                                       eta, scale)
                return running_estimates(rows, ("skill",), fill=0.0)["skill"]

            _, agreement, given, _, _ = self._iterate(votes, gold, start, step)
            skill = agreement  # the batch's estimate, as in the steps
        stats = self._skill_stats(votes, skill, agreement, given, stored, eta,
                                  scale)
        # the class prior counts every vote once: the batch's new votes
        counts = (global_stats["class_counts"] + stats["class_counts"]
                  - vote_counts(old_votes).sum(axis=0))
        rows = {k: stats[k] for k in self._worker_stat_keys}
        params = self._m_step({**with_pool(rows, self._worker_stat_keys),
                               "class_counts": counts})
        posterior = self._predict_with_params(votes, params)
        return rows, {"class_counts": counts}, posterior, np.nan
