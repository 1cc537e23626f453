"""GLAD: worker abilities and task easiness (Whitehill et al., 2009)."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval

from .._kernels import glad_log_posterior_pass, glad_newton_pass
from .._online import POOL, running_average, running_estimates
from .._parallel import chunks_of, map_chunks, task_chunks
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

    ``partial_fit``: abilities are the model's per-worker parameters, task
    easiness is local to a task. A batch's local problem is its tasks with
    all their votes so far; the first batch is ``fit`` on it. In a later
    batch ``t`` the batch's tasks get the E-step under the current
    abilities (new workers: the population's mean), their easiness is
    re-optimised from the prior mean (tasks are local, nothing is kept of
    them but their votes and posterior), and each worker's ability takes
    Newton steps toward ``a_batch``, the ability that maximises the
    batch's expected log posterior with its votes counted ``scale`` times
    (``scale`` = tasks seen / tasks in the batch, as stepwise EM scales its
    statistics). The ability is the running, vote-weighted mean of these
    batch optima, ``A <- (1 - eta_t) A + eta_t * scale * v * a_batch`` and
    ``V <- (1 - eta_t) V + eta_t * scale * v`` with ``v`` the worker's
    votes in the batch and ``eta_t = (learning_offset + t) **
    -learning_decay``: a step of size ``eta_t`` (times the batch's share of
    the worker's votes) from the old ability toward the batch's optimum.
    E-step, easiness and this step alternate until the batch's
    log-likelihood changes by less than ``tol``. With ``fit_prior`` the
    class counts are stepwise statistics. After ``partial_fit``,
    ``task_easiness_`` is not set; :meth:`consensus` re-scores every task
    with the current abilities as ``predict_proba`` does.

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
    n_jobs : int, default=None
        Threads of the E-step: None uses every core unless a
        ``joblib.parallel_config(n_jobs=...)`` context or ``OMP_NUM_THREADS``
        says otherwise, -1 every core, -2 all but one. The result is the
        same, bit for bit, for any value.
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
        Easiness ``beta > 0`` of each fitted task (inverse difficulty);
        ``fit`` only.
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

    Online, batch by batch:

    >>> online = GLAD().partial_fit({"t1": {"a": 0, "b": 0, "c": 1},
    ...                              "t2": {"a": 1, "b": 1, "c": 1}})
    >>> online = online.partial_fit({"t3": {"a": 0, "b": 0, "c": 0},
    ...                              "t4": {"a": 1, "b": 1, "c": 0}})
    >>> online.consensus().labels.tolist()
    [0, 1, 0, 1]
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
    _worker_param_names = ("worker_ability",)
    # partial_fit: running (vote-weighted) mean of the batch abilities and
    # stepwise class counts, see _online
    _stat_class_axes = {"ability": (), "evidence": (), "class_counts": (0,)}

    @property
    def _worker_stat_keys(self):
        # fit keeps abilities as plain parameters (no pooled statistics)
        return () if "_state" in self.__dict__ else ("ability", "evidence")

    @property
    def _param_names(self):
        # task easiness is local to a batch in partial_fit: not kept
        names = ("class_prior", "worker_ability")
        return names if "store_" in self.__dict__ else names + ("task_easiness",)

    def __init__(self, *, ability_prior_mean=1.0, ability_prior_std=1.0,
                 log_easiness_prior_mean=1.0, log_easiness_prior_std=1.0,
                 fit_prior=False, alpha=0.01, n_newton_steps=5, max_iter=100,
                 tol=1e-5, init="majority", random_state=None, verbose=0,
                 learning_offset=10.0, learning_decay=0.7, store=None,
                 n_worker_slots=None, allow_new_classes=False,
                 n_jobs=None, missing_label=-1):
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
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.n_jobs = n_jobs
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
                                         posterior, n_jobs=self.n_jobs)
        stats = self._stats(votes, posterior) if accumulate else {}
        return posterior, stats, log_likelihood

    def _m_step(self, stats):
        if "evidence" in stats:  # partial_fit: the running means
            return {"class_prior": self._class_prior(stats["class_counts"]),
                    "worker_ability": running_estimates(stats, ("ability",))[
                        "ability"]}
        state = self._state
        correct = stats["correct"]
        ability = self._newton_ascent(state["by_worker"], correct, state["ability"],
                                      state["log_easiness"])
        log_easiness = self._newton_ascent(state["by_task"], correct, ability,
                                           state["log_easiness"])
        state["ability"], state["log_easiness"] = ability, log_easiness
        return {
            "class_prior": self._class_prior(stats["class_counts"]),
            "worker_ability": ability,
            "task_easiness": np.exp(log_easiness),
        }

    def _class_prior(self, class_counts):
        """Uniform, or with ``fit_prior`` the smoothed class shares."""
        if not self.fit_prior:
            return np.full(len(class_counts), 1.0 / len(class_counts))
        counts = class_counts + self.alpha
        return counts / counts.sum()

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
                   task_chunks(groups.ptr), self.n_jobs)
        return variable

    def _online_step(self, votes, old_votes, gold, old_gold, stored, global_stats,
                     eta, scale):
        """partial_fit on the batch's tasks (see the class docstring)."""
        evidence = np.bincount(votes.worker, votes.weight,
                               minlength=votes.n_workers)
        if not stored["evidence"].any():  # the first batch: fit on it
            local = type(self)(**{k: v for k, v in self.get_params().items()
                                  if k not in ("store", "verbose")})
            with warnings.catch_warnings():  # as in later batches: max_iter
                warnings.simplefilter("ignore", ConvergenceWarning)
                posterior = local._fit_votes(votes, gold.astype(np.int32))
            rows = running_average(stored, {"ability": local.worker_ability_},
                                   evidence, eta, scale)
            counts = ((1 - eta) * global_stats["class_counts"]
                      + eta * scale * posterior.sum(axis=0))
            return rows, {"class_counts": counts}, posterior, np.nan
        pooled = global_stats[POOL + "evidence"]
        population = (global_stats[POOL + "ability"] / pooled if pooled > 0
                      else self.ability_prior_mean)
        ability = running_estimates(stored, ("ability",),
                                    fill=float(population))["ability"]
        clamp = gold.astype(np.int32)
        counts = global_stats["class_counts"]
        log_easiness = np.full(votes.n_tasks, float(self.log_easiness_prior_mean))
        posterior = np.empty((votes.n_tasks, votes.n_classes))
        before = previous = _posterior_pass(
            votes, ability, np.exp(log_easiness),
            np.log(self._class_prior(counts)), clamp, posterior,
            n_jobs=self.n_jobs)
        tasks = _Grouped(votes, by_task=True)
        workers = _Grouped(votes, by_task=False)
        workers.weight = workers.weight * scale  # the batch, scaled
        optimum = ability.copy()
        for _ in range(self.max_iter):
            correct = posterior[votes.task, votes.label]
            log_easiness = self._newton_ascent(tasks, correct, ability, log_easiness)
            optimum = self._newton_ascent(workers, correct, optimum, log_easiness)
            rows = running_average(stored, {"ability": optimum}, evidence, eta,
                                   scale)
            ability = running_estimates(rows, ("ability",),
                                        fill=float(population))["ability"]
            counts = ((1 - eta) * global_stats["class_counts"]
                      + eta * scale * posterior.sum(axis=0))
            log_likelihood = _posterior_pass(
                votes, ability, np.exp(log_easiness),
                np.log(self._class_prior(counts)), clamp, posterior,
                n_jobs=self.n_jobs)
            if abs(log_likelihood - previous) < self.tol * max(votes.n_tasks, 1):
                break
            previous = log_likelihood
        return rows, {"class_counts": counts}, posterior, before

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
                            posterior, n_jobs=self.n_jobs)
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
                            posterior, n_jobs=self.n_jobs)
        return posterior


def _posterior_pass(votes, ability, easiness, log_prior, clamp, posterior,
                    n_jobs=None):
    """GLAD's E-step kernel over chunks of tasks in threads; fills
    ``posterior`` and returns the log-likelihood (summed in chunk order, so
    it does not depend on the number of threads)."""
    parts = map_chunks(
        lambda start, stop: glad_log_posterior_pass(
            votes.task_ptr, votes.worker, votes.label, votes.weight, ability,
            easiness, log_prior, clamp, start, stop, posterior),
        chunks_of(votes), n_jobs,
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
