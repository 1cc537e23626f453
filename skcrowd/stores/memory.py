"""The in-process state store of online aggregators (the default)."""

import numpy as np

from .._votes import _object_array, factorize

__all__ = ["MemoryStore"]


class _Growing:
    """A numpy array along axis 0 with amortised appends."""

    def __init__(self, shape_tail=(), dtype=np.float64):
        self.data = np.zeros((16, *shape_tail), dtype=dtype)
        self.size = 0

    def resize(self, size):
        if size > len(self.data):
            grown = np.zeros((max(size, 2 * len(self.data)), *self.data.shape[1:]),
                             dtype=self.data.dtype)
            grown[: self.size] = self.data[: self.size]
            self.data = grown
        self.size = max(self.size, size)

    def append(self, values):
        start = self.size
        self.resize(start + len(values))
        self.data[start: self.size] = values

    def pad_tail(self, shape_tail):
        """Zero-pad the trailing axes (the class axes grew)."""
        padded = np.zeros((len(self.data), *shape_tail), dtype=self.data.dtype)
        padded[(slice(None), *(slice(0, n) for n in self.data.shape[1:]))] = self.data
        self.data = padded

    def view(self):
        return self.data[: self.size]


class MemoryStore:
    """State of one online aggregator in process memory.

    This is the default store of ``partial_fit``; it lives in the estimator,
    so it is copied with it by ``pickle`` and reset by ``clone``. Everything
    is kept as plain arrays: the vocabularies, every vote (so a task seen
    again is re-scored with all its votes), the unscaled per-worker and
    global statistics, and each task's latest posterior and gold label.

    Examples
    --------
    >>> from skcrowd import DawidSkene
    >>> from skcrowd.stores import MemoryStore
    >>> model = DawidSkene().partial_fit({"t1": {"ann": 0, "bob": 0}})
    >>> isinstance(model.store_, MemoryStore)
    True
    >>> model.store_.meta()["n_votes"]
    2
    """

    def __init__(self):
        self._meta = None
        self._applied = set()
        self._task_index, self._task_ids = {}, []
        self._worker_index, self._worker_ids = {}, []
        self._votes = {"task": _Growing((), np.int64), "worker": _Growing((), np.int64),
                       "label": _Growing((), np.int64), "weight": _Growing(())}
        self._posterior = None
        self._gold = _Growing((), np.int64)
        self._worker_stats = {}

    # ------------------------------------------------------------------
    def meta(self):
        return None if self._meta is None else dict(self._meta)

    def is_applied(self, batch_id):
        return batch_id in self._applied

    @staticmethod
    def _codes(index, ids):
        """Codes of ids (-1 when unknown), one dict look-up per distinct id."""
        ids = np.asarray(ids, dtype=object) if not isinstance(ids, np.ndarray) else ids
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        inverse, uniques = factorize(ids)
        codes = np.array([index.get(i, -1) for i in uniques.tolist()], dtype=np.int64)
        return codes[inverse]

    def task_state(self, task_ids):
        """Kept votes (as ids and label codes), gold codes and posteriors."""
        codes = self._codes(self._task_index, task_ids)
        known = codes[codes >= 0]
        votes = {k: g.view() for k, g in self._votes.items()}
        hit = (np.flatnonzero(np.isin(votes["task"], known)) if len(known)
               else np.zeros(0, dtype=np.int64))
        old = {
            "task": _object_array([self._task_ids[c]
                                   for c in votes["task"][hit].tolist()]),
            "worker": _object_array([self._worker_ids[c]
                                     for c in votes["worker"][hit].tolist()]),
            "label": votes["label"][hit],
            "weight": votes["weight"][hit],
        }
        n_classes = 0 if self._posterior is None else self._posterior.data.shape[1]
        gold = np.full(len(task_ids), -1, dtype=np.int64)
        posterior = np.zeros((len(task_ids), n_classes))
        seen = codes >= 0
        gold[seen] = self._gold.view()[codes[seen]]
        if n_classes:
            posterior[seen] = self._posterior.view()[codes[seen]]
        return {"known": seen, "votes": old, "gold": gold, "posterior": posterior}

    def worker_stats(self, worker_ids, keys):
        """Unscaled statistics of the workers (zeros for new ones)."""
        codes = self._codes(self._worker_index, worker_ids)
        out = {}
        for key in keys:
            stats = self._worker_stats[key].view()
            rows = np.zeros((len(worker_ids), *stats.shape[1:]))
            rows[codes >= 0] = stats[codes[codes >= 0]]
            out[key] = rows
        return out

    # ------------------------------------------------------------------
    def commit(self, batch):
        """Apply one prepared batch (see ``skcrowd._online``) at once.

        Everything is validated before this call, so the memory store cannot
        fail half-way.
        """
        meta = batch["meta"]
        if self._meta is None:
            self._posterior = _Growing((len(meta["classes"]),))
            for key, shape in batch["worker_stat_shapes"].items():
                self._worker_stats[key] = _Growing(shape)
        elif len(meta["classes"]) > len(self._meta["classes"]):
            n_classes = len(meta["classes"])
            self._posterior.pad_tail((n_classes,))
            for key, shape in batch["worker_stat_shapes"].items():
                self._worker_stats[key].pad_tail(shape)
        self._meta = meta
        task_codes = self._add_ids(self._task_index, self._task_ids, batch["task_ids"])
        self._gold.resize(len(self._task_ids))
        self._posterior.resize(len(self._task_ids))
        self._gold.data[task_codes] = batch["gold"]
        self._posterior.data[task_codes] = batch["posterior"]
        new = batch["new_votes"]
        vote_tasks = self._codes(self._task_index, new["task"])
        vote_workers = self._add_ids(self._worker_index, self._worker_ids,
                                     new["worker"])
        self._votes["task"].append(vote_tasks)
        self._votes["worker"].append(vote_workers)
        self._votes["label"].append(new["label"])
        self._votes["weight"].append(new["weight"])
        worker_codes = self._add_ids(self._worker_index, self._worker_ids,
                                     batch["worker_ids"])
        for key, delta in batch["worker_delta"].items():
            stats = self._worker_stats[key]
            stats.resize(len(self._worker_ids))
            if batch.get("replace_workers"):
                stats.data[: stats.size] = 0.0
            np.add.at(stats.data, worker_codes, delta)
        self._applied.add(batch["batch_id"])

    @staticmethod
    def _add_ids(index, ids_list, ids):
        """Codes of ids, giving new ids the next codes (in order of arrival)."""
        ids = np.asarray(ids, dtype=object) if not isinstance(ids, np.ndarray) else ids
        if len(ids) == 0:
            return np.zeros(0, dtype=np.int64)
        inverse, uniques = factorize(ids)
        codes = np.empty(len(uniques), dtype=np.int64)
        for i, value in enumerate(uniques.tolist()):
            code = index.get(value)
            if code is None:
                code = index[value] = len(ids_list)
                ids_list.append(value)
            codes[i] = code
        return codes[inverse]

    # ------------------------------------------------------------------
    def all_tasks(self):
        """Task ids, posteriors and gold codes of every task seen."""
        ids = np.empty(len(self._task_ids), dtype=object)
        ids[:] = self._task_ids
        return ids, self._posterior.view().copy(), self._gold.view().copy()

    def all_votes(self):
        """Every kept vote: task and worker ids, label codes, weights."""
        tasks = np.empty(len(self._task_ids), dtype=object)
        tasks[:] = self._task_ids
        workers = np.empty(len(self._worker_ids), dtype=object)
        workers[:] = self._worker_ids
        votes = {k: g.view() for k, g in self._votes.items()}
        return {"task": tasks[votes["task"]], "worker": workers[votes["worker"]],
                "label": votes["label"].copy(), "weight": votes["weight"].copy()}

    def all_worker_stats(self, keys):
        """Worker ids and their unscaled statistics."""
        ids = np.empty(len(self._worker_ids), dtype=object)
        ids[:] = self._worker_ids
        return ids, {key: self._worker_stats[key].view().copy() for key in keys}

    def drop(self):
        """Forget everything."""
        self.__init__()
