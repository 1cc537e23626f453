"""The in-process state store of online aggregators (the default)."""

from numbers import Integral

import numpy as np
from numba import njit

__all__ = ["MemoryStore"]


class _Growing:
    """A numpy array along axis 0 with amortised appends."""

    def __init__(self, shape_tail=(), dtype=np.float64, fill=0):
        self.fill = fill
        self.data = np.full((16, *shape_tail), fill, dtype=dtype)
        self.size = 0

    def resize(self, size):
        if size > len(self.data):
            shape = (max(size, 2 * len(self.data)), *self.data.shape[1:])
            if self.fill == 0:  # calloc: pages are zeroed when first touched
                grown = np.zeros(shape, dtype=self.data.dtype)
            else:
                grown = np.empty(shape, dtype=self.data.dtype)
                grown[self.size:] = self.fill
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

    def keep(self, rows):
        """Keep only ``rows`` (in that order); the capacity shrinks with them."""
        kept = self.data[rows]
        self.data = np.full((max(16, 2 * len(kept)), *self.data.shape[1:]),
                            self.fill, dtype=self.data.dtype)
        self.data[: len(kept)] = kept
        self.size = len(kept)

    def view(self):
        return self.data[: self.size]


@njit(cache=True, nogil=True)
def _hash_slot(key, mask):
    h = np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
    return np.int64((h >> np.uint64(32)) & np.uint64(mask))


@njit(cache=True, nogil=True)
def _table_find(keys, values, queries, out):
    """Open addressing (linear probing): code of each query, -1 if absent."""
    mask = len(keys) - 1
    for i in range(len(queries)):
        q = queries[i]
        slot = _hash_slot(q, mask)
        out[i] = -1
        while values[slot] >= 0:
            if keys[slot] == q:
                out[i] = values[slot]
                break
            slot = (slot + 1) & mask


@njit(cache=True, nogil=True)
def _table_add(keys, values, queries, next_code, out, added):
    """Codes of queries, inserting absent ones with the next codes; returns
    the new next code (the table must have room for every query)."""
    mask = len(keys) - 1
    n_added = 0
    for i in range(len(queries)):
        q = queries[i]
        slot = _hash_slot(q, mask)
        while values[slot] >= 0 and keys[slot] != q:
            slot = (slot + 1) & mask
        if values[slot] < 0:
            keys[slot] = q
            values[slot] = next_code
            added[n_added] = q
            n_added += 1
            next_code += 1
        out[i] = values[slot]
    return n_added


class _Ids:
    """Ids and their codes (positions, in order of arrival).

    Integer ids live in a numpy hash table (a compiled look-up per id);
    any other id switches to a dict (one look-up per distinct id of a batch,
    never per vote).
    """

    def __init__(self):
        self.index = None  # dict mode: {id: code}; None: integer mode
        self.ids = _Growing((), np.int64)
        self._keys = np.zeros(64, dtype=np.int64)
        self._values = np.full(64, -1, dtype=np.int64)

    @staticmethod
    def _as_int(ids):
        """ids as int64 when they are all integers, else None."""
        array = ids if isinstance(ids, np.ndarray) else np.asarray(ids)
        if array.dtype.kind == "i" or (array.dtype.kind == "u"
                                       and (not len(array) or array.max() < 2**63)):
            return array.astype(np.int64, copy=False)
        if len(array) == 0:
            return np.zeros(0, dtype=np.int64)
        return None

    def _to_dict(self):
        values = self.ids.view().tolist()
        self.index = {value: n for n, value in enumerate(values)}
        self.ids = values
        self._keys = self._values = None

    def _grow_table(self, n_more):
        size = len(self._keys)
        needed = 2 * (len(self) + n_more)
        if needed <= size:
            return
        while size < needed:
            size *= 2
        self._keys = np.zeros(size, dtype=np.int64)
        self._values = np.full(size, -1, dtype=np.int64)
        ids = self.ids.view()
        _table_add(self._keys, self._values, ids, 0, np.empty(len(ids), np.int64),
                   np.empty(len(ids), np.int64))

    def codes(self, ids):
        """Codes of ids, -1 when unknown."""
        if self.index is None:
            as_int = self._as_int(ids)
            if as_int is not None:
                out = np.empty(len(as_int), dtype=np.int64)
                _table_find(self._keys, self._values, as_int, out)
                return out
            self._to_dict()
        get = self.index.get
        values = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
        return np.fromiter((get(i, -1) for i in values), dtype=np.int64,
                           count=len(values))

    def add(self, ids):
        """Codes of ids, new ids getting the next codes (in order)."""
        if self.index is None:
            as_int = self._as_int(ids)
            if as_int is not None:
                self._grow_table(len(as_int))
                out = np.empty(len(as_int), dtype=np.int64)
                added = np.empty(len(as_int), dtype=np.int64)
                n_added = _table_add(self._keys, self._values, as_int, len(self),
                                     out, added)
                self.ids.append(added[:n_added])
                return out
            self._to_dict()
        index, known = self.index, self.ids
        out = np.empty(len(ids), dtype=np.int64)
        values = ids.tolist() if isinstance(ids, np.ndarray) else list(ids)
        for n, value in enumerate(values):
            code = index.get(value)
            if code is None:
                code = index[value] = len(known)
                known.append(value)
            out[n] = code
        return out

    def keep(self, codes):
        """Keep only the ids of ``codes`` (ascending): they become 0, 1, ..."""
        if self.index is None:
            kept = self.ids.view()[codes]
            self.__init__()
            self.add(kept)
            return
        self.ids = [self.ids[c] for c in codes.tolist()]
        self.index = {value: n for n, value in enumerate(self.ids)}

    def take(self, codes):
        """The ids of ``codes``."""
        if self.index is None:
            return self.ids.view()[codes]
        ids = self.ids
        if len(codes) > len(ids) // 4:
            return _object_array(ids)[codes]
        return _object_array([ids[c] for c in np.asarray(codes).tolist()])

    def array(self):
        if self.index is None:
            return self.ids.view().copy()
        return _object_array(self.ids)

    def __len__(self):
        return self.ids.size if self.index is None else len(self.ids)


def _object_array(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


@njit(cache=True, nogil=True)
def _link(last, previous, task, start):
    """Chain votes ``start + i`` (task ``task[i]``) to their task's last vote."""
    for i in range(len(task)):
        t = task[i]
        previous[start + i] = last[t]
        last[t] = start + i


@njit(cache=True, nogil=True)
def _gather(last, previous, tasks):
    """Indices of the kept votes of ``tasks`` (-1: unknown), grouped in the
    order of ``tasks``, each task's in order of arrival; and how many each
    task has."""
    counts = np.zeros(len(tasks), dtype=np.int64)
    for i in range(len(tasks)):
        t = tasks[i]
        if t >= 0:
            v = last[t]
            while v >= 0:
                counts[i] += 1
                v = previous[v]
    n = counts.sum()
    out = np.empty(n, dtype=np.int64)
    for i in range(len(tasks) - 1, -1, -1):
        t = tasks[i]
        if t >= 0:
            v = last[t]
            while v >= 0:
                n -= 1
                out[n] = v
                v = previous[v]
    return out, counts


class MemoryStore:
    """State of one online aggregator in process memory.

    This is the default store of ``partial_fit`` (``store=None``); it lives in
    the estimator, so it is copied with it by ``pickle``. Everything is kept
    as numpy arrays: the vocabularies (a dict from id to code, one look-up
    per distinct id of a batch), the unscaled per-worker and global
    statistics, each task's latest posterior and gold label, and the votes of
    the tasks it holds, chained per task so that a task seen again is
    re-scored with all its votes at a cost proportional to its own votes.

    Parameters
    ----------
    max_tasks : int, default=None
        Bound the memory of an endless stream. ``None`` keeps every task and
        vote (memory grows with the stream). With an int, the store holds the
        votes, posterior and gold label of about the ``max_tasks`` most
        recently updated tasks (the "open" tasks; at most ``1.5 *
        max_tasks`` between two clean-ups) and forgets older ones. The
        statistics they contributed stay in the model, so the learned worker
        parameters are unaffected; what changes: :meth:`consensus` lists
        only the held tasks, and a forgotten task that receives votes again
        is scored with its new votes only, its earlier votes staying counted
        in the statistics (it is blended, not re-scored, and counted again
        in ``n_tasks``). Choose ``max_tasks`` above the number of tasks that
        are still collecting votes; with ``n_worker_slots`` on the estimator
        the whole state is then bounded.

    Examples
    --------
    >>> from skcrowd import DawidSkene
    >>> from skcrowd.stores import MemoryStore
    >>> model = DawidSkene().partial_fit({"t1": {"ann": 0, "bob": 0}})
    >>> isinstance(model.store_, MemoryStore)
    True
    >>> model.store_.meta()["n_votes"]
    2

    A window of open tasks bounds the memory of a stream:

    >>> model = DawidSkene(store=MemoryStore(max_tasks=2))
    >>> for t in range(6):
    ...     _ = model.partial_fit({f"t{t}": {"ann": 0, "bob": 0}}, classes=[0, 1])
    >>> model.consensus().task_ids.tolist()
    ['t4', 't5']
    >>> int(model.n_votes_seen_)
    12
    """

    def __init__(self, max_tasks=None):
        self.max_tasks = max_tasks
        self._reset()

    def _reset(self):
        if self.max_tasks is not None and (
                isinstance(self.max_tasks, bool)
                or not isinstance(self.max_tasks, Integral) or self.max_tasks < 1):
            raise ValueError(f"max_tasks={self.max_tasks!r} must be None or a "
                             "positive int.")
        self._meta = None
        self._applied = set()
        self._tasks, self._workers = _Ids(), _Ids()
        self._votes = {"task": _Growing((), np.int64),
                       "worker": _Growing((), np.int64),
                       "label": _Growing((), np.int32), "weight": _Growing(())}
        self._previous = _Growing((), np.int64)  # per vote, set by _link
        self._last = _Growing((), np.int64, fill=-1)  # per task
        self._touched = _Growing((), np.int64)  # per task: step of last update
        self._posterior = None
        self._gold = _Growing((), np.int64)
        self._worker_stats = {}

    def __setstate__(self, state):
        if "_tasks" not in state:  # pickled by an older version: start over
            raise ValueError("This MemoryStore was pickled by an older skcrowd; "
                             "refit the model.")
        self.__dict__.update(state)

    # ------------------------------------------------------------------
    def meta(self):
        return None if self._meta is None else dict(self._meta)

    def is_applied(self, batch_id):
        return batch_id in self._applied

    def task_state(self, task_ids):
        """Kept votes (as ids and label codes), gold codes and posteriors."""
        codes = self._tasks.codes(task_ids)
        seen = codes >= 0
        if seen.any():
            hit, counts = _gather(self._last.view(), self._previous.view(), codes)
        else:
            hit, counts = np.zeros(0, dtype=np.int64), np.zeros(len(codes), np.int64)
        votes = self._votes
        position = np.repeat(np.arange(len(codes)), counts)
        task_ids = np.asarray(task_ids, dtype=object) if not isinstance(
            task_ids, np.ndarray) else task_ids
        old = {
            "index": position,  # position of each vote's task in task_ids
            "task": task_ids[position],
            "worker": self._workers.take(votes["worker"].view()[hit]),
            "label": votes["label"].view()[hit].astype(np.int64),
            "weight": votes["weight"].view()[hit],
        }
        n_classes = 0 if self._posterior is None else self._posterior.data.shape[1]
        gold = np.full(len(task_ids), -1, dtype=np.int64)
        posterior = np.zeros((len(task_ids), n_classes))
        if seen.any():
            gold[seen] = self._gold.view()[codes[seen]]
            if n_classes:
                posterior[seen] = self._posterior.view()[codes[seen]]
        return {"known": seen, "votes": old, "gold": gold, "posterior": posterior}

    def worker_stats(self, worker_ids, keys):
        """Unscaled statistics of the workers (zeros for new ones)."""
        codes = self._workers.codes(worker_ids)
        known = codes >= 0
        out = {}
        for key in keys:
            stats = self._worker_stats[key].view()
            if known.all():
                out[key] = stats[codes]
                continue
            rows = np.zeros((len(worker_ids), *stats.shape[1:]))
            rows[known] = stats[codes[known]]
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
        task_codes = self._tasks.add(batch["task_ids"])
        n_tasks = len(self._tasks)
        for array in (self._gold, self._posterior, self._last, self._touched):
            array.resize(n_tasks)
        self._gold.data[task_codes] = batch["gold"]
        self._posterior.data[task_codes] = batch["posterior"]
        self._touched.data[task_codes] = meta["step"]
        # new votes, coded in the batch's task_ids and worker_ids
        new = batch["new_votes"]
        worker_codes = self._workers.add(batch["worker_ids"])
        vote_tasks = task_codes[new["task_code"]]
        start = self._votes["task"].size
        self._votes["task"].append(vote_tasks)
        self._votes["worker"].append(worker_codes[new["worker_code"]])
        self._votes["label"].append(new["label"])
        self._votes["weight"].append(new["weight"])
        self._previous.resize(self._votes["task"].size)
        _link(self._last.data, self._previous.data, vote_tasks, start)
        for key, delta in batch["worker_delta"].items():
            stats = self._worker_stats[key]
            stats.resize(len(self._workers))
            if batch.get("replace_workers"):
                stats.data[: stats.size] = 0.0
            stats.data[worker_codes] += delta  # the batch's workers are distinct
        self._applied.add(batch["batch_id"])
        if self.max_tasks is not None and n_tasks > self.max_tasks + max(
                self.max_tasks // 2, 1):
            self._forget_old_tasks()

    def _forget_old_tasks(self):
        """Keep the ``max_tasks`` most recently updated tasks (and their votes)."""
        n_tasks = len(self._tasks)
        touched = self._touched.view()
        # newest last: by step of last update, then by arrival
        order = np.lexsort((np.arange(n_tasks), touched))
        kept = np.sort(order[n_tasks - self.max_tasks:])
        remap = np.full(n_tasks, -1, dtype=np.int64)
        remap[kept] = np.arange(len(kept))
        self._tasks.keep(kept)
        for array in (self._gold, self._posterior, self._touched):
            array.keep(kept)
        vote_task = remap[self._votes["task"].view()]
        alive = np.flatnonzero(vote_task >= 0)
        for array in self._votes.values():
            array.keep(alive)
        self._votes["task"].data[: len(alive)] = vote_task[alive]
        self._last = _Growing((), np.int64, fill=-1)
        self._last.resize(len(kept))
        self._previous = _Growing((), np.int64)
        self._previous.resize(len(alive))
        _link(self._last.data, self._previous.data, self._votes["task"].view(), 0)

    # ------------------------------------------------------------------
    def all_tasks(self):
        """Task ids, posteriors and gold codes of every task held."""
        return (self._tasks.array(), self._posterior.view().copy(),
                self._gold.view().copy())

    def all_votes(self):
        """Every kept vote: task and worker ids, label codes, weights."""
        votes = {k: g.view() for k, g in self._votes.items()}
        return {"task": self._tasks.take(votes["task"]),
                "worker": self._workers.take(votes["worker"]),
                "label": votes["label"].astype(np.int64),
                "weight": votes["weight"].copy()}

    def all_worker_stats(self, keys):
        """Worker ids and their unscaled statistics."""
        return self._workers.array(), {key: self._worker_stats[key].view().copy()
                                       for key in keys}

    def drop(self):
        """Forget everything (the configuration, ``max_tasks``, stays)."""
        self._reset()
