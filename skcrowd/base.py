"""Base classes: the estimator plumbing shared by every aggregator.

:class:`BaseAggregator` turns any accepted input into :class:`~skcrowd.Votes`
coded in the fitted vocabularies and implements ``fit``, ``predict``,
``predict_proba``, ``fit_predict`` and ``score``. :class:`BaseEM` adds the EM
driver over the additive-statistics contract (``_m_step(stats)`` ->
params, ``_e_step(votes, params, clamp)`` -> posterior, stats,
log-likelihood).
"""

import time
import warnings
from abc import abstractmethod
from collections.abc import Mapping
from numbers import Integral, Real
from types import SimpleNamespace

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from ._online import OnlineMixin, with_pool
from ._votes import (
    Votes,
    _as_1d,
    _integral_floats_to_int,
    _missing_mask,
    _narrow_object,
    _unique_sorted,
    as_votes,
    input_kind,
    lookup,
)

__all__ = ["BaseAggregator", "BaseEM"]


def vote_counts(votes, worker_weight=None):
    """Weighted number of votes per (task, class), shape (n_tasks, n_classes).

    ``worker_weight`` (one weight per worker code) multiplies each vote's own
    weight; it is how weighted majority votes are computed.
    """
    from ._parallel import label_counts

    if worker_weight is not None:
        worker_weight = np.asarray(worker_weight, dtype=np.float64)
    return label_counts(votes, worker_weight)


def class_totals(votes):
    """Total vote weight of each class, shape (n_classes,): the row sums of
    :func:`vote_counts` without its (n_tasks, n_classes) table."""
    from ._kernels import label_totals

    return label_totals(votes.label, votes.kernel_weight(), votes.n_classes)


def argmax_rows(scores):
    """Column of the largest entry of each row, the first one on ties (as
    ``np.argmax(scores, axis=1)``, whose reduction over a short last axis is
    ten times slower); 0 for rows of no columns."""
    from ._kernels import row_argmax

    best = np.zeros(len(scores), dtype=np.intp)
    if scores.shape[1]:
        row_argmax(np.ascontiguousarray(scores, dtype=np.float64), best)
    return best


def normalize_rows(scores, fallback, out=None):
    """Rows divided by their sums; rows whose sum is not positive become
    ``fallback`` (a scalar or one value per column). ``out`` may be
    ``scores`` itself (a float64 C-contiguous array)."""
    from ._kernels import normalized_rows

    scores = np.ascontiguousarray(scores, dtype=np.float64)
    fallback = np.broadcast_to(np.asarray(fallback, dtype=np.float64),
                               scores.shape[1:]).copy()
    if out is None:
        out = np.empty_like(scores)
    normalized_rows(scores, fallback, out)
    return out


class BaseAggregator(OnlineMixin, BaseEstimator):
    """Base class of every aggregator: input handling, predict and score.

    Subclasses implement ``_fit_votes(votes, gold)``, which sets the fitted
    worker parameters and returns the posterior of the fitted tasks, and
    ``_predict_proba_votes(votes)``, a row-local computation for any votes
    coded in the fitted vocabularies (the worker code ``n_workers`` stands for
    every worker unseen at fit, who gets the population-average parameters).

    Examples
    --------
    Every aggregator shares this interface:

    >>> from skcrowd import MajorityVote
    >>> from skcrowd.base import BaseAggregator
    >>> model = MajorityVote().fit({"t1": {"ann": "cat", "bob": "cat"}})
    >>> isinstance(model, BaseAggregator), model.predict({"t2": {"ann": "cat"}})
    (True, array(['cat'], dtype='<U3'))
    """

    _parameter_constraints: dict = {
        "missing_label": "no_validation",
        "store": "no_validation",
        "n_worker_slots": [None, Interval(Integral, 1, None, closed="left")],
        "allow_new_classes": ["boolean"],
        # shared by the models that have them (a constraint of a parameter an
        # estimator does not have is never looked up)
        "learning_offset": [Interval(Real, 0, None, closed="neither")],
        "learning_decay": [Interval(Real, 0, 1, closed="right")],
        "n_jobs": [Interval(Integral, None, -1, closed="right"),
                   Interval(Integral, 1, None, closed="left"), None],
    }
    # models with a pooled "unseen worker" and online support declare these
    _worker_stat_keys: tuple = ()
    _worker_param_names: tuple = ()
    _stat_class_axes = None
    _param_names: tuple = ()

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.categorical = True
        tags.input_tags.string = True
        tags.input_tags.dict = True
        tags.target_tags.required = False
        return tags

    # ------------------------------------------------------------------
    # input handling
    def _votes_from_input(self, X, reset):
        """Votes in the input's own vocabularies; validates wide matrices."""
        kind = input_kind(X)
        if kind != "wide":
            if reset:
                for attr in ("n_features_in_", "feature_names_in_"):
                    if hasattr(self, attr):
                        delattr(self, attr)
            return as_votes(X, missing_label=self.missing_label)
        task_ids = np.asarray(X.index) if hasattr(X, "columns") else None
        try:
            array = validate_data(self, X, reset=reset, dtype=None,
                                  ensure_all_finite=False)
        except ValueError as exc:
            if not reset and "features, but" in str(exc):
                raise ValueError(
                    f"{exc} A wide vote matrix needs one column per worker seen "
                    f"in fit ({self.n_features_in_} workers); to score votes of "
                    "other workers pass a long table or a dict of dicts."
                ) from exc
            raise
        names = getattr(self, "feature_names_in_", None)
        if names is not None and hasattr(X, "columns"):
            worker_ids = names
        elif hasattr(X, "columns"):
            worker_ids = np.asarray(X.columns)
        else:
            worker_ids = None
        return Votes.from_wide(array, missing_label=self.missing_label,
                               task_ids=task_ids, worker_ids=worker_ids)

    def _gold_labels(self, y, votes):
        """Gold labels aligned with ``votes.task_ids`` and a mask of known ones."""
        if isinstance(y, Mapping):
            ids = votes.task_ids.tolist()
            values = [y.get(t) for t in ids]
            gold = np.empty(len(values), dtype=object)
            gold[:] = values
        else:
            gold = _as_1d(y, "y")
            if len(gold) != votes.n_tasks:
                raise ValueError(
                    f"y has {len(gold)} gold labels but X has {votes.n_tasks} "
                    "tasks; give one label per task (missing_label, None or NaN "
                    "where unknown) or a dict {task: label}."
                )
        known = ~_missing_mask(gold, self.missing_label)
        labels = gold[known]
        if labels.dtype.kind == "O":
            labels = _narrow_object(labels)
        return _integral_floats_to_int(labels), known

    def _fit_classes_and_votes(self, X, y):
        """Votes of the fit input and gold codes (-1 = unknown) in classes_."""
        votes = self._votes_from_input(X, reset=True)
        classes = votes.classes
        gold = np.full(votes.n_tasks, -1, dtype=np.int32)
        if y is not None:
            labels, known = self._gold_labels(y, votes)
            if len(labels):
                try:
                    classes = np.union1d(classes, labels)
                except TypeError:
                    _unique_sorted(np.concatenate([classes.astype(object),
                                                   labels.astype(object)]),
                                   "Votes and gold labels")
                gold[known] = lookup(classes, labels)
        self.classes_ = classes
        self.worker_ids_ = votes.worker_ids
        if len(classes) == len(votes.classes):  # no gold-only class: codes hold
            return votes, gold
        label = lookup(classes, votes.classes)[votes.label]
        votes = Votes(votes.task, votes.worker, label, votes.weight,
                      task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                      classes=classes)
        return votes, gold

    def _coded_votes(self, X):
        """Votes of X coded in the fitted vocabularies (unseen worker = W)."""
        votes = self._votes_from_input(X, reset=False)
        label_map = lookup(self.classes_, votes.classes)
        if (label_map < 0).any():
            unknown = votes.classes[label_map < 0].tolist()
            raise ValueError(
                f"Labels {unknown[:10]} were not seen in fit; the fitted classes "
                f"are {self.classes_.tolist()}. Refit with these labels (or pass "
                "them as classes of the votes)."
            )
        worker_map = lookup(self.worker_ids_, votes.worker_ids)
        worker_map[worker_map < 0] = len(self.worker_ids_)
        return Votes(
            votes.task, worker_map[votes.worker], label_map[votes.label],
            votes.weight, task_ids=votes.task_ids,
            worker_ids=np.append(self.worker_ids_.astype(object), None),
            classes=self.classes_,
        )

    # ------------------------------------------------------------------
    # public API
    def fit(self, X, y=None):
        """Learn worker parameters and the consensus of the tasks in X.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes, in any format accepted by :func:`skcrowd.as_votes`.
        y : array-like of shape (n_tasks,) or dict, default=None
            Known gold labels of some tasks (``missing_label``, ``None`` or
            ``NaN`` where unknown), aligned with the task order of X, or a
            dict ``{task: label}``. Known tasks have their posterior clamped
            to their gold label; gold labels extend the set of classes.

        Returns
        -------
        self : object
            The fitted aggregator.
        """
        if _is_dask_collection(X):  # votes on a Dask cluster
            from .distributed import fit

            return fit(self, X, y)
        self._validate_params()
        for attr in ("store_", "n_batches_", "n_votes_seen_"):
            if hasattr(self, attr):
                delattr(self, attr)
        votes, gold = self._fit_classes_and_votes(X, y)
        posterior = self._fit_votes(votes, gold)
        self.task_ids_ = votes.task_ids
        self.consensus_proba_ = posterior
        self.consensus_label_ = self._labels_from_proba(posterior)
        return self

    def fit_predict(self, X, y=None):
        """Fit and return the consensus label of every task of X.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes.
        y : array-like of shape (n_tasks,) or dict, default=None
            Known gold labels of some tasks, as in :meth:`fit`.

        Returns
        -------
        labels : ndarray of shape (n_tasks,)
            Consensus labels in the task order of X (``task_ids_``).
        """
        return self.fit(X, y).consensus_label_

    def predict_proba(self, X):
        """Posterior probability of each class for every task of X.

        Uses the fitted worker parameters; a task's posterior depends on its
        own votes only. Workers unseen at fit count as the population-average
        worker; tasks without votes get the class prior.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes.

        Returns
        -------
        proba : ndarray of shape (n_tasks, n_classes)
            Columns follow ``classes_``; rows follow the task order of X.
        """
        check_is_fitted(self)
        if _is_dask_collection(X):  # a Dask collection of the same tasks
            from .distributed import predict_proba

            return predict_proba(self, X)
        return self._predict_proba_votes(self._coded_votes(X))

    def predict(self, X):
        """Consensus label of every task of X.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes.

        Returns
        -------
        labels : ndarray of shape (n_tasks,)
            Values from ``classes_``; rows follow the task order of X.
        """
        check_is_fitted(self)
        if _is_dask_collection(X):
            from .distributed import predict

            return predict(self, X)
        return self._predict_labels(self._coded_votes(X))

    def score(self, X, y):
        """Accuracy of the consensus labels against gold labels.

        Tasks whose gold label is unknown (``missing_label``, ``None``,
        ``NaN``, or absent from a dict) are ignored, so
        ``cross_val_score(aggregator, votes, gold)`` learns worker parameters
        on the training tasks and scores the held-out ones.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            The votes (or a Dask collection of them, see
            :mod:`skcrowd.distributed`: tasks in order of first appearance).
        y : array-like of shape (n_tasks,) or dict
            Gold labels, as in :meth:`fit`.

        Returns
        -------
        accuracy : float
        """
        check_is_fitted(self)
        if _is_dask_collection(X):  # predict on the cluster, score here
            from .distributed import predict

            predicted = predict(self, X).compute()
            task_ids = (np.asarray(predicted.index) if hasattr(predicted, "index")
                        else np.arange(len(predicted)))
            votes = SimpleNamespace(task_ids=task_ids, n_tasks=len(task_ids))
            predicted = np.asarray(predicted)
        else:
            votes = self._coded_votes(X)
            predicted = None
        labels, known = self._gold_labels(y, votes)
        if not known.any():
            raise ValueError("y holds no known gold label to score against.")
        if predicted is None:
            predicted = self._predict_labels(votes)
        return float(np.mean(predicted[known] == labels))

    # ------------------------------------------------------------------
    def _labels_from_proba(self, proba):
        """Most probable class of each row; ties go to the smallest label."""
        return self.classes_[argmax_rows(proba)]

    def _predict_labels(self, votes):
        """Consensus labels of coded votes (what ``predict`` returns)."""
        return self._labels_from_proba(self._predict_proba_votes(votes))

    def _set_params(self, params, n_workers):
        """Store params computed with one extra, pooled worker row.

        The fitted attributes get the first ``n_workers`` rows of the
        per-worker parameters; predictions use the full set, the last row
        standing for every worker unseen at fit.
        """
        self._params_with_unseen = params
        for name in self._param_names:
            value = params[name]
            if name in self._worker_param_names:
                value = value[:n_workers]
            setattr(self, name + "_", value)

    def _predict_with_params(self, votes, params):
        """Row-local posterior of coded votes under explicit params."""
        raise NotImplementedError

    @abstractmethod
    def _fit_votes(self, votes, gold):
        """Fit on coded votes; return the posterior of the fitted tasks."""

    @abstractmethod
    def _predict_proba_votes(self, votes):
        """Row-local posterior of coded votes (worker ``n_workers`` = unseen)."""


class BaseEM(BaseAggregator):
    """EM driver over additive sufficient statistics.

    A subclass provides three pure steps:

    - ``_m_step(stats)`` -> ``params``, a dict whose keys name fitted
      attributes (``params["class_prior"]`` becomes ``class_prior_``);
    - ``_e_step(votes, params, clamp, accumulate)`` -> ``(posterior, stats,
      log_likelihood)``; ``stats`` is a dict of arrays, additive over
      disjoint sets of tasks;
    - ``_log_prior(params)``: the log-density of the parameters' prior (the
      smoothing), so that the objective EM increases is the log posterior.

    and ``_stats(votes, posterior)`` for the statistics of a given posterior
    (used by the initialisation). Models that name their per-worker
    statistics in ``_worker_stat_keys`` give unseen workers the pooled
    worker (the M-step on the sum of every worker's statistics); the others
    define ``_average_worker(params)``, which returns params with one more
    worker, the population average.

    Examples
    --------
    >>> from skcrowd import DawidSkene
    >>> from skcrowd.base import BaseEM
    >>> model = DawidSkene(max_iter=5, tol=0).fit([[0, 0, 1], [1, 1, 1]])
    >>> isinstance(model, BaseEM), model.n_iter_, len(model.log_likelihood_history_)
    (True, 5, 5)
    """

    _parameter_constraints: dict = {
        **BaseAggregator._parameter_constraints,
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "init": [StrOptions({"majority", "random"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    def _initial_posterior(self, votes, gold):
        if self.init == "random":
            rng = check_random_state(self.random_state)
            posterior = rng.dirichlet(np.ones(votes.n_classes), size=votes.n_tasks)
        else:
            posterior = normalize_rows(vote_counts(votes), 1.0 / votes.n_classes)
        known = gold >= 0
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
        return posterior

    def _starting_stats(self, votes, gold):
        """Statistics of the initial posterior: EM's first M-step reads them."""
        return self._stats(votes, self._initial_posterior(votes, gold))

    def _fit_votes(self, votes, gold):
        if not isinstance(votes, Votes):
            # votes partitioned over a Dask cluster (skcrowd.distributed): the
            # same steps, run per partition, statistics summed
            stats, e_step = votes.em_steps(self, gold)
            return self._em(stats, e_step, votes.n_tasks, votes.n_workers)
        stats = self._starting_stats(votes, gold)

        def e_step(params):
            return self._e_step(votes, params, gold, accumulate=True)

        return self._em(stats, e_step, votes.n_tasks, votes.n_workers)

    def _em(self, stats, e_step, n_tasks, n_workers, m_step=None):
        """The EM loop from initial statistics; ``e_step(params)`` returns
        ``(posterior, stats, log_likelihood)`` over every task (``m_step``
        defaults to ``self._m_step``). Returns the last posterior."""
        m_step = self._m_step if m_step is None else m_step
        n_tasks = max(n_tasks, 1)
        history = []
        self.converged_ = False
        previous = -np.inf
        for n_iter in range(1, self.max_iter + 1):
            tic = time.perf_counter()
            used = stats
            params = m_step(stats)
            posterior, stats, log_likelihood = e_step(params)
            objective = (log_likelihood + self._log_prior(params)) / n_tasks
            history.append(objective)
            change = objective - previous
            previous = objective
            if self.verbose:
                print(
                    f"Iteration {n_iter:4d}: log-likelihood {objective:.8f}  "
                    f"change {change:.3e}  ({time.perf_counter() - tic:.3f} s)"
                )
            if abs(change) < self.tol:
                self.converged_ = True
                break
        if not self.converged_ and self.tol > 0:
            warnings.warn(
                f"{type(self).__name__} did not converge in max_iter="
                f"{self.max_iter} iterations (last change {change:.3e} > "
                f"tol={self.tol}); increase max_iter or tol.",
                ConvergenceWarning,
                stacklevel=4,
            )
        if self._worker_stat_keys:
            self._set_params(self._m_step(with_pool(used, self._worker_stat_keys)),
                             n_workers)
        else:
            for name in self._param_names:
                setattr(self, name + "_", params[name])
        self.n_iter_ = n_iter
        self.log_likelihood_ = history[-1]
        self.log_likelihood_history_ = np.asarray(history)
        return posterior

    def _fitted_params(self):
        return {name: getattr(self, name + "_") for name in self._param_names}

    def _predict_proba_votes(self, votes):
        if self._worker_stat_keys:
            params = self._params_with_unseen
        else:
            params = self._average_worker(self._fitted_params())
        return self._predict_with_params(votes, params)

    def _predict_with_params(self, votes, params):
        clamp = np.full(votes.n_tasks, -1, dtype=np.int32)
        posterior, _, _ = self._e_step(votes, params, clamp, accumulate=False)
        return posterior

    @abstractmethod
    def _m_step(self, stats):
        """Parameters maximising the expected log posterior given stats."""

    @abstractmethod
    def _e_step(self, votes, params, clamp, accumulate):
        """Posterior, statistics and log-likelihood under params."""

    @abstractmethod
    def _stats(self, votes, posterior):
        """Sufficient statistics of votes under a given posterior."""

    @abstractmethod
    def _log_prior(self, params):
        """Log-density of the parameters under their smoothing prior."""

    @abstractmethod
    def _average_worker(self, params):
        """params with one extra worker: the population average."""


def _is_dask_collection(X):
    """Whether X is a Dask collection (checked without importing Dask)."""
    return callable(getattr(type(X), "__dask_graph__", None))
