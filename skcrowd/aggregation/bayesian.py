"""Bayesian aggregators of Kim & Ghahramani and of Li, Rubinstein & Cohn.

* :class:`IBCC` puts Dirichlet priors on the Dawid-Skene confusion matrices
  and class prior and fits the posterior by variational Bayes: the E-step is
  the Dawid-Skene E-step (the same compiled pass over the votes) with
  *expected* log-probabilities ``E[log p] = digamma(a) - digamma(sum(a))``
  in place of ``log p``; the "M-step" adds the expected counts to the prior
  concentrations.
* :class:`EBCC` is IBCC with latent subtypes: a task of class ``k`` also has
  a subtype ``m`` and every worker has one confusion matrix per
  (class, subtype) pair, so workers who err together on the same subtype are
  modelled as correlated. It is IBCC over ``n_classes * n_subtypes`` latent
  states grouped by class, so both share one implementation (IBCC is EBCC
  with a single subtype).
* :class:`BWA` relaxes each one-versus-rest indicator to a real number with
  a Gaussian likelihood, one precision per worker and class with a Gamma
  prior; coordinate ascent gives precision-weighted averages of the votes.
"""

import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from joblib import Parallel, delayed
from scipy.special import digamma, gammaln
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels import dirichlet_log_table
from ..base import BaseEM, normalize_rows, vote_counts
from .dawid_skene import _ConfusionEM, _MeanWorkerAfterFit

__all__ = ["BWA", "EBCC", "IBCC"]

_positive = Interval(Real, 0, None, closed="neither")


def _dirichlet_kl(posterior, prior):
    """KL(Dir(posterior) || Dir(prior)) summed over all rows (last axis)."""
    post_total = posterior.sum(axis=-1)
    prior_total = prior.sum(axis=-1)
    expected_log = digamma(posterior) - digamma(post_total)[..., None]
    kl = (gammaln(post_total) - gammaln(posterior).sum(axis=-1)
          - gammaln(prior_total) + gammaln(prior).sum(axis=-1)
          + ((posterior - prior) * expected_log).sum(axis=-1))
    return kl.sum()


def _expected_log(concentration):
    """E[log p] under Dir(concentration) along the last axis."""
    return digamma(concentration) - digamma(
        concentration.sum(axis=-1, keepdims=True))


def _dirichlet_mean(concentration):
    return concentration / concentration.sum(axis=-1, keepdims=True)


def _positive_array(value, name, shape, allowed):
    """``value`` as a float array of ``shape``; a clear error otherwise."""
    array = np.asarray(value, dtype=np.float64)
    if array.shape != shape:
        raise ValueError(
            f"{name} must be {allowed}; got an array of shape {array.shape}."
        )
    if not np.all(np.isfinite(array)) or (array <= 0).any():
        raise ValueError(f"{name} must hold positive finite numbers; got {value!r}.")
    return array


class _VariationalDawidSkene(_MeanWorkerAfterFit, _ConfusionEM):
    """Variational Bayes on the Dawid-Skene model with latent subtypes.

    The latent state of a task is (class ``k``, subtype ``m``), numbered
    ``k * n_subtypes + m``. Variational parameters: Dirichlet concentrations
    of the class prior (``class_concentration``), of each class's subtype
    proportions (``subtype_concentration``, only with several subtypes) and
    of each worker's answer distribution per state
    (``confusion_concentration``, shape (n_workers, n_classes, [n_subtypes,]
    n_classes)). The objective is the evidence lower bound (ELBO); every
    step increases it.
    """

    _parameter_constraints: dict = {
        **BaseEM._parameter_constraints,
        "class_concentration_prior": [_positive, "array-like",
                                      StrOptions({"empirical"})],
        "confusion_concentration_prior": ["array-like"],
    }

    def _n_subtypes(self):
        return 1

    _worker_stat_keys = ("confusion_counts",)
    _worker_param_names = ("confusion_concentration", "confusion_matrices")
    _stat_class_axes = {"confusion_counts": (0, 1), "class_counts": (0,),
                        "vote_shares": (0,)}
    _split_subtypes = False  # statistics with a subtype axis (EBCC)

    # ------------------------------------------------------------------
    # priors: "empirical" reads the vote shares, an additive statistic, so
    # that partial_fit estimates it from the stream like any other count
    def _priors(self, n_classes, vote_shares):
        """The class and confusion priors for ``n_classes`` classes."""
        prior = self.class_concentration_prior
        if isinstance(prior, str):  # "empirical": 1 + majority-vote totals
            prior = 1.0 + vote_shares
        elif np.ndim(prior) == 0:
            prior = np.full(n_classes, float(prior))
        class_prior = _positive_array(
            prior, "class_concentration_prior", (n_classes,),
            f"a positive float, 'empirical' or an array of shape ({n_classes},) "
            "(one concentration per class)",
        )
        confusion = np.asarray(self.confusion_concentration_prior, dtype=np.float64)
        allowed = (
            "a pair (diagonal, off_diagonal) of positive floats or an array of "
            f"shape ({n_classes}, {n_classes}) (true class x answered label)"
        )
        if confusion.shape == (2,) and n_classes != 2:
            confusion = _positive_array(confusion, "confusion_concentration_prior",
                                        (2,), allowed)
            diagonal, off_diagonal = confusion
            confusion = np.full((n_classes, n_classes), off_diagonal)
            np.fill_diagonal(confusion, diagonal)
        elif confusion.shape == (2,):
            confusion = np.array([[confusion[0], confusion[1]],
                                  [confusion[1], confusion[0]]])
        confusion_prior = _positive_array(
            confusion, "confusion_concentration_prior", (n_classes, n_classes),
            allowed,
        )
        return class_prior, confusion_prior

    @staticmethod
    def _vote_shares(votes):
        """Sum over tasks of each task's vote shares (the majority-vote
        totals the "empirical" class prior adds to 1)."""
        return normalize_rows(vote_counts(votes), 1.0 / votes.n_classes).sum(axis=0)

    def _fit_votes(self, votes, gold):
        # validate the priors before any iteration (the M-step resolves them)
        self._priors(votes.n_classes, self._vote_shares(votes))
        return super()._fit_votes(votes, gold)

    # ------------------------------------------------------------------
    # the contract
    def _with_online_stats(self, stats, votes):
        """Statistics with the subtype axis split out (per class, so that
        ``classes_`` can grow online) and the vote shares of the votes."""
        n_subtypes = self._n_subtypes()
        if self._split_subtypes and "confusion_counts" in stats:
            counts = stats["confusion_counts"]
            stats["confusion_counts"] = counts.reshape(
                counts.shape[0], -1, n_subtypes, counts.shape[-1])
        if self._split_subtypes:
            stats["class_counts"] = stats["class_counts"].reshape(-1, n_subtypes)
        stats["vote_shares"] = self._vote_shares(votes)
        return stats

    def _stats(self, votes, posterior):
        return self._with_online_stats(super()._stats(votes, posterior), votes)

    def _e_step(self, votes, params, clamp, accumulate):
        posterior, stats, log_likelihood = super()._e_step(votes, params, clamp,
                                                           accumulate)
        if accumulate:
            stats = self._with_online_stats(stats, votes)
        return posterior, stats, log_likelihood

    def _stat_shape(self, key, n_classes):
        shape = super()._stat_shape(key, n_classes)
        if self._split_subtypes and key in ("confusion_counts", "class_counts"):
            shape = (n_classes, self._n_subtypes(), *shape[1:])
        return shape

    def _m_step(self, stats):
        n_subtypes = self._n_subtypes()
        counts = stats["confusion_counts"]  # (workers, classes, [subtypes,] labels)
        n_workers, n_classes = counts.shape[0], counts.shape[-1]
        class_prior, confusion_prior = self._priors(n_classes, stats["vote_shares"])
        state_counts = stats["class_counts"].reshape(n_classes, n_subtypes)
        confusion = counts.reshape(n_workers, n_classes, n_subtypes, n_classes)
        confusion = confusion + confusion_prior[:, None, :]
        params = {
            "class_concentration": class_prior + state_counts.sum(axis=1),
            "confusion_concentration": confusion.reshape(
                (n_workers, n_classes, n_classes) if n_subtypes == 1
                else confusion.shape),
            "class_concentration_prior": class_prior,
            "confusion_concentration_prior": confusion_prior,
        }
        if n_subtypes > 1:
            params["subtype_concentration"] = (
                self.subtype_concentration_prior / n_subtypes + state_counts)
        return self._with_means(params)

    @staticmethod
    def _with_means(params):
        """Posterior means: class_prior and confusion_matrices (the subtypes
        averaged with their mean proportions)."""
        params["class_prior"] = _dirichlet_mean(params["class_concentration"])
        confusion = _dirichlet_mean(params["confusion_concentration"])
        if "subtype_concentration" in params:
            confusion = np.einsum("km,wkml->wkl",
                                  _dirichlet_mean(params["subtype_concentration"]),
                                  confusion)
        params["confusion_matrices"] = confusion
        return params

    def _expectations(self, params):
        """E[log p] of the workers' answers (as the E-step's table) and of
        the states, and KL(q || prior) of all parameters; computed once per
        params (cached in the dict)."""
        cached = params.get("_expectations")
        if cached is not None:
            return cached
        confusion = params["confusion_concentration"]
        n_workers, n_classes = confusion.shape[0], confusion.shape[-1]
        confusion = np.ascontiguousarray(confusion.reshape(n_workers, -1, n_classes))
        n_states = confusion.shape[1]
        state_prior = np.repeat(params["confusion_concentration_prior"],
                                n_states // n_classes, axis=0)
        table = np.empty((n_workers * n_classes, n_states))
        kl = dirichlet_log_table(confusion, state_prior, table)
        classes = params["class_concentration"]
        log_prior = _expected_log(classes)[:, None]
        kl += _dirichlet_kl(classes, params["class_concentration_prior"])
        if "subtype_concentration" in params:
            subtypes = params["subtype_concentration"]
            log_prior = log_prior + _expected_log(subtypes)
            kl += _dirichlet_kl(subtypes, np.full(
                subtypes.shape, self.subtype_concentration_prior / subtypes.shape[1]))
        cached = params["_expectations"] = (table, log_prior.ravel(), kl)
        return cached

    def _log_table(self, params):
        return self._expectations(params)[0]

    def _log_class_prior(self, params):
        return self._expectations(params)[1]

    def _log_prior(self, params):
        # ELBO = E-step log-normaliser - KL(q(parameters) || prior)
        return -self._expectations(params)[2]

    def _average_worker(self, params):
        params = {k: v for k, v in params.items() if k != "_expectations"}
        confusion = params["confusion_concentration"]
        average = confusion.mean(axis=0, keepdims=True)
        return {**params,
                "confusion_concentration": np.concatenate([confusion, average])}


class IBCC(_VariationalDawidSkene):
    """Independent Bayesian Classifier Combination, by variational Bayes.

    The Dawid-Skene model with Dirichlet priors: true classes follow a class
    prior drawn from Dir(``class_concentration_prior``), and each row of each
    worker's confusion matrix is drawn from Dir(``confusion_concentration_
    prior[k]``). Mean-field variational Bayes alternates the task posteriors
    (a Dawid-Skene E-step with expected log-probabilities) and the Dirichlet
    posteriors (prior plus expected counts); the evidence lower bound never
    decreases. The defaults are those of Li, Rubinstein & Cohn's benchmark
    (4 on the diagonal, 1 elsewhere, a uniform class prior of 1), starting
    from the majority-vote shares.

    Parameters
    ----------
    class_concentration_prior : float, array-like of shape (n_classes,) or \\
"empirical", default=1.0
        Dirichlet prior of the class proportions; a float is used for every
        class; ``"empirical"`` is one plus the class totals of the vote
        shares. Must be positive.
    confusion_concentration_prior : pair of float or array-like of shape \\
(n_classes, n_classes), default=(4.0, 1.0)
        Dirichlet prior of every worker's confusion rows: a pair (diagonal,
        off-diagonal) or the full matrix (row = true class). Positive.
    max_iter : int, default=500
        Maximum number of iterations.
    tol : float, default=1e-6
        Stops when the evidence lower bound per task changes by less.
    init : {"majority", "random"}, default="majority"
        Initial posteriors: the vote shares, or random ones.
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
    class_concentration_ : ndarray of shape (n_classes,)
        Dirichlet posterior of the class proportions.
    confusion_concentration_ : ndarray of shape (n_workers, n_classes, \\
n_classes)
        Dirichlet posterior of every worker's confusion rows.
    class_prior_ : ndarray of shape (n_classes,)
        Posterior mean of the class proportions.
    confusion_matrices_ : ndarray of shape (n_workers, n_classes, n_classes)
        Posterior mean of the confusion matrices; rows sum to one.
    class_concentration_prior_ : ndarray of shape (n_classes,)
        The class prior used.
    confusion_concentration_prior_ : ndarray of shape (n_classes, n_classes)
        The confusion prior used.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Variational posterior of each fitted task.
    n_iter_ : int
        Number of iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final evidence lower bound per task.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    ``partial_fit`` is stochastic variational inference (Hoffman et al.,
    2013): stepwise updates of the expected counts that form the Dirichlet
    posteriors, ``S <- (1 - eta_t) S + eta_t * scale * S_batch`` (``scale``
    = tasks seen / tasks in the batch), after which the concentrations are
    prior plus ``S``; a first batch holding every vote is ``fit``. With
    ``class_concentration_prior="empirical"`` the vote-share totals are one
    more such statistic. Workers unseen at ``fit`` get the mean
    concentrations; after ``partial_fit``, the pooled worker (the prior plus
    every worker's expected counts summed).

    See Also
    --------
    DawidSkene : the same model fitted by maximum a posteriori EM.
    EBCC : IBCC with correlated workers through task subtypes.

    References
    ----------
    H.-C. Kim and Z. Ghahramani, "Bayesian Classifier Combination", AISTATS
    2012, PMLR 22:619-627. Defaults from Y. Li, B. I. P. Rubinstein and
    T. Cohn, "Exploiting Worker Correlation for Label Aggregation in
    Crowdsourcing", ICML 2019.

    Examples
    --------
    >>> from skcrowd import IBCC
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> model = IBCC().fit(votes)
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> model.confusion_matrices_.shape
    (3, 2, 2)
    """

    _param_names = ("class_concentration", "confusion_concentration",
                    "class_concentration_prior", "confusion_concentration_prior",
                    "class_prior", "confusion_matrices")

    def __init__(self, *, class_concentration_prior=1.0,
                 confusion_concentration_prior=(4.0, 1.0), max_iter=500,
                 tol=1e-6, init="majority", random_state=None, verbose=0,
                 learning_offset=10.0, learning_decay=0.7, store=None,
                 n_worker_slots=None, allow_new_classes=False,
                 n_jobs=None, missing_label=-1):
        self.class_concentration_prior = class_concentration_prior
        self.confusion_concentration_prior = confusion_concentration_prior
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


class EBCC(_VariationalDawidSkene):
    """Enhanced Bayesian Classifier Combination: workers correlated by subtypes.

    Every true class ``k`` is split into ``n_subtypes`` latent subtypes with
    proportions ``pi_k ~ Dir(subtype_concentration_prior / n_subtypes)``; a
    task of class ``k`` has subtype ``m`` with probability ``pi_km``, and
    every worker answers following a confusion row of its own for each
    (class, subtype) pair, drawn from Dir(``confusion_concentration_
    prior[k]``). Workers who tend to make the same mistake on the same kind
    of task are thereby correlated, which independent-worker models miss.
    Inference is mean-field variational Bayes over (class, subtype) pairs:
    IBCC's updates over ``n_classes * n_subtypes`` states.

    The subtypes start from a random split of the majority-vote shares, so
    results depend on ``random_state``; ``n_init`` restarts (different
    splits, optionally in ``n_jobs`` threads) keep the run with the highest
    evidence lower bound. The authors' published accuracies keep the best of
    40 restarts; on small datasets (a few hundred tasks) restarts matter,
    on large ones a single run is usually enough.

    Parameters
    ----------
    n_subtypes : int, default=10
        Number of subtypes per class.
    n_init : int, default=1
        Number of restarts (different random subtype splits); the one with
        the highest evidence lower bound is kept.
    class_concentration_prior : float, array-like of shape (n_classes,) or \\
"empirical", default="empirical"
        Dirichlet prior of the class proportions; ``"empirical"`` (the
        authors' setting) is one plus the class totals of the vote shares.
    subtype_concentration_prior : float, default=0.1
        Total Dirichlet concentration of each class's subtype proportions
        (spread evenly over the subtypes); small values favour few subtypes.
    confusion_concentration_prior : pair of float or array-like of shape \\
(n_classes, n_classes), default=(4.0, 1.0)
        Dirichlet prior of every worker's confusion rows: (diagonal,
        off-diagonal) or the full matrix (row = true class). Positive.
    max_iter : int, default=500
        Maximum number of iterations per restart.
    tol : float, default=1e-6
        A restart stops when the evidence lower bound per task changes by
        less.
    init : {"majority", "random"}, default="majority"
        Initial class posteriors: the vote shares, or random ones.
    random_state : int, RandomState instance or None, default=None
        Seeds the subtype splits (and ``init="random"``).
    n_jobs : int, default=None
        Number of threads running the restarts (``None``: one, ``-1``: all
        processors).
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
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_concentration_ : ndarray of shape (n_classes,)
        Dirichlet posterior of the class proportions.
    subtype_concentration_ : ndarray of shape (n_classes, n_subtypes)
        Dirichlet posterior of each class's subtype proportions.
    confusion_concentration_ : ndarray of shape (n_workers, n_classes, \\
n_subtypes, n_classes)
        Dirichlet posterior of every worker's answers per (class, subtype).
    class_prior_ : ndarray of shape (n_classes,)
        Posterior mean of the class proportions.
    confusion_matrices_ : ndarray of shape (n_workers, n_classes, n_classes)
        Posterior mean confusion matrices, the subtypes averaged with their
        posterior mean proportions; rows sum to one.
    class_concentration_prior_ : ndarray of shape (n_classes,)
        The class prior used.
    confusion_concentration_prior_ : ndarray of shape (n_classes, n_classes)
        The confusion prior used.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Variational posterior of each fitted task (summed over subtypes).
    n_iter_ : int
        Number of iterations of the kept restart.
    converged_ : bool
        Whether the kept restart converged.
    log_likelihood_ : float
        Evidence lower bound per task of the kept restart.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration of the kept restart; never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    ``partial_fit`` is stochastic variational inference (Hoffman et al.,
    2013) on the expected counts per (class, subtype) state, as for
    :class:`IBCC`, in one run (``n_init`` and ``n_jobs`` apply to ``fit``
    only; its subtype split is seeded as ``fit``'s first restart, so a first
    batch holding every vote is ``fit`` with ``n_init=1``). The
    ``"empirical"`` class prior is estimated from the stream's vote shares,
    one more additive statistic. Workers unseen at ``fit`` get the mean
    concentrations; after ``partial_fit``, the pooled worker.

    See Also
    --------
    IBCC : the same model without subtypes (``n_subtypes=1``).

    References
    ----------
    Y. Li, B. I. P. Rubinstein and T. Cohn, "Exploiting Worker Correlation
    for Label Aggregation in Crowdsourcing", ICML 2019, PMLR 97:3886-3895.

    Examples
    --------
    >>> from skcrowd import EBCC
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> model = EBCC(n_subtypes=2, n_init=2, random_state=0).fit(votes)
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> model.confusion_concentration_.shape
    (3, 2, 2, 2)
    """

    _parameter_constraints: dict = {
        **_VariationalDawidSkene._parameter_constraints,
        "n_subtypes": [Interval(Integral, 1, None, closed="left")],
        "n_init": [Interval(Integral, 1, None, closed="left")],
        "subtype_concentration_prior": [_positive],
    }

    def __init__(self, *, n_subtypes=10, n_init=1,
                 class_concentration_prior="empirical",
                 subtype_concentration_prior=0.1,
                 confusion_concentration_prior=(4.0, 1.0), max_iter=500,
                 tol=1e-6, init="majority", random_state=None, n_jobs=None,
                 verbose=0, learning_offset=10.0, learning_decay=0.7,
                 store=None, n_worker_slots=None, allow_new_classes=False,
                 missing_label=-1):
        self.n_subtypes = n_subtypes
        self.n_init = n_init
        self.class_concentration_prior = class_concentration_prior
        self.subtype_concentration_prior = subtype_concentration_prior
        self.confusion_concentration_prior = confusion_concentration_prior
        self.max_iter = max_iter
        self.tol = tol
        self.init = init
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    _stat_class_axes = {"confusion_counts": (0, 2), "class_counts": (0,),
                        "vote_shares": (0,)}
    _split_subtypes = True

    @property
    def _param_names(self):
        names = IBCC._param_names
        return names + ("subtype_concentration",) * (self.n_subtypes > 1)

    def _n_subtypes(self):
        return self.n_subtypes

    def _initial_posterior(self, votes, gold):
        """Class posteriors split at random among the subtypes."""
        posterior = super()._initial_posterior(votes, gold)
        seed = self.__dict__.get("_split_seed")
        if seed is None:  # partial_fit: one run, seeded as fit's first restart
            seed = check_random_state(self.random_state).randint(2**31 - 1)
        split = check_random_state(seed).dirichlet(
            np.ones(self.n_subtypes), size=posterior.shape)
        return (posterior[:, :, None] * split).reshape(votes.n_tasks, -1)

    def _restart(self, votes, gold, seed):
        """One run from the subtype split drawn with ``seed``, on a clone."""
        run = clone(self)
        run._split_seed = seed
        posterior = super(EBCC, run)._fit_votes(votes, gold)
        return run, posterior

    def _fit_votes(self, votes, gold):
        seeds = check_random_state(self.random_state).randint(
            2**31 - 1, size=self.n_init)
        votes.worker_label_index()  # computed once, shared by the threads
        # as GaussianMixture: only the kept restart's non-convergence matters
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            runs = Parallel(n_jobs=self.n_jobs, prefer="threads")(
                delayed(self._restart)(votes, gold, seed) for seed in seeds)
        for warning in caught:
            if not issubclass(warning.category, ConvergenceWarning):
                warnings.warn_explicit(warning.message, warning.category,
                                       warning.filename, warning.lineno)
        best, posterior = max(runs, key=lambda run: run[0].log_likelihood_)
        vars(self).update({name: value for name, value in vars(best).items()
                           if name.endswith("_") and not name.startswith("_")})
        self._params_with_unseen = best._params_with_unseen
        if not self.converged_ and self.tol > 0:
            warnings.warn(
                f"The best of the {self.n_init} EBCC restarts did not converge "
                f"in max_iter={self.max_iter} iterations; increase max_iter or "
                "tol.", ConvergenceWarning, stacklevel=3)
        return posterior


class BWA(_MeanWorkerAfterFit, BaseEM):
    """Bayesian weighted average: precision-weighted votes, one-vs-rest.

    For each class ``k`` the indicator "task ``i`` is of class ``k``" is
    relaxed to a real ``z_ik``; a vote by worker ``j`` is
    ``y = [label == k] ~ Normal(z_ik, 1 / v_jk)``, the precision ``v_jk``
    has a Gamma prior and ``z_ik`` a Normal prior of mean ``mu_k`` (the mean
    of the ``z_ik``) and precision ``mean_precision_prior``. Coordinate
    ascent on the joint density gives Li et al.'s updates

    * ``v_jk = (a + n_j) / (b_k + sum_i (z_ik - y_ijk) ** 2)``,
    * ``z_ik = (lambda mu_k + sum_j v_jk y_ijk) / (lambda + sum_j v_jk)``,
    * ``mu_k = mean_i z_ik`` (with one pseudo-task at ``1 / n_classes``, so
      a class nobody voted for keeps a small prior),

    with ``a = precision_shape_prior``, ``n_j`` the worker's number of votes
    and ``b_k`` set once from the majority-vote shares (see
    ``precision_rate_prior_``); the density never decreases. The consensus
    probabilities are the ``z_ik`` normalised per task.

    Parameters
    ----------
    precision_shape_prior : float, default=15.0
        Strength ``a`` of the prior on the worker precisions (pseudo-votes);
        positive.
    mean_precision_prior : float, default=1.0
        Precision ``lambda`` of the prior of each ``z_ik`` around the class
        mean ``mu_k``; positive.
    prior_correction : bool, default=True
        Scale the prior rate by ``4 (1 - 1 / n_classes)`` (the authors'
        correction for the one-vs-rest relaxation).
    max_iter : int, default=500
        Maximum number of iterations.
    tol : float, default=1e-6
        Stops when the log density per task changes by less.
    init : {"majority", "random"}, default="majority"
        Initial ``z``: the vote shares, or random ones.
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
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_mean_ : ndarray of shape (n_classes,)
        Prior mean ``mu_k`` of the relaxed indicators (a class prior): the
        mean of the ``z_ik`` and of one pseudo-task at ``1 / n_classes``.
    worker_precision_ : ndarray of shape (n_workers, n_classes)
        Precision (reliability weight) ``v_jk`` of each worker for each class.
    precision_rate_prior_ : ndarray of shape (n_classes,)
        Rate ``b_k = a * sum_i n_i z_ik (1 - z_ik) / n_votes`` (times the
        correction), from the majority-vote shares ``z`` and the number of
        votes ``n_i`` of each task; floored at ``1e-6``.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Label with the largest ``z_ik`` for each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        The ``z_ik`` of each fitted task, normalised to sum to one.
    n_iter_ : int
        Number of iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final log joint density per task (up to a constant).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    The updates above are an EM on additive statistics (per worker: votes
    and squared errors per class; globally: the sums of ``z`` and ``z ** 2``,
    the number of tasks and the majority-vote spread that sets the prior
    rate), so ``partial_fit`` runs stepwise EM on them, ``S <- (1 - eta_t) S
    + eta_t * scale * S_batch``, as :class:`~skcrowd.DawidSkene` does; a
    first batch holding every vote is ``fit``. Workers unseen at ``fit`` get
    the mean precision; after ``partial_fit``, the pooled worker (all
    workers' statistics summed).

    References
    ----------
    Y. Li, B. I. P. Rubinstein and T. Cohn, "Truth Inference at Scale: A
    Bayesian Model for Adjudicating Highly Redundant Crowd Annotations",
    The Web Conference (WWW) 2019, pages 1028-1038.

    Examples
    --------
    >>> from skcrowd import BWA
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> model = BWA().fit(votes)
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> model.worker_precision_.shape
    (3, 2)
    """

    _parameter_constraints: dict = {
        **BaseEM._parameter_constraints,
        "precision_shape_prior": [_positive],
        "mean_precision_prior": [_positive],
        "prior_correction": ["boolean"],
    }
    _param_names = ("class_mean", "worker_precision", "precision_rate_prior")
    _worker_param_names = ("worker_precision",)
    _worker_stat_keys = ("n_votes", "squared_error")
    _stat_class_axes = {"n_votes": (), "squared_error": (0,), "z_sum": (0,),
                        "z_squares": (0,), "n_tasks": (), "rate_spread": (0,),
                        "vote_weight": ()}

    def __init__(self, *, precision_shape_prior=15.0, mean_precision_prior=1.0,
                 prior_correction=True, max_iter=500, tol=1e-6, init="majority",
                 random_state=None, verbose=0, learning_offset=10.0,
                 learning_decay=0.7, store=None, n_worker_slots=None,
                 allow_new_classes=False, missing_label=-1):
        self.precision_shape_prior = precision_shape_prior
        self.mean_precision_prior = mean_precision_prior
        self.prior_correction = prior_correction
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
        self.missing_label = missing_label

    @staticmethod
    def _rate_stats(votes):
        """The additive statistics of the prior rate: ``sum_i n_i z_ik (1 -
        z_ik)`` over the majority-vote shares ``z``, and the vote weight."""
        shares = normalize_rows(vote_counts(votes), 1.0 / votes.n_classes)
        return {"rate_spread": votes.task_counts() @ (shares * (1.0 - shares)),
                "vote_weight": np.float64(votes.weight.sum())}

    def _rate_prior(self, stats):
        n_classes = len(stats["rate_spread"])
        rate = (self.precision_shape_prior * stats["rate_spread"]
                / max(float(stats["vote_weight"]), 1e-300))
        if self.prior_correction:
            rate *= 4.0 * (1.0 - 1.0 / n_classes)
        return np.maximum(rate, 1e-6)

    @staticmethod
    def _task_worker_matrix(votes, n_workers):
        """Sparse (tasks x workers) matrix of vote weights."""
        return sp.csr_matrix((votes.weight, votes.worker, votes.task_ptr),
                             shape=(votes.n_tasks, n_workers))

    def _stats(self, votes, z):
        n_classes = votes.n_classes
        n_workers = votes.n_workers
        weight = votes.weight
        index = votes.worker_label_index()
        matrix = self._task_worker_matrix(votes, n_workers)
        answered = np.bincount(index, weight, minlength=n_workers * n_classes)
        agreement = np.bincount(index, weight * z[votes.task, votes.label],
                                minlength=n_workers * n_classes)
        # sum over a worker's votes of (z_ik - [label == k])^2, per class k
        squared_error = (matrix.T @ z**2 + (answered - 2 * agreement)
                         .reshape(n_workers, n_classes))
        return {
            "n_votes": np.bincount(votes.worker, weight, minlength=n_workers),
            "squared_error": squared_error,
            "z_sum": z.sum(axis=0),
            "z_squares": (z**2).sum(axis=0),
            "n_tasks": np.float64(votes.n_tasks),
            **self._rate_stats(votes),
        }

    def _m_step(self, stats):
        rate = self._rate_prior(stats)
        precision = ((self.precision_shape_prior + stats["n_votes"][:, None])
                     / (rate + stats["squared_error"]))
        # the mean of the z_ik and of one pseudo-task at 1 / n_classes, so a
        # class nobody voted for keeps a (small) prior
        n_classes = len(stats["z_sum"])
        mean = (stats["z_sum"] + 1.0 / n_classes) / (stats["n_tasks"] + 1.0)
        return {"class_mean": mean, "worker_precision": precision,
                "precision_rate_prior": rate}

    def _e_step(self, votes, params, clamp, accumulate):
        precision = params["worker_precision"]
        mean = params["class_mean"]
        strength = self.mean_precision_prior
        n_classes = len(mean)
        matrix = self._task_worker_matrix(votes, len(precision))
        flat = votes.task.astype(np.int64) * n_classes + votes.label
        voted = np.bincount(flat, votes.weight * precision[votes.worker, votes.label],
                            minlength=votes.n_tasks * n_classes)
        z = ((strength * mean + voted.reshape(votes.n_tasks, n_classes))
             / (strength + matrix @ precision))
        known = clamp >= 0
        z[known] = 0.0
        z[known, clamp[known]] = 1.0
        posterior = normalize_rows(z, 1.0 / n_classes)
        if not accumulate:
            return posterior, {}, 0.0
        stats = self._stats(votes, z)
        # log density of the votes given z and v, and of z given mu (the
        # Gamma prior of v is in _log_prior); params may hold one more
        # worker row than the votes (partial_fit's pooled worker)
        precision = precision[: len(stats["n_votes"])]
        log_density = 0.5 * (
            (stats["n_votes"][:, None] * np.log(precision)).sum()
            - (precision * stats["squared_error"]).sum()
            - strength * (stats["z_squares"] - 2 * mean * stats["z_sum"]
                          + stats["n_tasks"] * mean**2).sum()
        )
        return posterior, stats, log_density

    def _log_prior(self, params):
        precision = params["worker_precision"]
        mean = params["class_mean"]
        pseudo_task = self.mean_precision_prior * ((1.0 / len(mean) - mean)**2).sum()
        return 0.5 * (self.precision_shape_prior * np.log(precision).sum()
                      - (params["precision_rate_prior"] * precision).sum()
                      - pseudo_task)

    def _average_worker(self, params):
        precision = params["worker_precision"]
        average = precision.mean(axis=0, keepdims=True)
        return {**params, "worker_precision": np.concatenate([precision, average])}
