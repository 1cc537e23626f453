"""The MongoDB state store of online aggregators.

Layout: one model is four collections named after it in one database,
``<model>.meta``, ``<model>.workers``, ``<model>.tasks`` and
``<model>.batches``, so :meth:`MongoStore.drop` of one model never touches
another. Every document holds plain numbers, strings and lists of them:

``<model>.meta``, one document (``_id: "meta"``)
    ``m``: the model's global state exactly as the online driver describes it
    (model name, classes, step counter, log-scale of the per-worker
    statistics, task and vote counters, global statistics as nested lists);
    ``seq_t`` / ``seq_w``: the next arrival index of a task / worker;
    ``ndim``: the number of class axes of each per-worker statistic;
    ``lock``: the write lease (commits without transactions).
``<model>.workers``, one document per worker
    ``_id``: the worker id; ``o``: its arrival index (the id -> index map);
    ``s``: its unscaled statistics, ``{name: nested lists}`` (written when
    the model had fewer classes: shorter lists, read zero-padded).
``<model>.tasks``, one document per task
    ``_id``: the task id; ``o``: its arrival index; ``w``, ``l``, ``x``: its
    kept votes (worker ids, label codes, weights); ``p``: its latest
    posterior; ``g``: its gold class code (-1 unknown).
``<model>.batches``, one document per applied batch
    ``_id``: the batch id (unique, so a batch is applied at most once).
    Without transactions it also holds the batch's writes until they are
    all applied (the write-ahead record).

Indexes: ``_id`` (unique) only. A batch finds and writes documents by
``_id``; reading everything (the consensus, the fitted parameters) sorts by
``o`` in the client. A secondary index on ``o`` would be maintained by every
insert and update of a batch (it doubled their cost on the test server) for
the benefit of the rare full reads.
"""

import math
import os
import random
import re
import time
import uuid
from collections import Counter

import numpy as np

__all__ = ["MongoStore", "StoreUnavailableError"]

_FORMAT = 1
# ids per `$in` query: some servers match each found document against the
# whole `$in` list, linearly, so long lists cost quadratic time
_IN_CHUNK = 128
_DB_FORBIDDEN = set('/\\. "$*<>:|?\x00')
_MODEL_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
_COLLECTIONS = ("meta", "workers", "tasks", "batches")
_FIELDS = {"tasks": {"w": 1, "l": 1, "x": 1, "g": 1, "p": 1}, "workers": {"s": 1}}


class StoreUnavailableError(ConnectionError):
    """The MongoDB server could not be reached within the store's timeout.

    Examples
    --------
    >>> from skcrowd.stores import StoreUnavailableError
    >>> issubclass(StoreUnavailableError, ConnectionError)
    True
    """


def _plain(value):
    """A task, worker or class id as a BSON scalar (str, int, float, bool)."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, str | float | bool):
        return value
    if isinstance(value, int):
        if not -(2**63) <= value < 2**63:
            raise ValueError(f"Id {value} does not fit a 64-bit integer.")
        return value
    raise TypeError(
        "MongoStore keeps task, worker and class ids that are strings or "
        f"numbers; got {value!r} of type {type(value).__name__}."
    )


def _plain_tree(obj):
    """Nested dicts / lists / numpy values as plain Python for BSON."""
    if isinstance(obj, dict):
        return {str(k): _plain_tree(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return _plain_tree(obj.tolist())
    if isinstance(obj, list | tuple):
        return [_plain_tree(v) for v in obj]
    if isinstance(obj, np.generic):
        return obj.item()
    return obj


def _ids(values):
    """Ids as a list of BSON scalars."""
    array = np.asarray(values)
    if array.dtype.kind in "U":  # fast paths: tolist() gives str / int
        return array.tolist()
    if array.dtype.kind in "iu":
        if len(array) and (array.min() < -(2**63) or array.max() >= 2**63):
            raise ValueError("Ids must fit 64-bit integers.")
        return array.tolist()
    return [_plain(v) for v in array.astype(object).tolist()]


def _object_array(values):
    out = np.empty(len(values), dtype=object)
    out[:] = values
    return out


def _padded(values, shape):
    """``values`` (nested lists) zero-padded at the end of each axis."""
    array = np.asarray(values, dtype=float)
    if array.shape == tuple(shape):
        return array
    out = np.zeros(shape)
    out[tuple(slice(0, n) for n in array.shape)] = array
    return out


_LISTENER = []


def _command_counter(counts):
    """A pymongo command listener counting commands by name and collection
    (pymongo is imported on first connection, not with skcrowd)."""
    if not _LISTENER:
        from pymongo import monitoring

        class CommandCounter(monitoring.CommandListener):
            def __init__(self, counts):
                self.counts = counts

            def started(self, event):
                target = event.command.get(event.command_name)
                target = target if isinstance(target, str) else ""
                self.counts[(event.command_name, target)] += 1

            def succeeded(self, event):
                pass

            def failed(self, event):
                pass

        _LISTENER.append(CommandCounter)
    return _LISTENER[0](counts)


class MongoStore:
    """State of one online aggregator in MongoDB, shared by processes.

    Pass it (or just a ``"mongodb://..."`` URI) as the ``store`` of an
    aggregator, then call ``partial_fit``: the model's statistics, every
    vote, and each task's posterior live in MongoDB, so several processes can
    feed one model and a new process continues where the last one stopped.

    * A batch reads and writes only the documents of its own workers and
      tasks plus the one global document, with one bulk write per collection
      (inserts of new documents and ``$set`` of changed ones): the number of
      database commands grows with the batch's tasks and workers, never with
      its votes.
    * A batch is applied completely or not at all: in a transaction when the
      server supports them (replica sets, sharded clusters); otherwise under
      a write lease with a write-ahead record of the batch, which the next
      call rolls forward if its writer stopped half-way.
    * A batch is applied at most once: its id (given to ``partial_fit``, or a
      hash of its content) is the unique ``_id`` of its record, and the
      server's duplicate-key answer (code 11000) means "already applied".
    * Several processes may feed one store: commits are serialised (by the
      transactions or the lease) and each writes the *current* statistics
      plus its batch's changes (the driver's deltas), so no batch is lost.

    The store connects lazily, on first use, and never pickles its client:
    a pickled or cloned estimator reconnects with the same configuration.

    Parameters
    ----------
    uri : str
        MongoDB connection string, ``mongodb://`` or ``mongodb+srv://``.
    database : str, default=None
        Database name; default the one named in the URI, else ``"skcrowd"``.
    model : str, default="default"
        Name of this model's state: 1 to 64 letters, digits, ``_`` or ``-``.
        Models with different names in one database are independent.
    timeout : float, default=5.0
        Seconds to wait for the server before raising
        :class:`StoreUnavailableError` (server selection and connection).
    transactions : {"auto", True, False}, default="auto"
        Commit each batch in a transaction; ``"auto"``: when the server
        supports them. ``False`` uses the write lease and write-ahead record.
    lease : float, default=60.0
        Without transactions: seconds after which a commit's write lease is
        considered abandoned (its process died) and the next caller rolls
        its batch forward. Must exceed the time one batch takes to write.

    Attributes
    ----------
    command_counts : collections.Counter
        Database commands sent by this process, keyed by (command,
        collection): how many round trips a batch costs.

    See Also
    --------
    skcrowd.stores.MemoryStore : the default, in-process store.

    Notes
    -----
    Concurrent ``partial_fit`` calls on one store each prepare their batch
    from the state they read; when another batch landed in between, the
    commit adds this batch's *changes* to the current statistics instead of
    writing the prepared ones. Counting models stay exact when concurrent
    batches hold different tasks; stepwise EM merges concurrent steps like
    asynchronous stochastic updates. A task's stored posterior is the one of
    its latest batch; ``consensus()`` re-scores every task.

    The write lease needs the writers' clocks to agree to well within
    ``lease`` seconds; a writer stalled for longer than ``lease`` in the
    middle of a commit loses its lease and the batch is rolled forward by
    another process.

    Examples
    --------
    Configuration is checked at once; the server is contacted on first use.

    >>> import pickle
    >>> from skcrowd.stores import MongoStore
    >>> store = MongoStore("mongodb://127.0.0.1:27017/", database="crowd",
    ...                    model="trees", timeout=2)
    >>> store
    MongoStore('mongodb://127.0.0.1:27017/', database='crowd', model='trees')
    >>> pickle.loads(pickle.dumps(store)).model
    'trees'

    With a server running::

        from skcrowd import DawidSkene
        model = DawidSkene(store=store).partial_fit(votes, classes=labels)
        model.consensus().labels
    """

    def __init__(self, uri, database=None, model="default", *, timeout=5.0,
                 transactions="auto", lease=60.0):
        if not isinstance(uri, str) or not uri.startswith(
                ("mongodb://", "mongodb+srv://")):
            raise ValueError(
                f"uri={uri!r} is not a MongoDB connection string "
                "(mongodb://host:port/ or mongodb+srv://...)."
            )
        if uri.startswith("mongodb://"):
            from pymongo.errors import InvalidURI
            from pymongo.uri_parser import parse_uri

            try:
                parsed = parse_uri(uri)
            except (InvalidURI, ValueError) as exc:
                raise ValueError(f"uri={_redact(uri)!r} is invalid: {exc}") from exc
            database = database if database is not None else parsed["database"]
        if database is None:
            database = "skcrowd"
        if (not isinstance(database, str) or not database or len(database) > 63
                or set(database) & _DB_FORBIDDEN):
            raise ValueError(
                f"database={database!r} is not a valid MongoDB database name: 1 "
                "to 63 characters, none of / \\ . \" $ * < > : | ? or space."
            )
        if (not isinstance(model, str) or not _MODEL_NAME.fullmatch(model)
                or model.lower() == "system"):
            raise ValueError(
                f"model={model!r} is not a valid model name: 1 to 64 letters, "
                "digits, '_' or '-' (and not 'system')."
            )
        if (isinstance(timeout, bool) or not isinstance(timeout, int | float)
                or not timeout > 0 or not math.isfinite(timeout)):
            raise ValueError(f"timeout={timeout!r} must be a positive number of "
                             "seconds.")
        if transactions not in ("auto", True, False):
            raise ValueError(f"transactions={transactions!r} must be 'auto', True "
                             "or False.")
        if (isinstance(lease, bool) or not isinstance(lease, int | float)
                or not lease > 0):
            raise ValueError(f"lease={lease!r} must be a positive number of seconds.")
        self.uri = uri
        self.database = database
        self.model = model
        self.timeout = float(timeout)
        self.transactions = transactions
        self.lease = float(lease)
        self._reset_connection()

    # ------------------------------------------------------------------
    # connection
    def _reset_connection(self):
        self._client = None
        self._pid = None
        self._use_txn = None
        self._meta_doc = None
        self._read = None
        self.command_counts = Counter()

    def __getstate__(self):
        state = dict(self.__dict__)
        for key in ("_client", "_pid", "_use_txn", "_meta_doc", "_read",
                    "command_counts"):
            state.pop(key, None)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._reset_connection()

    def __repr__(self):
        return (f"MongoStore({_redact(self.uri)!r}, database={self.database!r}, "
                f"model={self.model!r})")

    def _unavailable(self, exc, commit=False):
        written = ("the batch was not applied (a half-written one is completed "
                   "by the next call)" if commit else "nothing was written")
        return StoreUnavailableError(
            f"MongoDB server at {_hosts(self.uri)} not reachable within "
            f"{self.timeout:g} s (database {self.database!r}, model "
            f"{self.model!r}); {written}. Check the URI or start the server. "
            f"({type(exc).__name__}: {str(exc)[:300]})"
        )

    def _db(self):
        """The database, connecting (once per process) on first use."""
        if self._client is None or self._pid != os.getpid():
            from pymongo import MongoClient

            ms = int(self.timeout * 1000)
            self._client = MongoClient(
                self.uri, serverSelectionTimeoutMS=ms, connectTimeoutMS=ms,
                appname="skcrowd",
                event_listeners=[_command_counter(self.command_counts)],
            )
            self._pid = os.getpid()
            self._use_txn = None
        db = self._client[self.database]
        if self._use_txn is None:
            hello = self._client.admin.command("hello")
            supported = (bool(hello.get("setName") or hello.get("msg") == "isdbgrid")
                         and hello.get("logicalSessionTimeoutMinutes") is not None
                         and hello.get("maxWireVersion", 0) >= 8)  # MongoDB 4.2
            if self.transactions is True and not supported:
                raise ValueError(
                    f"transactions=True but the server at {_hosts(self.uri)} does "
                    "not support transactions (not a replica set); use 'auto'."
                )
            self._use_txn = supported and self.transactions is not False
        return db

    def _name(self, what):
        return f"{self.model}.{what}"

    def _coll(self, what):
        return self._db()[self._name(what)]

    def _guarded(self, call, *args, commit=False):
        """Run ``call`` turning connection failures into a clear error."""
        from pymongo.errors import ConnectionFailure

        try:
            return call(*args)
        except ConnectionFailure as exc:
            raise self._unavailable(exc, commit) from exc

    def close(self):
        """Close the connection (it reopens on next use)."""
        client, pid = self._client, self._pid
        self._reset_connection()
        if client is not None and pid == os.getpid():
            client.close()

    def __del__(self):
        # a store dropped without close() must not leave an open client
        try:
            self.close()
        except Exception:  # noqa: BLE001 - nothing to report at collection
            pass

    # ------------------------------------------------------------------
    # reads
    def meta(self):
        """The model's global state, or None before the first batch."""
        # the driver reads this first for each batch: reads of tasks and
        # workers kept for the commit are the ones made after it
        self._read = None
        return self._guarded(self._meta)

    def _meta(self):
        doc = self._coll("meta").find_one({"_id": "meta"})
        if doc is not None and self._stale_lock(doc):
            self._recover_now()
            doc = self._coll("meta").find_one({"_id": "meta"})
        self._meta_doc = doc
        if doc is None or doc.get("m") is None:
            return None
        return dict(doc["m"])

    def is_applied(self, batch_id):
        """Whether the batch with this id was applied (or is being applied)."""
        return self._guarded(self._is_applied, batch_id)

    def _is_applied(self, batch_id):
        record = self._coll("batches").find_one({"_id": str(batch_id)},
                                                {"state": 1})
        if record is None:
            return False
        if record.get("state") == "pending":
            doc = self._coll("meta").find_one({"_id": "meta"}, {"lock": 1})
            if doc is not None and self._stale_lock(doc):
                self._recover_now()
        return True

    def _n_classes(self):
        doc = self._meta_doc
        if doc is None or doc.get("m") is None:
            self._meta()
            doc = self._meta_doc
        return 0 if doc is None or doc.get("m") is None else len(doc["m"]["classes"])

    def _find_ids(self, what, ids, projection, session=None):
        coll = self._coll(what)
        docs = []
        for start in range(0, len(ids), _IN_CHUNK):
            chunk = ids[start: start + _IN_CHUNK]
            docs.extend(coll.find({"_id": {"$in": chunk}}, projection,
                                  session=session, batch_size=len(chunk) + 1))
        return {doc["_id"]: doc for doc in docs}

    def _remember(self, what, ids, found):
        """Keep what was read for the coming commit (see ``_current``)."""
        if self._read is None:
            self._read = {}
        self._read[what] = found
        self._read[what + "_ids"] = set(ids)

    def task_state(self, task_ids):
        """Kept votes (as ids and label codes), gold codes and posteriors."""
        return self._guarded(self._task_state, task_ids)

    def _task_state(self, task_ids):
        ids = _ids(task_ids)
        found = self._find_ids("tasks", ids, _FIELDS["tasks"])
        self._remember("tasks", ids, found)
        n_classes = self._n_classes()
        known = np.zeros(len(ids), dtype=bool)
        gold = np.full(len(ids), -1, dtype=np.int64)
        posterior = np.zeros((len(ids), n_classes))
        tasks, index, workers, labels, weights = [], [], [], [], []
        for i, task in enumerate(ids):
            doc = found.get(task)
            if doc is None:
                continue
            known[i] = True
            gold[i] = doc.get("g", -1)
            row = doc.get("p") or []
            posterior[i, : len(row)] = row[:n_classes]
            voters = doc.get("w") or []
            tasks.extend([task] * len(voters))
            index.extend([i] * len(voters))
            workers.extend(voters)
            labels.extend(doc.get("l") or [])
            weights.extend(doc.get("x") or [])
        votes = {"task": _object_array(tasks), "worker": _object_array(workers),
                 "index": np.asarray(index, dtype=np.int64),  # into task_ids
                 "label": np.asarray(labels, dtype=np.int64),
                 "weight": np.asarray(weights, dtype=np.float64)}
        return {"known": known, "votes": votes, "gold": gold,
                "posterior": posterior}

    def _stat_arrays(self, docs, keys, n_classes=None, ndim=None):
        """Statistics of worker documents (None: a new worker, zeros)."""
        if n_classes is None:
            n_classes = self._n_classes()
        if ndim is None:
            ndim = (self._meta_doc or {}).get("ndim", {})
        out = {}
        for key in keys:
            shape = (n_classes,) * ndim.get(key, 0)
            rows = np.zeros((len(docs), *shape))
            for i, doc in enumerate(docs):
                value = (doc or {}).get("s", {}).get(key)
                if value is None:
                    continue
                value = np.asarray(value, dtype=float)
                rows[(i, *(slice(0, n) for n in value.shape))] = value
            out[key] = rows
        return out

    def worker_stats(self, worker_ids, keys):
        """Unscaled statistics of the workers (zeros for new ones)."""
        return self._guarded(self._worker_stats, worker_ids, keys)

    def _worker_stats(self, worker_ids, keys):
        ids = _ids(worker_ids)
        found = self._find_ids("workers", ids, _FIELDS["workers"])
        self._remember("workers", ids, found)
        return self._stat_arrays([found.get(w) for w in ids], keys)

    def all_tasks(self):
        """Task ids, posteriors and gold codes of every task, in arrival order."""
        return self._guarded(self._all_tasks)

    def _all_tasks(self):
        self._meta()
        n_classes = self._n_classes()
        docs = _in_arrival_order(self._coll("tasks").find({}, {"p": 1, "g": 1,
                                                                "o": 1}))
        posterior = np.zeros((len(docs), n_classes))
        for i, doc in enumerate(docs):
            row = doc.get("p") or []
            posterior[i, : len(row)] = row[:n_classes]
        gold = np.array([doc.get("g", -1) for doc in docs], dtype=np.int64)
        return _object_array([doc["_id"] for doc in docs]), posterior, gold

    def all_votes(self):
        """Every kept vote: task and worker ids, label codes, weights."""
        return self._guarded(self._all_votes)

    def _all_votes(self):
        tasks, workers, labels, weights = [], [], [], []
        cursor = _in_arrival_order(self._coll("tasks").find(
            {}, {"w": 1, "l": 1, "x": 1, "o": 1}))
        for doc in cursor:
            voters = doc.get("w") or []
            tasks.extend([doc["_id"]] * len(voters))
            workers.extend(voters)
            labels.extend(doc.get("l") or [])
            weights.extend(doc.get("x") or [])
        return {"task": _object_array(tasks), "worker": _object_array(workers),
                "label": np.asarray(labels, dtype=np.int64),
                "weight": np.asarray(weights, dtype=np.float64)}

    def all_worker_stats(self, keys):
        """Worker ids (arrival order) and their unscaled statistics."""
        return self._guarded(self._all_worker_stats, keys)

    def _all_worker_stats(self, keys):
        self._meta()
        docs = _in_arrival_order(self._coll("workers").find({}, {"s": 1, "o": 1}))
        return (_object_array([doc["_id"] for doc in docs]),
                self._stat_arrays(docs, keys))

    def drop(self):
        """Delete this model's state (its four collections) and nothing else."""
        self._guarded(self._drop)

    def _drop(self):
        db = self._db()
        for what in _COLLECTIONS:
            db.drop_collection(self._name(what))
        self._use_txn = None  # re-create the indexes on next use
        self._meta_doc = self._read = None

    # ------------------------------------------------------------------
    # commit
    def commit(self, batch):
        """Apply one prepared batch completely, or not at all, and once."""
        prepared = self._prepare(batch)
        try:
            self._guarded(self._commit, prepared, commit=True)
        finally:
            self._meta_doc = self._read = None

    def _commit(self, prepared):
        self._db()
        if self._use_txn:
            self._commit_transaction(prepared)
        else:
            self._commit_leased(prepared)

    @staticmethod
    def _prepare(batch):
        """The batch's ids and values as plain Python, votes grouped by task."""
        meta = _plain_tree(batch["meta"])
        delta = _plain_tree(batch["meta_delta"])
        task_ids = _ids(batch["task_ids"])
        worker_ids = _ids(batch["worker_ids"])
        new = batch["new_votes"]  # coded in task_ids and worker_ids
        n_tasks = len(task_ids)
        vote_task = np.asarray(new["task_code"], dtype=np.int64)
        order = np.argsort(vote_task, kind="stable")
        bounds = np.searchsorted(vote_task[order], np.arange(n_tasks + 1)).tolist()
        vote_worker = _object_array(worker_ids)[
            np.asarray(new["worker_code"], dtype=np.int64)[order]].tolist()
        vote_label = np.asarray(new["label"], dtype=np.int64)[order].tolist()
        vote_weight = np.asarray(new["weight"], dtype=float)[order].tolist()
        return {
            "bid": str(batch["batch_id"]),
            "meta": meta,
            "delta": delta,
            "prepared_step": int(meta["step"] - delta["step"]),
            "ndim": {k: len(v) for k, v in batch["worker_stat_shapes"].items()},
            "task_ids": task_ids,
            "p": np.asarray(batch["posterior"], dtype=float).tolist(),
            "g": np.asarray(batch["gold"], dtype=np.int64).tolist(),
            "votes": [(vote_worker[lo:hi], vote_label[lo:hi], vote_weight[lo:hi])
                      for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)],
            "worker_ids": worker_ids,
            # new workers are numbered in the order of worker_ids, as the
            # in-memory store numbers them
            "rank": list(range(len(worker_ids))),
            "worker_delta": {k: np.asarray(v, dtype=float)
                             for k, v in batch["worker_delta"].items()},
        }

    def _current(self, what, ids, fresh, session):
        """The stored documents of ``ids``: from this process's read of them
        for the batch when nothing was committed since, else read now."""
        read = self._read or {}
        docs = read.get(what)
        if fresh and docs is not None and set(ids) <= read[what + "_ids"]:
            return docs
        return self._find_ids(what, ids, _FIELDS[what], session=session)

    def _plan(self, prepared, doc, session=None):
        """Every document the batch writes, with its full new content.

        Called while no other batch can commit (under the write lease or in a
        transaction): the new values are the current ones plus the batch's
        changes, and writing them again is harmless (a roll-forward).
        """
        doc = doc or {}
        stored = doc.get("m")
        meta = prepared["meta"]
        if stored is not None:
            if stored["model"] != meta["model"]:
                raise ValueError(
                    f"The store {self.model!r} holds a {stored['model']} model; "
                    f"this batch is for a {meta['model']}. Use another model "
                    "name or drop the state."
                )
            old, new = list(stored["classes"]), list(meta["classes"])
            if new[: len(old)] != old:
                raise ValueError(
                    f"The store {self.model!r} holds classes {old}; this batch "
                    f"has classes {new}. Pass the store's classes or drop the "
                    "state."
                )
        elif prepared["prepared_step"] != 0:
            raise RuntimeError(
                f"The store {self.model!r} was dropped while this batch was "
                "prepared; send the batch again."
            )
        # nothing committed since the driver read the state for this batch?
        fresh = (stored["step"] if stored else 0) == prepared["prepared_step"]
        seq_t, seq_w = int(doc.get("seq_t", 0)), int(doc.get("seq_w", 0))
        n_classes = len(meta["classes"])

        worker_ids = prepared["worker_ids"]
        workers_now = self._current("workers", worker_ids, fresh, session)
        found = [workers_now.get(w) for w in worker_ids]
        totals = self._stat_arrays(found, list(prepared["worker_delta"]), n_classes,
                                   prepared["ndim"])
        for key, delta in prepared["worker_delta"].items():
            totals[key] = (totals[key] + delta).tolist()
        new_workers, set_workers = [], []
        for i, wid in enumerate(worker_ids):
            stats = {key: rows[i] for key, rows in totals.items()}
            if found[i] is None:
                new_workers.append({"_id": wid, "o": seq_w + prepared["rank"][i],
                                    "s": stats})
            else:
                set_workers.append([wid, {"s": stats}])

        task_ids = prepared["task_ids"]
        tasks_now = self._current("tasks", task_ids, fresh, session)
        new_tasks, set_tasks = [], []
        for i, tid in enumerate(task_ids):
            voters, labels, weights = prepared["votes"][i]
            now = tasks_now.get(tid)
            if now is None:
                new_tasks.append({"_id": tid, "o": seq_t + i, "w": voters,
                                  "l": labels, "x": weights,
                                  "p": prepared["p"][i], "g": prepared["g"][i]})
                continue
            fields = {"p": prepared["p"][i], "g": prepared["g"][i]}
            if voters:
                fields["w"] = list(now.get("w") or []) + voters
                fields["l"] = list(now.get("l") or []) + labels
                fields["x"] = list(now.get("x") or []) + weights
            set_tasks.append([tid, fields])

        if fresh:
            global_state = meta  # exactly what the driver computed
        else:  # other batches landed meanwhile: add this one's changes
            delta = prepared["delta"]
            global_state = dict(meta)
            global_state["step"] = stored["step"] + delta["step"]
            global_state["n_votes"] = stored["n_votes"] + delta["n_votes"]
            global_state["n_tasks"] = stored["n_tasks"] + len(new_tasks)
            global_state["log_scale"] = stored["log_scale"] + delta["log_scale"]
            stats = {}
            for key, value in meta["global_stats"].items():
                total = _padded(stored["global_stats"].get(key, 0.0), np.shape(value))
                stats[key] = (total + np.asarray(
                    delta["global_stats"].get(key, 0.0))).tolist()
            global_state["global_stats"] = stats
        return {
            "new": {"workers": new_workers, "tasks": new_tasks},
            "set": {"workers": set_workers, "tasks": set_tasks},
            "fields": {"m": global_state, "format": _FORMAT, "ndim": prepared["ndim"],
                       "seq_t": seq_t + len(task_ids),
                       "seq_w": seq_w + len(worker_ids)},
        }

    def _write(self, plan, session=None, replay=False):
        """One bulk write per collection (inserts of new documents, ``$set``
        of changed ones)."""
        from pymongo import InsertOne, UpdateOne
        from pymongo.errors import BulkWriteError

        for what in ("workers", "tasks"):
            ops = [InsertOne(dict(doc)) for doc in plan["new"][what]]
            ops += [UpdateOne({"_id": key}, {"$set": fields})
                    for key, fields in plan["set"][what]]
            if not ops:
                continue
            try:
                self._coll(what).bulk_write(ops, ordered=False, session=session)
            except BulkWriteError as exc:
                # rolling forward: a document this batch inserted already
                errors = exc.details.get("writeErrors", [])
                if not replay or any(e.get("code") != 11000 for e in errors):
                    raise

    # -- with transactions ------------------------------------------------
    def _commit_transaction(self, prepared):
        from pymongo.errors import BulkWriteError, DuplicateKeyError

        bid = prepared["bid"]

        def body(session):
            # the batch's record goes in last: its duplicate-key error (11000)
            # aborts the transaction when the batch was applied meanwhile
            doc = self._coll("meta").find_one({"_id": "meta"}, session=session)
            plan = self._plan(prepared, doc, session)
            self._write(plan, session)
            self._coll("meta").update_one({"_id": "meta"}, {"$set": plan["fields"]},
                                          upsert=True, session=session)
            self._coll("batches").insert_one({"_id": bid, "at": time.time()},
                                             session=session)

        for attempt in range(5):
            try:
                with self._client.start_session() as session:
                    session.with_transaction(body)
                return
            except (DuplicateKeyError, BulkWriteError) as exc:
                # 11000: this batch was applied meanwhile (a no-op), or a
                # concurrent batch inserted one of its tasks or workers first
                # (read them again and retry)
                errors = getattr(exc, "details", None) or {}
                if any(e.get("code") != 11000 for e in errors.get("writeErrors", [])):
                    raise
                if self._is_applied(bid):
                    return
                if attempt == 4:
                    raise
                self._read = None

    # -- without transactions: write lease + write-ahead record ------------
    @staticmethod
    def _stale_lock(doc):
        lock = doc.get("lock")
        return bool(lock) and lock.get("until", 0) < time.time()

    def _acquire(self, token, batch_id=None):
        """Take the write lease; roll forward an abandoned batch first.

        Returns the global document as it is under the lease.
        """
        from pymongo import ReturnDocument

        meta = self._coll("meta")
        pause = 0.002
        give_up = time.monotonic() + self.lease + 10 * self.timeout
        while True:
            now = time.time()
            # no upsert here: a findAndModify upsert racing another writer
            # may answer "no document before" on some servers
            before = meta.find_one_and_update(
                {"_id": "meta",
                 "$or": [{"lock": None}, {"lock.until": {"$lt": now}}]},
                {"$set": {"lock": {"token": token, "bid": batch_id,
                                   "until": now + self.lease}}},
                return_document=ReturnDocument.BEFORE)
            if before is not None:
                break
            # held by a live writer, or no global document yet
            meta.update_one({"_id": "meta"}, {"$setOnInsert": {"lock": None}},
                            upsert=True)
            if time.monotonic() > give_up:
                raise TimeoutError(
                    f"The write lease of store {self.model!r} was held for more "
                    f"than {self.lease:g} s; is another writer stuck?")
            time.sleep(pause * (0.5 + random.random()))
            pause = min(2 * pause, 0.05)
        before = before or {}
        abandoned = before.get("lock")
        if abandoned and abandoned.get("bid"):
            record = self._coll("batches").find_one({"_id": abandoned["bid"]})
            if record is not None and record.get("state") == "pending":
                self._apply(record["plan"], record["_id"], token, release=False)
            before = meta.find_one({"_id": "meta"}) or {}
        return before

    def _release(self, token, fields=None):
        update = dict(fields or {})
        update["lock"] = None
        self._coll("meta").update_one({"_id": "meta", "lock.token": token},
                                      {"$set": update})

    def _abandon(self, token):
        """Mark our lease expired so that the next call rolls forward now."""
        try:
            self._coll("meta").update_one({"_id": "meta", "lock.token": token},
                                          {"$set": {"lock.until": 0}})
        except Exception:  # noqa: BLE001 - the lease expires by itself anyway
            pass

    def _recover_now(self):
        token = uuid.uuid4().hex
        self._acquire(token)
        self._release(token)

    def _commit_leased(self, prepared):
        from pymongo.errors import DuplicateKeyError

        token = uuid.uuid4().hex
        doc = self._acquire(token, prepared["bid"])
        try:
            plan = self._plan(prepared, doc)
            self._coll("batches").insert_one(
                {"_id": prepared["bid"], "state": "pending", "at": time.time(),
                 "plan": plan})
        except DuplicateKeyError:  # applied before: a no-op
            self._release(token)
            return
        except BaseException:
            self._abandon(token)  # nothing of this batch was written
            raise
        try:
            self._apply(plan, prepared["bid"], token, release=True)
        except BaseException:
            self._abandon(token)
            raise

    def _apply(self, plan, batch_id, token, release):
        """Write a recorded batch; idempotent, so it can be rolled forward."""
        self._write(plan, replay=True)
        if release:
            self._release(token, plan["fields"])
        else:
            self._coll("meta").update_one({"_id": "meta", "lock.token": token},
                                          {"$set": plan["fields"]})
        self._coll("batches").update_one(
            {"_id": batch_id}, {"$set": {"state": "done"}, "$unset": {"plan": ""}})


def _in_arrival_order(cursor):
    """The documents of a cursor sorted by their arrival index ``o``."""
    docs = list(cursor)
    docs.sort(key=lambda doc: doc.get("o", 0))
    return docs


def _hosts(uri):
    rest = uri.split("://", 1)[-1]
    rest = rest.rsplit("@", 1)[-1]
    return rest.split("/", 1)[0].split("?", 1)[0]


def _redact(uri):
    scheme, _, rest = uri.partition("://")
    if "@" in rest.split("/", 1)[0]:
        rest = "***@" + rest.split("@", 1)[1]
    return f"{scheme}://{rest}"
