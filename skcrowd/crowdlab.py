"""CROWDLAB: annotator votes combined with a classifier's probabilities.

CROWDLAB (Goh, Tkachenko and Mueller, 2022) estimates, for data labeled by
several annotators, a consensus label for every item, a confidence score for
it, a score for every single vote and a quality rating for every annotator.
It is a weighted ensemble: the out-of-sample predicted probabilities of any
classifier trained on the items' features are averaged with one "vote
likelihood" vector per annotation, the classifier and each annotator being
weighted by how much better than the majority-class baseline they agree with
the consensus (the classifier) or with the other annotators (each annotator).

This module offers it twice:

* :class:`CrowdLab`, a scikit-learn meta-estimator: ``fit(X, Y)`` with the
  features ``X`` and the vote matrix ``Y`` gets out-of-fold probabilities of
  a clone of the inner classifier with :func:`~sklearn.model_selection.
  cross_val_predict`, computes the consensus and the scores, and refits the
  classifier on the consensus, so it predicts new items;
* :func:`label_quality` (and :func:`label_quality_ensemble`) for
  probabilities computed elsewhere, and :func:`active_learning_scores`
  (ActiveLab) to choose which items to send for another label.

Everything is computed from the votes as (item, annotator, label) triples
with ``np.bincount``: the cost is O(n_votes + (n_items + n_annotators) *
n_classes); no items x annotators array is ever built.
"""

import warnings
from numbers import Integral

import numpy as np
from scipy import sparse
from scipy.special import log_softmax
from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    MetaEstimatorMixin,
    _fit_context,
    clone,
)
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_val_predict
from sklearn.utils import Bunch, _safe_indexing, check_random_state, get_tags
from sklearn.utils._param_validation import HasMethods, Interval
from sklearn.utils.metadata_routing import (
    MetadataRouter,
    MethodMapping,
    _routing_enabled,
    process_routing,
)
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import (
    _check_method_params,
    _num_samples,
    check_is_fitted,
)

from ._votes import (
    Votes,
    _integral_floats_to_int,
    _narrow_object,
    as_votes,
    input_kind,
    lookup,
)
from .aggregation import MajorityVote
from .base import BaseAggregator, vote_counts

__all__ = [
    "CrowdLab",
    "active_learning_scores",
    "label_quality",
    "label_quality_ensemble",
]

#: Smallest weight of the model or of an annotator (a weight of exactly zero
#: would leave an item whose only voters are useless without evidence).
_MIN_WEIGHT = 1e-6

#: Tolerance on the row sums of the given probabilities.
_SIMPLEX_ATOL = 1e-4


# ----------------------------------------------------------------------
# input checking
def _drop_silent_annotators(votes, stacklevel=3):
    """Votes without the annotators who gave no label, with a warning."""
    given = np.bincount(votes.worker, votes.weight, minlength=votes.n_workers)
    silent = given <= 0
    if not silent.any():
        return votes
    ids = votes.worker_ids[silent].tolist()
    shown = ids[:10] + (["..."] if len(ids) > 10 else [])
    warnings.warn(
        f"{len(ids)} annotator(s) gave no label and are ignored: {shown}. "
        "Annotator-level results (annotator_ids, annotator_quality, ...) list "
        "only the annotators with at least one label.",
        UserWarning,
        stacklevel=stacklevel,
    )
    new_code = np.cumsum(~silent) - 1
    keep = ~silent[votes.worker]
    return Votes(votes.task[keep], new_code[votes.worker[keep]], votes.label[keep],
                 votes.weight[keep], task_ids=votes.task_ids,
                 worker_ids=votes.worker_ids[~silent], classes=votes.classes)


def _check_pred_probs(pred_probs, n_tasks, n_classes=None, name="pred_probs"):
    """``pred_probs`` as a float64 (n_models, n_tasks, K) stack (a copy).

    Rows must be finite, non-negative and sum to one (within 1e-4; they are
    renormalised exactly). Bad rows are named in the error.
    """
    probs = np.array(pred_probs, dtype=np.float64)  # always a copy
    if probs.ndim == 2:
        probs = probs[None]
    if probs.ndim != 3 or probs.shape[1] != n_tasks:
        shape = np.shape(pred_probs)
        raise ValueError(
            f"{name} must have shape (n_items, n_classes) with one row per item "
            f"({n_tasks} items); got shape {shape}."
        )
    if n_classes is not None and probs.shape[2] != n_classes:
        raise ValueError(
            f"{name} has {probs.shape[2]} columns but there are {n_classes} "
            "classes; give one column per class, in the order of classes."
        )
    if probs.shape[2] < 2:
        raise ValueError(
            f"{name} must have at least 2 columns (classes); got {probs.shape[2]}."
        )
    for m, block in enumerate(probs):
        where = f"{name}[{m}]" if len(probs) > 1 else name
        nan_rows = np.flatnonzero(~np.isfinite(block).all(axis=1))
        if len(nan_rows):
            raise ValueError(
                f"{where} holds NaN or infinite values in rows "
                f"{nan_rows[:10].tolist()} ({len(nan_rows)} rows in all); every "
                "row must be a probability distribution over the classes."
            )
        sums = block.sum(axis=1)
        bad = (block < 0).any(axis=1) | (np.abs(sums - 1.0) > _SIMPLEX_ATOL)
        if bad.any():
            rows = np.flatnonzero(bad)
            raise ValueError(
                f"{where} rows {rows[:10].tolist()} ({len(rows)} rows in all) are "
                "not probability distributions: each row must be non-negative "
                f"and sum to 1 (row {rows[0]} sums to {sums[rows[0]]:.6g}, its "
                f"smallest entry is {block[rows[0]].min():.6g})."
            )
        block /= sums[:, None]
    return probs


def _coded_votes(votes, n_classes, classes):
    """Votes coded in the classes that index the probability columns.

    With ``classes=None``, integer labels in ``0..n_classes-1`` are taken as
    column indices (as cleanlab expects); otherwise the sorted labels must be
    exactly one per column.
    """
    if classes is not None:
        return as_votes(votes, classes=classes)
    labels = votes.classes
    if labels.dtype.kind in "iu" and len(labels) and labels.min() >= 0 and (
        labels.max() < n_classes
    ):
        return Votes(votes.task, votes.worker, labels[votes.label], votes.weight,
                     task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                     classes=np.arange(n_classes))
    if len(labels) == n_classes:
        return votes
    raise ValueError(
        f"The probabilities have {n_classes} columns but the votes hold the "
        f"labels {labels.tolist()[:20]}; pass classes=[...] naming the class of "
        "each column (the votes' labels must be among them)."
    )


# ----------------------------------------------------------------------
# the CROWDLAB computation on coded votes
def _argmax_ties_by(scores, tiebreak, rarity=None):
    """Index of the largest score of each row; exact ties go to the class
    with the largest ``tiebreak``, then the smallest ``rarity``, then the
    smallest index. Only the tied rows are revisited."""
    best = np.argmax(scores, axis=1)
    top = scores == scores[np.arange(len(scores)), best][:, None]
    tied = np.flatnonzero(top.sum(axis=1) > 1)
    if len(tied) == 0:
        return best
    key = np.where(top[tied], tiebreak[tied], -np.inf)
    if rarity is None:
        best[tied] = np.argmax(key, axis=1)
        return best
    again = key == key.max(axis=1, keepdims=True)
    best[tied] = np.argmax(np.where(again, -rarity[None, :], -np.inf), axis=1)
    return best


class _VoteTables:
    """Per-vote and per-item quantities that do not depend on the consensus."""

    def __init__(self, votes):
        self.votes = votes
        n, k = votes.n_tasks, votes.n_classes
        self.cell = votes.task.astype(np.int64) * k + votes.label
        self.counts = np.bincount(self.cell, votes.weight, minlength=n * k).reshape(
            n, k
        )
        self.n_votes = self.counts.sum(axis=1)
        self.labeled = self.n_votes > 0
        # the items whose consensus is tested: those with several votes, or
        # every labeled item when no item has more than one (e.g. a single
        # annotator)
        multi = self.n_votes > 1 + 1e-12
        self.no_overlap = not multi.any()
        self.multi = self.labeled if self.no_overlap else multi
        # agreement of each annotator with the other annotators of the same
        # items: sum_v w_v (C[i, l_v] - w_v) / sum_v w_v (n_i - w_v)
        w = votes.weight
        agree = np.bincount(votes.worker, w * (self.counts.ravel()[self.cell] - w),
                            minlength=votes.n_workers)
        shared = np.bincount(votes.worker, w * (self.n_votes[votes.task] - w),
                             minlength=votes.n_workers)
        self.overlap = shared > 1e-12
        self.peer_agreement = np.divide(agree, shared, out=np.full_like(agree, np.nan),
                                        where=self.overlap)
        self.mean_votes = float(self.n_votes[self.labeled].mean())
        self.given = np.bincount(votes.worker, w, minlength=votes.n_workers)


def _crowdlab_pass(tables, probs, consensus):
    """Weights and posterior given a consensus (one CROWDLAB pass)."""
    votes = tables.votes
    n, k = votes.n_tasks, votes.n_classes
    multi = tables.multi
    # probability that a vote equals the consensus, on the tested items;
    # when no item has two votes the consensus starts as the votes
    # themselves, so the votes' agreement with the model stands in
    agreement = tables.counts[np.arange(n), consensus] / np.where(
        tables.labeled, tables.n_votes, np.nan)
    if tables.no_overlap:
        top = probs.mean(axis=0).argmax(axis=1)
        hits = votes.weight * (votes.label == top[votes.task])
        p_agree = float(hits.sum() / votes.weight.sum())
    else:
        p_agree = float(np.mean(agreement[multi]))
    p_other = (1.0 - p_agree) / max(k - 1, 1)
    # error of always answering the most common consensus class
    shares = np.bincount(consensus[multi], minlength=k) / multi.sum()
    baseline_error = max(1.0 - shares.max(), _MIN_WEIGHT)
    model_error = np.mean(probs[:, multi].argmax(axis=2) != consensus[multi], axis=1)
    model_weight = np.maximum(1.0 - model_error / baseline_error, _MIN_WEIGHT)
    model_weight = model_weight * np.sqrt(tables.mean_votes)
    # annotators who share no item with another: the mean of those who do,
    # or (no overlap at all, e.g. one annotator) the model's agreement
    peer = tables.peer_agreement.copy()
    if tables.overlap.any():
        peer[~tables.overlap] = peer[tables.overlap].mean()
    else:
        peer[:] = 1.0 - model_error.mean()
    annotator_weight = np.maximum(1.0 - (1.0 - peer) / baseline_error, _MIN_WEIGHT)
    # posterior: (sum_m w_m p_m + sum_v a_v L(l_v)) / (sum_m w_m + sum_v a_v),
    # with L(l) = p_agree at l and p_other elsewhere
    vote_weight = votes.weight * annotator_weight[votes.worker]
    total = np.bincount(votes.task, vote_weight, minlength=n)
    by_label = np.bincount(tables.cell, vote_weight, minlength=n * k).reshape(n, k)
    posterior = np.tensordot(model_weight, probs, axes=1)
    posterior += (p_agree - p_other) * by_label
    posterior += p_other * total[:, None]
    posterior /= (model_weight.sum() + total)[:, None]
    return Bunch(posterior=posterior, model_weight=model_weight,
                 annotator_weight=annotator_weight, vote_weight_total=total)


def _crowdlab(votes, probs, *, initial=None, n_iter=1):
    """CROWDLAB on coded votes and a (n_models, n_tasks, K) probability stack.

    ``initial`` holds scores whose argmax is the first consensus (default:
    the vote counts, i.e. majority vote); ties go to the model's most
    probable class, then to the class with fewer votes.
    """
    tables = _VoteTables(votes)
    tiebreak = probs.mean(axis=0)
    rarity = tables.counts.sum(axis=0)
    scores = tables.counts if initial is None else initial
    consensus = _argmax_ties_by(scores, tiebreak, rarity)
    for _ in range(n_iter):
        state = _crowdlab_pass(tables, probs, consensus)
        new = _argmax_ties_by(state.posterior, tiebreak, rarity)
        changed = not np.array_equal(new, consensus)
        consensus = new
        if not changed:
            break
    return tables, state, consensus


def _scores(tables, state, consensus):
    """Quality scores of the items, the votes and the annotators."""
    votes = tables.votes
    n, k, n_workers = votes.n_tasks, votes.n_classes, votes.n_workers
    posterior = state.posterior
    w = votes.weight
    vote_quality = posterior.ravel()[tables.cell]
    agree = (votes.label == consensus[votes.task]).astype(np.float64)
    given = tables.given
    # mean quality of each annotator's labels
    label_score = np.bincount(votes.worker, w * vote_quality, minlength=n_workers)
    label_score /= given
    # agreement with the consensus on the tested items (all items as fallback)
    on_multi = w * tables.multi[votes.task]
    tested = np.bincount(votes.worker, on_multi, minlength=n_workers)
    agreed = np.bincount(votes.worker, on_multi * agree, minlength=n_workers)
    overall = np.bincount(votes.worker, w * agree, minlength=n_workers) / given
    multi_agreement = np.where(tested > 0, agreed / np.maximum(tested, 1e-300),
                               overall)
    # share of the model in a typical item's posterior
    model_total = state.model_weight.sum()
    typical = state.annotator_weight.mean() * tables.mean_votes
    share = model_total / (model_total + typical)
    annotator_quality = share * label_score + (1.0 - share) * multi_agreement
    # worst class: the consensus class on which the annotator agrees least;
    # ties to the class the annotator labeled most often, then the smallest
    cell = votes.worker.astype(np.int64) * k + consensus[votes.task]
    seen = np.bincount(cell, w, minlength=n_workers * k).reshape(n_workers, k)
    hits = np.bincount(cell, w * agree, minlength=n_workers * k).reshape(n_workers, k)
    rate = np.where(seen > 0, hits / np.maximum(seen, 1e-300), np.inf)
    worst = _argmax_ties_by(-rate, seen)
    # one score per (item, annotator); repeated answers are averaged. Votes
    # are sorted by item, so task_ptr is the CSR row pointer.
    # (scipy keeps the index arrays it is given and sum_duplicates rewrites
    # them in place: pass copies, never the votes' own arrays)
    def per_pair(values):
        matrix = sparse.csr_array((values, votes.worker.copy(), votes.task_ptr.copy()),
                                  shape=(n, n_workers))
        matrix.sum_duplicates()
        return matrix

    label_quality = per_pair(w * vote_quality)
    if label_quality.nnz != votes.n_votes or not np.all(w == 1.0):
        label_quality.data /= np.maximum(per_pair(w).data, 1e-300)
    item_agreement = tables.counts[np.arange(n), consensus] / np.where(
        tables.labeled, tables.n_votes, np.nan)
    return Bunch(
        item_agreement=item_agreement,
        consensus_quality=posterior[np.arange(n), consensus],
        label_quality=label_quality,
        annotator_quality=annotator_quality,
        annotator_n_labels=given,
        annotator_consensus_agreement=overall,
        annotator_worst_class=worst,
    )


def _inverse_temperature(log_p, shares, low=0.05, high=20.0, tol=1e-9):
    """``beta`` in [low, high] minimising the cross-entropy between ``shares``
    and ``softmax(beta * log_p)``.

    The objective is convex in ``beta`` (its second derivative is the mean
    variance of ``log_p`` under the scaled distribution), so Newton's method
    kept inside a bracket of the derivative's sign change converges in a
    few steps; a minimum outside [low, high] returns the nearest bound.
    """
    n = len(log_p)
    spread = log_p - log_p.max(axis=1, keepdims=True)  # <= 0: exp never overflows
    square = spread**2
    target = np.sum(shares * spread) / n
    lo, hi, beta = low, high, 1.0
    for _ in range(200):
        scaled = np.exp(beta * spread)
        scaled /= scaled.sum(axis=1, keepdims=True)
        mean = np.einsum("ik,ik->i", scaled, spread)
        grad = mean.sum() / n - target
        curv = (np.einsum("ik,ik->", scaled, square) - mean @ mean) / n
        if grad == 0 or (grad > 0 and beta <= low) or (grad < 0 and beta >= high):
            return beta
        if grad > 0:
            hi = beta
        else:
            lo = beta
        step = beta - grad / curv if curv > 0 else 0.5 * (lo + hi)
        if step < lo:
            step = lo if lo == low else 0.5 * (lo + hi)
        elif step > hi:
            step = hi if hi == high else 0.5 * (lo + hi)
        if abs(step - beta) <= tol * beta:
            return step
        beta = step
    return beta


def _temperature_scale(probs, counts):
    """Temperatures minimising the cross-entropy between the vote shares and
    ``softmax(log p / T)`` on the labeled items, one per model, and the
    rescaled probabilities; ``1 / T`` is searched in [0.05, 20]."""
    labeled = counts.sum(axis=1) > 0
    shares = counts[labeled] / counts[labeled].sum(axis=1, keepdims=True)
    temperatures = np.ones(len(probs))
    scaled = np.empty_like(probs)
    for m, block in enumerate(probs):
        log_p = np.log(np.maximum(block, 1e-300))
        log_p -= log_p.max(axis=1, keepdims=True)
        beta = _inverse_temperature(log_p[labeled], shares)
        temperatures[m] = 1.0 / beta
        rescaled = np.exp(beta * log_p, out=scaled[m])
        rescaled /= rescaled.sum(axis=1, keepdims=True)
    return temperatures, scaled


def _quality_report(votes, probs, *, initial=None, n_iter=1, calibrate=True,
                    ensemble=False):
    """The full result Bunch of :func:`label_quality` on coded votes."""
    if calibrate:
        temperature, probs = _temperature_scale(probs, vote_counts(votes))
    else:
        temperature = np.ones(len(probs))
    tables, state, consensus = _crowdlab(votes, probs, initial=initial,
                                         n_iter=n_iter)
    scores = _scores(tables, state, consensus)
    model_weight = state.model_weight if ensemble else float(state.model_weight[0])
    return Bunch(
        classes=votes.classes,
        task_ids=votes.task_ids,
        annotator_ids=votes.worker_ids,
        consensus_label=votes.classes[consensus],
        consensus_proba=state.posterior,
        consensus_quality=scores.consensus_quality,
        annotator_agreement=scores.item_agreement,
        n_votes=tables.n_votes,
        label_quality=scores.label_quality,
        annotator_quality=scores.annotator_quality,
        annotator_n_labels=scores.annotator_n_labels,
        annotator_consensus_agreement=scores.annotator_consensus_agreement,
        annotator_worst_class=votes.classes[scores.annotator_worst_class],
        annotator_weights=state.annotator_weight,
        model_weight=model_weight,
        temperature=temperature if ensemble else float(temperature[0]),
        # private, for active learning
        _state=state,
        _probs=probs,
        _consensus=consensus,
    )


def _prepare(votes, pred_probs, classes, missing_label, stacklevel):
    votes = as_votes(votes, missing_label=missing_label)
    probs = _check_pred_probs(pred_probs, votes.n_tasks)
    votes = _coded_votes(votes, probs.shape[2], classes)
    _check_labels(votes.classes)
    votes = _drop_silent_annotators(votes, stacklevel=stacklevel)
    return votes, probs


def _check_labels(classes):
    """Refuse continuous (regression) labels, as every classifier does."""
    check_classification_targets(_integral_floats_to_int(np.asarray(classes)))


def _public(report):
    return Bunch(**{k: v for k, v in report.items() if not k.startswith("_")})


def label_quality(votes, pred_probs, *, classes=None, calibrate=True, n_iter=1,
                  missing_label=-1):
    """CROWDLAB consensus and quality scores from precomputed probabilities.

    For users whose classifier was trained elsewhere: ``pred_probs`` holds
    its **out-of-sample** probabilities (e.g. from cross-validation) for the
    items of ``votes``. The consensus starts as the majority vote (ties
    broken by the model, then in favour of the rarer class); each pass
    weights the model by ``1 - model_error / baseline_error`` (times the
    square root of the mean number of votes per item) and each annotator by
    ``1 - (1 - agreement_with_other_annotators) / baseline_error``, where the
    errors are measured against the current consensus on the items with more
    than one vote and ``baseline_error`` is the error of always answering the
    most common consensus class. The posterior of an item is the weighted
    average of the model's probabilities and, for each vote, a vector with
    ``P`` at the voted class and ``(1 - P) / (K - 1)`` elsewhere (``P``: the
    mean share of votes equal to the consensus); its argmax is the new
    consensus. The consensus returned is always the argmax of the final
    posterior.

    Items without any vote are allowed: their posterior is the model's.
    A single annotator (so no item has two votes) works too: the tested
    items are then all the labeled items, and the annotator's agreement with
    others, undefined, is replaced by the model's agreement with the
    consensus.

    Parameters
    ----------
    votes : Votes, array-like, DataFrame, dict or sparse.COO
        The votes, in any format accepted by :func:`skcrowd.as_votes`; items
        follow its task order (the rows of a wide matrix).
    pred_probs : array-like of shape (n_items, n_classes)
        Out-of-sample predicted probabilities; rows must sum to one.
    classes : array-like of shape (n_classes,), default=None
        Label of each column of ``pred_probs``, sorted. When None, integer
        labels ``0..n_classes-1`` index the columns; other labels must be
        exactly ``n_classes`` distinct values.
    calibrate : bool, default=True
        Rescale ``pred_probs`` by the temperature that best fits the vote
        shares (minimum cross-entropy, a convex problem in ``1 / T``) before
        combining them. On simulated crowds (:func:`~skcrowd.simulation.
        make_classification_crowd`, 20 seeds) it raises the consensus
        accuracy of :class:`CrowdLab` from 0.970 to 0.978, and from 0.977 to
        0.999 with a 30% labeling rate (15 votes per item, 8 seeds):
        out-of-fold probabilities are usually overconfident. Use False for
        the uncalibrated method.
    n_iter : int, default=1
        Maximum number of passes. The first pass weighs the model and the
        annotators against the initial consensus (majority vote); each
        further pass recomputes the weights against the previous pass's
        consensus, stopping early when it no longer changes. The published
        method runs two passes but reports the first pass's consensus with
        the second pass's scores; here consensus and scores always come from
        the same, final posterior. One pass is the default because a second
        one measures the model against a consensus it helped make, which
        inflates its weight (on the same simulations, uncalibrated: 0.970
        accuracy with one pass, 0.964 with two).
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None`` and ``NaN``).

    Returns
    -------
    result : Bunch
        ``classes`` (label of each probability column), ``task_ids`` (the
        items, in the row order of the probabilities), ``annotator_ids``
        (annotators with at least one label), and:

        - ``consensus_label`` (n_items,): the most probable class of
          ``consensus_proba``;
        - ``consensus_proba`` (n_items, n_classes): CROWDLAB's posterior;
        - ``consensus_quality`` (n_items,): ``consensus_proba`` of the
          consensus label, the confidence that it is right;
        - ``annotator_agreement`` (n_items,): share of the item's votes
          equal to the consensus (NaN for an item without votes);
        - ``n_votes`` (n_items,): (weighted) number of votes of each item;
        - ``label_quality``: sparse array (n_items, n_annotators) with the
          quality score of every vote, ``consensus_proba`` of the given label
          (repeated answers of one annotator to one item are averaged);
        - ``annotator_quality`` (n_annotators,): mean quality of the
          annotator's labels blended with their agreement with the
          consensus on items with several votes (lower is worse);
        - ``annotator_n_labels``, ``annotator_consensus_agreement``,
          ``annotator_worst_class`` (n_annotators,): number of labels, share
          agreeing with the consensus, and the consensus class on which the
          annotator agrees least;
        - ``annotator_weights`` (n_annotators,) and ``model_weight``: the
          CROWDLAB weights of the final pass;
        - ``temperature``: the calibration temperature (1 without
          calibration).

    See Also
    --------
    CrowdLab : the same, with the out-of-sample probabilities computed for you.
    label_quality_ensemble : several models' probabilities.
    active_learning_scores : which items to relabel next.

    References
    ----------
    H. W. Goh, U. Tkachenko, J. Mueller, "CROWDLAB: Supervised learning to
    infer consensus labels and quality scores for data with multiple
    annotators", NeurIPS 2022 Human in the Loop Learning Workshop,
    arXiv:2210.06812.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.crowdlab import label_quality
    >>> votes = [[0, 0, -1], [1, -1, 0], [-1, 1, 1], [0, 1, 1]]
    >>> pred_probs = np.array([[.9, .1], [.6, .4], [.2, .8], [.3, .7]])
    >>> result = label_quality(votes, pred_probs)
    >>> result.consensus_label.tolist()
    [0, 0, 1, 1]
    >>> result.model_weight, result.annotator_weights.round(3)
    (1.5, array([0. , 0.5, 0. ]))
    >>> result.consensus_quality.round(2)
    array([0.93, 0.66, 0.88, 0.8 ])
    """
    _check_n_iter(n_iter)
    votes, probs = _prepare(votes, pred_probs, classes, missing_label, 4)
    return _public(_quality_report(votes, probs, n_iter=n_iter, calibrate=calibrate))


def label_quality_ensemble(votes, pred_probs, *, classes=None, calibrate=True,
                           n_iter=1, missing_label=-1):
    """CROWDLAB with the probabilities of several models.

    Each model gets its own weight, from its own agreement with the
    consensus; the posterior averages all models and all votes. Otherwise
    identical to :func:`label_quality`.

    Parameters
    ----------
    votes : Votes, array-like, DataFrame, dict or sparse.COO
        The votes, in any format accepted by :func:`skcrowd.as_votes`.
    pred_probs : array-like of shape (n_models, n_items, n_classes)
        Out-of-sample probabilities of every model (a list of 2-D arrays
        works too).
    classes : array-like of shape (n_classes,), default=None
        Label of each probability column (see :func:`label_quality`).
    calibrate : bool, default=True
        Temperature-scale each model's probabilities (one temperature each).
    n_iter : int, default=1
        Maximum number of passes (see :func:`label_quality`).
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    result : Bunch
        As :func:`label_quality`, with ``model_weight`` and ``temperature``
        arrays of shape (n_models,).

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.crowdlab import label_quality_ensemble
    >>> votes = [[0, 0, -1], [1, -1, 0], [-1, 1, 1], [0, 1, 1]]
    >>> good = np.array([[.9, .1], [.6, .4], [.2, .8], [.3, .7]])
    >>> poor = np.array([[.4, .6], [.5, .5], [.6, .4], [.5, .5]])
    >>> result = label_quality_ensemble(votes, [good, poor])
    >>> bool(result.model_weight[0] > result.model_weight[1])
    True
    """
    _check_n_iter(n_iter)
    stack = np.asarray(pred_probs, dtype=np.float64)
    if stack.ndim != 3:
        raise ValueError(
            "pred_probs must have shape (n_models, n_items, n_classes); got shape "
            f"{stack.shape}. Use label_quality for a single model."
        )
    votes, probs = _prepare(votes, stack, classes, missing_label, 4)
    return _public(_quality_report(votes, probs, n_iter=n_iter, calibrate=calibrate,
                                   ensemble=True))



def _check_n_iter(n_iter):
    if not isinstance(n_iter, Integral) or isinstance(n_iter, bool) or n_iter < 1:
        raise ValueError(f"n_iter must be a positive integer; got {n_iter!r}.")


def active_learning_scores(votes=None, pred_probs=None, *, pred_probs_unlabeled=None,
                           classes=None, calibrate=True, n_iter=1, missing_label=-1):
    """ActiveLab scores: which items to send for another label next.

    The score of an item estimates how likely its current consensus is
    right, shrunk towards ``1 / K`` by the weight of the evidence behind it:
    ``(W_i * q_i + a / K) / (W_i + a)``, where ``q_i`` is the CROWDLAB
    consensus quality, ``W_i`` the model weight plus the weights of the
    item's annotators and ``a`` the mean annotator weight (the value of one
    more label). **Lower scores come first**: label the items with the
    smallest score. Items with no label yet (rows of ``votes`` without a vote,
    or ``pred_probs_unlabeled``) get ``q_i`` = the model's top probability
    and ``W_i`` = the model weight.

    Parameters
    ----------
    votes : Votes, array-like, DataFrame, dict or sparse.COO, default=None
        The votes collected so far; None when no item has a label yet (the
        model and an annotator then weigh 1 each).
    pred_probs : array-like of shape (n_items, n_classes), default=None
        Out-of-sample probabilities of the items of ``votes``; a 3-D array
        (n_models, n_items, n_classes) is an ensemble.
    pred_probs_unlabeled : array-like of shape (n_unlabeled, n_classes), default=None
        Probabilities of items outside ``votes`` (3-D for an ensemble).
    classes : array-like of shape (n_classes,), default=None
        Label of each probability column (see :func:`label_quality`).
    calibrate : bool, default=True
        Temperature-scale the probabilities to fit the vote shares (the
        published ActiveLab does); the temperature is fitted on ``votes`` and
        applied to ``pred_probs_unlabeled`` too.
    n_iter : int, default=1
        Maximum number of CROWDLAB passes.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    scores : ndarray of shape (n_items,)
        Scores of the items of ``votes`` (empty when ``votes`` is None).
    scores_unlabeled : ndarray of shape (n_unlabeled,)
        Scores of the items of ``pred_probs_unlabeled`` (empty when None).

    References
    ----------
    H. W. Goh, J. Mueller, "ActiveLab: Active Learning with Re-Labeling by
    Multiple Annotators", ICLR 2023 Workshop on Trustworthy ML,
    arXiv:2301.11856.

    Examples
    --------
    >>> import numpy as np
    >>> from skcrowd.crowdlab import active_learning_scores
    >>> votes = [[0, 0, -1], [1, -1, 0], [-1, 1, 1], [0, 1, 1]]
    >>> pred_probs = np.array([[.9, .1], [.6, .4], [.2, .8], [.3, .7]])
    >>> scores, unlabeled = active_learning_scores(
    ...     votes, pred_probs, pred_probs_unlabeled=[[.5, .5], [.99, .01]])
    >>> int(np.argmin(scores)), unlabeled.round(2)
    (1, array([0.5 , 0.95]))
    """
    _check_n_iter(n_iter)
    if votes is None:
        if pred_probs is not None:
            raise ValueError("pred_probs needs the votes of its items; pass votes.")
        if pred_probs_unlabeled is None:
            raise ValueError("Pass votes and pred_probs, or pred_probs_unlabeled.")
        unl = _check_pred_probs(pred_probs_unlabeled,
                                np.shape(pred_probs_unlabeled)[-2],
                                name="pred_probs_unlabeled")
        k = unl.shape[2]
        model_weight = np.ones(len(unl))
        mean_annotator, temperature, scores = 1.0, np.ones(len(unl)), np.empty(0)
    else:
        if pred_probs is None:
            raise ValueError("pred_probs is required with votes.")
        votes, probs = _prepare(votes, pred_probs, classes, missing_label, 3)
        report = _quality_report(votes, probs, n_iter=n_iter, calibrate=calibrate,
                                 ensemble=True)
        state = report._state
        k = votes.n_classes
        model_weight = state.model_weight
        mean_annotator = float(state.annotator_weight.mean())
        evidence = model_weight.sum() + state.vote_weight_total
        scores = (evidence * report.consensus_quality + mean_annotator / k) / (
            evidence + mean_annotator)
        temperature = np.atleast_1d(report.temperature)
    if pred_probs_unlabeled is None:
        return scores, np.empty(0)
    unl = _check_pred_probs(pred_probs_unlabeled, np.shape(pred_probs_unlabeled)[-2],
                            n_classes=k, name="pred_probs_unlabeled")
    if len(unl) != len(model_weight):
        raise ValueError(
            f"pred_probs_unlabeled has {len(unl)} models but pred_probs has "
            f"{len(model_weight)}."
        )
    for m in range(len(unl)):
        unl[m] = np.exp(log_softmax(np.log(np.maximum(unl[m], 1e-300))
                                    / temperature[m], axis=1))
    total = model_weight.sum()
    top = np.tensordot(model_weight / total, unl, axes=1).max(axis=1)
    unlabeled = (total * top + mean_annotator / k) / (total + mean_annotator)
    return scores, unlabeled


# ----------------------------------------------------------------------
# estimators
def _votes_for_rows(Y, X, *, missing_label, name):
    """Votes whose task codes are the rows of X.

    ``Y`` is a wide matrix with one row per sample (a 1-D ``y`` is one
    annotator), ``Votes``/``sparse.COO`` with one task per row, or a long
    table / dict whose task ids are the row positions (or ``X.index``).
    """
    if Y is None:
        raise ValueError(
            f"{name} requires y to be passed, but the target y is None: give the "
            "vote matrix Y of shape (n_samples, n_annotators)."
        )
    n_samples = _num_samples(X)
    kind = input_kind(Y)
    if kind == "wide":
        if hasattr(Y, "to_frame") and getattr(Y, "ndim", 2) == 1:
            Y = Y.to_frame()
        elif not hasattr(Y, "columns"):
            Y = np.asarray(Y)
            if Y.ndim == 1:
                Y = Y.reshape(-1, 1)
            if Y.ndim != 2:
                raise ValueError(
                    f"Y must be a vote matrix of shape (n_samples, n_annotators); "
                    f"got an array with {Y.ndim} dimensions."
                )
        if len(Y) != n_samples:
            raise ValueError(
                f"Y has {len(Y)} rows of votes but X has {n_samples} samples; Y "
                "must have one row per sample of X (shape (n_samples, "
                "n_annotators), missing votes as missing_label)."
            )
        votes = Votes.from_wide(Y, missing_label=missing_label,
                                task_ids=np.arange(n_samples))
    elif kind in ("votes", "coo"):
        votes = as_votes(Y, missing_label=missing_label)
        if votes.n_tasks != n_samples:
            raise ValueError(
                f"Y holds {votes.n_tasks} items but X has {n_samples} samples; "
                "its items must be the rows of X, in order."
            )
    else:
        votes = as_votes(Y, missing_label=missing_label)
        index = np.asarray(X.index) if hasattr(X, "index") else np.arange(n_samples)
        position = lookup(index, votes.task_ids)
        if (position < 0).any():
            unknown = votes.task_ids[position < 0].tolist()[:10]
            raise ValueError(
                f"Tasks {unknown} of Y are not rows of X: the task ids of a long "
                "table or dict must be the row positions of X (0..n_samples-1) "
                "or values of X.index."
            )
        votes = Votes(position[votes.task], votes.worker, votes.label, votes.weight,
                      task_ids=index, worker_ids=votes.worker_ids,
                      classes=votes.classes)
    if votes.classes.dtype.kind == "O":
        labels = _narrow_object(votes.classes)
        if labels.dtype.kind != "O":
            votes = Votes(votes.task, votes.worker, votes.label, votes.weight,
                          task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                          classes=labels)
    return votes


def _indexable(X):
    """X in a form ``_safe_indexing`` can subset (CSR for sparse input)."""
    if sparse.issparse(X):
        return X.tocsr()
    if hasattr(X, "iloc") or isinstance(X, (list, tuple, np.ndarray)):
        return X
    return np.asarray(X)


class _CrowdClassifier(MetaEstimatorMixin, ClassifierMixin, BaseEstimator):
    """Shared plumbing of the classifiers fitted on crowd votes: the vote
    matrix as ``y``, predictions by the refitted ``estimator_``, and
    :meth:`score` as agreement with held-out votes."""

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        inner = get_tags(self._get_estimator())
        tags.input_tags.sparse = inner.input_tags.sparse
        tags.input_tags.allow_nan = inner.input_tags.allow_nan
        tags.input_tags.string = inner.input_tags.string
        tags.classifier_tags.poor_score = True
        return tags

    def _get_estimator(self):
        return LogisticRegression() if self.estimator is None else self.estimator

    def _fit_votes(self, X, Y):
        """Votes aligned with X, coded in ``classes_``, silent annotators out."""
        _num_samples(X)  # a clear error for X without samples
        votes = _votes_for_rows(Y, X, missing_label=self.missing_label,
                                name=type(self).__name__)
        _check_labels(votes.classes)
        if votes.n_classes < 2:
            raise ValueError(
                f"{type(self).__name__} needs votes of at least 2 classes; got "
                f"one class: every vote is {votes.classes.tolist()[0]!r}."
            )
        votes = _drop_silent_annotators(votes, stacklevel=4)
        self.classes_ = votes.classes
        self.annotator_ids_ = votes.worker_ids
        return votes

    def _set_input_attributes(self):
        for attr in ("n_features_in_", "feature_names_in_"):
            if hasattr(self.estimator_, attr):
                setattr(self, attr, getattr(self.estimator_, attr))

    def _fit_final(self, X, labeled, codes, params):
        """Refit a clone of the estimator on the consensus of labeled items."""
        rows = np.flatnonzero(labeled)
        self.estimator_ = clone(self._get_estimator()).fit(
            _safe_indexing(X, rows), self.classes_[codes[rows]],
            **_check_method_params(X, params, rows),
        )
        self._set_input_attributes()

    def predict(self, X):
        """Class of new items predicted by the refitted classifier.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, as accepted by the inner estimator.

        Returns
        -------
        y : ndarray of shape (n_samples,)
            Values from ``classes_``.
        """
        check_is_fitted(self)
        return self.estimator_.predict(X)

    def predict_proba(self, X):
        """Class probabilities of new items from the refitted classifier.

        The votes of new items are not used: this is the classifier alone
        (the fitted items' combined posterior is ``consensus_proba_``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features, as accepted by the inner estimator.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Columns follow ``classes_`` (a class absent from the consensus
            gets probability 0).
        """
        check_is_fitted(self)
        inner = self.estimator_.predict_proba(X)
        columns = lookup(self.classes_, self.estimator_.classes_)
        if len(columns) == len(self.classes_):
            return inner
        proba = np.zeros((inner.shape[0], len(self.classes_)))
        proba[:, columns] = inner
        return proba

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def score(self, X, y, sample_weight=None):
        """Agreement of the predictions with held-out votes.

        The share of the votes in ``y`` equal to the prediction for their
        item (each vote weighted by its item's ``sample_weight``). With one
        vote per item (a 1-D ``y``) it is the accuracy; it lets
        ``cross_val_score`` and ``GridSearchCV`` tune the inner estimator on
        crowd votes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the held-out items.
        y : array-like of shape (n_samples, n_annotators) or (n_samples,)
            Their votes, in any format accepted by :meth:`fit`.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each item.

        Returns
        -------
        score : float
            In [0, 1].
        """
        check_is_fitted(self)
        votes = _votes_for_rows(y, X, missing_label=self.missing_label,
                                name=type(self).__name__)
        codes = lookup(self.classes_, votes.classes)
        if (codes < 0).any():
            unknown = votes.classes[codes < 0].tolist()[:10]
            raise ValueError(
                f"Labels {unknown} of y are not in classes_ "
                f"{self.classes_.tolist()}; the classifier cannot predict them."
            )
        predicted = lookup(self.classes_, self.predict(X))
        weight = votes.weight
        if sample_weight is not None:
            sample_weight = np.asarray(sample_weight, dtype=np.float64)
            if sample_weight.shape != (votes.n_tasks,):
                raise ValueError(
                    f"sample_weight has shape {sample_weight.shape}; expected "
                    f"({votes.n_tasks},), one weight per item."
                )
            weight = weight * sample_weight[votes.task]
        hits = codes[votes.label] == predicted[votes.task]
        return float(np.sum(weight * hits) / np.sum(weight))


#: Results of :func:`label_quality` stored as fitted attributes of CrowdLab.
_FITTED = (
    "consensus_label", "consensus_proba", "consensus_quality",
    "annotator_agreement", "label_quality", "annotator_quality",
    "annotator_n_labels", "annotator_consensus_agreement",
    "annotator_worst_class", "annotator_weights", "model_weight", "temperature",
)


class CrowdLab(_CrowdClassifier):
    """CROWDLAB: consensus labels and quality scores from votes and features.

    A classifier trained on the items' features knows things the votes do
    not: CROWDLAB averages its **out-of-fold** probabilities with the votes,
    weighting the classifier and every annotator by how well they agree with
    the consensus (the classifier) or with each other (each annotator),
    relative to always answering the most common class. It outperforms
    Dawid-Skene and GLAD when each item has few votes.

    ``fit(X, Y)`` runs:

    1. an initial consensus by ``aggregator`` (majority vote by default),
       whose labels of the items with votes train the classifier;
    2. out-of-fold probabilities of a clone of ``estimator`` with
       :func:`~sklearn.model_selection.cross_val_predict` (items without any
       vote are not trained on; a clone fitted on all voted items predicts
       them);
    3. the CROWDLAB weights and posterior (:func:`label_quality`), starting
       from the aggregator's consensus with ties broken by the model;
    4. with ``n_rounds > 1``, steps 2-3 again with the classifier trained on
       the new consensus;
    5. ``estimator_``, a clone of ``estimator`` refitted on the final
       consensus of the voted items, for :meth:`predict` on new items.

    The consensus is always the most probable class of the final posterior.

    Parameters
    ----------
    estimator : estimator object, default=None
        A classifier with ``fit`` and ``predict_proba``; None means
        ``LogisticRegression()``.
    aggregator : skcrowd aggregator, default=None
        Gives the initial consensus (any :class:`~skcrowd.base.BaseAggregator`,
        e.g. :class:`~skcrowd.DawidSkene`); None means
        ``MajorityVote(tie_breaking="random", random_state=random_state)``.
    cv : int, cross-validation generator or iterable, default=5
        Splitting strategy of ``cross_val_predict`` (an int means stratified
        K-fold).
    n_rounds : int, default=1
        Rounds of out-of-fold training; each round after the first trains
        the classifier on the previous round's consensus.
    n_iter : int, default=1
        Maximum number of CROWDLAB passes per round (see
        :func:`label_quality`).
    calibrate : bool, default=True
        Temperature-scale the out-of-fold probabilities to fit the vote
        shares before combining them (see :func:`label_quality`).
    n_jobs : int, default=None
        Parallel jobs of ``cross_val_predict``.
    random_state : int, RandomState instance or None, default=None
        Seeds the default aggregator's tie-breaking.
    missing_label : scalar, default=-1
        Marks a missing vote in ``Y`` (besides ``None`` and ``NaN``); use
        e.g. ``""`` for string labels.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted label values.
    estimator_ : estimator
        The classifier refitted on the final consensus.
    annotator_ids_ : ndarray of shape (n_annotators,)
        Annotators with at least one vote (column numbers of a wide ``Y``,
        or its column names); annotator-level attributes follow this order.
    oof_proba_ : ndarray of shape (n_samples, n_classes)
        Out-of-fold probabilities of the last round (after calibration).
    consensus_label_ : ndarray of shape (n_samples,)
        Consensus label of every fitted item.
    consensus_proba_ : ndarray of shape (n_samples, n_classes)
        CROWDLAB posterior of every fitted item.
    consensus_quality_ : ndarray of shape (n_samples,)
        Confidence that the consensus label is right (its posterior).
    annotator_agreement_ : ndarray of shape (n_samples,)
        Share of each item's votes equal to its consensus (NaN without votes).
    label_quality_ : scipy.sparse.csr_array of shape (n_samples, n_annotators)
        Quality score of every vote (the posterior of the given label);
        items without a vote from an annotator have no stored entry.
    annotator_quality_ : ndarray of shape (n_annotators,)
        Overall quality of each annotator (lower is worse).
    annotator_n_labels_ : ndarray of shape (n_annotators,)
        Number of labels each annotator gave.
    annotator_consensus_agreement_ : ndarray of shape (n_annotators,)
        Share of each annotator's labels equal to the consensus.
    annotator_worst_class_ : ndarray of shape (n_annotators,)
        The consensus class on which each annotator agrees least.
    annotator_weights_ : ndarray of shape (n_annotators,)
        CROWDLAB weight of each annotator.
    model_weight_ : float
        CROWDLAB weight of the classifier.
    temperature_ : float
        Calibration temperature (1.0 without calibration).
    n_features_in_ : int
        Number of features, when the inner estimator records it.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Feature names, when the inner estimator records them.

    See Also
    --------
    label_quality : the same scores from precomputed probabilities.
    LearningFromCrowds : a classifier trained by EM on the votes.

    References
    ----------
    H. W. Goh, U. Tkachenko, J. Mueller, "CROWDLAB: Supervised learning to
    infer consensus labels and quality scores for data with multiple
    annotators", NeurIPS 2022 Human in the Loop Learning Workshop,
    arXiv:2210.06812.

    Examples
    --------
    >>> from skcrowd import CrowdLab
    >>> from skcrowd.simulation import make_classification_crowd
    >>> X, Y, y_true, truth = make_classification_crowd(random_state=0)
    >>> model = CrowdLab().fit(X, Y)
    >>> bool((model.consensus_label_ == y_true).mean() > 0.9)
    True
    >>> worst = model.annotator_ids_[model.annotator_quality_.argsort()[:5]]
    >>> len(set(worst.tolist()) & {45, 46, 47, 48, 49}) >= 4  # the noisy ones
    True
    >>> model.predict(X[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "estimator": [HasMethods(["fit", "predict_proba"]), None],
        "aggregator": [HasMethods(["fit"]), None],
        "cv": ["cv_object"],
        "n_rounds": [Interval(Integral, 1, None, closed="left")],
        "n_iter": [Interval(Integral, 1, None, closed="left")],
        "calibrate": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
        "missing_label": "no_validation",
    }

    def __init__(self, estimator=None, *, aggregator=None, cv=5, n_rounds=1,
                 n_iter=1, calibrate=True, n_jobs=None, random_state=None,
                 missing_label=-1):
        self.estimator = estimator
        self.aggregator = aggregator
        self.cv = cv
        self.n_rounds = n_rounds
        self.n_iter = n_iter
        self.calibrate = calibrate
        self.n_jobs = n_jobs
        self.random_state = random_state
        self.missing_label = missing_label

    def _initial_consensus(self, votes):
        """Scores of the initial consensus and the training labels."""
        if self.aggregator is None:
            seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
            aggregator = MajorityVote(tie_breaking="random", random_state=seed)
        else:
            aggregator = clone(self.aggregator)
            if not isinstance(aggregator, BaseAggregator):
                raise TypeError(
                    "aggregator must be a skcrowd aggregator (a BaseAggregator, e.g. "
                    f"MajorityVote or DawidSkene); got {type(aggregator).__name__}."
                )
        aggregator.fit(votes)
        columns = lookup(self.classes_, aggregator.classes_)
        scores = np.zeros((votes.n_tasks, votes.n_classes))
        scores[:, columns] = aggregator.consensus_proba_
        scores[votes.task_counts() <= 0] = 0.0  # no vote: the model decides
        labels = lookup(self.classes_, aggregator.consensus_label_)
        return scores, labels

    def _oof_proba(self, X, codes, labeled, params):
        """Out-of-fold probabilities of every item (columns: all classes)."""
        rows = np.flatnonzero(labeled)
        n_classes = len(self.classes_)
        X_lab = _safe_indexing(X, rows)
        y_lab = codes[rows]
        present = np.unique(y_lab)
        if len(present) < 2:
            raise ValueError(
                "The consensus of the voted items holds one class "
                f"({self.classes_.tolist()[present[0]]!r}); the classifier needs "
                "at least 2 classes to train on."
            )
        inner = cross_val_predict(
            clone(self._get_estimator()), X_lab, y_lab, cv=self.cv,
            n_jobs=self.n_jobs, method="predict_proba",
            params=_check_method_params(X, params, rows),
        )
        proba = np.zeros((_num_samples(X), n_classes))
        proba[np.ix_(rows, present)] = inner
        if not labeled.all():
            rest = np.flatnonzero(~labeled)
            model = clone(self._get_estimator()).fit(
                X_lab, y_lab, **_check_method_params(X, params, rows))
            proba[np.ix_(rest, lookup(np.arange(n_classes), model.classes_))] = (
                model.predict_proba(_safe_indexing(X, rest)))
        return proba

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, **fit_params):
        """Consensus, quality scores and the classifier from features and votes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of the items, as accepted by the inner estimator.
        y : array-like of shape (n_samples, n_annotators)
            The vote matrix ``Y``: ``Y[i, j]`` is annotator ``j``'s label of
            item ``i``, ``missing_label`` (default -1), ``None`` or ``NaN``
            when absent (use -1 rather than NaN with scikit-learn's model
            selection tools: they reject NaN targets). A 1-D ``y`` is a
            single annotator. Also accepted: :class:`~skcrowd.Votes` or a
            ``sparse.COO`` whose items are the rows of X, and a long table
            or dict of dicts whose task ids are the row positions of X (or
            values of ``X.index``). An item without votes is allowed (the
            model alone decides); an annotator without votes is ignored with
            a warning.
        **fit_params : dict
            Passed to the inner estimator's ``fit`` (subset to the training
            rows). With ``sklearn.set_config(enable_metadata_routing=True)``
            they are routed by metadata routing instead: request them on the
            estimator (``estimator.set_fit_request(sample_weight=True)``).

        Returns
        -------
        self : CrowdLab
            The fitted estimator.
        """
        if _routing_enabled():
            params = process_routing(self, "fit", **fit_params).estimator.fit
        else:
            params = fit_params
        X = _indexable(X)
        votes = self._fit_votes(X, y)
        labeled = votes.task_counts() > 0
        initial, codes = self._initial_consensus(votes)
        for _ in range(self.n_rounds):
            proba = self._oof_proba(X, codes, labeled, params)
            report = _quality_report(votes, proba[None], initial=initial,
                                     n_iter=self.n_iter, calibrate=self.calibrate)
            codes = report._consensus
        self.oof_proba_ = report._probs[0]
        for name in _FITTED:
            setattr(self, name + "_", report[name])
        self._fit_final(X, labeled, codes, params)
        return self

    def get_metadata_routing(self):
        """Metadata routing of this estimator: ``fit`` routes to the inner
        estimator's ``fit``.

        Returns
        -------
        routing : MetadataRouter
        """
        return MetadataRouter(owner=self).add(
            estimator=self._get_estimator(),
            method_mapping=MethodMapping().add(caller="fit", callee="fit"),
        )
