"""Fit and apply EM aggregators on votes held by a Dask cluster.

Votes in a ``dask.dataframe`` (columns ``task``, ``worker``, ``label`` and
optionally ``weight``, one row per vote) or a 2-D dask array of votes (columns
task, worker, label[, weight]) are fitted by the estimators themselves:
``DawidSkene().fit(ddf)`` calls :func:`fit`. The work follows the
additive-statistics contract of :class:`~skcrowd.base.BaseEM`:

1. task, worker and label identifiers are coded once: each partition finds
   its own vocabularies, the client merges them (tasks in order of first
   appearance, workers as :func:`~skcrowd._votes.factorize_workers` numbers
   them, classes sorted: the vocabularies of a local fit of the same rows);
2. the votes are moved once so that all the votes of a task are in one
   partition (contiguous ranges of task codes), and each partition becomes a
   :class:`~skcrowd.Votes` kept in the cluster's memory;
3. every EM iteration ships only the model's parameters, runs the model's own
   E-step on each partition, adds the partitions' statistics up a tree, and
   runs the M-step on the client, with the convergence test, ``n_iter_``,
   ``log_likelihood_history_`` and ``ConvergenceWarning`` of the local
   driver. Per-task parameters (GLAD's task easiness) stay in the partitions.

The fitted attributes are those of a local fit on the same rows (up to
floating-point rounding): same ``classes_``, ``worker_ids_``, ``task_ids_``
(tasks in order of first appearance in the collection, partition by
partition) and parameters. ``consensus_proba_`` and ``consensus_label_``
are gathered on the client. ``predict_proba`` and ``predict`` on a Dask
collection return a Dask collection whose rows follow the same task order.

Dask is optional (``pip install "skcrowd[dask]"``); a running
``dask.distributed`` ``Client`` is used (or pass ``client=``). Models
supported: the :class:`~skcrowd.base.BaseEM` aggregators whose fit is the EM
driver over additive statistics, today :class:`~skcrowd.DawidSkene`,
:class:`~skcrowd.OneCoinDawidSkene`, :class:`~skcrowd.DiagonalDawidSkene`,
:class:`~skcrowd.ClusteredDawidSkene`, :class:`~skcrowd.MACE`,
:class:`~skcrowd.BWA`, and :class:`~skcrowd.GLAD` (its task easiness kept
in the partitions, its abilities updated on the votes regrouped by worker
each iteration). A model whose fit reads the votes beyond those steps
(IBCC's and EBCC's data-driven priors, WDS's weighted vote shares) raises a
``TypeError`` saying so. With ``init="random"`` the initial posteriors are
drawn per partition, so they differ from a local fit's (still reproducible
with ``random_state``).

Statistics are summed when they are numpy arrays or numpy scalars; other
entries of a model's statistics (Python numbers, dicts) describe the fit
rather than the votes and are taken from the first partition.
"""

import copy
import operator
from concurrent.futures import CancelledError

import numpy as np
from sklearn.base import clone

from ._votes import (
    LONG_COLUMNS,
    Votes,
    _integral_floats_to_int,
    factorize,
    factorize_workers,
    lookup,
)
from .base import BaseEM

__all__ = ["fit", "predict", "predict_proba"]

# a partition's statistics that is the params dict itself (ClusteredDawidSkene
# keeps the parameters its counts were computed under) travels as this marker
_PARAMS = "<params>"
# statistics are added up a tree of this fan-in
_FAN_IN = 8
# fitted attributes never shipped to the cluster (one value per fitted task)
_TASK_ATTRIBUTES = ("consensus_proba_", "consensus_label_", "task_ids_",
                    "task_easiness_", "log_likelihood_history_")


# ----------------------------------------------------------------------
# public entry points
def fit(estimator, X, y=None, *, client=None):
    """Fit an EM aggregator on votes held by a Dask cluster.

    ``estimator.fit(X)`` calls this function when X is a Dask collection.
    The estimator is changed only when the fit succeeds: if the cluster goes
    away mid-fit, a ``RuntimeError`` says so and the estimator keeps its
    previous state (fitted or not).

    Parameters
    ----------
    estimator : BaseEM
        The aggregator, e.g. ``DawidSkene()``; see the module docstring for
        the supported models.
    X : dask.dataframe.DataFrame or dask.array.Array
        One row per vote: a DataFrame with columns ``task``, ``worker``,
        ``label`` (and optionally ``weight``), or a 2-D array with columns
        task, worker, label (and optionally weight).
    y : dict or array-like of shape (n_tasks,), default=None
        Known gold labels: a dict ``{task: label}``, or one label per task
        in the task order (first appearance in X), ``missing_label``,
        ``None`` or ``NaN`` where unknown.
    client : distributed.Client, default=None
        The cluster's client; the current default client when None.

    Returns
    -------
    estimator : BaseEM
        The fitted estimator (fitted attributes as after a local fit).

    Examples
    --------
    >>> import pytest
    >>> dd = pytest.importorskip("dask.dataframe")
    >>> from distributed import Client
    >>> import pandas as pd
    >>> from skcrowd import DawidSkene
    >>> client = Client(processes=False, n_workers=1, dashboard_address=":0")
    >>> votes = pd.DataFrame({"task": [1, 1, 1, 2, 2, 2, 3, 3, 3],
    ...                       "worker": ["a", "b", "c"] * 3,
    ...                       "label": [0, 0, 1, 1, 1, 1, 0, 0, 0]})
    >>> model = DawidSkene().fit(dd.from_pandas(votes, npartitions=2))
    >>> model.consensus_label_.tolist(), model.worker_ids_.tolist()
    ([0, 1, 0], ['a', 'b', 'c'])
    >>> client.close()
    """
    _check_supported(estimator)
    client = _get_client(client)
    work = clone(estimator)
    work._validate_params()
    try:
        data = _ingest(client, X, fit=True)
        gold = _gold_codes(work, data, y)
        work.classes_, work.worker_ids_ = data.classes, data.worker_ids
        parts = data.build(gold)
        if _is_glad(work):
            posterior = _fit_glad(work, parts)
        else:
            try:
                posterior = work._fit_votes(parts, None)
            except _NeedsLocalVotes as exc:
                raise _unsupported(estimator, f" ({exc})") from None
        proba = np.concatenate(posterior.gather(client))
        if _is_glad(work):
            work.task_easiness_ = np.exp(np.concatenate(
                client.gather([client.submit(operator.itemgetter("log_easiness"), p)
                               for p in parts.parts])))
    except _cluster_errors() as exc:
        raise _cluster_error(estimator, "fit", exc) from exc
    work.__dict__.pop("_state", None)
    work.task_ids_ = data.task_ids
    work.consensus_proba_ = proba
    work.consensus_label_ = work._labels_from_proba(proba)
    vars(estimator).clear()
    vars(estimator).update(vars(work))
    return estimator


def predict_proba(estimator, X, *, client=None):
    """Posterior of every task of a Dask collection of votes, lazily.

    ``estimator.predict_proba(X)`` calls this function when X is a Dask
    collection. A task's posterior depends on its own votes only (they are
    brought together first); workers unseen at fit count as the
    population-average worker.

    Parameters
    ----------
    estimator : BaseEM
        A fitted aggregator.
    X : dask.dataframe.DataFrame or dask.array.Array
        Votes, as in :func:`fit`.
    client : distributed.Client, default=None
        The cluster's client; the current default client when None.

    Returns
    -------
    proba : dask.dataframe.DataFrame or dask.array.Array
        One row per task, in order of first appearance in X (as
        ``predict_proba`` on the computed votes); one column per class of
        ``classes_``. A DataFrame input gives a DataFrame indexed by task id.

    Examples
    --------
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from distributed import Client
    >>> import numpy as np
    >>> from skcrowd import DawidSkene
    >>> client = Client(processes=False, n_workers=1, dashboard_address=":0")
    >>> votes = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 0], [1, 1, 0]])
    >>> X = da.from_array(votes, chunks=(2, 3))
    >>> model = DawidSkene().fit(X)
    >>> model.predict_proba(X).compute().round(2)
    array([[0., 1.],
           [1., 0.]])
    >>> client.close()
    """
    client = _get_client(client)
    try:
        data = _ingest(client, X, fit=False, estimator=estimator)
        parts = data.build(None, n_workers=len(estimator.worker_ids_) + 1)
        return data.predictions(estimator, parts)
    except _cluster_errors() as exc:
        raise _cluster_error(estimator, "predict_proba", exc) from exc


def predict(estimator, X, *, client=None):
    """Consensus label of every task of a Dask collection of votes, lazily.

    Parameters
    ----------
    estimator : BaseEM
        A fitted aggregator.
    X : dask.dataframe.DataFrame or dask.array.Array
        Votes, as in :func:`fit`.
    client : distributed.Client, default=None
        The cluster's client; the current default client when None.

    Returns
    -------
    labels : dask.dataframe.Series or dask.array.Array
        Values from ``classes_``, one per task in order of first appearance
        in X (a Series indexed by task id for a DataFrame input).

    Examples
    --------
    >>> import pytest
    >>> da = pytest.importorskip("dask.array")
    >>> from distributed import Client
    >>> import numpy as np
    >>> from skcrowd import OneCoinDawidSkene
    >>> client = Client(processes=False, n_workers=1, dashboard_address=":0")
    >>> votes = da.from_array(np.array([[0, 0, 1], [0, 1, 1], [1, 0, 0]]),
    ...                       chunks=(2, 3))
    >>> model = OneCoinDawidSkene().fit(votes)
    >>> model.predict(votes).compute().tolist()
    [1, 0]
    >>> client.close()
    """
    proba = predict_proba(estimator, X, client=client)
    classes = estimator.classes_
    if hasattr(proba, "columns"):
        return proba.map_partitions(_frame_labels, classes,
                                    meta=(None, classes.dtype))
    return proba.map_blocks(lambda block: classes[np.argmax(block, axis=1)],
                            drop_axis=1, dtype=classes.dtype)


# ----------------------------------------------------------------------
# setup
def _get_client(client):
    try:
        from distributed import default_client
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "Votes in a Dask collection need dask.distributed: pip install "
            "'skcrowd[dask]'."
        ) from exc
    if client is not None:
        return client
    try:
        return default_client()
    except ValueError as exc:
        raise ValueError(
            "Fitting on a Dask collection needs a running dask.distributed "
            "Client: start one (from distributed import Client; client = "
            "Client()) or pass client= to skcrowd.distributed.fit."
        ) from exc


def _is_glad(estimator):
    from .aggregation.glad import GLAD

    return isinstance(estimator, GLAD) and type(estimator)._fit_votes is GLAD._fit_votes


class _NeedsLocalVotes(TypeError):
    """A model's fit read more of the votes than the EM driver's steps."""


def _unsupported(estimator, detail=""):
    name = type(estimator).__name__
    return TypeError(
        f"{name} cannot be fitted on a Dask collection{detail}: the Dask path "
        "runs the EM aggregators (skcrowd.base.BaseEM) whose fit is the EM "
        "driver over additive statistics, e.g. DawidSkene, OneCoinDawidSkene "
        f"and GLAD. Compute the collection (X.compute()) to fit {name} locally."
    )


def _check_supported(estimator):
    if not isinstance(estimator, BaseEM):
        raise _unsupported(estimator)
    if not getattr(estimator, "_posterior_is_e_step", lambda: True)():
        raise _unsupported(estimator, " (its posterior is not its E-step's)")


def _cluster_errors():
    from distributed import TimeoutError as DaskTimeoutError
    from distributed.client import ClosedClientError, FutureCancelledError
    from distributed.comm import CommClosedError
    from distributed.scheduler import KilledWorker

    return (CommClosedError, ConnectionError, CancelledError, ClosedClientError,
            FutureCancelledError, KilledWorker, DaskTimeoutError, TimeoutError)


def _cluster_error(estimator, what, exc):
    return RuntimeError(
        f"The Dask cluster went away during {what} ({type(exc).__name__}: "
        f"{exc}); {type(estimator).__name__} was left unchanged. Start a new "
        "Client and call it again."
    )


def _scatter(client, obj):
    """One object (not its items) in every worker's memory."""
    return client.scatter([obj], broadcast=True, hash=False)[0]


def _identity(obj):
    return obj


def _put(client, obj):
    """A future of obj, without waiting (the per-iteration parameters)."""
    return client.submit(_identity, obj, pure=False)


def _ship(client, params):
    """The parameters as a task argument: inline when small (no extra
    round trip), else put once on the cluster."""
    size = sum(getattr(value, "nbytes", 0) for value in params.values())
    return params if size < 2**20 else _put(client, params)


def _shippable(estimator):
    """A shallow copy of the estimator without its per-task attributes."""
    shipped = copy.copy(estimator)
    for name in _TASK_ATTRIBUTES:
        shipped.__dict__.pop(name, None)
    return shipped


def _frame_columns(frame, weighted):
    columns = [frame["task"], frame["worker"], frame["label"]]
    return columns + [frame["weight"] if weighted else None]


def _array_columns(block):
    block = np.asarray(block)
    return [block[:, 0], block[:, 1], block[:, 2],
            block[:, 3] if block.shape[1] > 3 else None]


def _local_votes(columns, index):
    """One input partition as Votes in its own vocabularies (None if empty)."""
    if len(columns[0]) == 0:
        return None
    try:
        return Votes.from_long(*columns)
    except (ValueError, TypeError) as exc:
        raise type(exc)(f"Votes partition {index}: {exc}") from exc


def _vocabularies(votes):
    if votes is None:
        return None
    return (votes.task_ids, votes.worker_ids, votes.classes,
            np.diff(votes.task_ptr))


class _Data:
    """Input partitions coded in the global vocabularies, before the move."""

    def __init__(self, client, kind, locals_, task_maps, worker_maps, label_maps,
                 task_ids, worker_ids, classes, task_votes):
        self.client, self.kind = client, kind
        self.locals, self.task_maps = locals_, task_maps
        self.worker_maps, self.label_maps = worker_maps, label_maps
        self.task_ids, self.worker_ids, self.classes = task_ids, worker_ids, classes
        self.task_votes = task_votes

    n_tasks = property(lambda self: len(self.task_ids))

    def build(self, gold, n_workers=None):
        """Move the votes so that each task's are in one partition."""
        client = self.client
        n_tasks = len(self.task_ids)
        # one partition per worker thread: every E-step is one task per
        # thread, dealt round-robin to the workers, run where its votes are
        threads = client.scheduler_info().get("workers", {})
        addresses = [address for address, info in sorted(threads.items())
                     for _ in range(max(int(info.get("nthreads", 1)), 1))]
        addresses = addresses or [None]
        n_parts = max(1, min(len(addresses), n_tasks))
        cumulative = np.cumsum(self.task_votes)
        targets = np.linspace(0, cumulative[-1], n_parts + 1)[1:-1]
        cuts = np.searchsorted(cumulative, targets, side="right")
        bounds = np.unique(np.concatenate([[0], cuts, [n_tasks]]))
        # arrays as long as the tasks go to the workers directly, never
        # inside a task graph
        task_maps = client.scatter(list(self.task_maps), hash=False)
        splits = [
            client.submit(_split, local, task_map, worker_map, label_map, bounds)
            for local, task_map, worker_map, label_map in zip(
                self.locals, task_maps, self.worker_maps, self.label_maps,
                strict=True)
        ]
        spans = list(zip(bounds[:-1], bounds[1:], strict=True))
        clamps = ([None] * len(spans) if gold is None else
                  client.scatter([gold[lo:hi] for lo, hi in spans], hash=False))
        n_workers = len(self.worker_ids) if n_workers is None else n_workers
        worker_ids = _scatter(client, np.arange(n_workers))
        classes = _scatter(client, self.classes)
        parts = []
        for p, ((lo, hi), clamp) in enumerate(zip(spans, clamps, strict=True)):
            pieces = [client.submit(operator.itemgetter(p), split) for split in splits]
            address = addresses[p % len(addresses)]
            parts.append(client.submit(
                _build_partition, int(lo), int(hi), clamp, worker_ids, classes,
                *pieces, workers=None if address is None else [address],
                allow_other_workers=True))
        del splits, self.locals  # the moved copy is all that is kept
        return _Partitioned(client, parts, bounds, self.task_ids, self.worker_ids,
                            self.classes, n_workers)

    def predictions(self, model, parts):
        """Each partition's posterior, a DataFrame indexed by task id for a
        DataFrame input, as one Dask collection."""
        import dask

        client, classes = self.client, model.classes_
        shipped = _scatter(client, _shippable(model))
        if self.kind == "frame":
            import dask.dataframe as dd
            import pandas as pd

            ids = client.scatter([self.task_ids[lo:hi] for lo, hi in zip(
                parts.bounds[:-1], parts.bounds[1:], strict=True)], hash=False)
            frames = [client.submit(_predict_part, shipped, part, task_ids,
                                    pure=False)
                      for part, task_ids in zip(parts.parts, ids, strict=True)]
            meta = pd.DataFrame(np.zeros((0, len(classes))), columns=classes,
                                index=pd.Index(self.task_ids[:0], name="task"))
            return dd.from_delayed([dask.delayed(f) for f in frames], meta=meta,
                                   verify_meta=False)
        import dask.array as da

        sizes = np.diff(parts.bounds)
        blocks = [client.submit(_predict_part, shipped, part, pure=False)
                  for part in parts.parts]
        return da.concatenate([
            da.from_delayed(dask.delayed(block), shape=(int(n), len(classes)),
                            dtype=np.float64)
            for block, n in zip(blocks, sizes, strict=True)
        ])


def _frame_labels(frame, classes):
    import pandas as pd

    return pd.Series(classes[np.argmax(frame.to_numpy(), axis=1)],
                     index=frame.index)


def _ingest(client, X, fit, estimator=None):
    """Read each partition, merge the vocabularies on the client."""
    import dask

    if hasattr(X, "columns") and hasattr(X, "to_delayed"):
        kind = "frame"
        columns = [str(c) for c in X.columns]
        missing = [c for c in LONG_COLUMNS if c not in columns]
        if missing:
            raise ValueError(
                f"The Dask DataFrame of votes is missing column(s) {missing}; "
                f"expected one row per vote with columns {list(LONG_COLUMNS)} "
                f"(and optionally 'weight'). Got columns {columns}."
            )
        pieces = [dask.delayed(_frame_columns)(d, "weight" in columns)
                  for d in X.to_delayed()]
    elif hasattr(X, "chunks") and hasattr(X, "to_delayed"):
        kind = "array"
        if X.ndim != 2 or X.shape[1] not in (3, 4):
            raise ValueError(
                "A Dask array of votes must have shape (n_votes, 3) (columns "
                "task, worker, label) or (n_votes, 4) (and weight); got shape "
                f"{X.shape}."
            )
        pieces = [dask.delayed(_array_columns)(d)
                  for d in X.rechunk({1: -1}).to_delayed().ravel()]
    else:
        raise TypeError(
            f"A Dask {type(X).__name__} is not accepted as votes; pass a Dask "
            "DataFrame with columns task, worker, label (and optionally "
            "weight) or a 2-D Dask array of (task, worker, label) rows."
        )
    columns_futures = client.compute(pieces)
    locals_ = [client.submit(_local_votes, c, i)
               for i, c in enumerate(columns_futures)]
    del columns_futures
    summaries = client.gather([client.submit(_vocabularies, v) for v in locals_])
    locals_ = [v for v, s in zip(locals_, summaries, strict=True) if s is not None]
    summaries = [s for s in summaries if s is not None]
    if not summaries:
        raise ValueError("No votes: every partition of the Dask collection is "
                         "empty.")
    task_lists, worker_lists, label_lists, counts = zip(*summaries, strict=True)
    lengths = np.cumsum([len(t) for t in task_lists])[:-1]
    task_codes, task_ids = factorize(np.concatenate(task_lists))
    task_votes = np.bincount(task_codes, np.concatenate(counts),
                             minlength=len(task_ids))
    worker_codes, worker_ids = factorize_workers(np.concatenate(worker_lists))
    labels = _integral_floats_to_int(np.concatenate(label_lists))
    if fit:
        _, classes = factorize(labels, sort=True)
        worker_maps = np.split(worker_codes, np.cumsum(
            [len(w) for w in worker_lists])[:-1])
    else:
        classes = estimator.classes_
        unknown = lookup(classes, labels) < 0
        if unknown.any():
            raise ValueError(
                f"Labels {np.unique(labels[unknown]).tolist()[:10]} were not seen "
                f"in fit; the fitted classes are {classes.tolist()}. Refit with "
                "these labels."
            )
        worker_map = lookup(estimator.worker_ids_, worker_ids)
        worker_map[worker_map < 0] = len(estimator.worker_ids_)  # unseen
        worker_maps = np.split(worker_map[worker_codes], np.cumsum(
            [len(w) for w in worker_lists])[:-1])
    label_maps = [_integral_floats_to_int(c) for c in label_lists]
    label_maps = [lookup(classes, c) for c in label_maps]
    return _Data(client, kind, locals_, np.split(task_codes, lengths), worker_maps,
                 label_maps, task_ids, worker_ids, classes, task_votes)


def _gold_codes(estimator, data, y):
    """Gold codes (-1 unknown) per task; gold labels extend classes."""
    if y is None:
        return None
    labels, known = estimator._gold_labels(y, data)
    if len(labels) and lookup(data.classes, labels).min() < 0:
        raise ValueError(
            f"Gold labels {np.unique(labels[lookup(data.classes, labels) < 0])} "
            f"are not among the voted labels {data.classes.tolist()}; on a Dask "
            "collection gold labels must be labels that someone voted."
        )
    gold = np.full(len(data.task_ids), -1, dtype=np.int32)
    gold[known] = lookup(data.classes, labels)
    return gold


def _split(local, task_map, worker_map, label_map, bounds):
    """An input partition's votes cut by destination (task-code range)."""
    task = task_map[local.task]
    destination = np.searchsorted(bounds, task, side="right") - 1
    order = np.argsort(destination, kind="stable")
    ends = np.searchsorted(destination[order], np.arange(1, len(bounds)))
    starts = np.concatenate([[0], ends[:-1]])
    columns = (task, worker_map[local.worker], label_map[local.label],
               local.weight)
    return [tuple(c[order[a:b]] for c in columns)
            for a, b in zip(starts, ends, strict=True)]


def _build_partition(lo, hi, clamp, worker_ids, classes, *pieces):
    """Tasks ``lo:hi`` as Votes (stable sort: the local order of votes)."""
    task, worker, label, weight = (np.concatenate(c) for c in zip(*pieces,
                                                                  strict=True))
    votes = Votes(task - lo, worker, label, weight, task_ids=np.arange(lo, hi),
                  worker_ids=worker_ids, classes=classes)
    if clamp is None:
        clamp = np.full(hi - lo, -1, dtype=np.int32)
    return {"votes": votes, "clamp": clamp}


# ----------------------------------------------------------------------
# EM on partitions
def _add(*items):
    """Sum of (stats, log_likelihood) pairs, in order. Statistics that are
    numpy arrays or numpy scalars are summed; other entries (Python numbers,
    dicts: what a model notes about the fit, e.g. ClusteredDawidSkene's
    number of workers and previous parameters) come from the first."""
    stats, log_likelihood = dict(items[0][0]), items[0][1]
    for more, more_log_likelihood in items[1:]:
        for key, value in more.items():
            if isinstance(value, (np.ndarray, np.generic)):
                stats[key] = stats[key] + value
        log_likelihood = log_likelihood + more_log_likelihood
    return stats, log_likelihood


def _add_items(index, *items):
    return _add(*[item[index] for item in items])


def _tree_sum(client, futures, index=None):
    """Sum of (stats, log_likelihood) pairs (``item[index]`` of each future's
    value when index is given), added up a tree of fan-in ``_FAN_IN`` whose
    last level runs on the client, in partition order."""
    if index is not None:
        futures = [client.submit(_add_items, index, *futures[i:i + _FAN_IN])
                   for i in range(0, len(futures), _FAN_IN)]
    while len(futures) > _FAN_IN:
        futures = [client.submit(_add, *futures[i:i + _FAN_IN])
                   for i in range(0, len(futures), _FAN_IN)]
    return _add(*client.gather(futures))


class _LastPosterior:
    """The posterior of the partitions under given parameters, computed only
    when gathered (the EM loop needs the statistics alone; the posterior of
    the last E-step is recomputed once, from the same parameters)."""

    def __init__(self, func, model, parts, params):
        self.func, self.model, self.parts, self.params = func, model, parts, params

    def gather(self, client):
        return client.gather([client.submit(self.func, self.model, part,
                                            self.params, pure=False)
                              for part in self.parts])


def _initial_part(model, part, seed):
    if seed is not None:
        model = copy.copy(model)
        model.random_state = seed
    return model._starting_stats(part["votes"], part["clamp"]), 0.0


def _e_step_part(model, part, params):
    _, stats, log_likelihood = model._e_step(part["votes"], params,
                                             part["clamp"], True)
    stats = {key: _PARAMS if value is params else value
             for key, value in stats.items()}
    return stats, log_likelihood


def _posterior_part(model, part, params):
    posterior, _, _ = model._e_step(part["votes"], params, part["clamp"], False)
    return posterior


def _predict_part(model, part, task_ids=None):
    proba = model._predict_proba_votes(part["votes"])
    if task_ids is None:
        return proba
    import pandas as pd

    return pd.DataFrame(proba, columns=model.classes_,
                        index=pd.Index(task_ids, name="task"))


class _Partitioned:
    """Votes partitioned by task over a cluster: what BaseEM's driver reads
    (sizes, vocabularies) and its steps run per partition."""

    def __init__(self, client, parts, bounds, task_ids, worker_ids, classes,
                 n_workers):
        self.client, self.parts, self.bounds = client, parts, bounds
        self.task_ids, self.worker_ids, self.classes = task_ids, worker_ids, classes
        self._n_workers = n_workers

    n_tasks = property(lambda self: len(self.task_ids))
    n_workers = property(lambda self: self._n_workers)
    n_classes = property(lambda self: len(self.classes))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        # a model hook reading the votes themselves (not the EM steps)
        raise _NeedsLocalVotes(f"its fit reads votes.{name}")

    def _seeds(self, model):
        if getattr(model, "init", None) != "random":
            return [None] * len(self.parts)
        from sklearn.utils import check_random_state

        rng = check_random_state(model.random_state)
        return rng.randint(2**31 - 1, size=len(self.parts)).tolist()

    def em_steps(self, model, gold):
        """Initial statistics and the distributed E-step (BaseEM's driver)."""
        client = self.client
        shipped = _scatter(client, _shippable(model))
        stats, _ = _tree_sum(client, [
            client.submit(_initial_part, shipped, part, seed, pure=False)
            for part, seed in zip(self.parts, self._seeds(model), strict=True)])

        def e_step(params):
            shipped_params = _ship(client, params)
            stats, log_likelihood = _tree_sum(client, [
                client.submit(_e_step_part, shipped, part, shipped_params,
                              pure=False) for part in self.parts])
            stats = {key: params if isinstance(value, str) and value == _PARAMS
                     else value for key, value in stats.items()}
            posterior = _LastPosterior(_posterior_part, shipped, self.parts,
                                       shipped_params)
            return posterior, stats, log_likelihood

        return stats, e_step


# ----------------------------------------------------------------------
# GLAD: abilities by Newton steps on votes grouped by worker, task easiness
# kept in the partitions
def _glad_no_groups(classes):
    """Empty groups: GLAD's Newton ascent over them changes nothing."""
    from .aggregation.glad import _Grouped

    empty = Votes([], [], [], task_ids=[], worker_ids=[], classes=classes)
    return _Grouped(empty, by_task=False), _Grouped(empty, by_task=True)


def _glad_setup(model, part, worker_bounds):
    from .aggregation.glad import _Grouped

    votes = part["votes"]
    destination = np.searchsorted(worker_bounds, votes.worker, side="right") - 1
    order = np.argsort(destination, kind="stable")
    ends = np.searchsorted(destination[order], np.arange(1, len(worker_bounds)))
    return {**part, "by_task": _Grouped(votes, by_task=True), "order": order,
            "cuts": np.concatenate([[0], ends]),
            "log_easiness": np.full(votes.n_tasks,
                                    float(model.log_easiness_prior_mean))}


def _glad_initial(model, part):
    posterior = model._initial_posterior(part["votes"], part["clamp"])
    stats = model._stats(part["votes"], posterior)
    return {**part, "correct": stats["correct"]}, (
        {"class_counts": stats["class_counts"]}, 0.0)


def _glad_piece(part, q, dynamic):
    """The votes of part going to worker group q: static columns (worker,
    weight) once, then (correct, log-easiness of the vote's task)."""
    rows = part["order"][part["cuts"][q]:part["cuts"][q + 1]]
    votes = part["votes"]
    if not dynamic:
        return votes.worker[rows], votes.weight[rows]
    return part["correct"][rows], part["log_easiness"][votes.task[rows]]


def _glad_worker_group(lo, hi, classes, *pieces):
    """Votes of workers ``lo:hi`` as pseudo-tasks (one per vote, in the
    global order of tasks) grouped by worker."""
    from .aggregation.glad import _Grouped

    worker = np.concatenate([p[0] for p in pieces]) - lo
    weight = np.concatenate([p[1] for p in pieces])
    n = len(worker)
    votes = Votes(np.arange(n), worker, np.zeros(n), weight, task_ids=np.arange(n),
                  worker_ids=np.arange(hi - lo), classes=classes)
    return _Grouped(votes, by_task=False)


def _glad_worker_newton(model, groups, ability, *pieces):
    correct = np.concatenate([p[0] for p in pieces])
    log_easiness = np.concatenate([p[1] for p in pieces])
    return model._newton_ascent(groups, correct, ability, log_easiness)


def _glad_task_newton(model, part, ability):
    log_easiness = model._newton_ascent(part["by_task"], part["correct"],
                                        ability["ability"], part["log_easiness"])
    return {**part, "log_easiness": log_easiness}


def _glad_e_step(model, part, params):
    easiness = np.exp(part["log_easiness"])
    local = {**params, "task_easiness": easiness}
    _, stats, log_likelihood = model._e_step(part["votes"], local,
                                             part["clamp"], True)
    # this partition's share of the log prior: its tasks' easiness
    no_workers = {**local, "worker_ability": np.zeros(0)}
    log_prior = (model._log_prior(no_workers)
                 - model._log_prior({**no_workers, "task_easiness": np.zeros(0)}))
    return ({**part, "correct": stats["correct"]},
            ({"class_counts": stats["class_counts"]}, log_likelihood + log_prior))


def _glad_posterior(model, part, params):
    local = {**params, "task_easiness": np.exp(part["log_easiness"])}
    posterior, _, _ = model._e_step(part["votes"], local, part["clamp"], False)
    return posterior


def _fit_glad(model, data):
    """GLAD's EM on partitions; the partitions' states are replaced, never
    mutated, at each step."""
    client = data.client
    n_workers = data.n_workers
    n_groups = max(1, min(len(data.parts), n_workers))
    worker_bounds = np.linspace(0, n_workers, n_groups + 1).astype(np.int64)
    shipped = _scatter(client, _shippable(model))
    classes = _scatter(client, data.classes)
    parts = [client.submit(_glad_setup, shipped, p, worker_bounds)
             for p in data.parts]
    outs = [client.submit(_glad_initial, shipped, p) for p in parts]
    parts = [client.submit(operator.itemgetter(0), o) for o in outs]
    stats, _ = _tree_sum(client, outs, 1)
    groups = [
        client.submit(_glad_worker_group, int(lo), int(hi), classes, *[
            client.submit(_glad_piece, p, q, False) for p in parts])
        for q, (lo, hi) in enumerate(zip(worker_bounds[:-1], worker_bounds[1:],
                                         strict=True))
    ]
    state = {"parts": parts, "ability": np.full(n_workers,
                                                float(model.ability_prior_mean))}
    no_workers, no_tasks = _glad_no_groups(data.classes)

    def m_step(stats):
        parts = state["parts"]
        ability = state["ability"]
        slices = [
            client.submit(_glad_worker_newton, shipped, group, ability[lo:hi], *[
                client.submit(_glad_piece, p, q, True, pure=False) for p in parts],
                pure=False)
            for q, (group, lo, hi) in enumerate(zip(
                groups, worker_bounds[:-1], worker_bounds[1:], strict=True))
        ]
        ability = np.concatenate(client.gather(slices))
        ability_future = _ship(client, {"ability": ability})
        state["parts"] = [client.submit(_glad_task_newton, shipped, p,
                                        ability_future, pure=False) for p in parts]
        state["ability"] = ability
        # GLAD's own M-step for the rest (class prior), its Newton ascent
        # over empty groups leaving the abilities as they are
        model._state = {"by_worker": no_workers, "by_task": no_tasks,
                        "ability": ability, "log_easiness": np.zeros(0)}
        return model._m_step({"correct": np.zeros(0),
                              "class_counts": stats["class_counts"]})

    def e_step(params):
        shipped_params = _ship(client, params)
        outs = [client.submit(_glad_e_step, shipped, p, shipped_params, pure=False)
                for p in state["parts"]]
        state["parts"] = [client.submit(operator.itemgetter(0), o) for o in outs]
        stats, log_likelihood = _tree_sum(client, outs, 1)
        posterior = _LastPosterior(_glad_posterior, shipped, state["parts"],
                                   shipped_params)
        return posterior, stats, log_likelihood

    posterior = model._em(stats, e_step, data.n_tasks, n_workers, m_step=m_step)
    data.parts = state["parts"]
    return posterior
