"""WDS: a majority vote weighted by Dawid-Skene's per-class accuracies."""

import numpy as np

from .._votes import Votes
from ..base import normalize_rows, vote_counts
from .dawid_skene import DawidSkene

__all__ = ["WDS"]


class WDS(DawidSkene):
    """Weighted Distribution from Dawid-Skene (peerannot's ``WDS``).

    Fits :class:`DawidSkene` by EM, then scores each task with a weighted
    vote where a vote for class ``k`` by worker ``w`` weighs the diagonal
    entry ``confusion_matrices_[w, k, k]``, the probability that ``w``
    answers ``k`` when ``k`` is true:

    ``WDS(i) = argmax_k sum_w pi^(w)_{k,k} 1(y_i^(w) = k)``

    ``predict_proba`` gives the normalised weighted vote shares (the "soft
    labels" of peerannot) rather than the Dawid-Skene posterior; ``predict``
    takes the largest share, ties to the smallest label. Tasks with a gold
    label in ``y`` keep it, tasks without votes get ``class_prior_`` and
    workers unseen at fit get Dawid-Skene's pooled worker (the confusion
    matrix of all workers' counts together). All parameters and the EM
    fitted attributes are those of :class:`DawidSkene`, and ``partial_fit``
    updates the Dawid-Skene statistics online as there.

    Parameters
    ----------
    alpha : float, default=0.01
        Additive smoothing of the Dawid-Skene confusion and class counts;
        must be positive.
    max_iter : int, default=100
        Maximum number of EM iterations.
    tol : float, default=1e-6
        EM stops when the mean log posterior per task changes by less.
    init : {"majority", "random"}, default="majority"
        Initial posteriors of the EM.
    random_state : int, RandomState instance or None, default=None
        Seeds ``init="random"``.
    verbose : int, default=0
        Print one line per EM iteration.
    learning_offset : float, default=10.0
        ``partial_fit`` step size ``(learning_offset + t) ** -learning_decay``
        of the stepwise EM, as in :class:`DawidSkene`.
    learning_decay : float, default=0.7
        See ``learning_offset``.
    store : None, str or store object, default=None
        Where ``partial_fit`` keeps its state: None for memory, a MongoDB
        URI or a :class:`~skcrowd.stores.MongoStore`.
    n_worker_slots : int, default=None
        Hash worker ids into this many slots; None keeps one per worker.
    allow_new_classes : bool, default=False
        Let ``partial_fit`` append labels never seen before to ``classes_``.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None``/``NaN``) and an
        unknown gold label in ``y``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    class_prior_ : ndarray of shape (n_classes,)
        Dawid-Skene probability of each true class.
    confusion_matrices_ : ndarray of shape (n_workers, n_classes, n_classes)
        Dawid-Skene confusion matrices; their diagonals weigh the votes.
    worker_ids_ : ndarray of shape (n_workers,)
        Identifiers of the workers.
    task_ids_ : ndarray of shape (n_tasks,)
        Identifiers of the fitted tasks.
    consensus_label_ : ndarray of shape (n_tasks,)
        Weighted-vote label of each fitted task.
    consensus_proba_ : ndarray of shape (n_tasks, n_classes)
        Weighted vote shares of each fitted task.
    n_iter_ : int
        Number of EM iterations run.
    converged_ : bool
        Whether the EM converged.
    log_likelihood_ : float
        Final mean Dawid-Skene log posterior per task.
    log_likelihood_history_ : ndarray of shape (n_iter_,)
        The same after every EM iteration.
    n_features_in_ : int
        Number of worker columns, when fitted on a wide matrix.

    See Also
    --------
    DawidSkene : the model whose confusion matrices weigh the votes.

    References
    ----------
    T. Lefort, B. Charlier, A. Joly, J. Salmon, "Peerannot: classification
    for crowdsourced image datasets with Python", Computo, 2024
    (``peerannot.models.WDS``); A. P. Dawid and A. M. Skene, Journal of the
    Royal Statistical Society C, 28(1):20-28, 1979.

    Examples
    --------
    >>> from skcrowd import WDS
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 0, 0], [1, 1, 0]]
    >>> wds = WDS().fit(votes)
    >>> wds.consensus_label_.tolist()
    [0, 1, 0, 1]
    >>> wds.predict_proba([[0, 1, 1]]).round(2)
    array([[0.4, 0.6]])
    """

    def _fit_votes(self, votes, gold):
        super()._fit_votes(votes, gold)
        return self._posterior_from_params(votes, self._params_with_unseen, gold)

    def _predict_with_params(self, votes, params):
        """Weighted vote shares of coded votes under Dawid-Skene params."""
        diagonal = np.einsum("wkk->wk", params["confusion_matrices"])
        weighted = Votes(
            votes.task, votes.worker, votes.label,
            votes.weight * diagonal[votes.worker, votes.label],
            task_ids=votes.task_ids, worker_ids=votes.worker_ids,
            classes=votes.classes,
        )
        return normalize_rows(vote_counts(weighted), params["class_prior"])
