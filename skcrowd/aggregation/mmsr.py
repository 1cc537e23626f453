"""M-MSR: worker skills by robust rank-one completion (Ma & Olshevsky, 2020)."""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.linalg import eigh
from scipy.sparse.linalg import eigsh
from scipy.special import softmax
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .._kernels import msr_sweep
from .._online import (
    running_average,
    running_estimates,
    shared_vote_weight,
    with_pool,
)
from ..base import BaseAggregator, vote_counts

__all__ = ["MMSR"]


def worker_agreement(votes):
    """How often each pair of workers agrees, from sparse products.

    Returns ``(agreement, common)``, two dense (n_workers, n_workers)
    arrays with zero diagonals: ``common[a, b]`` is the number of tasks
    both answered and ``agreement[a, b]`` the number of those on which they
    gave the same label (a worker's repeated answers to one task count as
    that task's label shares). Nothing larger than workers x workers is
    built: the products run over the sparse (worker, task) and (worker,
    task x class) incidence matrices.
    """
    n_workers, n_tasks, n_classes = votes.n_workers, votes.n_tasks, votes.n_classes
    pair = votes.worker.astype(np.int64) * n_tasks + votes.task
    pairs, inverse = np.unique(pair, return_inverse=True)
    total = np.bincount(inverse, votes.weight)
    keep = total[inverse] > 0
    share = np.divide(votes.weight, total[inverse], out=np.zeros(votes.n_votes),
                      where=keep)
    shares = sparse.csr_matrix(
        (share, (votes.worker, votes.task.astype(np.int64) * n_classes + votes.label)),
        shape=(n_workers, n_tasks * n_classes),
    )
    answered = sparse.csr_matrix(
        (np.ones(len(pairs)), (pairs // n_tasks, pairs % n_tasks)),
        shape=(n_workers, n_tasks),
    )
    agreement = (shares @ shares.T).toarray()
    common = (answered @ answered.T).toarray()
    np.fill_diagonal(agreement, 0.0)
    np.fill_diagonal(common, 0.0)
    return agreement, common


class MMSR(BaseAggregator):
    """M-MSR: worker skills from the workers' agreement matrix, robustly.

    Under the one-coin model (worker ``i`` is right with probability
    ``p_i``, errors uniform over the ``K - 1`` wrong classes), the rescaled
    agreement rate ``C_ij = (K a_ij - 1) / (K - 1)`` of two workers, where
    ``a_ij`` is the share of their common tasks on which they agree, has
    expectation ``s_i s_j`` with ``s_i = (K p_i - 1) / (K - 1)``. M-MSR
    recovers ``s`` from the observed entries of ``C`` by alternating rank-one
    fits ``u v^T`` in which every update is a mean-subsequence-reduced mean:
    the ``n_trim`` most extreme ratios on each side are dropped, so a few
    adversarial workers cannot drag the estimates. The signs of ``s`` come
    from the leading eigenvector of ``C`` (workers x workers), oriented so
    that the workers are better than random on the whole. Each task's label
    is then the one-coin posterior with uniform class prior: a vote for
    class ``k`` adds ``log((K - 1) p_i / (1 - p_i))`` to the log-odds of
    ``k`` (the weighted majority vote of the paper).

    Memory is O(n_votes + n_workers^2): the agreement counts come from
    sparse products of the (worker, task) incidence matrices.

    ``partial_fit``: a batch's local problem is its tasks with all their
    votes so far. The first batch is ``fit`` on it. A later batch ``t``
    runs M-MSR on the agreement matrix of its local problem, started from
    the workers' current skills (instead of random ``u``, ``v``). The
    agreement counts of earlier batches are not kept (they would take
    workers x workers memory), so each worker keeps a running, vote-weighted
    mean of its batch log-odds skills, ``S <- (1 - eta_t) S + eta_t *
    scale * v * skill_batch`` and ``V <- (1 - eta_t) V + eta_t * scale *
    v``, with ``v`` its votes on tasks shared with another worker, ``eta_t
    = (learning_offset + t) ** -learning_decay`` and ``scale`` = tasks seen
    / tasks in the batch (stepwise EM's schedule): ``worker_skill_`` is
    ``S / V`` and ``worker_accuracy_`` the matching accuracy. The batch's
    tasks are scored with these skills, as ``predict_proba`` does.

    Parameters
    ----------
    n_trim : int or "auto", default="auto"
        Number of ratios dropped on each side in every update (the paper's
        ``F``, the number of adversarial workers tolerated per
        neighbourhood). ``"auto"`` is the paper's choice ``floor(m / 2) -
        1`` (at least 0), with ``m`` the smallest number of workers any
        worker shares a task with.
    max_iter : int, default=10000
        Maximum number of alternating iterations.
    tol : float, default=1e-10
        Stop when ``u v^T`` changes by less than ``tol`` (Frobenius norm,
        relative to that of ``u v^T``).
    random_state : int, RandomState instance or None, default=None
        Seeds the random initial ``u`` and ``v`` (uniform on [0, 1]).
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
    worker_accuracy_ : ndarray of shape (n_workers,)
        Estimated probability ``p`` that each worker gives the true label
        (kept within ``1 / sqrt(n_tasks)`` of the feasible range's bounds).
    worker_skill_ : ndarray of shape (n_workers,)
        Log-odds weight of each worker's vote, ``log((K - 1) p / (1 - p))``
        (negative for workers worse than random).
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Most probable label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Posterior of each fitted task.
    n_trim_ : int
        The number of trimmed ratios per side used by ``fit``.
    n_iter_ : int
        Number of iterations run by ``fit``.
    converged_ : bool
        Whether the change fell below ``tol`` in ``fit``.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    See Also
    --------
    OneCoinDawidSkene : the same worker model, fitted by EM.

    References
    ----------
    Q. Ma and A. Olshevsky, "Adversarial Crowdsourcing Through Robust
    Rank-One Matrix Completion", Advances in Neural Information Processing
    Systems 33 (NeurIPS 2020).

    Examples
    --------
    >>> from skcrowd import MMSR
    >>> from skcrowd.simulation import make_crowd
    >>> votes, truth, crowd = make_crowd(300, 30, 3, votes_per_task=10,
    ...                                  strategy="hammer-spammer", ratio=0.3,
    ...                                  hammer_accuracy=0.8, random_state=0)
    >>> mmsr = MMSR(random_state=0).fit(votes)
    >>> print(f"{(mmsr.consensus_label_ == truth).mean():.2f}")
    0.98
    >>> spammer = crowd.worker_type == "spammer"  # they answer at random
    >>> print(f"{mmsr.worker_accuracy_[spammer].mean():.2f} "
    ...       f"{mmsr.worker_accuracy_[~spammer].mean():.2f}")
    0.34 0.79

    Online, in three batches of tasks:

    >>> online = MMSR(random_state=0)
    >>> for part in (votes[:100], votes[100:200], votes[200:]):
    ...     online = online.partial_fit(part)
    >>> print(f"{(online.consensus().labels == truth).mean():.2f}")
    0.98
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "n_trim": [Interval(Integral, 0, None, closed="left"), StrOptions({"auto"})],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    }
    _param_names = ("worker_accuracy", "worker_skill")
    _worker_param_names = ("worker_accuracy", "worker_skill")
    # running (vote-weighted) mean of the batch skills, see _online
    _worker_stat_keys = ("skill", "evidence")
    _stat_class_axes = {"skill": (), "evidence": ()}

    def __init__(self, *, n_trim="auto", max_iter=10000, tol=1e-10,
                 random_state=None, learning_offset=10.0, learning_decay=0.7,
                 store=None, n_worker_slots=None, allow_new_classes=False,
                 missing_label=-1):
        self.n_trim = n_trim
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.learning_offset = learning_offset
        self.learning_decay = learning_decay
        self.store = store
        self.n_worker_slots = n_worker_slots
        self.allow_new_classes = allow_new_classes
        self.missing_label = missing_label

    def _fit_votes(self, votes, gold, start=None):
        n_classes, n_workers = votes.n_classes, votes.n_workers
        self.n_iter_, self.converged_, self.n_trim_ = 0, True, 0
        skill = np.zeros(n_workers)
        if n_classes >= 2 and n_workers:
            agreement, common = worker_agreement(votes)
            observed = common > 0
            covariance = np.divide(agreement, common, out=np.zeros_like(agreement),
                                   where=observed)
            covariance = (n_classes * covariance - 1.0) / (n_classes - 1)
            covariance[~observed] = 0.0
            skill = self._rank_one(np.abs(covariance), observed,
                                   max(votes.n_tasks, 1), start)
            skill *= self._signs(covariance, skill, votes)
            known = observed.any(axis=1)
            if known.any() and not known.all():
                skill[~known] = skill[known].mean()  # no partner: average
        bound = 1.0 / np.sqrt(max(votes.n_tasks, 1))
        if n_classes >= 2:
            skill = np.clip(skill, -1.0 / (n_classes - 1) + bound, 1.0 - bound)
        accuracy = skill * (n_classes - 1) / n_classes + 1.0 / n_classes
        self.worker_accuracy_ = accuracy
        with np.errstate(divide="ignore"):
            self.worker_skill_ = (np.log((n_classes - 1) * accuracy)
                                  - np.log1p(-accuracy)) if n_classes >= 2 else (
                np.zeros(n_workers))
        posterior = self._predict_proba_votes(votes)
        known = gold >= 0
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
        return posterior

    def _rank_one(self, values, observed, n_tasks, start=None):
        """|s| from the observed entries of |C| ~ |s| |s|^T, by M-MSR,
        from random ``u``, ``v`` or both equal to ``start``."""
        n_workers = len(values)
        partners = observed.sum(axis=0)
        if self.n_trim == "auto":
            self.n_trim_ = max(int(partners.min()) // 2 - 1, 0)
        else:
            self.n_trim_ = self.n_trim
        if start is None:
            rng = check_random_state(self.random_state)
            u = rng.uniform(size=n_workers)
            v = rng.uniform(size=n_workers)
        else:
            u, v = np.abs(start), np.abs(start)
        floor = 1.0 / np.sqrt(n_tasks)
        u = np.maximum(u, floor)
        v = np.maximum(v, floor)
        new_u, new_v = np.empty(n_workers), np.empty(n_workers)
        self.converged_ = False
        for n_iter in range(1, self.max_iter + 1):
            self.n_iter_ = n_iter
            msr_sweep(values, observed, u, v, self.n_trim_, floor, new_v)
            msr_sweep(values, observed, new_v, u, self.n_trim_, floor, new_u)
            # ||u v^T - u' v'^T||_F^2 without building either
            size = (new_u @ new_u) * (new_v @ new_v)
            change = size + (u @ u) * (v @ v) - 2.0 * (new_u @ u) * (new_v @ v)
            u, v = new_u.copy(), new_v.copy()
            if change <= self.tol**2 * size:
                self.converged_ = True
                break
        return u * np.sqrt(np.linalg.norm(v) / np.linalg.norm(u))

    @staticmethod
    def _signs(covariance, magnitude, votes):
        """Signs of s: C_ij ~ s_i s_j, so sign(s) is read off the leading
        eigenvector of C; the overall sign makes the votes' workers better
        than random (vote-weighted)."""
        if len(covariance) > 2:
            _, vector = eigsh(covariance, k=1, which="LA",
                              v0=np.ones(len(covariance)))
        else:
            vector = eigh(covariance)[1][:, -1:]
        sign = np.where(vector[:, 0] < 0, -1.0, 1.0)
        given = np.bincount(votes.worker, votes.weight, minlength=votes.n_workers)
        if np.sum(given * magnitude * sign) < 0:
            sign = -sign
        return sign

    def _predict_proba_votes(self, votes):
        skill = np.append(self.worker_skill_, self.worker_skill_.mean())
        return self._scored(votes, skill)

    @staticmethod
    def _scored(votes, skill):
        """One-coin posterior, uniform class prior: softmax of the summed
        log-odds weights of each task's votes."""
        return softmax(vote_counts(votes, skill), axis=1)

    @staticmethod
    def _params_of_skill(skill, n_classes):
        """Accuracy and skill: ``p = e^w / (K - 1 + e^w)`` inverts ``w =
        log((K - 1) p / (1 - p))``."""
        accuracy = 1.0 / (1.0 + max(n_classes - 1, 0) * np.exp(-skill))
        return {"worker_accuracy": accuracy, "worker_skill": skill}

    def _m_step(self, stats):
        """partial_fit: skills from the running means (the last, pooled row
        is unused: predictions give unseen workers the mean)."""
        skill = running_estimates(stats, ("skill",))["skill"]
        return self._params_of_skill(skill, len(self.classes_))

    def _online_step(self, votes, old_votes, gold, old_gold, stored, global_stats,
                     eta, scale):
        """partial_fit on the batch's tasks (see the class docstring)."""
        local = type(self)(**{k: v for k, v in self.get_params().items()
                              if k != "store"})
        start = None
        n_classes = votes.n_classes
        if stored["evidence"].any() and n_classes >= 2:
            skill = running_estimates(stored, ("skill",))["skill"]
            accuracy = self._params_of_skill(skill, n_classes)["worker_accuracy"]
            start = (n_classes * accuracy - 1.0) / (n_classes - 1)
        local._fit_votes(votes, gold, start)
        rows = running_average(stored, {"skill": local.worker_skill_},
                               shared_vote_weight(votes), eta, scale)
        skill = running_estimates(with_pool(rows, self._worker_stat_keys),
                                  ("skill",))["skill"]
        return rows, {}, self._scored(votes, skill), np.nan
