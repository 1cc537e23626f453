"""The ``Votes`` data model and every input adapter.

Every aggregator converts its input through :func:`as_votes`, so the rules for
missing values, repeated answers, identifiers and labels live here only.
"""

import sys
from collections.abc import Mapping
from numbers import Integral

import numpy as np
from sklearn.utils import check_array

__all__ = ["Votes", "as_votes"]

LONG_COLUMNS = ("task", "worker", "label")


def _is_missing_scalar(value, missing_label):
    if value is None:
        return True
    if isinstance(value, float) and value != value:
        return True
    try:
        return bool(value == missing_label)
    except (TypeError, ValueError):
        return False


def _missing_mask(values, missing_label):
    """Boolean mask of missing entries of an array of any dtype."""
    kind = values.dtype.kind
    if kind == "f":
        mask = np.isnan(values)
        if isinstance(missing_label, (int, float, np.number)):
            mask |= values == missing_label
        return mask
    if kind in "iub":
        if isinstance(missing_label, (int, float, np.number)) and not isinstance(
            missing_label, bool
        ):
            return values == missing_label
        return np.zeros(values.shape, dtype=bool)
    if kind in "US":
        if isinstance(missing_label, str):
            return values == missing_label
        return np.zeros(values.shape, dtype=bool)
    try:  # object arrays: numpy's element-wise comparisons, in C
        with np.errstate(invalid="ignore"):
            mask = np.equal(values, None) | np.not_equal(values, values)  # None, NaN
            if missing_label is not None:
                mask |= np.asarray(np.equal(values, missing_label), dtype=bool)
        if mask.shape == values.shape and mask.dtype == bool:
            return mask
    except (TypeError, ValueError):
        pass
    flat = values.ravel().tolist()
    mask = np.fromiter((_is_missing_scalar(v, missing_label) for v in flat),
                       dtype=bool, count=len(flat))
    return mask.reshape(values.shape)


def _as_1d(values, name):
    """Convert a column to a 1-D numpy array without copying when possible."""
    if hasattr(values, "to_numpy"):
        values = values.to_numpy()
    arr = np.asarray(values)
    if arr.dtype.kind == "O" and arr.ndim != 1:
        arr = np.empty(len(values), dtype=object)
        arr[:] = list(values)
    if arr.ndim != 1:
        raise ValueError(f"The '{name}' column must be one-dimensional.")
    return arr


def _integral_floats_to_int(values):
    """Labels read as floats (e.g. a pandas column with NaN) but holding
    integers are returned as integers, so ``classes_`` shows ``[0, 1]``."""
    if values.dtype.kind == "f" and values.size and np.all(np.mod(values, 1) == 0):
        return values.astype(np.int64)
    return values


def labels_from_strings(values):
    """Labels read from text: integers when every one is an integer literal."""
    values = np.asarray(values)
    try:
        return np.array([int(v) for v in values.tolist()], dtype=np.int64)
    except (TypeError, ValueError):
        return values.astype(str)


def _unique_sorted(values, what):
    try:
        return np.unique(values)
    except TypeError as exc:
        kinds = sorted({type(v).__name__ for v in values})
        raise TypeError(
            f"{what} mix types {kinds} that cannot be ordered; use labels of one "
            "type (all numbers or all strings)."
        ) from exc


def factorize(values, *, sort=False):
    """Integer codes and the vocabulary of ``values``.

    The vocabulary is in order of first appearance, or sorted with ``sort=True``.
    Unorderable or mixed-type identifiers fall back to a hash map. When the
    caller has pandas loaded (its input was a DataFrame), pandas' hash-based
    ``factorize`` does the work: same result, no sort of the values.
    """
    if values.dtype.kind in "iu" and len(values):
        from ._kernels import already_codes, dense_factorize

        low, high = int(values.min()), int(values.max())
        if low == 0 and already_codes(values, high + 1, sort):
            # e.g. tasks numbered 0, 1, 2... in order: no table, and no copy
            # of an int32 column
            codes = values.astype(np.int32, copy=False)
            return codes, np.arange(high + 1, dtype=values.dtype)
        if high - low < 4 * len(values) + 4096:  # dense enough: direct addressing
            return dense_factorize(values, low, high - low + 1, sort)
    pandas = sys.modules.get("pandas")
    if pandas is not None and values.dtype.kind in "iuOUS" and len(values):
        codes, uniques = pandas.factorize(values)
        uniques = np.asarray(uniques).astype(values.dtype)
        if sort:  # sort the few distinct values; numpy's order, numpy's errors
            _unique_sorted(uniques, "Labels")  # a TypeError naming unorderable types
            order = np.argsort(uniques, kind="stable")
            rank = np.empty(len(order), dtype=np.int64)
            rank[order] = np.arange(len(order))
            codes, uniques = rank[codes], uniques[order]
        return codes.astype(np.int32), uniques
    try:
        uniques, first, inverse = np.unique(
            values, return_index=True, return_inverse=True
        )
    except TypeError:
        if sort:
            _unique_sorted(values, "Labels")  # raises a TypeError naming the types
        index = {}
        codes = np.fromiter(
            (index.setdefault(v, len(index)) for v in values.tolist()),
            dtype=np.int64,
            count=len(values),
        )
        uniques = np.empty(len(index), dtype=object)
        uniques[:] = list(index)
        return codes.astype(np.int32), uniques
    inverse = inverse.reshape(-1)
    if sort:
        return inverse.astype(np.int32), uniques
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int32)
    rank[order] = np.arange(len(order), dtype=np.int32)
    return rank[inverse], uniques[order]


def factorize_workers(values):
    """Codes and vocabulary of worker ids: numeric ids in increasing order
    (so worker ``w`` of ids ``0..W-1`` is row ``w`` of every per-worker
    attribute, and integer ids that are already codes are not recoded),
    others in order of first appearance."""
    return factorize(values, sort=values.dtype.kind in "iuf")


def lookup(vocabulary, values):
    """Position of each of ``values`` in ``vocabulary``, -1 when absent."""
    values = np.asarray(values)
    vocabulary = np.asarray(vocabulary)
    if len(vocabulary) == 0 or len(values) == 0:
        return np.full(len(values), -1, dtype=np.int64)
    try:
        sorter = np.argsort(vocabulary, kind="stable")
        pos = np.searchsorted(vocabulary, values, sorter=sorter)
        pos = np.clip(pos, 0, len(vocabulary) - 1)
        found = sorter[pos]
        hit = vocabulary[found] == values
        hit = np.asarray(hit, dtype=bool)
        if hit.shape != found.shape:
            raise TypeError
        return np.where(hit, found, -1).astype(np.int64)
    except TypeError:
        index = {v: i for i, v in enumerate(vocabulary.tolist())}
        return np.array([index.get(v, -1) for v in values.tolist()], dtype=np.int64)


class Votes:
    """Crowd votes as (task, worker, label) triples with their vocabularies.

    ``Votes`` is the one internal data model of skcrowd: every accepted input
    (dense wide matrix, long table, dict of dicts, ``sparse.COO``) is converted
    to it by :func:`as_votes`, and every aggregator accepts it directly. It never
    stores a tasks x workers array.

    Votes are kept sorted by task. A repeated answer (the same task and worker
    again) is kept as another vote: its weight adds to the evidence, exactly as
    if the answers had been merged with summed weights.

    ``Votes`` behaves like a sequence of tasks for scikit-learn's model
    selection tools: ``len(votes)`` is the number of tasks and
    ``votes[indices]`` keeps the chosen tasks (with all their votes, the same
    worker and class vocabularies), so ``cross_val_score(DawidSkene(), votes,
    gold)`` splits tasks, whatever the input format was.

    Parameters
    ----------
    task, worker, label : array-like of int, shape (n_votes,)
        Codes into ``task_ids``, ``worker_ids`` and ``classes``.
    weight : array-like of float, shape (n_votes,), default=None
        Weight of each vote (1 when None).
    task_ids : array-like, shape (n_tasks,)
        Identifier of every task, in output order. Tasks without votes are
        allowed.
    worker_ids : array-like, shape (n_workers,)
        Identifier of every worker.
    classes : array-like, shape (n_classes,)
        Label values, sorted. Classes with no vote are allowed.

    Attributes
    ----------
    task_ptr : ndarray of shape (n_tasks + 1,)
        Votes of task ``i`` are ``slice(task_ptr[i], task_ptr[i + 1])``.

    Examples
    --------
    >>> from skcrowd import Votes
    >>> votes = Votes.from_dict({"t1": {"ann": "cat", "bob": "dog"},
    ...                          "t2": {"ann": "dog"}})
    >>> votes
    Votes(n_tasks=2, n_workers=2, n_classes=2, n_votes=3)
    >>> votes.classes.tolist(), votes.task_ids.tolist()
    (['cat', 'dog'], ['t1', 't2'])
    >>> votes.label.tolist()
    [0, 1, 1]
    """

    def __init__(self, task, worker, label, weight=None, *, task_ids, worker_ids,
                 classes):
        task = np.asarray(task, dtype=np.int32)
        worker = np.asarray(worker, dtype=np.int32)
        label = np.asarray(label, dtype=np.int32)
        if weight is not None:
            weight = np.asarray(weight, dtype=np.float64)
        n_weights = len(task) if weight is None else len(weight)
        if not (len(task) == len(worker) == len(label) == n_weights):
            raise ValueError(
                "task, worker, label and weight must have the same length; got "
                f"{len(task)}, {len(worker)}, {len(label)} and {n_weights}."
            )
        self.task_ids = np.asarray(task_ids) if len(task_ids) else np.empty(0, object)
        self.worker_ids = (
            np.asarray(worker_ids) if len(worker_ids) else np.empty(0, object)
        )
        self.classes = np.asarray(classes) if len(classes) else np.empty(0, object)
        from ._kernels import counting_order, sorted_task_pointers

        task_ptr = sorted_task_pointers(task, self.n_tasks)
        if len(task_ptr) == 0:  # not sorted by task (or codes out of range)
            if len(task) and (task.min() < 0 or task.max() >= self.n_tasks):
                raise ValueError(
                    f"Task codes must lie in [0, {self.n_tasks}) (one per task "
                    f"id); got codes from {task.min()} to {task.max()}."
                )
            order = counting_order(task, self.n_tasks)
            task, worker, label = task[order], worker[order], label[order]
            weight = None if weight is None else weight[order]
            task_ptr = sorted_task_pointers(task, self.n_tasks)
        self.task, self.worker, self.label = task, worker, label
        self._weight = weight  # None: every vote weighs one (made on demand)
        self.task_ptr = task_ptr

    @property
    def weight(self):
        """Weight of each vote, shape (n_votes,); ones unless given.

        Examples
        --------
        >>> from skcrowd import Votes
        >>> Votes.from_long(["t1", "t2"], [0, 0], ["a", "b"]).weight.tolist()
        [1.0, 1.0]
        """
        if self._weight is None:
            self._weight = np.ones(len(self.task), dtype=np.float64)
        return self._weight

    @weight.setter
    def weight(self, value):
        self._weight = np.asarray(value, dtype=np.float64)
        self.__dict__.pop("_kernel_weight", None)

    def __setstate__(self, state):
        if "weight" in state:  # pickled before the weights were made on demand
            state["_weight"] = state.pop("weight")
        self.__dict__.update(state)

    # --- sizes -----------------------------------------------------------
    @property
    def n_tasks(self):
        return len(self.task_ids)

    @property
    def n_workers(self):
        return len(self.worker_ids)

    @property
    def n_classes(self):
        return len(self.classes)

    @property
    def n_votes(self):
        return len(self.task)

    @property
    def shape(self):
        """``(n_tasks, n_workers)``: the shape of the equivalent wide matrix."""
        return (self.n_tasks, self.n_workers)

    def __len__(self):
        return self.n_tasks

    def __repr__(self):
        return (
            f"Votes(n_tasks={self.n_tasks}, n_workers={self.n_workers}, "
            f"n_classes={self.n_classes}, n_votes={self.n_votes})"
        )

    def __getitem__(self, key):
        """The votes of a subset of tasks (int, slice, index array or mask)."""
        tasks = np.arange(self.n_tasks)[key]
        tasks = np.atleast_1d(tasks)
        counts = np.diff(self.task_ptr)[tasks]
        starts = self.task_ptr[tasks]
        # positions of every vote of the selected tasks, in the new task order
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts)
        pos = offsets + np.arange(counts.sum())
        new_task = np.repeat(np.arange(len(tasks), dtype=np.int32), counts)
        return Votes(
            new_task, self.worker[pos], self.label[pos], self.weight[pos],
            task_ids=self.task_ids[tasks], worker_ids=self.worker_ids,
            classes=self.classes,
        )

    def worker_label_index(self):
        """``worker * n_classes + label`` for every vote (computed once).

        It is the row that a vote reads in a (worker, label) x class table.
        """
        if getattr(self, "_worker_label", None) is None:
            # int32 when it fits: half the bandwidth, and no int64 temporary
            wide = self.n_workers * self.n_classes >= 2**31
            index = self.worker.astype(np.int64 if wide else np.int32)
            index *= self.n_classes
            index += self.label
            self._worker_label = index
        return self._worker_label

    def kernel_weight(self):
        """The vote weights as the kernels take them: None when every vote
        weighs one (the kernels then skip the multiplications)."""
        if "_kernel_weight" not in self.__dict__:
            unit = self._weight is None or bool(np.all(self._weight == 1.0))
            self.__dict__["_kernel_weight"] = None if unit else self.weight
        return self.__dict__["_kernel_weight"]

    def row_totals(self, n_rows):
        """Total vote weight of each (worker, label) row of a table.

        Row ``worker * n_classes + label`` (see :meth:`worker_label_index`)
        holds the weight of that worker's votes for that label; computed once
        per size.

        Parameters
        ----------
        n_rows : int
            Rows of the table, at least ``n_workers * n_classes`` (models add
            rows for a pooled, unseen worker).

        Returns
        -------
        totals : ndarray of shape (n_rows,)

        Examples
        --------
        >>> from skcrowd import Votes
        >>> votes = Votes.from_long(["t1", "t1", "t2"], [0, 1, 0], ["a", "b", "b"])
        >>> votes.row_totals(4).tolist()
        [1.0, 1.0, 0.0, 1.0]
        """
        from ._kernels import label_totals

        cache = self.__dict__.setdefault("_row_totals", {})
        if n_rows not in cache:
            cache[n_rows] = label_totals(self.worker_label_index(),
                                         self.kernel_weight(), n_rows)
        return cache[n_rows]

    def task_counts(self):
        """Total vote weight of each task, shape (n_tasks,)."""
        if self._weight is None:
            return np.diff(self.task_ptr).astype(np.float64)
        return np.bincount(self.task, self.weight, minlength=self.n_tasks)

    # --- adapters --------------------------------------------------------
    @classmethod
    def from_long(cls, task, worker, label, weight=None, *, classes=None):
        """Votes from three columns: one row per vote.

        Task and worker identifiers may be any hashable values; tasks are
        numbered in order of first appearance, workers as
        :func:`factorize_workers` says.
        Labels must not be missing.

        Examples
        --------
        >>> from skcrowd import Votes
        >>> Votes.from_long(["a", "a", "b"], [1, 2, 1], ["x", "y", "x"])
        Votes(n_tasks=2, n_workers=2, n_classes=2, n_votes=3)
        """
        task = _as_1d(task, "task")
        worker = _as_1d(worker, "worker")
        label = _as_1d(label, "label")
        if not (len(task) == len(worker) == len(label)):
            raise ValueError(
                "The task, worker and label columns must have the same length; "
                f"got {len(task)}, {len(worker)} and {len(label)}."
            )
        if len(task) == 0:
            raise ValueError("No votes: the long table is empty.")
        for name, column in (("task", task), ("worker", worker), ("label", label)):
            if column.dtype.kind in "iub":  # integers cannot be missing
                continue
            missing = _missing_mask(column, None)
            if missing.any():
                row = int(np.flatnonzero(missing)[0])
                raise ValueError(
                    f"Missing {name} in row {row} of the long table "
                    f"({int(missing.sum())} rows in all): every row must be one "
                    f"vote with a {name}; drop rows without one."
                )
        if weight is not None:
            weight = _check_weight(_as_1d(weight, "weight"))
        task_code, task_ids = factorize(task)
        worker_code, worker_ids = factorize_workers(worker)
        label_code, classes = _encode_labels(_integral_floats_to_int(label), classes)
        return cls(task_code, worker_code, label_code, weight, task_ids=task_ids,
                   worker_ids=worker_ids, classes=classes)

    @classmethod
    def from_wide(cls, X, *, missing_label=-1, task_ids=None, worker_ids=None,
                  classes=None):
        """Votes from a dense matrix: rows are tasks, columns are workers.

        Missing entries are ``None``, ``NaN`` or equal to ``missing_label``
        (default -1, as in scikit-learn's semi-supervised estimators; use
        ``missing_label=""`` for string matrices with empty cells). Rows with
        no vote are kept: such tasks get the class prior.

        Examples
        --------
        >>> import numpy as np
        >>> from skcrowd import Votes
        >>> Votes.from_wide(np.array([[0, 1, -1], [1, 1, 1]]))
        Votes(n_tasks=2, n_workers=3, n_classes=2, n_votes=5)
        """
        if hasattr(X, "columns") and worker_ids is None:
            worker_ids = np.asarray(X.columns)
        if hasattr(X, "index") and hasattr(X, "columns") and task_ids is None:
            task_ids = np.asarray(X.index)
        X = check_array(X, dtype=None, ensure_all_finite=False,
                        ensure_min_samples=1, ensure_min_features=1)
        if X.dtype.kind == "f" and np.isinf(X).any():
            row, col = np.argwhere(np.isinf(X))[0]
            raise ValueError(
                f"Infinite label at task row {row}, worker column {col}: labels "
                "must be finite; use NaN for a missing vote."
            )
        present = ~_missing_mask(X, missing_label)
        rows, cols = np.nonzero(present)
        if len(rows) == 0:
            raise ValueError(
                f"The vote matrix of shape {X.shape} holds no vote: every entry is "
                f"missing (None, NaN or missing_label={missing_label!r})."
            )
        labels = X[rows, cols]
        if labels.dtype.kind == "O":
            labels = _narrow_object(labels)
        label_code, classes = _encode_labels(_integral_floats_to_int(labels), classes)
        n_tasks, n_workers = X.shape
        return cls(
            rows, cols, label_code,
            task_ids=np.arange(n_tasks) if task_ids is None else task_ids,
            worker_ids=np.arange(n_workers) if worker_ids is None else worker_ids,
            classes=classes,
        )

    @classmethod
    def from_dict(cls, answers, *, classes=None):
        """Votes from ``{task: {worker: label}}`` (peerannot's answers.json).

        Tasks keep the order of the mapping; a task with an empty inner mapping
        has no vote and gets the class prior.

        Examples
        --------
        >>> from skcrowd import Votes
        >>> Votes.from_dict({0: {"w1": 1, "w2": 0}, 1: {"w1": 1}})
        Votes(n_tasks=2, n_workers=2, n_classes=2, n_votes=3)
        """
        if len(answers) == 0:
            raise ValueError("No votes: the dict of answers is empty.")
        task_ids = list(answers)
        tasks, workers, labels = [], [], []
        for t, (task_id, inner) in enumerate(answers.items()):
            if not isinstance(inner, Mapping):
                raise TypeError(
                    f"Task {task_id!r} maps to {type(inner).__name__}; expected a "
                    "dict {worker: label}."
                )
            for worker_id, label in inner.items():
                if _is_missing_scalar(label, None):
                    raise ValueError(
                        f"Missing label for task {task_id!r}, worker {worker_id!r}: "
                        "leave the worker out of the task's dict instead."
                    )
                tasks.append(t)
                workers.append(worker_id)
                labels.append(label)
        if not tasks:
            raise ValueError("No votes: every task's dict of answers is empty.")
        worker_code, worker_ids = factorize(_object_array(workers))
        label_code, classes = _encode_labels(
            _integral_floats_to_int(_narrow_object(_object_array(labels))), classes
        )
        return cls(tasks, worker_code, label_code, task_ids=_object_array(task_ids),
                   worker_ids=worker_ids, classes=classes)

    @classmethod
    def from_coo(cls, counts, *, classes=None):
        """Votes from a ``sparse.COO`` of shape (tasks, workers, classes).

        Each stored value is the number of times a worker gave a label to a
        task (peerannot's layout); it becomes the vote's weight.

        Examples
        --------
        >>> import numpy as np, sparse
        >>> from skcrowd import Votes
        >>> coo = sparse.COO(np.array([[0, 0, 1], [0, 1, 0], [1, 0, 0]]),
        ...                  np.array([1, 1, 2]), shape=(2, 2, 3))
        >>> Votes.from_coo(coo)
        Votes(n_tasks=2, n_workers=2, n_classes=3, n_votes=3)
        """
        if counts.ndim != 3:
            raise ValueError(
                "A sparse.COO of votes must have 3 dimensions (tasks, workers, "
                f"classes); got shape {counts.shape}."
            )
        data = np.asarray(counts.data)
        coords = np.asarray(counts.coords)
        if data.dtype.kind not in "iufb":
            raise TypeError(f"Vote counts must be numbers; got dtype {data.dtype}.")
        data = data.astype(np.float64)
        bad = ~np.isfinite(data) | (data < 0) | (np.mod(data, 1) != 0)
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(
                f"Vote counts must be non-negative integers; got {float(data[i])} at "
                f"(task={coords[0, i]}, worker={coords[1, i]}, class={coords[2, i]})."
            )
        keep = data > 0
        if not keep.any():
            raise ValueError(f"The sparse.COO of shape {counts.shape} holds no vote.")
        n_tasks, n_workers, n_classes = counts.shape
        if classes is None:
            classes = np.arange(n_classes)
        else:
            classes = np.asarray(classes)
            if len(classes) != n_classes:
                raise ValueError(
                    f"classes has {len(classes)} values but the sparse.COO has "
                    f"{n_classes} classes along its last axis."
                )
            order = np.argsort(classes, kind="stable")
            classes = classes[order]
            coords = coords.copy()
            coords[2] = np.argsort(order)[coords[2]]
        return cls(coords[0, keep], coords[1, keep], coords[2, keep], data[keep],
                   task_ids=np.arange(n_tasks), worker_ids=np.arange(n_workers),
                   classes=classes)


def _object_array(items):
    arr = np.empty(len(items), dtype=object)
    arr[:] = items
    return arr


def _narrow_object(values):
    """An object array of all-str or all-int/float values as a typed array."""
    types = {type(v) for v in values.tolist()}
    if types <= {str}:
        return values.astype(str)
    if all(issubclass(t, (Integral, np.integer)) and t is not bool for t in types):
        return values.astype(np.int64)
    if all(issubclass(t, (Integral, float, np.number)) for t in types):
        return values.astype(np.float64)
    return values


def _check_weight(weight):
    try:
        weight = weight.astype(np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError("The weight column must hold numbers.") from exc
    bad = ~np.isfinite(weight) | (weight < 0)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"Vote weights must be finite and non-negative; row {row} has "
            f"{weight[row]!r}."
        )
    return weight


def _encode_labels(labels, classes):
    """Codes of ``labels`` into the sorted ``classes`` (found when None)."""
    if classes is None:
        codes, classes = factorize(labels, sort=True)
        return codes, classes
    classes = _unique_sorted(np.asarray(classes), "classes")
    codes = lookup(classes, labels)
    unknown = codes < 0
    if unknown.any():
        extra = _unique_sorted(labels[unknown], "Labels")
        raise ValueError(
            f"Labels {extra.tolist()[:10]} are not in classes {classes.tolist()}; "
            "add them to `classes`."
        )
    return codes.astype(np.int32), classes


def _long_columns(X):
    """The task/worker/label columns of a long table, or None if X is wide."""
    columns = [str(c) for c in X.columns]
    named = [c for c in LONG_COLUMNS if c in columns]
    if not named:
        return None
    if len(named) < 3 and len(columns) > len(LONG_COLUMNS) + 1:
        return None  # a wide matrix that happens to have a worker named 'label'
    missing = [c for c in LONG_COLUMNS if c not in columns]
    if missing:
        raise ValueError(
            f"The long table is missing column(s) {missing}; expected one row per "
            f"vote with columns {list(LONG_COLUMNS)} (and optionally 'weight'). "
            f"Got columns {columns}."
        )
    return columns


def as_votes(X, *, missing_label=-1, classes=None):
    """Convert any accepted input to :class:`Votes`.

    Parameters
    ----------
    X : Votes, array-like, DataFrame, dict or sparse.COO
        - a dense wide matrix (numpy array, list of lists, DataFrame without
          the long-table columns): rows are tasks, columns are workers, missing
          votes are ``None``, ``NaN`` or ``missing_label``; labels may be
          numbers or strings. Task order: the rows.
        - a long table: a DataFrame with columns ``task``, ``worker``,
          ``label`` (and optionally ``weight``), one row per vote, as used by
          crowd-kit. Task order: first appearance.
        - a dict of dicts ``{task: {worker: label}}``. Task order: the
          mapping's.
        - a ``sparse.COO`` of shape (tasks, workers, classes) of vote counts.
          Task order: the first axis.
    missing_label : scalar, default=-1
        Marks a missing vote in a wide matrix (besides ``None`` and ``NaN``).
    classes : array-like, default=None
        The label set; labels outside it are an error, and classes in it that
        nobody voted for are kept. Found from the votes when None.

    Returns
    -------
    votes : Votes

    Examples
    --------
    >>> from skcrowd import as_votes
    >>> as_votes([["a", "b", None], ["b", "b", "b"]])
    Votes(n_tasks=2, n_workers=3, n_classes=2, n_votes=5)
    """
    kind = input_kind(X)
    if kind == "votes":
        if classes is None:
            return X
        classes = _unique_sorted(np.asarray(classes), "classes")
        codes, _ = _encode_labels(X.classes[X.label], classes)
        return Votes(X.task, X.worker, codes, X.weight, task_ids=X.task_ids,
                     worker_ids=X.worker_ids, classes=classes)
    if kind == "coo":
        return Votes.from_coo(X, classes=classes)
    if kind == "dict":
        return Votes.from_dict(X, classes=classes)
    if kind == "long":
        if len(X) == 0:
            raise ValueError("No votes: the long table is empty.")
        weight = X["weight"] if "weight" in X.columns else None
        return Votes.from_long(X["task"], X["worker"], X["label"], weight,
                               classes=classes)
    return Votes.from_wide(X, missing_label=missing_label, classes=classes)


def input_kind(X):
    """Which adapter reads X: 'votes', 'coo', 'dict', 'long' or 'wide'."""
    if isinstance(X, Votes):
        return "votes"
    if X is None:
        raise ValueError("No votes: got None.")
    if hasattr(X, "coords") and hasattr(X, "fill_value"):
        return "coo"
    if hasattr(X, "tocsr") or hasattr(X, "toarray"):
        raise TypeError(
            "scipy sparse matrices are not accepted as votes (a stored zero and a "
            "missing vote would be confused); pass a sparse.COO of shape (tasks, "
            "workers, classes), a long table or a dense matrix."
        )
    if isinstance(X, Mapping):
        return "dict"
    if hasattr(X, "columns") and _long_columns(X) is not None:
        return "long"
    return "wide"
