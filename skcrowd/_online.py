"""Online learning: ``partial_fit`` over a state store.

One driver serves every aggregator and every store. A batch of votes is
turned into a *local* problem: the batch's tasks with all their votes so far
(old votes come back from the store, so a task seen again is re-scored, not
blended), the workers of those votes, and their statistics. The model then
updates the statistics and the store applies the change at once:

* vote-counting models keep exact counts: the batch's tasks' old
  contribution is subtracted and the new one added, so any split into
  batches ends where ``fit`` on everything ends;
* EM models use stepwise EM (Cappé & Moulines 2009; Liang & Klein 2009):
  ``S <- (1 - eta_t) S + eta_t * scale * S_batch`` with ``eta_t =
  (learning_offset + t) ** -learning_decay`` and ``scale`` = tasks seen /
  tasks in the batch; the first batch sets ``S``. Per-worker statistics are
  stored unscaled, ``S_w = exp(log_scale) * U_w``, so the global decay
  touches one number instead of every worker: a batch reads and writes only
  its own workers and tasks.

Per batch, the driver works on the batch's own arrays: ids are matched with
the store's by value once per distinct id (a compiled hash table for integer
ids), the common case of tasks never seen before skips the kept-votes merge,
and EM models take a bounded number of E-steps per batch (see
``partial_fit``), so that the cost of a batch grows with its votes, tasks and
workers, never with the stream.

Statistics whose first axis is the worker are named by the model's
``_worker_stat_keys``; the others are global. Workers the model has not seen
get the *pooled* worker: the M-step applied to the sum of all workers'
statistics, which the store keeps up to date like any global statistic.
"""

import hashlib
import time
import zlib

import numpy as np
from numba import njit
from sklearn.utils.metaestimators import available_if

from ._votes import (
    Votes,
    _integral_floats_to_int,
    _narrow_object,
    _unique_sorted,
    factorize,
    lookup,
)
from .stores import resolve_store

POOL = "pooled_"  # prefix of the pooled copies of per-worker statistics


def _crc32_table():
    table = np.zeros(256, dtype=np.uint32)
    for n in range(256):
        c = n
        for _ in range(8):
            c = (0xEDB88320 ^ (c >> 1)) if c & 1 else c >> 1
        table[n] = c
    return table


_CRC32 = _crc32_table()


@njit(cache=True, nogil=True)
def _crc32_of_decimal(values, table, out):
    """CRC-32 of each int64's decimal text (what ``repr`` of an int gives)."""
    digits = np.empty(20, dtype=np.uint8)
    for i in range(len(values)):
        v = values[i]
        negative = v < 0
        # the magnitude as unsigned (also right for the most negative int64)
        u = np.uint64(-(v + 1)) + np.uint64(1) if negative else np.uint64(v)
        n = 0
        while True:
            digits[n] = np.uint8(48 + u % np.uint64(10))
            n += 1
            u //= np.uint64(10)
            if u == 0:
                break
        crc = np.uint32(0xFFFFFFFF)
        if negative:
            crc = table[(crc ^ np.uint32(45)) & np.uint32(0xFF)] ^ (crc >> np.uint32(8))
        for j in range(n - 1, -1, -1):
            crc = table[(crc ^ np.uint32(digits[j])) & np.uint32(0xFF)] ^ (
                crc >> np.uint32(8))
        out[i] = crc ^ np.uint32(0xFFFFFFFF)


def worker_slots(worker_ids, n_slots):
    """Stable hash of each worker id into ``range(n_slots)``: the CRC-32 of
    its ``repr`` (compiled for integer ids), the same in every process."""
    worker_ids = np.asarray(worker_ids)
    if worker_ids.dtype.kind == "i":
        crc = np.empty(len(worker_ids), dtype=np.uint32)
        _crc32_of_decimal(worker_ids.astype(np.int64), _CRC32, crc)
        return (crc % np.uint32(n_slots)).astype(np.int64)
    return np.fromiter(
        (zlib.crc32(repr(w).encode()) % n_slots for w in worker_ids.tolist()),
        dtype=np.int64, count=len(worker_ids),
    )


def batch_digest(votes, gold):
    """A content hash of a batch: re-sending the same batch is recognised."""
    digest = hashlib.sha256()
    for array in (votes.task, votes.worker, votes.label, votes.weight):
        digest.update(np.ascontiguousarray(array).tobytes())
    for vocabulary in (votes.task_ids, votes.worker_ids, votes.classes, gold):
        if vocabulary is None:
            continue
        if vocabulary.dtype.kind in "biufU":  # typed ids: their bytes
            digest.update(vocabulary.dtype.str.encode())
            digest.update(np.ascontiguousarray(vocabulary).tobytes())
        else:
            digest.update(repr(vocabulary.tolist()).encode())
    return digest.hexdigest()


def _merge_workers(votes, old_workers):
    """Worker codes and vocabulary of a batch's kept votes then its new ones:
    the batch's workers first, then kept voters not in the batch."""
    old_code, old_ids = factorize(_narrow_object(np.asarray(old_workers,
                                                            dtype=object)))
    batch_ids = votes.worker_ids
    try:
        where = lookup(batch_ids, old_ids)
    except TypeError:  # ids of unorderable mixed types
        index = {w: n for n, w in enumerate(batch_ids.tolist())}
        where = np.array([index.get(w, -1) for w in old_ids.tolist()],
                         dtype=np.int64)
    missing = where < 0
    where[missing] = len(batch_ids) + np.arange(int(missing.sum()))
    if missing.any():
        extra = old_ids[missing]
        if batch_ids.dtype.kind == extra.dtype.kind and batch_ids.dtype.kind in "iuU":
            ids = np.concatenate([batch_ids, extra])
        else:
            ids = _narrow_object(np.concatenate([batch_ids.astype(object),
                                                 extra.astype(object)]))
    else:
        ids = batch_ids
    codes = np.concatenate([where[old_code], votes.worker]).astype(np.int32)
    return codes, ids


def with_pool(stats, worker_keys):
    """Statistics with one more worker row: the sum over all workers."""
    out = dict(stats)
    for key in worker_keys:
        out[key] = np.concatenate([stats[key], stats[key].sum(0, keepdims=True)])
    return out


def _pad_classes(array, axes, n_classes):
    """Zero-pad the class axes of ``array`` to ``n_classes``."""
    if not axes or all(array.shape[axis] == n_classes for axis in axes):
        return array  # no class axis (e.g. a scalar per worker), or no growth
    pad = [(0, 0)] * array.ndim
    for axis in axes:
        pad[axis] = (0, n_classes - array.shape[axis])
    return np.pad(array, pad)


def _supports_online(estimator):
    return getattr(estimator, "_stat_class_axes", None) is not None


class OnlineMixin:
    """``partial_fit`` and ``consensus`` for aggregators.

    A model supports online learning when it defines
    ``_worker_stat_keys`` (names of per-worker statistics),
    ``_stat_class_axes`` ({statistic: axes indexed by class}) and an
    M-step that works on any number of workers. Counting models also define
    ``_count_stats(votes, gold)``; EM models use ``_e_step``.
    """

    _online_exact = False  # True: exact counts; False: stepwise EM
    # stepwise EM: iterations on each batch after the first (see partial_fit).
    # Measured on the 15 shipped datasets (10 batches, 3 task orders): the
    # mean accuracy gap to fit is the same with 1, 2 or 3 (-0.0067, -0.0063
    # for 1 and 3 with DawidSkene), but one E-step loses 0.011 on
    # zheng_product in task order; each E-step costs a third of a batch.
    _online_batch_iter = 2

    # ------------------------------------------------------------------
    def _batch_votes(self, X, first):
        votes = self._votes_from_input(X, reset=first)
        if self.n_worker_slots is not None:
            slots = worker_slots(votes.worker_ids, self.n_worker_slots)
            codes, slot_ids = factorize(slots)  # per distinct worker
            votes = Votes(votes.task, codes[votes.worker], votes.label, votes.weight,
                          task_ids=votes.task_ids, worker_ids=slot_ids,
                          classes=votes.classes)
        return votes

    def _online_classes(self, meta, classes, votes, gold_labels):
        """The label set after this batch, and whether it changed."""
        seen = [votes.classes]
        if gold_labels is not None and len(gold_labels):
            seen.append(np.asarray(gold_labels))
        if meta is None:
            if classes is not None:
                current = _unique_sorted(np.asarray(classes), "classes")
            else:
                values = np.concatenate([np.asarray(s, dtype=object) for s in seen])
                current = _unique_sorted(_narrow_object(values), "Labels")
        else:
            current = _integral_floats_to_int(
                _narrow_object(np.asarray(meta["classes"], dtype=object))
            )
            if classes is not None:
                given = _unique_sorted(np.asarray(classes), "classes")
                if given.tolist() != sorted(current.tolist()) and not np.array_equal(
                    given, current
                ):
                    raise ValueError(
                        f"classes={given.tolist()} differs from the classes of the "
                        f"existing state {current.tolist()}; pass the same classes "
                        "or drop the state."
                    )
        new = []
        for values in seen:
            values = np.asarray(values)
            for value in values[lookup(current, values) < 0].tolist():
                if value not in new:
                    new.append(value)
        if new and not (meta is None and classes is None):
            if not self.allow_new_classes:
                raise ValueError(
                    f"Labels {new[:10]} are not in classes {current.tolist()}; pass "
                    "every label with classes= on the first partial_fit call, or "
                    "create the estimator with allow_new_classes=True."
                )
            current = np.concatenate(
                [current.astype(object), np.asarray(new, dtype=object)]
            )
            current = _narrow_object(current)
        return current

    def _check_meta(self, meta):
        if meta is None:
            return
        if meta["model"] != type(self).__name__:
            raise ValueError(
                f"The store holds a {meta['model']} model; this estimator is a "
                f"{type(self).__name__}. Use another model name or drop the state."
            )

    # ------------------------------------------------------------------
    @available_if(_supports_online)
    def partial_fit(self, X, y=None, classes=None, *, batch_id=None):
        """Update the model with one batch of votes (online learning).

        Vote-counting models keep exact counts (any split into batches gives
        the result of ``fit``); EM models run stepwise EM on their additive
        statistics with step size ``(learning_offset + t) ** -learning_decay``.
        The first batch sets the statistics: EM runs on it to convergence (up
        to ``max_iter`` iterations, ``tol``), exactly as ``fit`` on that
        batch. Each later batch takes up to ``min(max_iter, 2)`` E-steps
        (fewer when the batch's log-likelihood changes by less than ``tol``
        per task), each followed by the stepwise update; the statistics of
        its last E-step make the update that is stored, and the posterior
        stored for its tasks is that E-step's. ``max_iter=1`` is classic
        stepwise EM (one E-step per batch; fastest, and slightly less
        accurate on small batches). Every vote is kept by default, so a task
        seen again is re-scored with all its votes (a bounded window of open
        tasks: ``store=MemoryStore(max_tasks=...)``). New workers may appear
        in any batch.

        Parameters
        ----------
        X : Votes, array-like, DataFrame, dict or sparse.COO
            A batch of votes. Task and worker ids are matched with earlier
            batches by value (wide matrices: by row label / column).
        y : array-like of shape (n_tasks,) or dict, default=None
            Known gold labels of some tasks of the batch.
        classes : array-like, default=None
            Every label that may ever appear. Needed on the first call unless
            the first batch shows every label; a later label outside the set
            is an error unless ``allow_new_classes=True`` (then it is appended
            to ``classes_``).
        batch_id : str, default=None
            Identifies the batch; a batch whose id was applied before is
            ignored. Defaults to a hash of the batch's content, so re-sending
            the same batch is a no-op.

        Returns
        -------
        self : object
            The updated aggregator.
        """
        first = "store_" not in self.__dict__
        if first:  # store_ is set only once the store answered (see below)
            self._validate_params()
            store = resolve_store(self.store)
        else:
            store = self.store_
        tic = time.perf_counter()
        votes = self._batch_votes(X, first)
        gold_labels, gold_known = (None, None) if y is None else self._gold_labels(
            y, votes)
        batch_id = batch_id or batch_digest(votes, gold_labels)
        if store.is_applied(batch_id):
            if first:  # e.g. a new process re-sending a batch: adopt the state
                self._adopt_store(store, store.meta())
            return self
        meta = store.meta()
        self._check_meta(meta)
        classes_ = self._online_classes(meta, classes, votes, gold_labels)
        n_classes = len(classes_)
        label_codes = lookup(classes_, votes.classes)[votes.label]

        # all votes of the batch's tasks: the kept ones, then the new ones
        state = store.task_state(votes.task_ids)
        old = state["votes"]
        n_old = len(old["label"])
        if n_old == 0:  # the common case: new tasks only
            old_task = np.zeros(0, dtype=np.int64)
            worker_code, worker_ids = votes.worker, votes.worker_ids
        else:
            old_task = (old["index"] if "index" in old
                        else lookup(votes.task_ids, old["task"]))
            worker_code, worker_ids = _merge_workers(votes, old["worker"])
        gold = np.full(votes.n_tasks, -1, dtype=np.int64)
        if gold_labels is not None:
            gold[gold_known] = lookup(classes_, gold_labels)
        old_gold = state["gold"]
        gold = np.where(gold >= 0, gold, old_gold)
        if n_old == 0:
            all_votes = Votes(votes.task, worker_code, label_codes, votes.weight,
                              task_ids=votes.task_ids, worker_ids=worker_ids,
                              classes=classes_)
        else:
            all_votes = Votes(
                np.concatenate([old_task, votes.task]), worker_code,
                np.concatenate([old["label"], label_codes]),
                np.concatenate([old["weight"], votes.weight]),
                task_ids=votes.task_ids, worker_ids=worker_ids, classes=classes_,
            )
        old_votes = Votes(old_task, worker_code[:n_old], old["label"], old["weight"],
                          task_ids=votes.task_ids, worker_ids=worker_ids,
                          classes=classes_) if (
            self._online_exact or hasattr(self, "_online_step")) else None
        worker_keys = self._worker_stat_keys
        stored = store.worker_stats(worker_ids, worker_keys) if meta else {
            key: None for key in worker_keys}
        meta = meta or self._initial_meta(classes_)
        if n_classes > len(meta["classes"]):
            meta = self._grow_meta(meta, n_classes)
        stored = {
            key: (np.zeros((len(worker_ids), *self._stat_shape(key, n_classes)))
                  if value is None else
                  _pad_classes(value, [a + 1 for a in self._stat_class_axes[key]],
                               n_classes))
            for key, value in stored.items()
        }
        if hasattr(self, "_online_step"):  # models updating their own workers
            step = own_step(self, all_votes, old_votes, gold, old_gold, stored,
                            meta, state)
        elif self._online_exact:
            step = self._exact_step(all_votes, old_votes, gold, old_gold, stored,
                                    meta, state)
        else:
            step = self._stepwise_step(all_votes, gold, stored, meta, state)
        n_new_tasks = int((~state["known"]).sum())
        new_meta = dict(meta)
        new_meta.update(
            classes=classes_.tolist(),
            step=meta["step"] + 1,
            log_scale=step["log_scale"],
            n_tasks=meta["n_tasks"] + n_new_tasks,
            n_votes=meta["n_votes"] + votes.n_votes,
            global_stats={k: v.tolist() for k, v in step["global"].items()},
        )
        store.commit({
            "batch_id": batch_id,
            "meta": new_meta,
            "meta_delta": {
                "step": 1, "n_tasks": n_new_tasks, "n_votes": votes.n_votes,
                "log_scale": step["log_scale"] - meta["log_scale"],
                "global_stats": step["global_delta"],
            },
            "replace_workers": step.get("replace", False),
            "worker_stat_shapes": {k: self._stat_shape(k, n_classes)
                                   for k in worker_keys},
            "task_ids": votes.task_ids,
            "gold": gold,
            "posterior": step["posterior"],
            # coded in task_ids and worker_ids
            "new_votes": {"task_code": votes.task, "worker_code": worker_code[n_old:],
                          "label": label_codes, "weight": votes.weight},
            "worker_ids": worker_ids,
            "worker_delta": step["worker_delta"],
        })
        self._adopt_store(store, new_meta, classes_)
        self._report_progress(votes, step, new_meta, time.perf_counter() - tic)
        for attr in ("task_ids_", "consensus_label_", "consensus_proba_"):
            if hasattr(self, attr):
                delattr(self, attr)
        return self

    # ------------------------------------------------------------------
    def _stat_shape(self, key, n_classes):
        """Shape of one worker's (or the global) statistic ``key``."""
        return tuple(n_classes for _ in self._stat_class_axes[key])

    def _initial_meta(self, classes_):
        n_classes = len(classes_)
        global_keys = [k for k in self._stat_class_axes if k not in
                       self._worker_stat_keys]
        zeros = {k: np.zeros(self._stat_shape(k, n_classes)).tolist()
                 for k in global_keys}
        zeros.update({POOL + k: np.zeros(self._stat_shape(k, n_classes)).tolist()
                      for k in self._worker_stat_keys})
        return {"model": type(self).__name__, "classes": list(classes_),
                "step": 0, "log_scale": 0.0, "n_tasks": 0, "n_votes": 0,
                "global_stats": zeros}

    def _grow_meta(self, meta, n_classes):
        meta = dict(meta)
        grown = {}
        for key, value in meta["global_stats"].items():
            base = key[len(POOL):] if key.startswith(POOL) else key
            grown[key] = _pad_classes(np.asarray(value),
                                      self._stat_class_axes[base], n_classes).tolist()
        meta["global_stats"] = grown
        return meta

    def _global_arrays(self, meta):
        return {k: np.asarray(v, dtype=float) for k, v in meta["global_stats"].items()}

    def _stats_for(self, worker_rows, global_arrays, scale):
        """Scaled statistics of some workers plus the global ones."""
        stats = {k: v * scale for k, v in worker_rows.items()}
        for key, value in global_arrays.items():
            stats[key] = value * scale
        return stats

    def _params_of(self, stats):
        """Params of the stats' workers plus one row: the pooled worker."""
        pooled = dict(stats)
        for key in self._worker_stat_keys:
            pooled[key] = np.concatenate([stats[key], stats[POOL + key][None]])
        for key in list(pooled):
            if key.startswith(POOL):
                del pooled[key]
        return self._m_step(pooled)

    def _count_delta(self, all_votes, old_votes, gold, old_gold, stored, state):
        """Change of the exact counts when the batch's tasks are re-counted
        (their old contribution out, the new one in). Models whose counts
        depend on the stored ones (iterative weighting) override this."""
        new = self._count_stats(all_votes, gold)
        before = self._count_stats(old_votes, old_gold)
        return {k: new[k] - before[k] for k in new}

    def _exact_step(self, all_votes, old_votes, gold, old_gold, stored, meta, state):
        delta = self._count_delta(all_votes, old_votes, gold, old_gold, stored,
                                  state)
        worker_delta = {k: delta[k] for k in self._worker_stat_keys}
        global_delta = {k: v for k, v in delta.items()
                        if k not in self._worker_stat_keys}
        for key in self._worker_stat_keys:
            global_delta[POOL + key] = delta[key].sum(axis=0)
        global_now = {k: v + global_delta.get(k, 0.0)
                      for k, v in self._global_arrays(meta).items()}
        rows = {k: stored[k] + worker_delta[k] for k in self._worker_stat_keys}
        params = self._params_of(self._stats_for(rows, global_now, 1.0))
        posterior = self._posterior_from_params(all_votes, params, gold)
        return {"posterior": posterior, "worker_delta": worker_delta,
                "global": global_now,
                "global_delta": {k: np.asarray(v).tolist()
                                 for k, v in global_delta.items()},
                "log_scale": 0.0, "log_likelihood": np.nan, "eta": 1.0}

    def _stepwise_step(self, all_votes, gold, stored, meta, state):
        first = meta["step"] == 0
        eta = 1.0 if first else (self.learning_offset + meta["step"]) ** (
            -self.learning_decay)
        n_tasks_seen = meta["n_tasks"] + int((~state["known"]).sum())
        scale = n_tasks_seen / max(all_votes.n_tasks, 1)
        old_scale = np.exp(meta["log_scale"])
        old_global = self._global_arrays(meta)
        old_stats = self._stats_for(stored, old_global, old_scale)
        new_worker = np.ones(all_votes.n_workers, dtype=bool) if first else (
            np.all([stored[k].reshape(len(stored[k]), -1).sum(1) == 0
                    for k in self._worker_stat_keys], axis=0))
        params = self._params_of(
            self._initial_stats(all_votes, gold, old_stats, new_worker, first))
        clamp = gold.astype(np.int32)
        previous = -np.inf
        batch_log_likelihood = None
        # the first batch is fit on that batch (EM to convergence, like fit);
        # later ones take at most _online_batch_iter stepwise-EM iterations
        n_iter = self.max_iter if first else min(self.max_iter,
                                                 self._online_batch_iter)
        decayed = {key: (1 - eta) * value for key, value in old_stats.items()}

        def updated(batch):  # S <- (1 - eta) S + eta * scale * S_batch
            candidate = {}
            for key, value in batch.items():
                candidate[key] = decayed[key] + eta * scale * value
                if key in self._worker_stat_keys:
                    pooled = POOL + key
                    candidate[pooled] = (decayed[pooled]
                                         + eta * scale * value.sum(axis=0))
            return candidate

        for n in range(n_iter):
            posterior, batch, log_likelihood = self._e_step(
                all_votes, params, clamp, accumulate=True)
            if batch_log_likelihood is None:
                batch_log_likelihood = log_likelihood
            for key in self._worker_stat_keys:  # drop the pooled worker's row
                batch[key] = batch[key][: all_votes.n_workers]
            if (n == n_iter - 1 or abs(log_likelihood - previous)
                    < self.tol * max(all_votes.n_tasks, 1)):
                break  # the statistics of this E-step make the update
            previous = log_likelihood
            params = self._params_of(updated(batch))
        if not self._posterior_is_e_step():
            # the model's posterior is not its E-step's (e.g. weighted vote
            # shares): score the batch under the updated parameters
            posterior = self._posterior_from_params(
                all_votes, self._params_of(updated(batch)), gold)
        new_scale = 1.0 if first else old_scale * (1 - eta)
        worker_delta, global_delta, global_now = {}, {}, {}
        for key, value in batch.items():
            grow = eta * scale * value / new_scale
            if key in self._worker_stat_keys:
                worker_delta[key] = grow
                global_delta[POOL + key] = grow.sum(axis=0)
            else:
                global_delta[key] = grow
        for key, value in old_global.items():
            base = 0.0 if first else value
            global_now[key] = base + global_delta.get(key, 0.0)
        return {"posterior": posterior, "worker_delta": worker_delta,
                "global": global_now, "replace": first,
                "global_delta": {k: np.asarray(v).tolist()
                                 for k, v in global_delta.items()},
                "log_scale": float(np.log(new_scale)),
                "log_likelihood": batch_log_likelihood / max(all_votes.n_tasks, 1),
                "eta": eta}

    def _posterior_is_e_step(self):
        """Whether the model's posterior is its E-step's (``BaseEM``'s
        ``_predict_with_params``), so that the batch's last E-step gives it."""
        from .base import BaseEM

        return type(self)._predict_with_params is BaseEM._predict_with_params

    def _initial_stats(self, votes, gold, old_stats, new_worker, first):
        """Statistics to start the batch from.

        Known workers start from their stored statistics; a worker without
        any starts, as in ``fit``, from the statistics of the batch's vote
        shares (so the first batch is initialised exactly like ``fit``).
        """
        if not new_worker.any():
            return old_stats
        shares = self._initial_posterior(votes, gold.astype(np.int32))
        voted = new_worker[votes.worker]
        if not first and voted.mean() < 0.5:
            # per-worker statistics of the new workers come from their own
            # votes: one pass over those votes only
            votes = Votes(votes.task[voted], votes.worker[voted],
                          votes.label[voted], votes.weight[voted],
                          task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                          classes=votes.classes)
        from_shares = self._stats(votes, shares)
        start = dict(old_stats)
        for key in self._worker_stat_keys:
            rows = old_stats[key].copy()
            rows[new_worker] = from_shares[key][new_worker]
            start[key] = rows
            if first:
                start[POOL + key] = from_shares[key].sum(axis=0)
        if first:
            for key, value in from_shares.items():
                if key not in self._worker_stat_keys:
                    start[key] = value
        return start

    def _posterior_from_params(self, votes, params, gold):
        posterior = self._predict_with_params(votes, params)
        known = gold >= 0
        posterior[known] = 0.0
        posterior[known, gold[known]] = 1.0
        return posterior

    # ------------------------------------------------------------------
    def _lazy_fitted(self):
        """Fitted attributes read from the store on first access."""
        return ("worker_ids_", "n_batches_", "n_votes_seen_", "_params_with_unseen",
                *(name + "_" for name in self._param_names))

    def _adopt_store(self, store, meta, classes_=None):
        """Point at ``store``; its parameters are read when first needed.

        Reading every worker's statistics after each batch would cost
        O(workers) per batch (one scan of a MongoDB collection); instead the
        fitted attributes are dropped and rebuilt from the store on first
        access (``__getattr__``), once per run of batches.
        """
        self.store_ = store
        if meta is None:
            return
        if classes_ is None:
            classes_ = _integral_floats_to_int(
                _narrow_object(np.asarray(meta["classes"], dtype=object)))
        self.classes_ = classes_
        for attr in self._lazy_fitted():
            self.__dict__.pop(attr, None)
        self._online_stale = True

    def __getattr__(self, name):
        # called only when normal lookup fails: rebuild stale fitted attributes
        state = self.__dict__
        if (state.get("_online_stale") and "store_" in state
                and name in self._lazy_fitted()):
            state["_online_stale"] = False
            self._sync_from_store()
            return getattr(self, name)
        raise AttributeError(
            f"{type(self).__name__!r} object has no attribute {name!r}")

    def _sync_from_store(self):
        """Fitted attributes from the store's statistics (every worker)."""
        store = self.store_
        meta = store.meta()
        worker_ids, rows = store.all_worker_stats(self._worker_stat_keys)
        scale = np.exp(meta["log_scale"])
        n_classes = len(meta["classes"])
        rows = {k: _pad_classes(v, [a + 1 for a in self._stat_class_axes[k]],
                                n_classes) for k, v in rows.items()}
        stats = self._stats_for(rows, self._global_arrays(meta), scale)
        self._set_params(self._params_of(stats), len(worker_ids))
        self.worker_ids_ = worker_ids
        self.n_batches_ = meta["step"]
        self.n_votes_seen_ = meta["n_votes"]

    def _report_progress(self, votes, step, meta, seconds):
        history = getattr(self, "_progress", None)
        if history is None or meta["step"] == 1:
            history = self._progress = {"next": 1, "since": []}
        history["since"].append(step["log_likelihood"])
        if not getattr(self, "verbose", 0) or meta["step"] < history["next"]:
            return
        if history["next"] == 1:
            print(f"{'batch':>7} {'votes':>11} {'tasks':>9} {'batch ll':>10} "
                  f"{'since last':>10} {'step':>8} {'seconds':>8}")
        since = np.nanmean(history["since"]) if np.any(
            np.isfinite(history["since"])) else np.nan
        print(f"{meta['step']:>7} {meta['n_votes']:>11} {meta['n_tasks']:>9} "
              f"{step['log_likelihood']:>10.4f} {since:>10.4f} "
              f"{step['eta']:>8.4f} {seconds:>8.3f}")
        history["next"] *= 2
        history["since"] = []

    @available_if(_supports_online)
    def consensus(self, *, refresh=True):
        """Current consensus of every task seen by ``partial_fit``.

        Parameters
        ----------
        refresh : bool, default=True
            Re-score every task with all its votes under the current worker
            parameters (one pass over the kept votes). With False, each task
            keeps the posterior computed when its last batch arrived.

        Returns
        -------
        consensus : Bunch
            ``task_ids``, ``labels`` (from ``classes_``) and ``proba`` (one
            row per task, columns ``classes_``), tasks in order of arrival.
        """
        from sklearn.utils import Bunch
        from sklearn.utils.validation import check_is_fitted

        check_is_fitted(self, "store_")
        task_ids, posterior, gold = self.store_.all_tasks()
        if refresh and len(task_ids):
            kept = self.store_.all_votes()
            votes = Votes(lookup(task_ids, kept["task"]),
                          lookup(self.worker_ids_, kept["worker"]),
                          kept["label"], kept["weight"], task_ids=task_ids,
                          worker_ids=self.worker_ids_, classes=self.classes_)
            posterior = self._predict_proba_votes(votes)
            known = gold >= 0
            posterior[known] = 0.0
            posterior[known, gold[known]] = 1.0
        return Bunch(task_ids=task_ids, proba=posterior,
                     labels=self._labels_from_proba(posterior))


# ----------------------------------------------------------------------
# Models without a closed-form M-step (GLAD, KOS, M-MSR, Zero-Based Skill)
# define ``_online_step``: the driver hands them the batch's local problem,
# the step size ``eta`` and the ``scale`` of stepwise EM; they return their
# workers' new statistics, the global ones, the batch's posterior and its
# log-likelihood before the update (NaN when the model has none). Their
# per-worker statistics are running averages (``running_average``) and
# ``log_scale`` stays 0: a worker's statistics change only in its batches.

def running_average(stored, estimates, evidence, eta, scale):
    """Per-worker statistics after a batch: evidence-weighted running means.

    ``evidence`` ``V <- (1 - eta) V + eta * scale * v`` and, for each batch
    estimate ``x`` (one value per worker), ``S_x <- (1 - eta) S_x + eta *
    scale * v * x``, with ``v`` the evidence of the batch (e.g. the worker's
    votes in it): ``S_x / V`` moves toward the batch estimate by the
    worker's share of the evidence, and a new worker (``V = 0``) takes its
    batch estimate. This is stepwise EM's update with the batch estimates
    as statistics; ``eta = scale = 1`` gives the batch estimates.
    """
    gain = eta * scale * np.asarray(evidence, dtype=float)
    rows = {"evidence": (1 - eta) * stored["evidence"] + gain}
    for name, value in estimates.items():
        rows[name] = (1 - eta) * stored[name] + gain * value
    return rows


def running_estimates(stats, names, fill=None):
    """The running means ``S_x / V`` of ``running_average`` statistics.

    Workers without evidence get ``fill`` (default: the mean of the others,
    0 when there are none)."""
    evidence = np.asarray(stats["evidence"], dtype=float)
    has = evidence > 0
    out = {}
    for name in names:
        value = np.divide(stats[name], evidence, out=np.zeros_like(evidence),
                          where=has)
        if not has.all():
            value[~has] = (fill if fill is not None else
                           value[has].mean() if has.any() else 0.0)
        out[name] = value
    return out


def own_step(model, all_votes, old_votes, gold, old_gold, stored, meta, state):
    """One batch of a model with ``_online_step`` (see above)."""
    first = meta["step"] == 0
    eta = 1.0 if first else (model.learning_offset + meta["step"]) ** (
        -model.learning_decay)
    n_tasks_seen = meta["n_tasks"] + int((~state["known"]).sum())
    scale = n_tasks_seen / max(all_votes.n_tasks, 1)
    old_global = model._global_arrays(meta)
    rows, changed, posterior, log_likelihood = model._online_step(
        all_votes, old_votes, gold, old_gold, stored, old_global, eta, scale)
    global_now = {**old_global, **changed}
    worker_delta = {k: rows[k] - stored[k] for k in model._worker_stat_keys}
    for key in model._worker_stat_keys:
        global_now[POOL + key] = old_global[POOL + key] + worker_delta[key].sum(0)
    known = gold >= 0
    posterior[known] = 0.0
    posterior[known, gold[known]] = 1.0
    return {"posterior": posterior, "worker_delta": worker_delta,
            "global": global_now,
            "global_delta": {k: (np.asarray(v) - old_global[k]).tolist()
                             for k, v in global_now.items()},
            "log_scale": meta["log_scale"],
            "log_likelihood": log_likelihood / max(all_votes.n_tasks, 1),
            "eta": eta}


def shared_vote_weight(votes):
    """Each worker's vote weight on tasks that another worker answered too
    (what agreement-based estimates learn from), plus ``1e-9`` times its
    other votes, so a worker who shares no task keeps a token weight."""
    n_workers = max(votes.n_workers, 1)
    pairs = np.unique(votes.task.astype(np.int64) * n_workers + votes.worker)
    shared = (np.bincount(pairs // n_workers, minlength=votes.n_tasks)
              >= 2)[votes.task]
    weight = votes.weight * np.where(shared, 1.0, 1e-9)
    return np.bincount(votes.worker, weight, minlength=votes.n_workers)
