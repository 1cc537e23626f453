"""Plots of crowds, workers and posteriors (needs the ``plot`` extra).

Every function returns the matplotlib ``Axes`` (or ``Figure`` for a grid of
panels) it drew on, and accepts ``ax=`` to draw into an existing figure.
matplotlib is optional: ``pip install skcrowd[plot]``.
"""

import numpy as np

from ._votes import as_votes
from .metrics import expected_calibration_error, reliability_table

__all__ = [
    "plot_confusion_matrices",
    "plot_reliability_diagram",
    "plot_reliability_trajectory",
    "plot_tasks_per_worker",
    "plot_votes_per_task",
    "plot_worker_quality",
]


def _pyplot():
    """matplotlib.pyplot, or an ImportError telling which extra to install."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ModuleNotFoundError(
            "Plotting needs matplotlib, which is not installed; install the "
            "plot extra: pip install skcrowd[plot]"
        ) from exc
    return plt


def _axes(ax, figsize=(5, 3.5)):
    if ax is not None:
        return ax
    _, ax = _pyplot().subplots(figsize=figsize, layout="constrained")
    return ax


def plot_confusion_matrices(confusion_matrices, *, workers=None, classes=None,
                            max_workers=12, ncols=4, cmap="Blues"):
    """Heatmaps of worker confusion matrices, one panel per worker.

    Parameters
    ----------
    confusion_matrices : array-like of shape (n_workers, K, K) or estimator
        The matrices (``confusion_matrices[j, k, l]`` = P(worker j answers l |
        true class k)), or a fitted aggregator with ``confusion_matrices_``
        (its ``worker_ids_`` and ``classes_`` then label the panels).
    workers : array-like of int, default=None
        Positions of the workers to draw; the first ``max_workers`` when None.
    classes : array-like of shape (K,), default=None
        Class names for the axes.
    max_workers : int, default=12
        Most panels drawn when ``workers`` is None.
    ncols : int, default=4
        Panels per row.
    cmap : str, default="Blues"
        Colormap.

    Returns
    -------
    fig : matplotlib Figure

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skcrowd.plotting import plot_confusion_matrices
    >>> fig = plot_confusion_matrices(np.stack([np.eye(3), np.full((3, 3), 1 / 3)]))
    >>> len(fig.axes)  # two panels and a colour bar
    3
    """
    plt = _pyplot()
    names = None
    if hasattr(confusion_matrices, "confusion_matrices_"):
        model = confusion_matrices
        confusion_matrices = model.confusion_matrices_
        names = getattr(model, "worker_ids_", None)
        if classes is None:
            classes = getattr(model, "classes_", None)
    confusion = np.asarray(confusion_matrices, dtype=np.float64)
    if confusion.ndim == 2:
        confusion = confusion[None]
    if confusion.ndim != 3 or confusion.shape[1] != confusion.shape[2]:
        raise ValueError(
            "confusion_matrices must have shape (n_workers, n_classes, "
            f"n_classes); got {confusion.shape}."
        )
    n_workers, n_classes, _ = confusion.shape
    workers = (np.arange(min(n_workers, max_workers)) if workers is None
               else np.asarray(workers))
    if names is None:
        names = np.arange(n_workers)
    classes = np.arange(n_classes) if classes is None else np.asarray(classes)
    ncols = max(1, min(ncols, len(workers)))
    nrows = int(np.ceil(len(workers) / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(2.6 * ncols, 2.5 * nrows),
                             squeeze=False, layout="constrained")
    image = None
    for ax, w in zip(axes.flat, workers, strict=False):
        image = ax.imshow(confusion[w], vmin=0, vmax=1, cmap=cmap)
        ax.set_title(f"worker {names[w]}", fontsize=9)
        ax.set_xticks(range(n_classes), [str(c) for c in classes], fontsize=7)
        ax.set_yticks(range(n_classes), [str(c) for c in classes], fontsize=7)
        if n_classes <= 6:
            for k in range(n_classes):
                for m in range(n_classes):
                    value = confusion[w, k, m]
                    ax.text(m, k, f"{value:.2f}", ha="center", va="center",
                            fontsize=7, color="white" if value > 0.6 else "black")
    for ax in axes[:, 0]:
        ax.set_ylabel("true class", fontsize=8)
    for ax in axes[-1, :]:
        ax.set_xlabel("answered", fontsize=8)
    for ax in list(axes.flat)[len(workers):]:
        ax.set_visible(False)
    if image is not None:
        fig.colorbar(image, ax=axes, shrink=0.8, label="probability")
    return fig


def plot_worker_quality(scores, *, bins=20, threshold=None, label="score",
                        ax=None):
    """Histogram of a worker quality score (spammer score, accuracy...).

    Parameters
    ----------
    scores : array-like of shape (n_workers,)
        One score per worker; NaN values are left out.
    bins : int, default=20
        Number of bins.
    threshold : float, default=None
        Draw a vertical line here (e.g. the cut below which workers are
        dropped) and report how many workers fall below it.
    label : str, default="score"
        Name of the score, for the x axis.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcrowd.plotting import plot_worker_quality
    >>> ax = plot_worker_quality([0.1, 0.8, 0.9, 0.85], threshold=0.5)
    >>> ax.get_xlabel()
    'score'
    """
    ax = _axes(ax)
    scores = np.asarray(scores, dtype=np.float64)
    scores = scores[~np.isnan(scores)]
    ax.hist(scores, bins=bins, color="tab:blue", edgecolor="white")
    ax.set_xlabel(label)
    ax.set_ylabel("number of workers")
    title = f"{len(scores)} workers"
    if threshold is not None:
        ax.axvline(threshold, color="tab:red", linestyle="--")
        title += f", {int(np.sum(scores < threshold))} below {threshold:g}"
    ax.set_title(title)
    return ax


def _count_histogram(counts, ax, xlabel, ylabel, bins):
    ax = _axes(ax)
    counts = np.asarray(counts)
    if bins is None:
        top = int(counts.max()) if len(counts) else 1
        bins = np.arange(0, top + 2) - 0.5 if top <= 60 else 30
    ax.hist(counts, bins=bins, color="tab:gray", edgecolor="white")
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(f"mean {counts.mean():.1f}, median {np.median(counts):g}, "
                 f"max {counts.max():g}")
    return ax


def plot_votes_per_task(X, *, bins=None, ax=None, missing_label=-1):
    """Histogram of the number of votes each task received.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    bins : int or sequence, default=None
        Histogram bins; one per count when counts are small.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcrowd.plotting import plot_votes_per_task
    >>> ax = plot_votes_per_task([[0, 1, -1], [1, 1, 1]])
    >>> ax.get_xlabel()
    'votes per task'
    """
    votes = as_votes(X, missing_label=missing_label)
    return _count_histogram(np.diff(votes.task_ptr), ax, "votes per task",
                            "number of tasks", bins)


def plot_tasks_per_worker(X, *, bins=None, ax=None, missing_label=-1):
    """Histogram of the number of tasks each worker answered.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        The votes.
    bins : int or sequence, default=None
        Histogram bins; one per count when counts are small.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcrowd.plotting import plot_tasks_per_worker
    >>> ax = plot_tasks_per_worker([[0, 1, -1], [1, 1, 1]])
    >>> ax.get_ylabel()
    'number of workers'
    """
    votes = as_votes(X, missing_label=missing_label)
    counts = np.bincount(votes.worker, minlength=votes.n_workers)
    return _count_histogram(counts, ax, "tasks per worker", "number of workers",
                            bins)


def plot_reliability_diagram(y_true, proba, *, classes=None, n_bins=10,
                             strategy="uniform", missing_label=-1, ax=None):
    """Reliability diagram: accuracy against confidence of the top class.

    Bars show the accuracy of the tasks in each confidence bin; a calibrated
    posterior follows the diagonal. The title reports the expected
    calibration error.

    Parameters
    ----------
    y_true : array-like of shape (n_tasks,)
        Gold labels; ``missing_label``, ``None`` or ``NaN`` where unknown.
    proba : array-like of shape (n_tasks, n_classes)
        Posterior of each task (e.g. ``consensus_proba_``).
    classes : array-like of shape (n_classes,), default=None
        Label of each column of ``proba``; ``0..n_classes-1`` when None.
    n_bins : int, default=10
        Number of confidence bins.
    strategy : {"uniform", "quantile"}, default="uniform"
        Equal-width or equal-count bins.
    missing_label : scalar, default=-1
        Marks an unknown gold label.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import numpy as np
    >>> from skcrowd.plotting import plot_reliability_diagram
    >>> proba = np.array([[0.9, 0.1], [0.6, 0.4], [0.2, 0.8]])
    >>> ax = plot_reliability_diagram([0, 1, 1], proba, n_bins=5)
    >>> ax.get_xlabel()
    'confidence (probability of the top class)'
    """
    table = reliability_table(y_true, proba, classes=classes, n_bins=n_bins,
                              strategy=strategy, missing_label=missing_label)
    ece = expected_calibration_error(y_true, proba, classes=classes,
                                     n_bins=n_bins, strategy=strategy,
                                     missing_label=missing_label)
    ax = _axes(ax, figsize=(4.5, 4.5))
    edges = table.edges
    which = np.clip(np.searchsorted(edges, table.confidence) - 1, 0,
                    len(edges) - 2)
    left, width = edges[which], np.diff(edges)[which]
    ax.bar(left, table.accuracy, width=width, align="edge", color="tab:blue",
           edgecolor="white", alpha=0.8, label="accuracy")
    ax.plot(table.confidence, table.accuracy, "o", color="tab:orange",
            label="bin (mean confidence, accuracy)")
    ax.plot([0, 1], [0, 1], "--", color="black", linewidth=1,
            label="perfect calibration")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("confidence (probability of the top class)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"ECE = {ece:.3f} ({int(table.count.sum())} tasks)")
    ax.legend(loc="upper left", fontsize=8)
    return ax


def plot_reliability_trajectory(reliabilities, *, workers=None, highlight=None,
                                label="worker reliability", ax=None):
    """Worker reliabilities after each ``partial_fit`` batch.

    Parameters
    ----------
    reliabilities : array-like of shape (n_batches, n_workers) or list
        One row per batch (e.g. the diagonal mean of ``confusion_matrices_``
        after each ``partial_fit``). Rows may have different lengths when
        workers join over time: missing values are NaN.
    workers : array-like, default=None
        Names of the columns, for the legend of highlighted workers.
    highlight : array-like of int, default=None
        Columns drawn in colour with a legend; the others are thin grey
        lines. When there are more than 10 workers and ``highlight`` is None,
        only the median and the 10%-90% band are emphasised.
    label : str, default="worker reliability"
        Name of the quantity, for the y axis.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.

    Returns
    -------
    ax : matplotlib Axes

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skcrowd.plotting import plot_reliability_trajectory
    >>> ax = plot_reliability_trajectory([[0.5, 0.5], [0.7, 0.4], [0.8, 0.3, 0.6]])
    >>> len(ax.get_lines())
    3
    """
    rows = [np.asarray(r, dtype=np.float64).ravel() for r in reliabilities]
    if not rows:
        raise ValueError("reliabilities is empty: give one row per batch.")
    width = max(len(r) for r in rows)
    table = np.full((len(rows), width), np.nan)
    for i, r in enumerate(rows):
        table[i, :len(r)] = r
    batches = np.arange(1, len(rows) + 1)
    names = np.arange(width) if workers is None else np.asarray(workers)
    ax = _axes(ax, figsize=(6, 3.5))
    many = width > 10 and highlight is None
    chosen = set() if highlight is None else {int(h) for h in highlight}
    for j in range(width):
        if j in chosen:
            continue
        ax.plot(batches, table[:, j], color="0.6" if many or chosen else None,
                linewidth=0.6 if many or chosen else 1.5,
                alpha=0.5 if many else 1.0,
                label=None if many or chosen else f"worker {names[j]}")
    for j in sorted(chosen):
        ax.plot(batches, table[:, j], linewidth=2, label=f"worker {names[j]}")
    if many:
        seen = ~np.isnan(table)
        rows_ok = seen.any(axis=1)
        filled = np.where(seen, table, np.nan)
        low, mid, high = (np.full(len(rows), np.nan) for _ in range(3))
        low[rows_ok], mid[rows_ok], high[rows_ok] = np.nanquantile(
            filled[rows_ok], [0.1, 0.5, 0.9], axis=1
        )
        ax.fill_between(batches, low, high, color="tab:blue", alpha=0.2,
                        label="10%-90% of workers")
        ax.plot(batches, mid, color="tab:blue", linewidth=2, label="median")
    ax.set_xlabel("batch (partial_fit call)")
    ax.set_ylabel(label)
    if width <= 10 or chosen or many:
        ax.legend(fontsize=8, loc="best")
    return ax
