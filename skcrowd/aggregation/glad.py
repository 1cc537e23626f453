"""GLAD: worker abilities and task easiness (Whitehill et al., 2009)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval

from .._kernels import glad_log_posterior_pass, glad_newton_pass
from .._parallel import map_chunks, task_chunks
from ..base import BaseEM

__all__ = ["GLAD"]

# a Newton step never moves a parameter by more than this (exp(log_easiness)
# must stay finite); backtracking halves a step at most _MAX_HALVINGS times
_MAX_STEP = 4.0
_MAX_HALVINGS = 10
# predict: per-task EM on the new tasks' log-easiness
_PREDICT_MAX_STEPS = 100
_PREDICT_TOL = 1e-8


class GLAD(BaseEM):
    """GLAD: Generative model of Labels, Abilities and Difficulties.

    Worker ``w`` answers task ``i`` correctly with probability
    ``sigmoid(worker_ability_[w] * task_easiness_[i])`` and otherwise gives
    one of the ``K - 1`` wrong labels, each equally likely (the multi-class
    extension with uniform errors, as in Crowd-Kit and peerannot). Abilities
    are real numbers (0: a coin flip between right and wrong; negative:
    mostly wrong); the easiness ``beta > 0`` is parametrised by its
    logarithm. Abilities and log-easiness have Gaussian priors. True classes
    are uniform, as in the paper (``fit_prior=True`` learns them).

    EM alternates the exact posterior of each task (E-step) with a
    generalised M-step: block-coordinate ascent, first on every worker's
    ability, then on every task's log-easiness. Given the other block, the
    expected log posterior separates into one-dimensional problems, one per
    worker (or task), and each coordinate takes up to ``n_newton_steps``
    safeguarded Newton steps with backtracking. Every accepted step
    increases the objective, so the log posterior never decreases from one
    iteration to the next. One iteration costs a few passes over the votes.

    ``predict_proba`` on new tasks keeps the fitted abilities and estimates
    each new task's easiness from its own votes (EM on that task alone,
    starting from the prior mean), so a task's posterior depends on its own
    votes only. Workers unseen at fit get the mean ability.

    Parameters
    ----------
    ability_prior_mean : float, default=1.0
        Mean of the Gaussian prior on each worker's ability.
    ability_prior_std : float, default=1.0
        Standard deviation of that prior; positive.
    log_easiness_prior_mean : float, default=1.0
        Mean of the Gaussian prior on the logarithm of each task's easiness.
    log_easiness_prior_std : float, default=1.0
        Standard deviation of that prior; positive.
    fit_prior : bool, default=False
        Learn the class prior; by default it is uniform, as in the paper
        (learning it lets it collapse onto the majority class on skewed data
        such as zheng_product: accuracy 0.896 instead of 0.928).
    alpha : float, default=0.01
        With ``fit_prior``, additive smoothing of the class counts (a
        Dirichlet prior with concentration ``1 + alpha``); positive.
    n_newton_steps : int, default=5
        Maximum number of Newton steps per coordinate and M-step.
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-5
        EM stops when the mean log posterior per task changes by less.
        With ``tol=0`` it runs exactly ``max_iter`` iterations.
    init : {"majority", "random"}, default="majority"
        Initial task posteriors: the vote shares, or random ones.
    random_state : int, RandomState instance or None, default=None
        Seeds ``init="random"``.
    verbose : int, default=0
        Print one line per iteration.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Probability of each true class (uniform unless ``fit_prior``).
    worker_ability_ : ndarray of shape (n_workers,)
        Ability ``alpha`` of each worker.
    task_easiness_ : ndarray of shape (n_tasks,)
        Easiness ``beta > 0`` of each fitted task (inverse difficulty).
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers, in the order of ``worker_ability_``.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks, in the order of ``task_easiness_``.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task.
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final mean log posterior per task (log-likelihood plus the log
        density of the priors).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    See Also
    --------
    OneCoinDawidSkene : one accuracy per worker, no task difficulty.

    References
    ----------
    J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma and J. Movellan, "Whose Vote
    Should Count More: Optimal Integration of Labels from Labelers of Unknown
    Expertise", Advances in Neural Information Processing Systems 22 (NIPS
    2009), pp. 2035-2043.

    Examples
    --------
    >>> from skcrowd import GLAD
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> glad = GLAD().fit(votes)
    >>> glad.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> bool(glad.worker_ability_[0] > glad.worker_ability_[2])
    True
    >>> glad.predict([[1, 1, 0]]).tolist()
    [1]
    """

    _parameter_constraints: dict = {
        **BaseEM._parameter_constraints,
        "ability_prior_mean": [Real],
        "ability_prior_std": [Interval(Real, 0, None, closed="neither")],
        "log_easiness_prior_mean": [Real],
        "log_easiness_prior_std": [Interval(Real, 0, None, closed="neither")],
        "fit_prior": ["boolean"],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "n_newton_steps": [Interval(Integral, 1, None, closed="left")],
    }
    _param_names = ("class_prior", "worker_ability", "task_easiness")

    def __init__(self, *, ability_prior_mean=1.0, ability_prior_std=1.0,
                 log_easiness_prior_mean=1.0, log_easiness_prior_std=1.0,
                 fit_prior=False, alpha=0.01, n_newton_steps=5, max_iter=100,
                 tol=1e-5, init="majority", random_state=None, verbose=0,
                 missing_label=-1):
        self.ability_prior_mean = ability_prior_mean
        self.ability_prior_std = ability_prior_std
        self.log_easiness_prior_mean = log_easiness_prior_mean
        self.log_easiness_prior_std = log_easiness_prior_std
        self.fit_prior = fit_prior
        self.alpha = alpha
        self.n_newton_steps = n_newton_steps
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.random_state = random_state
        self.verbose = verbose
        self.missing_label = missing_label

    # ------------------------------------------------------------------
    # EM contract
    def _fit_votes(self, votes, gold):
        # the M-step is a few ascent steps from the current parameters: keep
        # them, and the votes grouped by worker and by task, during fit
        self._state = {
            "by_worker": _Grouped(votes, by_task=False),
            "by_task": _Grouped(votes, by_task=True),
            "ability": np.full(votes.n_workers, float(self.ability_prior_mean)),
            "log_easiness": np.full(votes.n_tasks,
                                    float(self.log_easiness_prior_mean)),
        }
        try:
            return super()._fit_votes(votes, gold)
        finally:
            del self._state

    def _stats(self, votes, posterior):
        # probability that each vote is the true label, and class counts
        return {
            "correct": posterior[votes.task, votes.label],
            "class_counts": posterior.sum(axis=0),
        }

    def _e_step(self, votes, params, clamp, accumulate):
        posterior = np.empty((votes.n_tasks, votes.n_classes))
        log_likelihood = _posterior_pass(votes, params["worker_ability"],
                                         params["task_easiness"],
                                         np.log(params["class_prior"]), clamp,
                                         posterior)
        stats = self._stats(votes, posterior) if accumulate else {}
        return posterior, stats, log_likelihood

    def _m_step(self, stats):
        state = self._state
        correct = stats["correct"]
        ability = self._newton_ascent(state["by_worker"], correct, state["ability"],
                                      state["log_easiness"])
        log_easiness = self._newton_ascent(state["by_task"], correct, ability,
                                           state["log_easiness"])
        state["ability"], state["log_easiness"] = ability, log_easiness
        n_classes = len(stats["class_counts"])
        if self.fit_prior:
            counts = stats["class_counts"] + self.alpha
            class_prior = counts / counts.sum()
        else:
            class_prior = np.full(n_classes, 1.0 / n_classes)
        return {
            "class_prior": class_prior,
            "worker_ability": ability,
            "task_easiness": np.exp(log_easiness),
        }

    def _log_prior(self, params):
        ability = (params["worker_ability"] - self.ability_prior_mean) / (
            self.ability_prior_std)
        log_easiness = (np.log(params["task_easiness"])
                        - self.log_easiness_prior_mean) / self.log_easiness_prior_std
        log_prior = -0.5 * (np.sum(ability**2) + np.sum(log_easiness**2))
        if self.fit_prior:
            log_prior += self.alpha * np.log(params["class_prior"]).sum()
        return log_prior

    def _average_worker(self, params):
        ability = params["worker_ability"]
        return {**params, "worker_ability": np.append(ability, ability.mean())}

    # ------------------------------------------------------------------
    def _newton_ascent(self, groups, correct, ability, log_easiness, active=None):
        """``n_newton_steps`` safeguarded Newton steps on every worker's
        ability, or on every task's log-easiness, as ``groups`` (a
        :class:`_Grouped`) says; returns the new values."""
        if groups.by_task:
            variable = log_easiness.copy()
            mean, std = self.log_easiness_prior_mean, self.log_easiness_prior_std
        else:
            variable = ability.copy()
            mean, std = self.ability_prior_mean, self.ability_prior_std
        if active is None:
            active = np.ones(len(variable), dtype=bool)
        args = (groups.ptr, groups.task, groups.worker, groups.weight,
                groups.gather(correct), ability, np.exp(log_easiness), variable,
                groups.n_classes, groups.by_task, float(mean), 1.0 / std**2,
                self.n_newton_steps, _MAX_STEP, _MAX_HALVINGS, active)
        # groups are independent: chunks of them run in threads
        map_chunks(lambda start, stop: glad_newton_pass(*args, start, stop),
                   task_chunks(groups.ptr))
        return variable

    def _predict_proba_votes(self, votes):
        ability = np.append(self.worker_ability_, self.worker_ability_.mean())
        log_prior = np.log(self.class_prior_)
        clamp = np.full(votes.n_tasks, -1, dtype=np.int32)
        log_easiness = np.full(votes.n_tasks, float(self.log_easiness_prior_mean))
        active = np.ones(votes.n_tasks, dtype=bool)
        tasks = _Grouped(votes, by_task=True)
        posterior = np.empty((votes.n_tasks, votes.n_classes))
        for _ in range(_PREDICT_MAX_STEPS):
            _posterior_pass(votes, ability, np.exp(log_easiness), log_prior, clamp,
                            posterior)
            if not active.any():
                break
            # per-task EM: every task stops on its own, so its posterior
            # depends on its own votes only
            correct = posterior[votes.task, votes.label]
            new = self._newton_ascent(tasks, correct, ability, log_easiness,
                                      active=active)
            active &= np.abs(new - log_easiness) > _PREDICT_TOL
            log_easiness = new
        else:
            _posterior_pass(votes, ability, np.exp(log_easiness), log_prior, clamp,
                            posterior)
        return posterior


def _posterior_pass(votes, ability, easiness, log_prior, clamp, posterior):
    """GLAD's E-step kernel over chunks of tasks in threads; fills
    ``posterior`` and returns the log-likelihood (summed in chunk order, so
    it does not depend on the number of threads)."""
    parts = map_chunks(
        lambda start, stop: glad_log_posterior_pass(
            votes.task_ptr, votes.worker, votes.label, votes.weight, ability,
            easiness, log_prior, clamp, start, stop, posterior),
        task_chunks(votes.task_ptr),
    )
    return float(sum(parts))


class _Grouped:
    """The votes grouped by task (as stored) or by worker (sorted once), for
    the M-step kernel that reads each group's votes contiguously."""

    def __init__(self, votes, by_task):
        self.by_task = by_task
        self.n_classes = votes.n_classes
        if by_task:
            self.order = None
            self.ptr = votes.task_ptr
        else:
            self.order = np.argsort(votes.worker, kind="stable")
            self.ptr = np.zeros(votes.n_workers + 1, dtype=np.int64)
            np.cumsum(np.bincount(votes.worker, minlength=votes.n_workers),
                      out=self.ptr[1:])
        self.task = self.gather(votes.task)
        self.worker = self.gather(votes.worker)
        self.weight = self.gather(votes.weight)

    def gather(self, per_vote):
        """A per-vote array in this grouping's order."""
        return per_vote if self.order is None else per_vote[self.order]
