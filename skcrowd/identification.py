"""Who to trust and which tasks are ambiguous: worker, task and agreement scores.

Every score is computed from the sparse votes with ``bincount`` and sparse
products: nothing allocates a tasks x workers array, so a million votes take
a fraction of a second. Three families:

* worker scores: :func:`spammer_score`, :func:`confusion_trace`,
  :func:`agreement_with_consensus`, :func:`gold_accuracy`,
  :func:`answer_entropy`, :func:`worker_pairwise_agreement`, and all of them
  at once with :func:`worker_scores`;
* task scores: :func:`vote_entropy`, :func:`posterior_entropy`,
  :func:`vote_margin`, :func:`glad_difficulty`, :func:`aum`, :func:`waum`,
  and the cheap ones at once with :func:`task_scores`;
* agreement statistics: :func:`krippendorff_alpha`, :func:`fleiss_kappa`,
  :func:`pairwise_agreement`.
"""

import warnings

import numpy as np
import scipy.sparse as sp
from numba import njit
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils import Bunch, check_random_state
from sklearn.utils.validation import check_array, check_is_fitted

from ._votes import as_votes, lookup
from .base import vote_counts
from .metrics import _known_gold

__all__ = [
    "agreement_with_consensus",
    "answer_entropy",
    "aum",
    "confusion_trace",
    "fleiss_kappa",
    "glad_difficulty",
    "gold_accuracy",
    "krippendorff_alpha",
    "pairwise_agreement",
    "posterior_entropy",
    "spammer_score",
    "task_scores",
    "vote_entropy",
    "vote_margin",
    "waum",
    "worker_pairwise_agreement",
    "worker_scores",
]


# ----------------------------------------------------------------------
# helpers
def _entropy_rows(counts, normalize):
    """Shannon entropy (nats) of each row of non-negative counts; NaN for
    all-zero rows. ``normalize`` divides by log(n_columns)."""
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = counts / totals
        terms = np.where(p > 0, p * np.log(p), 0.0)
    entropy = 0.0 - terms.sum(axis=1)  # 0.0 - x turns -0.0 into 0.0
    entropy[totals[:, 0] <= 0] = np.nan
    if normalize and counts.shape[1] > 1:
        entropy /= np.log(counts.shape[1])
    return entropy


def _ratio(num, den):
    """num / den, NaN where den is 0."""
    out = np.full(np.shape(num), np.nan)
    np.divide(num, den, out=out, where=np.asarray(den) > 0)
    return out


def _check_confusions(confusion_matrices):
    confusion = np.asarray(confusion_matrices, dtype=np.float64)
    if confusion.ndim != 3 or confusion.shape[1] != confusion.shape[2]:
        raise ValueError(
            "confusion_matrices must have shape (n_workers, n_classes, "
            f"n_classes); got {confusion.shape}."
        )
    return confusion


def _gold_codes(votes, gold, missing_label):
    """Class code of each task's gold label (-1 unknown), in votes.classes."""
    labels, known = _known_gold(gold, missing_label)
    if len(known) != votes.n_tasks:
        raise ValueError(
            f"gold has {len(known)} labels but the votes have {votes.n_tasks} "
            "tasks; give one gold label per task (missing_label where unknown)."
        )
    codes = np.full(votes.n_tasks, -1, dtype=np.int64)
    found = lookup(votes.classes, labels)
    if (found < 0).any():
        unknown = np.unique(labels[found < 0].astype(object)).tolist()
        raise ValueError(
            f"Gold labels {unknown[:10]} are not among the voted classes "
            f"{votes.classes.tolist()}."
        )
    codes[known] = found
    return codes


def _fitted_aggregator(aggregator, votes):
    """A fitted aggregator: DawidSkene when None, a fitted clone when unfitted."""
    if aggregator is None:
        from .aggregation import DawidSkene

        aggregator = DawidSkene()
    try:
        check_is_fitted(aggregator)
    except NotFittedError:
        aggregator = clone(aggregator).fit(votes)
    n_tasks = len(getattr(aggregator, "consensus_proba_", ()))
    if n_tasks != votes.n_tasks:
        raise ValueError(
            f"The aggregator was fitted on {n_tasks} tasks but the votes have "
            f"{votes.n_tasks}; pass an unfitted aggregator or one fitted on "
            "these votes."
        )
    return aggregator


def _confusion_of(aggregator, n_classes):
    """Per-worker confusion matrices of a fitted aggregator, or None."""
    confusion = getattr(aggregator, "confusion_matrices_", None)
    if confusion is not None:
        return np.asarray(confusion)
    accuracy = getattr(aggregator, "worker_accuracy_", None)
    if accuracy is not None:  # one-coin: errors spread evenly
        accuracy = np.asarray(accuracy)[:, None, None]
        eye = np.eye(n_classes)
        return accuracy * eye + (1 - accuracy) / max(n_classes - 1, 1) * (1 - eye)
    return None


def _frame_or_bunch(columns, as_frame, index_name, index):
    if not as_frame:
        return Bunch(**{index_name: index}, **columns)
    import pandas as pd

    return pd.DataFrame(columns, index=pd.Index(index, name=index_name))


# ----------------------------------------------------------------------
# worker scores
def spammer_score(confusion_matrices):
    """Spammer score of each worker from their confusion matrix.

    A spammer answers without looking at the task: every row of their
    confusion matrix is the same distribution (the matrix has rank one).
    Raykar & Yu's score is the normalised squared distance between the rows,

    ``s_j = 1 / (K (K-1)) * sum_{k < k'} sum_l (pi_kl - pi_k'l)^2``,

    0 for a spammer, 1 for a perfect (or perfectly permuting) worker.

    Parameters
    ----------
    confusion_matrices : array-like of shape (n_workers, n_classes, n_classes)
        ``confusion_matrices[j, k, l]`` = P(worker j answers l | true class
        k), e.g. ``DawidSkene().fit(votes).confusion_matrices_``.

    Returns
    -------
    score : ndarray of shape (n_workers,)
        In [0, 1]; close to 0 means spammer.

    References
    ----------
    V. C. Raykar and S. Yu, "Eliminating Spammers and Ranking Annotators for
    Crowdsourced Labeling Tasks", JMLR 13:491-518, 2012.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.identification import spammer_score
    >>> hammer, spammer = np.eye(3), np.full((3, 3), 1 / 3)
    >>> spammer_score([hammer, spammer]).tolist()
    [1.0, 0.0]
    >>> spammer_score([[[0.8, 0.2], [0.2, 0.8]]]).round(4)  # (0.8+0.8-1)^2
    array([0.36])
    """
    confusion = _check_confusions(confusion_matrices)
    n_classes = confusion.shape[1]
    if n_classes < 2:
        return np.zeros(len(confusion))
    # sum over pairs of rows of ||r_k - r_k'||^2 = K sum ||r_k||^2 - ||sum r_k||^2
    pairs = n_classes * np.sum(confusion**2, axis=(1, 2)) - np.sum(
        confusion.sum(axis=1) ** 2, axis=1
    )
    return np.clip(pairs / (n_classes * (n_classes - 1)), 0.0, None)


def confusion_trace(confusion_matrices):
    """Mean of the diagonal of each worker's confusion matrix.

    ``trace(pi_j) / K``: the worker's accuracy averaged over true classes
    (balanced accuracy), 1 for a perfect worker, ``1/K`` for a uniform
    spammer.

    Parameters
    ----------
    confusion_matrices : array-like of shape (n_workers, n_classes, n_classes)
        Per-worker confusion matrices.

    Returns
    -------
    trace : ndarray of shape (n_workers,)

    Examples
    --------
    >>> from skcrowd.identification import confusion_trace
    >>> confusion_trace([[[0.9, 0.1], [0.3, 0.7]]]).round(3).tolist()
    [0.8]
    """
    confusion = _check_confusions(confusion_matrices)
    return np.einsum("wkk->w", confusion) / confusion.shape[1]


def agreement_with_consensus(X, consensus, *, missing_label=-1):
    """Share of each worker's votes that agree with the consensus.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes, in any format accepted by :func:`skcrowd.as_votes`.
    consensus : array-like of shape (n_tasks,) or (n_tasks, n_classes)
        The consensus label of each task (a value of the votes' classes), or
        a posterior (columns in the order of the sorted classes): then each
        vote counts the probability of its label, the expected agreement.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    agreement : ndarray of shape (n_workers,)
        In [0, 1]; NaN for a worker without votes.

    Examples
    --------
    >>> from skcrowd.identification import agreement_with_consensus
    >>> votes = [[0, 0, 1], [1, 1, 1], [0, 1, 0]]
    >>> agreement_with_consensus(votes, [0, 1, 0]).round(3).tolist()
    [1.0, 0.667, 0.667]
    """
    votes = as_votes(X, missing_label=missing_label)
    consensus = np.asarray(consensus)
    if consensus.ndim == 2:
        proba = check_array(consensus, dtype=np.float64)
        if proba.shape != (votes.n_tasks, votes.n_classes):
            raise ValueError(
                f"The consensus posterior has shape {proba.shape}; expected "
                f"{(votes.n_tasks, votes.n_classes)} (tasks, classes)."
            )
        hit = proba[votes.task, votes.label]
    else:
        if len(consensus) != votes.n_tasks:
            raise ValueError(
                f"consensus has {len(consensus)} labels but the votes have "
                f"{votes.n_tasks} tasks."
            )
        codes = lookup(votes.classes, consensus)
        hit = (codes[votes.task] == votes.label).astype(np.float64)
    weight = votes.weight
    return _ratio(
        np.bincount(votes.worker, weight * hit, minlength=votes.n_workers),
        np.bincount(votes.worker, weight, minlength=votes.n_workers),
    )


def gold_accuracy(X, gold, *, missing_label=-1):
    """Accuracy of each worker on the tasks whose gold label is known.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    gold : array-like of shape (n_tasks,)
        Gold labels aligned with the tasks of X; ``missing_label``, ``None``
        or ``NaN`` where unknown.
    missing_label : scalar, default=-1
        Marks a missing vote and an unknown gold label.

    Returns
    -------
    accuracy : ndarray of shape (n_workers,)
        NaN for a worker who answered no gold task.

    Examples
    --------
    >>> from skcrowd.identification import gold_accuracy
    >>> votes = [[0, 0, 1], [1, 0, 1], [0, 1, 0]]
    >>> gold_accuracy(votes, [0, 1, -1]).tolist()
    [1.0, 0.5, 0.5]
    """
    votes = as_votes(X, missing_label=missing_label)
    codes = _gold_codes(votes, gold, missing_label)[votes.task]
    known = codes >= 0
    weight = votes.weight * known
    hit = (codes == votes.label) & known
    return _ratio(
        np.bincount(votes.worker, weight * hit, minlength=votes.n_workers),
        np.bincount(votes.worker, weight, minlength=votes.n_workers),
    )


def answer_entropy(X, *, normalize=False, missing_label=-1):
    """Entropy of the distribution of each worker's answers.

    A worker who always gives the same label has entropy 0; one who spreads
    answers evenly over the classes has ``log K`` (1 with ``normalize``).
    Very low entropy on a balanced task set flags a lazy worker.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    normalize : bool, default=False
        Divide by ``log(n_classes)`` so the entropy is in [0, 1].
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    entropy : ndarray of shape (n_workers,)
        In nats; NaN for a worker without votes.

    Examples
    --------
    >>> from skcrowd.identification import answer_entropy
    >>> answer_entropy([[0, 1], [1, 1]], normalize=True).tolist()
    [1.0, 0.0]
    """
    votes = as_votes(X, missing_label=missing_label)
    counts = np.bincount(votes.worker_label_index(), votes.weight,
                         minlength=votes.n_workers * votes.n_classes)
    return _entropy_rows(counts.reshape(votes.n_workers, votes.n_classes),
                         normalize)


def worker_pairwise_agreement(X, *, missing_label=-1):
    """Share of each worker's vote pairs with co-workers that agree.

    For every task a worker answered, each other vote on that task forms a
    pair; the score is the share of those pairs with the same label. It
    needs no model and no gold: ``(n_same_label - 1) / (n_votes - 1)``
    summed over the worker's tasks, in O(n_votes).

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    agreement : ndarray of shape (n_workers,)
        In [0, 1]; NaN for a worker who never shares a task.

    Examples
    --------
    >>> from skcrowd.identification import worker_pairwise_agreement
    >>> worker_pairwise_agreement([[0, 0, 1], [1, 1, 1]]).tolist()
    [0.75, 0.75, 0.5]
    """
    votes = as_votes(X, missing_label=missing_label)
    counts = vote_counts(votes)
    own = votes.weight
    same = counts[votes.task, votes.label] - own
    pairs = votes.task_counts()[votes.task] - own
    return _ratio(
        np.bincount(votes.worker, own * same, minlength=votes.n_workers),
        np.bincount(votes.worker, own * pairs, minlength=votes.n_workers),
    )


def worker_scores(X, *, aggregator=None, gold=None, as_frame=False,
                  missing_label=-1):
    """Every worker score in one table.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    aggregator : aggregator, default=None
        Gives the consensus and, when it has them, the confusion matrices
        (``confusion_matrices_`` or a one-coin ``worker_accuracy_``). An
        unfitted aggregator is cloned and fitted on X; a fitted one must have
        been fitted on X. Default: ``DawidSkene()``.
    gold : array-like of shape (n_tasks,), default=None
        Known gold labels (``missing_label`` where unknown): adds
        ``gold_accuracy`` and ``n_gold``.
    as_frame : bool, default=False
        Return a pandas DataFrame indexed by worker id (needs pandas).
    missing_label : scalar, default=-1
        Marks a missing vote and an unknown gold label.

    Returns
    -------
    scores : Bunch or DataFrame
        ``worker`` (ids), ``n_votes``, ``spammer_score`` and
        ``confusion_trace`` (when the aggregator has confusion matrices),
        ``agreement_with_consensus``, ``pairwise_agreement``,
        ``answer_entropy`` (normalised to [0, 1]), and ``gold_accuracy``,
        ``n_gold`` when gold is given.

    Examples
    --------
    >>> from skcrowd.identification import worker_scores
    >>> from skcrowd.simulation import make_crowd
    >>> votes, _, truth = make_crowd(300, 20, 3, strategy="hammer-spammer",
    ...                              ratio=0.25, random_state=0)
    >>> scores = worker_scores(votes)
    >>> spam = truth.worker_type == "spammer"
    >>> bool(scores.spammer_score[spam].max() < scores.spammer_score[~spam].min())
    True
    """
    votes = as_votes(X, missing_label=missing_label)
    model = _fitted_aggregator(aggregator, votes)
    columns = {"n_votes": np.bincount(votes.worker, votes.weight,
                                      minlength=votes.n_workers)}
    confusion = _confusion_of(model, len(model.classes_))
    if confusion is not None and len(confusion) == votes.n_workers:
        columns["spammer_score"] = spammer_score(confusion)
        columns["confusion_trace"] = confusion_trace(confusion)
    consensus = np.asarray(model.consensus_proba_)
    if consensus.shape[1] == votes.n_classes:
        columns["agreement_with_consensus"] = agreement_with_consensus(
            votes, votes.classes[consensus.argmax(axis=1)]
        )
    else:  # gold added classes: compare labels directly
        columns["agreement_with_consensus"] = agreement_with_consensus(
            votes, model.consensus_label_
        )
    columns["pairwise_agreement"] = worker_pairwise_agreement(votes)
    columns["answer_entropy"] = answer_entropy(votes, normalize=True)
    if gold is not None:
        codes = _gold_codes(votes, gold, missing_label)[votes.task]
        columns["gold_accuracy"] = gold_accuracy(votes, gold,
                                                 missing_label=missing_label)
        columns["n_gold"] = np.bincount(votes.worker, votes.weight * (codes >= 0),
                                        minlength=votes.n_workers)
    return _frame_or_bunch(columns, as_frame, "worker", votes.worker_ids)


# ----------------------------------------------------------------------
# task scores
def vote_entropy(X, *, normalize=False, missing_label=-1):
    """Entropy of the distribution of the votes of each task.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    normalize : bool, default=False
        Divide by ``log(n_classes)`` so the entropy is in [0, 1].
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    entropy : ndarray of shape (n_tasks,)
        0 for unanimous tasks; NaN for tasks without votes.

    Examples
    --------
    >>> from skcrowd.identification import vote_entropy
    >>> vote_entropy([[0, 0, 0], [0, 1, -1]], normalize=True).tolist()
    [0.0, 1.0]
    """
    votes = as_votes(X, missing_label=missing_label)
    return _entropy_rows(vote_counts(votes), normalize)


def posterior_entropy(proba, *, normalize=False):
    """Entropy of each row of a posterior (e.g. ``consensus_proba_``).

    Parameters
    ----------
    proba : array-like of shape (n_tasks, n_classes)
        Posterior of each task.
    normalize : bool, default=False
        Divide by ``log(n_classes)``.

    Returns
    -------
    entropy : ndarray of shape (n_tasks,)

    Examples
    --------
    >>> from skcrowd.identification import posterior_entropy
    >>> posterior_entropy([[0.5, 0.5], [1.0, 0.0]], normalize=True).tolist()
    [1.0, 0.0]
    """
    proba = check_array(proba, dtype=np.float64)
    if (proba < 0).any():
        raise ValueError("proba must be non-negative.")
    return _entropy_rows(proba, normalize)


def vote_margin(X, *, missing_label=-1):
    """Gap between the two most voted labels, as a share of the task's votes.

    1 for a unanimous task, 0 for a tie at the top.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    margin : ndarray of shape (n_tasks,)
        In [0, 1]; NaN for tasks without votes.

    Examples
    --------
    >>> from skcrowd.identification import vote_margin
    >>> vote_margin([[0, 0, 0, 1], [0, 1, 2, -1], [1, 1, -1, -1]]).tolist()
    [0.5, 0.0, 1.0]
    """
    votes = as_votes(X, missing_label=missing_label)
    counts = vote_counts(votes)
    if votes.n_classes < 2:
        top = counts.max(axis=1)
        return _ratio(top, counts.sum(axis=1))
    top2 = -np.partition(-counts, 1, axis=1)[:, :2]
    return _ratio(top2[:, 0] - top2[:, 1], counts.sum(axis=1))


def glad_difficulty(model):
    """Difficulty of each task from a fitted GLAD-style model.

    GLAD (Whitehill et al. 2009) gives each task an easiness ``beta > 0``;
    the difficulty is ``1 / beta``. Any fitted model exposing
    ``task_difficulty_`` (returned as is) or a task easiness
    (``task_easiness_``, ``beta_``) works.

    Parameters
    ----------
    model : fitted estimator
        E.g. a fitted ``skcrowd.GLAD``.

    Returns
    -------
    difficulty : ndarray of shape (n_tasks,)
        Larger is harder; in the order of the model's ``task_ids_``.

    References
    ----------
    J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma, J. Movellan, "Whose Vote
    Should Count More: Optimal Integration of Labels from Labelers of Unknown
    Expertise", NIPS 2009.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from skcrowd.identification import glad_difficulty
    >>> glad_difficulty(SimpleNamespace(task_easiness_=np.array([2.0, 0.5])))
    array([0.5, 2. ])
    """
    difficulty = getattr(model, "task_difficulty_", None)
    if difficulty is not None:
        return np.asarray(difficulty, dtype=np.float64)
    for name in ("task_easiness_", "beta_"):
        easiness = getattr(model, name, None)
        if easiness is not None:
            easiness = np.asarray(easiness, dtype=np.float64)
            with np.errstate(divide="ignore"):
                return 1.0 / easiness
    raise TypeError(
        f"{type(model).__name__} has no fitted task difficulty: expected a "
        "fitted GLAD-style model with a `task_easiness_` (or "
        "`task_difficulty_`) attribute."
    )


# ----------------------------------------------------------------------
# AUM and WAUM: margins of a classifier over training epochs
def _epoch_trainer(estimator, classes):
    """A function ``train(X, y)`` that runs one more training epoch."""
    if hasattr(estimator, "partial_fit"):
        return lambda X, y: estimator.partial_fit(X, y, classes=classes)
    params = estimator.get_params()
    if "warm_start" not in params:
        raise TypeError(
            f"{type(estimator).__name__} supports neither partial_fit nor "
            "warm_start: AUM needs a classifier trained epoch by epoch (e.g. "
            "SGDClassifier(loss='log_loss'), MLPClassifier, or "
            "LogisticRegression with warm_start)."
        )
    update = {"warm_start": True}
    if "max_iter" in params:
        update["max_iter"] = 1
    estimator.set_params(**update)

    def train(X, y):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            estimator.fit(X, y)

    return train


def _class_scores(estimator, X, n_classes, kind):
    """Probabilities (kind='probability') or logits, one column per class."""
    columns = lookup(np.arange(n_classes), estimator.classes_)
    if kind == "probability" or not hasattr(estimator, "decision_function"):
        raw = estimator.predict_proba(X)
        fill = 0.0
        if kind == "logit":
            raw = np.log(np.clip(raw, 1e-300, None))
            fill = -np.inf
    else:
        raw = estimator.decision_function(X)
        fill = -np.inf
        if raw.ndim == 1:  # binary: the score of the positive class
            raw = np.column_stack([-raw / 2, raw / 2])
    out = np.full((len(X), n_classes), fill)
    out[:, columns] = raw
    return out


def _margins(scores, rows, labels):
    """Score of the assigned label minus the largest other score."""
    picked = scores[rows]
    own = picked[np.arange(len(rows)), labels]
    picked[np.arange(len(rows)), labels] = -np.inf
    return own - picked.max(axis=1)


def _run_epochs(estimator, X_train, y_train, X_eval, n_classes, n_epochs,
                margin, rng, on_epoch):
    if margin not in ("logit", "probability"):
        raise ValueError(f"margin must be 'logit' or 'probability'; got {margin!r}.")
    if int(n_epochs) < 1:
        raise ValueError(f"n_epochs must be a positive integer; got {n_epochs}.")
    train = _epoch_trainer(estimator, np.arange(n_classes))
    for epoch in range(int(n_epochs)):
        order = rng.permutation(len(y_train))
        train(X_train[order], y_train[order])
        on_epoch(epoch, _class_scores(estimator, X_eval, n_classes, margin))


def _default_classifier(random_state):
    from sklearn.linear_model import SGDClassifier

    return SGDClassifier(loss="log_loss", random_state=random_state)


def aum(X, y, estimator=None, *, n_epochs=20, margin="logit",
        random_state=None):
    """Area Under the Margin of each training example (Pleiss et al. 2020).

    A classifier is trained on ``(X, y)`` epoch by epoch; after each epoch
    the margin of example ``i`` is the score of its assigned label minus the
    largest score of another label. AUM is the margin averaged over epochs:
    mislabelled or ambiguous examples, which the model learns late or never,
    have a low (negative) AUM.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Features.
    y : array-like of shape (n_samples,)
        Assigned labels (e.g. majority votes), integers ``0..K-1``.
    estimator : classifier, default=None
        Any scikit-learn classifier with ``partial_fit`` (one call = one
        epoch) or a ``warm_start`` parameter (then ``max_iter`` is set to 1
        and ``fit`` is called once per epoch). It is cloned. Default:
        ``SGDClassifier(loss="log_loss")``.
    n_epochs : int, default=20
        Number of training epochs.
    margin : {"logit", "probability"}, default="logit"
        Margin between logits (Pleiss et al.; log-probabilities when the
        estimator has no ``decision_function``) or between probabilities.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the examples in each epoch and the default
        estimator.

    Returns
    -------
    aum : ndarray of shape (n_samples,)
        Lower means more likely mislabelled.

    References
    ----------
    G. Pleiss, T. Zhang, E. Elenberg, K. Q. Weinberger, "Identifying
    Mislabeled Data using the Area Under the Margin Ranking", NeurIPS 2020.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import make_blobs
    >>> from skcrowd.identification import aum
    >>> X, y = make_blobs(200, centers=2, random_state=0)
    >>> y_noisy = y.copy(); y_noisy[:10] = 1 - y_noisy[:10]
    >>> scores = aum(X, y_noisy, n_epochs=10, random_state=0)
    >>> bool(scores[:10].mean() < scores[10:].mean())
    True
    """
    X = check_array(X)
    y = np.asarray(y)
    if len(y) != len(X):
        raise ValueError(f"X has {len(X)} rows but y has {len(y)} labels.")
    if y.dtype.kind not in "iu" or (y < 0).any():
        raise ValueError("y must hold class codes 0..n_classes-1.")
    n_classes = max(int(y.max()) + 1, 2)
    rng = check_random_state(random_state)
    estimator = clone(estimator) if estimator is not None else \
        _default_classifier(random_state)
    total = np.zeros(len(y))
    rows = np.arange(len(y))

    def on_epoch(epoch, scores):
        total[:] += _margins(scores, rows, y)

    _run_epochs(estimator, X, y, X, n_classes, n_epochs, margin, rng, on_epoch)
    return total / int(n_epochs)


def waum(X, votes, estimator=None, *, confusion_matrices=None, n_epochs=20,
         margin="probability", missing_label=-1, random_state=None):
    """Weighted Area Under the Margin of each task (Lefort et al. 2024).

    A classifier is trained on every vote as an example ``(x_i, y_i^(j))``
    (the tasks' features stacked over their workers). The AUM of each vote
    is the margin of its label averaged over epochs; the WAUM of task ``i``
    averages the AUMs of its votes weighted by a trust score
    ``s_j(x_i) = sum_k p_k(x_i) pi^(j)_kk``, the classifier's final
    probabilities against the diagonal of worker ``j``'s confusion matrix.
    Low WAUM flags ambiguous tasks, whose removal helps training.

    Parameters
    ----------
    X : array-like of shape (n_tasks, n_features)
        Features of each task, in the task order of ``votes``.
    votes : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    estimator : classifier, default=None
        A classifier with ``partial_fit`` or ``warm_start``, as in
        :func:`aum`; cloned. Default: ``SGDClassifier(loss="log_loss")``.
    confusion_matrices : array-like of shape (n_workers, K, K), default=None
        Worker confusion matrices for the trust scores; fitted with
        :class:`~skcrowd.DawidSkene` when None.
    n_epochs : int, default=20
        Number of training epochs.
    margin : {"probability", "logit"}, default="probability"
        Margin between probabilities (as in the WAUM paper) or logits.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.
    random_state : int, RandomState instance or None, default=None
        Seeds the order of the examples and the default estimator.

    Returns
    -------
    result : Bunch
        ``waum`` (n_tasks,), NaN for tasks without votes; ``aum`` and
        ``trust`` (n_votes,), per vote in the order of the sorted votes
        (``Votes.task``, ``Votes.worker``).

    References
    ----------
    T. Lefort, B. Charlier, A. Joly, J. Salmon, "Identify ambiguous tasks
    combining crowdsourced labels by weighting Areas Under the Margin",
    TMLR 2024.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.identification import waum
    >>> from skcrowd.simulation import make_classification_crowd
    >>> X, Y, y_true, _ = make_classification_crowd(200, 20, 3, labeling_rate=0.3,
    ...                                             random_state=0)
    >>> result = waum(X, Y, n_epochs=5, random_state=0)
    >>> result.waum.shape
    (200,)
    """
    votes = as_votes(votes, missing_label=missing_label)
    X = check_array(X)
    if len(X) != votes.n_tasks:
        raise ValueError(
            f"X has {len(X)} rows but the votes have {votes.n_tasks} tasks; "
            "give one row of features per task, in the votes' task order."
        )
    if confusion_matrices is None:
        from .aggregation import DawidSkene

        confusion_matrices = DawidSkene().fit(votes).confusion_matrices_
    confusion = _check_confusions(confusion_matrices)
    if confusion.shape[:2] != (votes.n_workers, votes.n_classes):
        raise ValueError(
            f"confusion_matrices has shape {confusion.shape}; expected "
            f"{(votes.n_workers, votes.n_classes, votes.n_classes)}."
        )
    rng = check_random_state(random_state)
    estimator = clone(estimator) if estimator is not None else \
        _default_classifier(random_state)
    n_classes = votes.n_classes
    total = np.zeros(votes.n_votes)
    last = {}

    def on_epoch(epoch, scores):
        total[:] += _margins(scores, votes.task, votes.label)
        last["scores"] = scores

    _run_epochs(estimator, X[votes.task], votes.label, X, n_classes, n_epochs,
                margin, rng, on_epoch)
    vote_aum = total / int(n_epochs)
    final = last["scores"]
    if margin == "logit":  # trust scores need probabilities
        final = _class_scores(estimator, X, n_classes, "probability")
    diagonal = np.einsum("wkk->wk", confusion)
    trust = np.einsum("vk,vk->v", final[votes.task], diagonal[votes.worker])
    weight = votes.weight * trust
    return Bunch(
        waum=_ratio(
            np.bincount(votes.task, weight * vote_aum, minlength=votes.n_tasks),
            np.bincount(votes.task, weight, minlength=votes.n_tasks),
        ),
        aum=vote_aum,
        trust=trust,
    )


def task_scores(X, *, aggregator=None, as_frame=False, missing_label=-1):
    """Every cheap task score in one table.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    aggregator : aggregator, default=None
        Gives the posterior (and the GLAD difficulty when it has a task
        easiness). Unfitted: cloned and fitted on X; fitted: must have been
        fitted on X. Default: ``DawidSkene()``.
    as_frame : bool, default=False
        Return a pandas DataFrame indexed by task id (needs pandas).
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    scores : Bunch or DataFrame
        ``task`` (ids), ``n_votes``, ``consensus`` (label), ``confidence``
        (posterior of the consensus), ``vote_entropy`` and
        ``posterior_entropy`` (normalised to [0, 1]), ``vote_margin``, and
        ``glad_difficulty`` when the aggregator is GLAD-like.

    Examples
    --------
    >>> from skcrowd.identification import task_scores
    >>> from skcrowd.simulation import make_crowd
    >>> votes, _, _ = make_crowd(50, 10, 3, votes_per_task=5, random_state=0)
    >>> sorted(task_scores(votes))[:4]
    ['confidence', 'consensus', 'n_votes', 'posterior_entropy']
    """
    votes = as_votes(X, missing_label=missing_label)
    model = _fitted_aggregator(aggregator, votes)
    proba = np.asarray(model.consensus_proba_)
    columns = {
        "n_votes": votes.task_counts(),
        "consensus": np.asarray(model.consensus_label_),
        "confidence": proba.max(axis=1),
        "vote_entropy": vote_entropy(votes, normalize=True),
        "posterior_entropy": posterior_entropy(proba, normalize=True),
        "vote_margin": vote_margin(votes),
    }
    try:
        difficulty = glad_difficulty(model)
    except TypeError:
        difficulty = None
    if difficulty is not None and len(difficulty) == votes.n_tasks:
        columns["glad_difficulty"] = difficulty
    return _frame_or_bunch(columns, as_frame, "task", votes.task_ids)


# ----------------------------------------------------------------------
# agreement statistics
def _pairable_counts(votes, what):
    """Vote counts (tasks, classes) of the tasks with at least two votes."""
    counts = vote_counts(votes)
    m = counts.sum(axis=1)
    pairable = m >= 2 - 1e-12
    if not pairable.any():
        raise ValueError(
            f"{what} needs tasks with at least two votes: agreement is measured "
            "between votes on the same task, and no task has more than one "
            f"(the {votes.n_tasks} tasks have {int(m.max()) if len(m) else 0} "
            "vote at most). Collect a second vote on some tasks."
        )
    return counts[pairable], m[pairable]


def krippendorff_alpha(X, *, missing_label=-1):
    """Krippendorff's alpha for nominal labels, from the sparse votes.

    ``alpha = 1 - D_o / D_e``: the observed disagreement between votes on
    the same task over the disagreement expected by chance. It handles any
    number of votes per task and missing votes; tasks with a single vote
    carry no pair and are left out (Krippendorff's "pairable values").
    With vote counts ``n_uc`` (task u, class c), ``m_u = sum_c n_uc``, and
    ``n_c = sum_u n_uc``, ``n = sum_c n_c`` over pairable tasks:

    ``alpha = 1 - (n - 1) * sum_u (m_u^2 - sum_c n_uc^2) / (m_u - 1)
    / (n^2 - sum_c n_c^2)``.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes (rows = units/tasks, columns = coders/workers for a wide
        matrix).
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    alpha : float
        1 for perfect agreement, 0 for chance agreement, negative for
        systematic disagreement; NaN when every vote has the same label
        (no variation: alpha is undefined).

    Raises
    ------
    ValueError
        When no task has two votes or more.

    References
    ----------
    K. Krippendorff, "Computing Krippendorff's Alpha-Reliability", 2011,
    https://repository.upenn.edu/asc_papers/43.

    Examples
    --------
    Krippendorff's own nominal example (4 coders, 12 units, alpha = 0.743):

    >>> from skcrowd.identification import krippendorff_alpha
    >>> X = [[1, 1, -1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3],
    ...      [2, 2, 2, 2], [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1],
    ...      [2, 2, 2, 2], [-1, 5, 5, 5], [-1, -1, 1, 1], [-1, 3, -1, -1]]
    >>> round(krippendorff_alpha(X), 3)
    0.743
    """
    votes = as_votes(X, missing_label=missing_label)
    counts, m = _pairable_counts(votes, "Krippendorff's alpha")
    observed = np.sum((m**2 - np.sum(counts**2, axis=1)) / (m - 1))
    n_c = counts.sum(axis=0)
    n = n_c.sum()
    expected = n**2 - np.sum(n_c**2)
    if expected <= 0:
        return float("nan")
    return float(1.0 - (n - 1) * observed / expected)


def fleiss_kappa(X, *, missing_label=-1):
    """Fleiss' kappa, from the sparse votes.

    ``kappa = (P_bar - P_e) / (1 - P_e)`` where ``P_i = (sum_c n_ic^2 -
    m_i) / (m_i (m_i - 1))`` is the agreement among the ``m_i`` votes of task
    ``i``, ``P_bar`` its mean over tasks and ``P_e = sum_c p_c^2`` with
    ``p_c`` the share of all votes in class ``c``. Fleiss (1971) assumes the
    same number of votes per task; with varying numbers each task's
    ``P_i`` uses its own ``m_i`` (tasks with fewer than two votes are left
    out).

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    kappa : float
        1 for perfect agreement, 0 for chance; NaN when every vote has the
        same label.

    Raises
    ------
    ValueError
        When no task has two votes or more.

    References
    ----------
    J. L. Fleiss, "Measuring nominal scale agreement among many raters",
    Psychological Bulletin 76(5):378-382, 1971.

    Examples
    --------
    >>> from skcrowd.identification import fleiss_kappa
    >>> round(fleiss_kappa([[0, 0, 0], [1, 1, 1], [0, 1, 1], [1, 1, 0]]), 3)
    0.314
    """
    votes = as_votes(X, missing_label=missing_label)
    counts, m = _pairable_counts(votes, "Fleiss' kappa")
    p_i = (np.sum(counts**2, axis=1) - m) / (m * (m - 1))
    share = counts.sum(axis=0) / m.sum()
    p_e = np.sum(share**2)
    if p_e >= 1:
        return float("nan")
    return float((p_i.mean() - p_e) / (1 - p_e))


def pairwise_agreement(X, *, missing_label=-1):
    """Agreement between every pair of workers who share tasks.

    Computed with sparse products over the votes (cost: the sum over tasks
    of the squared number of votes), never a dense tasks x workers array.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    result : Bunch
        ``n_shared``, ``n_agree`` and ``rate``: sparse (n_workers,
        n_workers) CSR matrices of the number of tasks two workers share, of
        those where they gave the same label, and of their ratio. The three
        store the same entries, the pairs of workers who share a task (an
        unstored entry means "never met", a stored 0 "never agreed");
        ``worker_ids``.

    Examples
    --------
    >>> from skcrowd.identification import pairwise_agreement
    >>> result = pairwise_agreement([[0, 0, 1], [1, 1, 1], [0, 1, -1]])
    >>> result.n_shared.toarray()
    array([[0, 3, 2],
           [3, 0, 2],
           [2, 2, 0]])
    >>> result.n_agree.toarray()
    array([[0, 2, 1],
           [2, 0, 1],
           [1, 1, 0]])
    """
    votes = as_votes(X, missing_label=missing_label)
    n_workers = votes.n_workers
    if n_workers * n_workers <= 50_000_000:  # dense W x W counts are cheap
        shared, agree = _dense_pair_counts(votes.task_ptr, votes.worker,
                                           votes.label, n_workers)
        indptr, cols, shared, agree = _dense_to_csr(shared, agree)
    else:
        first, second, same = _worker_pairs(votes.task_ptr, votes.worker,
                                            votes.label)
        keep = first != second  # a worker answering twice is not a pair
        first, second, same = first[keep], second[keep], same[keep]
        # shared count in the low 32 bits, agreements in the high bits: one
        # sparse build gives both with the same pattern
        packed = np.int64(1) + (same.astype(np.int64) << 32)
        both = sp.csr_matrix(
            (np.concatenate([packed, packed]),
             (np.concatenate([first, second]), np.concatenate([second, first]))),
            shape=(n_workers, n_workers),
        )
        both.sum_duplicates()
        cols, indptr = both.indices, both.indptr
        shared = both.data & 0xFFFFFFFF
        agree = both.data >> 32

    def matrix(data):
        return sp.csr_matrix((data, cols, indptr), shape=(n_workers, n_workers))

    n_shared, n_agree = matrix(shared), matrix(agree)
    rate = matrix(agree / shared)
    return Bunch(n_shared=n_shared, n_agree=n_agree, rate=rate,
                 worker_ids=votes.worker_ids)


@njit(cache=True, nogil=True)
def _worker_pairs(task_ptr, worker, label):
    """Every pair of votes on the same task: the two workers (smaller code
    first) and whether their labels agree. One pass over the votes sorted by
    task; output size sum_t m_t (m_t - 1) / 2."""
    n_tasks = len(task_ptr) - 1
    total = 0
    for i in range(n_tasks):
        m = task_ptr[i + 1] - task_ptr[i]
        total += m * (m - 1) // 2
    first = np.empty(total, dtype=np.int32)
    second = np.empty(total, dtype=np.int32)
    same = np.empty(total, dtype=np.bool_)
    k = 0
    for i in range(n_tasks):
        for u in range(task_ptr[i], task_ptr[i + 1]):
            for v in range(u + 1, task_ptr[i + 1]):
                a, b = worker[u], worker[v]
                if a > b:
                    a, b = b, a
                first[k] = a
                second[k] = b
                same[k] = label[u] == label[v]
                k += 1
    return first, second, same


@njit(cache=True, nogil=True)
def _dense_pair_counts(task_ptr, worker, label, n_workers):
    """Shared tasks and agreements of every pair of workers, as dense
    symmetric (n_workers, n_workers) counts with a zero diagonal."""
    shared = np.zeros((n_workers, n_workers), dtype=np.int32)
    agree = np.zeros((n_workers, n_workers), dtype=np.int32)
    for i in range(len(task_ptr) - 1):
        for u in range(task_ptr[i], task_ptr[i + 1]):
            a = worker[u]
            for v in range(u + 1, task_ptr[i + 1]):
                b = worker[v]
                if a == b:
                    continue
                shared[a, b] += 1
                shared[b, a] += 1
                if label[u] == label[v]:
                    agree[a, b] += 1
                    agree[b, a] += 1
    return shared, agree


@njit(cache=True, nogil=True)
def _dense_to_csr(shared, agree):
    """CSR arrays (indptr, indices, shared, agree) of the non-zero entries
    of ``shared``, with ``agree`` read at the same positions."""
    n = shared.shape[0]
    indptr = np.zeros(n + 1, dtype=np.int64)
    for a in range(n):
        count = 0
        for b in range(n):
            if shared[a, b] != 0:
                count += 1
        indptr[a + 1] = indptr[a] + count
    nnz = indptr[n]
    indices = np.empty(nnz, dtype=np.int32)
    shared_data = np.empty(nnz, dtype=np.int64)
    agree_data = np.empty(nnz, dtype=np.int64)
    k = 0
    for a in range(n):
        for b in range(n):
            if shared[a, b] != 0:
                indices[k] = b
                shared_data[k] = shared[a, b]
                agree_data[k] = agree[a, b]
                k += 1
    return indptr, indices, shared_data, agree_data
