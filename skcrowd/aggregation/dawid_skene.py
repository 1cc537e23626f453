"""The Dawid-Skene family: workers described by confusion matrices.

Every model here explains a vote by ``P(label | true class, worker)``, a
confusion matrix per worker, so they share one E-step (a single compiled pass
over the votes) and one set of sufficient statistics: the expected number of
times each worker gave each label to tasks of each true class. They differ
only in how the M-step turns those counts into confusion matrices.
"""

from numbers import Integral, Real

import numpy as np
from scipy.special import softmax, xlogy
from sklearn.utils._param_validation import Interval

from .._kernels import row_stats_pass, smoothed_rows, width_token
from .._parallel import table_e_step
from ..base import BaseEM

__all__ = [
    "ClusteredDawidSkene",
    "DawidSkene",
    "DiagonalDawidSkene",
    "OneCoinDawidSkene",
]


def _smoothed_share(counts, alpha):
    """(counts + alpha) normalised along the last axis: a Dirichlet MAP
    estimate."""
    if counts.ndim == 3:
        share = np.empty(counts.shape)
        smoothed_rows(counts, float(alpha), share)
        return share
    counts = counts + alpha
    return counts / counts.sum(axis=-1, keepdims=True)


def _beta_accuracy(correct, answered, alpha):
    """Probability of a correct answer, a Beta(1 + alpha, 1 + alpha) MAP."""
    return (correct + alpha) / (answered + 2 * alpha)


def _uniform_error_confusion(accuracy, n_classes):
    """Confusion matrices of workers whose errors are spread evenly.

    ``accuracy`` has shape (n_workers,) (one accuracy per worker) or
    (n_workers, n_classes) (one per worker and true class); row ``k`` puts
    the accuracy on the diagonal and shares the rest among the ``K - 1``
    other labels.
    """
    accuracy = accuracy.reshape(accuracy.shape[0], -1, 1)
    eye = np.eye(n_classes)
    error = (1.0 - accuracy) / max(n_classes - 1, 1)
    return accuracy * eye + error * (1.0 - eye)


def _beta_log_prior(accuracy):
    """Log-density (up to the alpha factor) of the accuracies' Beta prior."""
    return np.log(accuracy).sum() + np.log1p(-accuracy).sum()


class _MeanWorkerAfterFit:
    """``fit`` gives unseen workers the mean worker (``_average_worker``).

    Declaring ``_worker_stat_keys`` (for ``partial_fit``) makes the EM driver
    keep the pooled worker (the M-step on every worker's statistics summed)
    for unseen workers; models that documented the mean worker keep it after
    ``fit``, and use the pooled worker after ``partial_fit`` (the mean of
    per-worker parameters is not a function of additive statistics, the
    pooled worker is).
    """

    def _fit_votes(self, votes, gold):
        posterior = super()._fit_votes(votes, gold)
        self._params_with_unseen = self._average_worker(self._fitted_params())
        return posterior


# votes x latent states above which the grouped E-step runs in two threads
class _ConfusionEM(BaseEM):
    """E-step, statistics and class prior shared by the Dawid-Skene family.

    Statistics: ``confusion_counts[w, s, l]``, the expected weight of votes
    ``l`` by worker ``w`` on tasks in latent state ``s``, and
    ``class_counts[s]``, the expected number of tasks in state ``s``. The
    latent state is the true class, or for models with several states per
    class (EBCC's subtypes) the pair (class, subtype) numbered
    ``class * n_states_per_class + subtype``; the posterior returned to the
    caller is always over classes.

    Subclasses define ``_m_step`` and ``_confusion(params)``, or override
    ``_log_confusion`` / ``_log_class_prior`` when the E-step reads other
    log-probabilities (expected ones under a variational posterior, say).
    """

    _parameter_constraints: dict = {
        **BaseEM._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="neither")],
    }

    def _confusion(self, params):
        """Confusion matrices (n_workers, n_classes, n_classes) of params."""
        return params["confusion_matrices"]

    def _log_confusion(self, params):
        """Log P(label | state, worker), shape (n_workers, n_states, n_classes).

        Computed once per params dict (the E-step and the log prior both
        read it).
        """
        if "_log_confusion" not in params:
            params["_log_confusion"] = np.log(self._confusion(params))
        return params["_log_confusion"]

    def _log_class_prior(self, params):
        """Log prior of the latent states, shape (n_states,)."""
        return np.log(params["class_prior"])

    def _log_table(self, params):
        """Log-probabilities as the kernel reads them: row (worker, label),
        column latent state."""
        log_confusion = self._log_confusion(params)
        n_states = log_confusion.shape[1]
        return np.ascontiguousarray(
            log_confusion.transpose(0, 2, 1).reshape(-1, n_states)
        )

    def _e_step(self, votes, params, clamp, accumulate):
        log_table = self._log_table(params)
        n_classes = votes.n_classes
        n_workers = log_table.shape[0] // n_classes
        n_states = log_table.shape[1]
        per_class = n_states // n_classes
        posterior, stats, class_counts, log_likelihood = table_e_step(
            votes, log_table, self._log_class_prior(params), clamp, accumulate,
            group_size=per_class, n_jobs=getattr(self, "n_jobs", None),
        )
        if per_class > 1:
            posterior = (posterior.reshape(-1, per_class) @ np.ones(per_class)
                         ).reshape(-1, n_classes)
        stats = self._as_stats(stats, class_counts, n_workers, n_classes)
        return posterior, stats, log_likelihood

    def _stats(self, votes, posterior):
        stats = np.zeros((votes.n_workers * votes.n_classes, posterior.shape[1]))
        row_stats_pass(width_token(posterior.shape[1]), votes.task_ptr,
                       votes.worker_label_index(), votes.kernel_weight(),
                       np.ascontiguousarray(posterior, dtype=float), 0,
                       votes.n_tasks, stats)
        return self._as_stats(stats, posterior.sum(axis=0), votes.n_workers,
                              votes.n_classes)

    @staticmethod
    def _as_stats(table, class_counts, n_workers, n_classes):
        n_states = table.shape[1]
        if table.shape[0] != n_workers * n_classes:
            return {"class_counts": class_counts}
        counts = table.reshape(n_workers, n_classes, n_states).transpose(0, 2, 1)
        return {"confusion_counts": counts, "class_counts": class_counts}

    def _class_prior(self, stats):
        return _smoothed_share(stats["class_counts"], self.alpha)

    def _log_prior(self, params):
        return self.alpha * (
            np.log(params["class_prior"]).sum()
            + self._worker_log_prior(params)
        )

    def _worker_log_prior(self, params):
        return self._log_confusion(params).sum()


class DawidSkene(_ConfusionEM):
    """Dawid-Skene: one full confusion matrix per worker, fitted by EM.

    Worker ``w`` gives label ``l`` to a task of true class ``k`` with
    probability ``confusion_matrices_[w, k, l]``; true classes follow
    ``class_prior_``. EM starts from the vote shares (or random posteriors)
    and maximises the log posterior with a symmetric Dirichlet prior: the
    M-step adds ``alpha`` to every count, so no probability is ever zero.

    Parameters
    ----------
    alpha : float, default=0.01
        Additive smoothing of the confusion and class counts (a Dirichlet
        prior with concentration ``1 + alpha``); must be positive.
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-6
        EM stops when the mean log posterior per task changes by less.
        With ``tol=0`` it runs exactly ``max_iter`` iterations.
    init : {"majority", "random"}, default="majority"
        Initial posteriors: the vote shares, or random ones from
        ``random_state``.
    random_state : int, RandomState instance or None, default=None
        Seeds ``init="random"``.
    verbose : int, default=0
        Print one line per iteration (log-likelihood, change, seconds).
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
        Probability of each true class.
    confusion_matrices_ : ndarray of shape (n_workers, n_classes, n_classes)
        ``confusion_matrices_[w, k, l]`` = P(worker ``w`` answers ``l`` | true
        class ``k``); rows sum to one.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers, in the order of ``confusion_matrices_``.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks, in the order of ``consensus_label_``.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task.
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final mean log posterior per task (log-likelihood plus the smoothing
        prior).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    See Also
    --------
    OneCoinDawidSkene : one accuracy per worker instead of a full matrix.

    References
    ----------
    A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer
    Error-Rates Using the EM Algorithm", Journal of the Royal Statistical
    Society C, 28(1):20-28, 1979.

    Examples
    --------
    >>> from skcrowd import DawidSkene
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> ds = DawidSkene().fit(votes)
    >>> ds.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> ds.confusion_matrices_.shape
    (3, 2, 2)
    >>> ds.predict([[0, 1, 1]]).tolist()
    [1]
    """

    _param_names = ("class_prior", "confusion_matrices")
    _worker_param_names = ("confusion_matrices",)
    _worker_stat_keys = ("confusion_counts",)
    _stat_class_axes = {"confusion_counts": (0, 1), "class_counts": (0,)}

    def __init__(self, *, alpha=0.01, max_iter=100, tol=1e-6, init="majority",
                 random_state=None, verbose=0, learning_offset=10.0,
                 learning_decay=0.7, store=None, n_worker_slots=None,
                 allow_new_classes=False, n_jobs=None, missing_label=-1):
        self.alpha = alpha
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

    def _m_step(self, stats):
        return {
            "class_prior": self._class_prior(stats),
            "confusion_matrices": _smoothed_share(stats["confusion_counts"],
                                                  self.alpha),
        }

    def _average_worker(self, params):
        confusion = params["confusion_matrices"]
        average = confusion.mean(axis=0, keepdims=True)
        return {**params, "confusion_matrices": np.concatenate([confusion, average])}


class OneCoinDawidSkene(_ConfusionEM):
    """One-coin Dawid-Skene: one accuracy per worker, errors spread evenly.

    Worker ``w`` gives the true label with probability
    ``worker_accuracy_[w]`` and each of the ``K - 1`` other labels with
    probability ``(1 - worker_accuracy_[w]) / (K - 1)``. This is the model of
    peerannot's ``VectorizedMultinomialBinary`` and Crowd-Kit's
    ``OneCoinDawidSkene``; the M-step uses a Beta prior: ``(correct + alpha)
    / (answered + 2 alpha)``.

    Parameters
    ----------
    alpha : float, default=0.01
        Additive smoothing of the accuracies and class counts; positive.
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-6
        EM stops when the mean log posterior per task changes by less.
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
    class_prior_ : ndarray of shape (n_classes,)
        Probability of each true class.
    worker_accuracy_ : ndarray of shape (n_workers,)
        Probability that each worker gives the true label.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers, in the order of ``worker_accuracy_``.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task.
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final mean log posterior per task.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    References
    ----------
    A. P. Dawid and A. M. Skene (1979), with the one-parameter ("one-coin")
    worker model of e.g. Y. Zhang, X. Chen, D. Zhou, M. I. Jordan, "Spectral
    Methods Meet EM", NIPS 2014.

    Examples
    --------
    >>> from skcrowd import OneCoinDawidSkene
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> model = OneCoinDawidSkene().fit(votes)
    >>> model.worker_accuracy_.round(2)
    array([1. , 1. , 0.5])
    """

    _param_names = ("class_prior", "worker_accuracy")
    _worker_param_names = ("worker_accuracy",)
    _worker_stat_keys = ("confusion_counts",)
    _stat_class_axes = {"confusion_counts": (0, 1), "class_counts": (0,)}

    def __init__(self, *, alpha=0.01, max_iter=100, tol=1e-6, init="majority",
                 random_state=None, verbose=0, learning_offset=10.0,
                 learning_decay=0.7, store=None, n_worker_slots=None,
                 allow_new_classes=False, n_jobs=None, missing_label=-1):
        self.alpha = alpha
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

    def _m_step(self, stats):
        counts = stats["confusion_counts"]
        correct = np.einsum("wkk->w", counts)
        answered = counts.sum(axis=(1, 2))
        accuracy = _beta_accuracy(correct, answered, self.alpha)
        return {"class_prior": self._class_prior(stats), "worker_accuracy": accuracy}

    def _confusion(self, params):
        return _uniform_error_confusion(params["worker_accuracy"],
                                        len(params["class_prior"]))

    def _worker_log_prior(self, params):
        return _beta_log_prior(params["worker_accuracy"])

    def _average_worker(self, params):
        accuracy = params["worker_accuracy"]
        return {**params, "worker_accuracy": np.append(accuracy, accuracy.mean())}


class DiagonalDawidSkene(_MeanWorkerAfterFit, _ConfusionEM):
    """Diagonal Dawid-Skene: one accuracy per worker and true class.

    Worker ``w`` gives the true label of a task of class ``k`` with
    probability ``worker_class_accuracy_[w, k]`` and each of the ``K - 1``
    other labels with probability ``(1 - worker_class_accuracy_[w, k]) /
    (K - 1)``: the diagonal of a Dawid-Skene confusion matrix is free, the
    errors of each row are spread evenly. It sits between
    :class:`OneCoinDawidSkene` (one accuracy per worker) and
    :class:`DawidSkene` (a full matrix), with ``K`` parameters per worker.
    The M-step uses a Beta prior: ``(correct + alpha) / (answered + 2
    alpha)`` per worker and true class.

    Parameters
    ----------
    alpha : float, default=0.01
        Additive smoothing of the accuracies and class counts; positive.
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-6
        EM stops when the mean log posterior per task changes by less.
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
    class_prior_ : ndarray of shape (n_classes,)
        Probability of each true class.
    worker_class_accuracy_ : ndarray of shape (n_workers, n_classes)
        Probability that worker ``w`` gives the true label to a task of true
        class ``k``.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers, in the order of ``worker_class_accuracy_``.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task.
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final mean log posterior per task.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    ``partial_fit`` runs stepwise EM on the Dawid-Skene statistics (expected
    confusion counts per worker, expected class counts), as
    :class:`DawidSkene` does; a first batch holding every vote is ``fit``.
    Workers unseen at ``fit`` get the mean accuracies of the workers; after
    ``partial_fit`` they get the pooled worker (the accuracies of all
    workers' counts summed).

    See Also
    --------
    OneCoinDawidSkene : one accuracy per worker.
    DawidSkene : a full confusion matrix per worker.

    References
    ----------
    A. P. Dawid and A. M. Skene, "Maximum Likelihood Estimation of Observer
    Error-Rates Using the EM Algorithm", Journal of the Royal Statistical
    Society C, 28(1):20-28, 1979 (the model with a diagonal-plus-uniform
    confusion matrix per worker, as in peerannot's and Crowd-Kit's
    variants of Dawid-Skene).

    Examples
    --------
    >>> from skcrowd import DiagonalDawidSkene
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0], [2, 2, 2]]
    >>> model = DiagonalDawidSkene().fit(votes)
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 1, 2]
    >>> model.worker_class_accuracy_.shape
    (3, 3)
    """

    _param_names = ("class_prior", "worker_class_accuracy")
    _worker_param_names = ("worker_class_accuracy",)
    _worker_stat_keys = ("confusion_counts",)
    _stat_class_axes = {"confusion_counts": (0, 1), "class_counts": (0,)}

    def __init__(self, *, alpha=0.01, max_iter=100, tol=1e-6, init="majority",
                 random_state=None, verbose=0, learning_offset=10.0,
                 learning_decay=0.7, store=None, n_worker_slots=None,
                 allow_new_classes=False, n_jobs=None, missing_label=-1):
        self.alpha = alpha
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

    def _m_step(self, stats):
        counts = stats["confusion_counts"]
        correct = np.einsum("wkk->wk", counts)
        accuracy = _beta_accuracy(correct, counts.sum(axis=2), self.alpha)
        return {"class_prior": self._class_prior(stats),
                "worker_class_accuracy": accuracy}

    def _confusion(self, params):
        return _uniform_error_confusion(params["worker_class_accuracy"],
                                        len(params["class_prior"]))

    def _worker_log_prior(self, params):
        return _beta_log_prior(params["worker_class_accuracy"])

    def _average_worker(self, params):
        accuracy = params["worker_class_accuracy"]
        average = accuracy.mean(axis=0, keepdims=True)
        return {**params,
                "worker_class_accuracy": np.concatenate([accuracy, average])}


class ClusteredDawidSkene(_MeanWorkerAfterFit, _ConfusionEM):
    """Dawid-Skene with worker clustering (DSWC): clusters share a matrix.

    Workers fall into ``n_clusters`` clusters; all workers of cluster ``c``
    answer following the same confusion matrix
    ``cluster_confusion_matrices_[c]``, so a worker with few votes borrows
    strength from similar workers. Cluster memberships are latent: as in
    Imamura et al., inference is variational (mean field), with a soft
    membership ``cluster_membership_[w, c] = q(worker w in cluster c)``.
    Each iteration updates, in turn, the memberships (from each worker's
    expected confusion counts), the cluster matrices, cluster and class
    priors (Dirichlet MAP with smoothing ``alpha``), and the task
    posteriors, each step increasing the evidence lower bound.

    Initialisation follows the paper: per-worker confusion matrices are
    estimated from the initial posteriors, workers are sorted by the
    nuclear norm of their matrix (a measure of how informative they are)
    and cut into ``n_clusters`` groups of equal size, each group's mean
    matrix starting its cluster.

    Parameters
    ----------
    n_clusters : int, default=2
        Number of worker clusters; at most the number of workers.
    alpha : float, default=0.01
        Additive smoothing of the cluster confusion counts, cluster sizes and
        class counts; positive.
    max_iter : int, default=100
        Maximum number of iterations.
    tol : float, default=1e-6
        Stops when the mean evidence lower bound per task changes by less.
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
        Probability of each true class.
    cluster_confusion_matrices_ : ndarray of shape (n_clusters, n_classes, \
n_classes)
        ``[c, k, l]`` = P(a worker of cluster ``c`` answers ``l`` | true class
        ``k``).
    cluster_membership_ : ndarray of shape (n_workers, n_clusters)
        Posterior probability of each worker belonging to each cluster.
    cluster_prior_ : ndarray of shape (n_clusters,)
        Share of the workers in each cluster.
    worker_cluster_ : ndarray of shape (n_workers,)
        Most probable cluster of each worker.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers, in the order of ``cluster_membership_``.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task.
    n_iter_ : int
        Number of iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final evidence lower bound per task (with the smoothing prior).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration; it never decreases.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    Notes
    -----
    ``partial_fit`` is stochastic variational inference: besides each
    worker's expected confusion counts it keeps two global statistics, the
    expected confusion counts of each cluster (``sum_w q_wc n_wkl``) and
    the expected votes of each cluster, updated stepwise (``S <- (1 -
    eta_t) S + eta_t * scale * S_batch``) with the batch's workers'
    memberships. Each step takes the cluster matrices and cluster prior
    from these global counts, then the memberships of the batch's workers
    from their own counts. The cluster prior is therefore each cluster's
    share of the votes (``fit``: of the workers), and even a single batch
    differs slightly from ``fit``. Workers unseen at ``fit`` get the
    cluster prior as membership; after ``partial_fit`` too.

    See Also
    --------
    DawidSkene : one confusion matrix per worker (``n_clusters`` = workers).

    References
    ----------
    H. Imamura, I. Sato and M. Sugiyama, "Analysis of Minimax Error Rate for
    Crowdsourcing and Its Application to Worker Clustering Model", ICML 2018,
    PMLR 80:2147-2156.

    Examples
    --------
    >>> from skcrowd import ClusteredDawidSkene
    >>> votes = [[0, 0, 1, 0], [1, 1, 1, 0], [0, 0, 0, 1], [1, 1, 0, 1]]
    >>> model = ClusteredDawidSkene(n_clusters=2).fit(votes)
    >>> model.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> model.cluster_confusion_matrices_.shape
    (2, 2, 2)
    >>> model.cluster_membership_.shape
    (4, 2)
    """

    _parameter_constraints: dict = {
        **_ConfusionEM._parameter_constraints,
        "n_clusters": [Interval(Integral, 1, None, closed="left")],
    }
    _param_names = ("class_prior", "cluster_confusion_matrices",
                    "cluster_membership", "cluster_prior", "worker_cluster")
    _worker_param_names = ("cluster_membership", "worker_cluster")
    _worker_stat_keys = ("confusion_counts",)
    _stat_class_axes = {"confusion_counts": (0, 1), "class_counts": (0,),
                        "cluster_counts": (1, 2), "cluster_votes": ()}

    def __init__(self, n_clusters=2, *, alpha=0.01, max_iter=100, tol=1e-6,
                 init="majority", random_state=None, verbose=0,
                 learning_offset=10.0, learning_decay=0.7, store=None,
                 n_worker_slots=None, allow_new_classes=False,
                 n_jobs=None, missing_label=-1):
        self.n_clusters = n_clusters
        self.alpha = alpha
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

    def _fit_votes(self, votes, gold):
        if self.n_clusters > votes.n_workers:
            raise ValueError(
                f"n_clusters={self.n_clusters} is larger than the number of "
                f"workers ({votes.n_workers}); n_clusters must be in "
                f"[1, {votes.n_workers}]."
            )
        return super()._fit_votes(votes, gold)

    def _stat_shape(self, key, n_classes):
        if key == "cluster_counts":
            return (self.n_clusters, n_classes, n_classes)
        if key == "cluster_votes":
            return (self.n_clusters,)
        return super()._stat_shape(key, n_classes)

    def _stats(self, votes, posterior):
        stats = super()._stats(votes, posterior)
        stats["n_fit_workers"] = votes.n_workers  # rows before a pooled one
        return stats

    def _initial_membership(self, counts):
        """Hard memberships: workers sorted by the nuclear norm of their
        confusion matrix, cut into equal groups (Imamura et al.)."""
        confusion = _smoothed_share(counts, self.alpha)
        order = np.argsort(-np.linalg.norm(confusion, ord="nuc", axis=(1, 2)),
                           kind="stable")
        n_workers = len(counts)
        group = np.empty(n_workers, dtype=np.intp)
        group[order] = np.arange(n_workers) * self.n_clusters // n_workers
        return np.eye(self.n_clusters)[group]

    def _e_step(self, votes, params, clamp, accumulate):
        posterior, stats, log_likelihood = super()._e_step(votes, params, clamp,
                                                           accumulate)
        if accumulate and params.get("_online"):
            # partial_fit: the batch's part of the global cluster statistics
            membership = params["cluster_membership"]
            counts = stats["confusion_counts"]
            stats["cluster_counts"] = np.einsum("wc,wkl->ckl", membership, counts)
            stats["cluster_votes"] = membership.T @ counts.sum(axis=(1, 2))
        elif accumulate:
            # the memberships' update needs the parameters these counts were
            # computed under (the statistics stay additive; this entry is not)
            stats["previous_params"] = params
            stats["n_fit_workers"] = len(stats["confusion_counts"])
        return posterior, stats, log_likelihood

    def _memberships(self, counts, cluster_matrices, cluster_prior):
        """q(cluster) of each worker given its counts (mean field)."""
        scores = np.einsum("wkl,ckl->wc", counts, np.log(cluster_matrices))
        return softmax(scores + np.log(cluster_prior), axis=1)

    def _m_step(self, stats):
        if "cluster_counts" in stats:
            return self._online_m_step(stats)
        counts = stats["confusion_counts"]
        # fit: rows past n_fit_workers are the pooled worker of with_pool
        real = counts[: stats.get("n_fit_workers", len(counts))]
        previous = stats.get("previous_params")
        if previous is None:
            membership = self._initial_membership(real)
        else:
            membership = self._memberships(real,
                                           previous["cluster_confusion_matrices"],
                                           previous["cluster_prior"])
        cluster_counts = np.einsum("wc,wkl->ckl", membership, real)
        cluster_prior = _smoothed_share(membership.sum(axis=0), self.alpha)
        return self._cluster_params(stats, cluster_counts, cluster_prior,
                                    membership, len(counts) - len(real))

    def _online_m_step(self, stats):
        """partial_fit: cluster matrices and prior from the global cluster
        statistics, then the memberships of the rows (the batch's workers and
        a last, pooled row, which gets the cluster prior)."""
        rows = stats["confusion_counts"][:-1]
        cluster_counts, cluster_votes = stats["cluster_counts"], stats["cluster_votes"]
        membership = rows  # memberships from the workers' own counts
        if not np.any(cluster_votes):  # the first batch's start
            membership = self._initial_membership(rows)
            cluster_counts = np.einsum("wc,wkl->ckl", membership, rows)
            cluster_votes = membership.T @ rows.sum(axis=(1, 2))
        params = self._cluster_params(stats, cluster_counts,
                                      _smoothed_share(cluster_votes, self.alpha),
                                      membership, 1)
        params["_online"] = True
        return params

    def _cluster_params(self, stats, cluster_counts, cluster_prior, membership,
                        n_pooled):
        """Params from cluster counts and prior: ``membership`` (or, given
        the workers' counts, the memberships they imply) for the workers and
        the cluster prior for ``n_pooled`` more rows."""
        matrices = _smoothed_share(cluster_counts, self.alpha)
        if membership.ndim == 3:
            membership = self._memberships(membership, matrices, cluster_prior)
        membership = np.concatenate([membership,
                                     np.tile(cluster_prior, (n_pooled, 1))])
        return {
            "class_prior": self._class_prior(stats),
            "cluster_confusion_matrices": matrices,
            "cluster_membership": membership,
            "cluster_prior": cluster_prior,
            "worker_cluster": membership.argmax(axis=1),
        }

    def _log_confusion(self, params):
        # expected log-probabilities under the memberships (mean field)
        return np.einsum("wc,ckl->wkl", params["cluster_membership"],
                         np.log(params["cluster_confusion_matrices"]))

    def _worker_log_prior(self, params):
        return (np.log(params["cluster_confusion_matrices"]).sum()
                + np.log(params["cluster_prior"]).sum())

    def _log_prior(self, params):
        # smoothing priors, plus the memberships' part of the lower bound:
        # E[log P(cluster)] + entropy of q(cluster)
        membership = params["cluster_membership"]
        return (super()._log_prior(params)
                + (membership @ np.log(params["cluster_prior"])).sum()
                - xlogy(membership, membership).sum())

    def _average_worker(self, params):
        membership = params["cluster_membership"]
        average = params["cluster_prior"][None, :]
        return {**params,
                "cluster_membership": np.concatenate([membership, average])}
