"""Learning a classifier from crowd votes (Raykar et al., JMLR 2010).

The true label of an item is drawn from a classifier's probabilities given
its features; each annotator then answers through their own confusion matrix
(Dawid-Skene). EM alternates:

* E-step: the posterior of each item's true label is proportional to the
  classifier's probability times the likelihood of the item's votes under
  the confusion matrices;
* M-step: the confusion matrices are the smoothed expected confusion counts
  (Dawid-Skene's M-step, reused), and the classifier is refitted on the
  soft labels: every item appears once per class with ``sample_weight``
  equal to its posterior probability of that class.

So any scikit-learn classifier whose ``fit`` takes ``sample_weight`` learns
directly from the votes, the role deep "crowd layers" play elsewhere.
"""

import time
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.validation import has_fit_parameter

from .aggregation import DawidSkene
from .base import normalize_rows, vote_counts
from .crowdlab import _CrowdClassifier, _indexable

__all__ = ["LearningFromCrowds"]

#: Soft labels below this weight are not given to the classifier.
_MIN_SOFT_WEIGHT = 1e-8


class LearningFromCrowds(_CrowdClassifier):
    """A classifier trained on crowd votes by EM (Raykar et al., 2010).

    Each item's true label follows the classifier's probabilities given its
    features, and each annotator answers through a confusion matrix. EM
    starts from the vote shares and alternates the Dawid-Skene M-step for
    the confusion matrices plus a refit of the classifier on the soft labels
    (via ``sample_weight``) with an E-step combining the classifier's
    probabilities and the votes. Items without any vote are not trained on;
    their consensus is the classifier's prediction.

    The log-likelihood ``sum_i log sum_k p_k(x_i) prod_v pi_v[k, l_v]``
    (plus the Dirichlet smoothing of the confusion matrices) increases at
    every iteration when the classifier's ``fit`` maximises its weighted
    likelihood; a regularised or approximate fit can make it dip slightly.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``predict_proba`` whose ``fit`` accepts
        ``sample_weight``; None means ``LogisticRegression()``. One clone is
        refitted at every M-step, so with ``warm_start=True`` (e.g.
        ``LogisticRegression(warm_start=True)``) each fit starts from the
        previous one.
    alpha : float, default=0.01
        Additive smoothing of the confusion counts (as in
        :class:`~skcrowd.DawidSkene`); positive.
    max_iter : int, default=50
        Maximum number of EM iterations.
    tol : float, default=1e-4
        EM stops when the mean log-likelihood per item changes by less.
    verbose : int, default=0
        Print one line per iteration.
    missing_label : scalar, default=-1
        Marks a missing vote in ``Y`` (besides ``None`` and ``NaN``).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    estimator_ : estimator
        The classifier of the last M-step; :meth:`predict` uses it.
    annotator_ids_ : ndarray of shape (n_annotators,)
        Annotators with at least one vote.
    confusion_matrices_ : ndarray of shape (n_annotators, n_classes, n_classes)
        ``confusion_matrices_[j, k, l]`` = P(annotator ``j`` answers ``l`` |
        true class ``k``).
    consensus_label_ : ndarray of shape (n_samples,)
        Most probable true label of every fitted item.
    consensus_proba_ : ndarray of shape (n_samples, n_classes)
        Posterior of every fitted item (classifier and votes).
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the change fell below ``tol``.
    log_likelihood_ : float
        Final mean log-likelihood per item (with the smoothing prior).
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every iteration.
    n_features_in_ : int
        Number of features, when the inner estimator records it.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when the inner estimator records them.

    See Also
    --------
    CrowdLab : consensus and quality scores from out-of-fold probabilities.
    skcrowd.DawidSkene : the same annotator model without features.

    References
    ----------
    V. C. Raykar, S. Yu, L. H. Zhao, G. H. Valadez, C. Florin, L. Bogoni,
    L. Moy, "Learning From Crowds", Journal of Machine Learning Research,
    11:1297-1322, 2010.

    Examples
    --------
    >>> from skcrowd import LearningFromCrowds
    >>> from skcrowd.simulation import make_classification_crowd
    >>> X, Y, y_true, truth = make_classification_crowd(random_state=0)
    >>> model = LearningFromCrowds().fit(X, Y)
    >>> bool((model.consensus_label_ == y_true).mean() > 0.9)
    True
    >>> model.confusion_matrices_.shape
    (50, 3, 3)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "alpha": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "verbose": ["verbose"],
        "missing_label": "no_validation",
    }

    def __init__(self, estimator=None, *, alpha=0.01, max_iter=50, tol=1e-4,
                 verbose=0, missing_label=-1):
        self.estimator = estimator
        self.alpha = alpha
        self.max_iter = max_iter
        self.tol = tol
        self.verbose = verbose
        self.missing_label = missing_label

    def _fit_soft(self, model, X_lab, soft):
        """Fit ``model`` on soft labels: each item once per class, weighted by
        its probability (negligible ones left out)."""
        item, klass = np.nonzero(soft > _MIN_SOFT_WEIGHT)
        return model.fit(_safe_indexing(X_lab, item), self.classes_[klass],
                         sample_weight=soft[item, klass])

    def _class_proba(self, model, X):
        """predict_proba of ``model`` with one column per class of classes_."""
        proba = model.predict_proba(X)
        out = np.zeros((proba.shape[0], len(self.classes_)))
        out[:, np.searchsorted(self.classes_, model.classes_)] = proba
        return out

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y):
        """Fit the classifier and the annotators' confusion matrices by EM.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the items, as accepted by the inner estimator.
        y : array-like of shape (n_samples, n_annotators)
            The vote matrix ``Y``, in any format accepted by
            :meth:`CrowdLab.fit` (missing votes ``missing_label``, ``None``
            or ``NaN``; a 1-D ``y`` is a single annotator).

        Returns
        -------
        self : LearningFromCrowds
            The fitted estimator.
        """
        estimator = self._get_estimator()
        if not has_fit_parameter(estimator, "sample_weight"):
            raise TypeError(
                f"LearningFromCrowds trains the classifier on soft labels through "
                f"sample_weight, but {type(estimator).__name__}.fit takes no "
                "sample_weight; use a classifier that does."
            )
        X = _indexable(X)
        votes = self._fit_votes(X, y)
        n_classes = votes.n_classes
        labeled = votes.task_counts() > 0
        rows = np.flatnonzero(labeled)
        X_lab = _safe_indexing(X, rows)
        ds = DawidSkene(alpha=self.alpha)
        clamp = np.full(votes.n_tasks, -1, dtype=np.int32)
        uniform = np.full(n_classes, 1.0 / n_classes)
        posterior = normalize_rows(vote_counts(votes), uniform)
        # one clone refitted at every M-step (an estimator with
        # warm_start=True then starts from the previous solution)
        model = clone(estimator)
        history = []
        self.converged_ = False
        previous = -np.inf
        for n_iter in range(1, self.max_iter + 1):
            tic = time.perf_counter()
            # M-step: confusion matrices, then the classifier on soft labels
            params = ds._m_step(ds._stats(votes, posterior))
            params["class_prior"] = uniform
            model = self._fit_soft(model, X_lab, posterior[rows])
            # E-step: classifier probability x likelihood of the votes
            prior = self._class_proba(model, X)
            vote_post, _, log_lik = ds._e_step(votes, params, clamp, accumulate=False)
            joint = prior * vote_post
            evidence = joint.sum(axis=1)
            posterior = normalize_rows(joint, uniform)
            with np.errstate(divide="ignore"):
                log_lik += votes.n_tasks * np.log(n_classes) + np.log(evidence).sum()
            objective = (log_lik + self.alpha * ds._worker_log_prior(params)) / max(
                votes.n_tasks, 1)
            history.append(objective)
            change = objective - previous
            previous = objective
            if self.verbose:
                print(f"Iteration {n_iter:4d}: log-likelihood {objective:.8f}  "
                      f"change {change:.3e}  ({time.perf_counter() - tic:.3f} s)")
            if abs(change) < self.tol:
                self.converged_ = True
                break
        if not self.converged_ and self.tol > 0:
            warnings.warn(
                f"LearningFromCrowds did not converge in max_iter={self.max_iter} "
                f"iterations (last change {change:.3e} > tol={self.tol}); increase "
                "max_iter or tol.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.estimator_ = model
        self._set_input_attributes()
        self.confusion_matrices_ = params["confusion_matrices"]
        self.consensus_proba_ = posterior
        self.consensus_label_ = self.classes_[np.argmax(posterior, axis=1)]
        self.n_iter_ = n_iter
        self.log_likelihood_ = history[-1]
        self.log_likelihood_history_ = np.asarray(history)
        return self
