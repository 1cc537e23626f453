"""MongoStore: partial_fit state in MongoDB (issue 4, items 3 and 4).

Every test runs against a real MongoDB-wire server: ``MONGODB_URI``, or the
test server that ``scripts/mongo_test_server.sh`` starts (see conftest.py).
The test server supports transactions, so ``transactions="auto"`` commits in
transactions and ``transactions=False`` exercises the write lease and the
write-ahead record used on servers without them.
"""

import json
import pickle
import socket
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pymongo
import pytest
from pymongo.collection import Collection
from sklearn.base import clone

from skcrowd import DawidSkene, Wawa
from skcrowd.simulation import make_crowd
from skcrowd.stores import MemoryStore, MongoStore, StoreUnavailableError

MODES = ["auto", False]  # transactions / write lease + write-ahead record
CLASSES = [0, 1, 2]


def make_stream(n_batches=6, *, split="votes", n_tasks=40, seed=0):
    """Batches as dicts of dicts {task: {worker: label}} with string ids.

    ``split="votes"`` scatters each task's votes over several batches (tasks
    come back and are re-scored); ``split="tasks"`` keeps tasks disjoint.
    """
    votes, _, _ = make_crowd(n_tasks, 8, 3, votes_per_task=3, random_state=seed)
    task = votes.task_ids[votes.task]
    worker = votes.worker_ids[votes.worker]
    label = votes.classes[votes.label]
    rng = np.random.default_rng(seed)
    if split == "votes":
        part = rng.integers(0, n_batches, len(task))
    else:
        part = rng.permutation(np.arange(n_tasks) % n_batches)[task]
    batches = []
    for b in range(n_batches):
        batch = {}
        for t, w, lab in zip(task[part == b], worker[part == b], label[part == b],
                             strict=True):
            batch.setdefault(f"t{t}", {})[f"w{w}"] = int(lab)
        batches.append(batch)
    return batches


def feed(model, batches, **kwargs):
    for batch in batches:
        model.partial_fit(batch, classes=kwargs.get("classes", CLASSES))
    return model


def by_task(consensus):
    return dict(zip(consensus.task_ids.tolist(), consensus.proba.tolist(),
                    strict=True))


def assert_same_state(got, expected, atol=1e-9, same_order=True):
    """Same consensus (re-scored, and as stored when the batches came in the
    same order) and worker parameters."""
    for refresh in (True, False) if same_order else (True,):
        a = got.consensus(refresh=refresh)
        b = expected.consensus(refresh=refresh)
        if same_order:
            assert list(a.task_ids) == list(b.task_ids)
        a, b = by_task(a), by_task(b)
        assert a.keys() == b.keys()
        np.testing.assert_allclose([a[t] for t in b], list(b.values()),
                                   atol=atol, rtol=0)
    assert got.n_votes_seen_ == expected.n_votes_seen_
    assert got.n_batches_ == expected.n_batches_
    assert sorted(got.worker_ids_) == sorted(expected.worker_ids_)
    order = [list(got.worker_ids_).index(w) for w in expected.worker_ids_]
    for name in got._worker_param_names:
        np.testing.assert_allclose(getattr(got, name + "_")[order],
                                   getattr(expected, name + "_"), atol=atol, rtol=0)
    np.testing.assert_allclose(got.class_prior_, expected.class_prior_, atol=atol)


def raw(store, what):
    """The raw documents of one of the store's collections."""
    client = pymongo.MongoClient(store.uri, serverSelectionTimeoutMS=5000)
    try:
        return list(client[store.database][f"{store.model}.{what}"].find())
    finally:
        client.close()


# ----------------------------------------------------------------------
# a second real process, kept for the whole module (one import of skcrowd)
CHILD = r"""
import json, sys
from skcrowd import DawidSkene, Wawa
from skcrowd.stores import MongoStore
print("ready", flush=True)
for line in sys.stdin:
    job = json.loads(line)
    store = MongoStore(job["uri"], database=job["database"], model=job["model"],
                       transactions=job["transactions"])
    model = {"DawidSkene": DawidSkene, "Wawa": Wawa}[job["estimator"]](store=store)
    try:
        for batch in job["batches"]:
            model.partial_fit(batch, classes=job["classes"])
        answer = {"done": len(job["batches"])}
    except Exception as exc:
        answer = {"error": repr(exc)}
    store.close()
    print(json.dumps(answer), flush=True)
"""


class Child:
    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", CHILD], text=True,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.proc.stdout.readline().strip() == "ready"

    def start(self, store, estimator, batches):
        job = {"uri": store.uri, "database": store.database, "model": store.model,
               "transactions": store.transactions, "estimator": estimator,
               "batches": batches, "classes": CLASSES}
        self.proc.stdin.write(json.dumps(job) + "\n")
        self.proc.stdin.flush()

    def wait(self):
        line = self.proc.stdout.readline()
        assert line, "the child process died"
        return json.loads(line)

    def close(self):
        self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()  # by its own handle (PID), nothing broader
            self.proc.wait()
        self.proc.stdout.close()


@pytest.fixture(scope="module")
def child():
    process = Child()
    yield process
    process.close()


# ----------------------------------------------------------------------
@pytest.mark.parametrize("cls", [DawidSkene, Wawa])
@pytest.mark.parametrize("mode", MODES)
def test_same_posteriors_as_the_memory_store(cls, mode, mongo_store):
    batches = make_stream()
    store = mongo_store(transactions=mode)
    online = feed(cls(store=store), batches)
    assert store._use_txn is (mode == "auto")
    assert_same_state(online, feed(cls(), batches))


@pytest.mark.parametrize("mode", MODES)
def test_new_classes_mid_stream_match_the_memory_store(mode, mongo_store):
    # the tree-species walkthrough: batch 2 brings a new class
    first = {"task_A": {"u1": "Quercus robur", "u2": "Betula pendula"},
             "task_B": {"u3": "Pinus sylvestris"},
             "task_C": {"u1": "Fagus sylvatica", "u4": "Quercus robur"}}
    second = {"task_A": {"u3": "Quercus robur"},
              "task_D": {"u2": "Tilia cordata", "u5": "Tilia cordata"}}
    models = []
    for store in (None, mongo_store(transactions=mode)):
        model = DawidSkene(store=store, allow_new_classes=True)
        model.partial_fit(first).partial_fit(second)
        models.append(model)
    assert list(models[1].classes_) == list(models[0].classes_)
    assert "Tilia cordata" in models[1].classes_
    assert_same_state(*models)


@pytest.mark.parametrize("mode", MODES)
def test_resending_a_batch_is_a_no_op(mode, mongo_store):
    batches = make_stream(4)
    store = mongo_store(transactions=mode)
    model = feed(DawidSkene(store=store), batches)
    model.partial_fit(batches[0], classes=CLASSES, batch_id="explicit")
    before = store.meta()
    tasks = raw(store, "tasks")
    for batch, batch_id in ((batches[1], None), (batches[2], None),
                            (batches[3], "explicit")):
        model.partial_fit(batch, classes=CLASSES, batch_id=batch_id)
    assert store.meta() == before
    assert raw(store, "tasks") == tasks
    # the duplicate-key answer (11000) is what marks a batch as applied
    client = pymongo.MongoClient(store.uri)
    with pytest.raises(pymongo.errors.DuplicateKeyError) as info:
        client[store.database][f"{store.model}.batches"].insert_one(
            {"_id": "explicit"})
    client.close()
    assert info.value.code == 11000


@pytest.mark.parametrize("mode", MODES)
def test_two_processes_feeding_one_store_lose_nothing(mode, mongo_store, child):
    batches = make_stream(12, split="tasks", n_tasks=96, seed=1)
    store = mongo_store(transactions=mode)
    child.start(store, "Wawa", batches[1::2])
    model = Wawa(store=store)
    try:
        feed(model, batches[0::2])
    finally:
        assert child.wait() == {"done": 6}
    meta = MongoStore(store.uri, store.database, store.model).meta()
    reference = feed(Wawa(), batches)
    assert meta["n_votes"] == reference.n_votes_seen_ == sum(
        len(w) for b in batches for w in b.values())
    assert meta["n_tasks"] == 96
    assert meta["step"] == 12
    assert len(raw(store, "batches")) == 12
    # every vote is kept once; exact counts: the result of the serial run
    kept = store.all_votes()
    assert len(kept["task"]) == meta["n_votes"]
    model.partial_fit(batches[0], classes=CLASSES)  # a no-op that re-reads
    # tasks arrived interleaved: compare them by id
    assert_same_state(model, reference, atol=1e-12, same_order=False)


@pytest.mark.parametrize("mode", MODES)
def test_a_new_process_continues_where_the_last_stopped(mode, mongo_store, child):
    batches = make_stream(6, seed=2)
    store = mongo_store(transactions=mode)
    child.start(store, "DawidSkene", batches[:3])
    assert child.wait() == {"done": 3}
    resumed = DawidSkene(store=MongoStore(store.uri, store.database, store.model,
                                          transactions=mode))
    feed(resumed, batches[3:])
    # stepwise EM from the same state: the same numbers as without the break
    assert_same_state(resumed, feed(DawidSkene(), batches))


def test_drop_leaves_other_models_alone(mongo_store):
    batches = make_stream(3)
    keep, gone = mongo_store(), mongo_store()
    feed(DawidSkene(store=keep), batches)
    feed(DawidSkene(store=gone), batches)
    before = keep.meta(), raw(keep, "workers"), raw(keep, "tasks")
    gone.drop()
    assert gone.meta() is None
    assert raw(gone, "tasks") == [] and raw(gone, "workers") == []
    assert (keep.meta(), raw(keep, "workers"), raw(keep, "tasks")) == before
    # and the dropped name starts over
    model = feed(DawidSkene(store=gone), batches[:1])
    assert model.n_batches_ == 1


def _closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_unreachable_server_clear_error_nothing_changed(mongo_store):
    batches = make_stream(3)
    uri = f"mongodb://127.0.0.1:{_closed_port()}/?directConnection=true"
    model = DawidSkene(store=MongoStore(uri, model="trees", timeout=1))
    tic = time.monotonic()
    with pytest.raises(StoreUnavailableError, match=r"not reachable within 1 s"):
        model.partial_fit(batches[0], classes=CLASSES)
    assert time.monotonic() - tic < 15
    assert not hasattr(model, "store_") and not hasattr(model, "classes_")

    # a model whose server goes away: the estimator and the store keep
    # their state, and the batch is not half-applied
    store = mongo_store()
    good_uri = store.uri
    model = feed(DawidSkene(store=store), batches[:2])
    fitted = model.confusion_matrices_.copy(), model.n_batches_
    store.close()
    store.uri, store.timeout = uri, 1.0
    with pytest.raises(StoreUnavailableError, match="nothing was written"):
        model.partial_fit(batches[2], classes=CLASSES)
    np.testing.assert_array_equal(model.confusion_matrices_, fitted[0])
    assert model.n_batches_ == fitted[1] == 2
    store.uri, store.timeout = good_uri, 5.0
    store.close()
    assert MongoStore(good_uri, store.database, store.model).meta()["step"] == 2


class RecordingStore(MemoryStore):
    """A memory store that keeps the last batch the driver committed."""

    def commit(self, batch):
        self.batch = batch
        super().commit(batch)


def test_refuses_other_model_types_and_classes(mongo_store):
    batches = make_stream(2)
    store = mongo_store()
    feed(DawidSkene(store=store), batches[:1])
    again = MongoStore(store.uri, store.database, store.model)
    with pytest.raises(ValueError, match="holds a DawidSkene"):
        Wawa(store=again).partial_fit(batches[1], classes=CLASSES)
    with pytest.raises(ValueError, match=r"classes=\[0, 1, 2, 3\] differs"):
        DawidSkene(store=again).partial_fit(batches[1], classes=[0, 1, 2, 3])
    # the store checks too (a writer that read the state before it existed)
    recorder = RecordingStore()
    Wawa(store=recorder).partial_fit(batches[1], classes=CLASSES)
    with pytest.raises(ValueError, match="holds a DawidSkene model; this batch is"
                                         " for a Wawa"):
        again.commit(recorder.batch)
    recorder = RecordingStore()
    DawidSkene(store=recorder).partial_fit(
        {"t1": {"w1": "a", "w2": "b"}}, classes=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"holds classes \[0, 1, 2\]; this batch "
                                         r"has classes \['a', 'b', 'c'\]"):
        again.commit(recorder.batch)
    assert again.meta()["step"] == 1


@pytest.mark.parametrize("kwargs, match", [
    ({"database": "bad/name"}, "database='bad/name'"),
    ({"database": "with space"}, "database="),
    ({"database": ""}, "database=''"),
    ({"database": "x" * 64}, "database="),
    ({"model": "has.dot"}, "model='has.dot'"),
    ({"model": ""}, "model=''"),
    ({"model": "system"}, "model='system'"),
    ({"model": "m" * 65}, "model="),
    ({"model": 3}, "model=3"),
    ({"timeout": 0}, "timeout=0"),
    ({"transactions": "yes"}, "transactions='yes'"),
    ({"lease": -1}, "lease=-1"),
])
def test_invalid_configuration(kwargs, match):
    with pytest.raises(ValueError, match=match):
        MongoStore("mongodb://127.0.0.1:27017/", **kwargs)


@pytest.mark.parametrize("uri", ["http://127.0.0.1:27017", "127.0.0.1:27017",
                                 "mongodb://"])
def test_invalid_uri(uri):
    with pytest.raises(ValueError, match="uri="):
        MongoStore(uri)


def test_database_from_the_uri():
    assert MongoStore("mongodb://h:1/crowd?directConnection=true").database == "crowd"
    assert MongoStore("mongodb://h:1/").database == "skcrowd"
    store = MongoStore("mongodb://u:secret@h:1/", model="x")
    assert "secret" not in repr(store)


@pytest.mark.parametrize("mode", MODES)
def test_failure_mid_commit_leaves_nothing_half_written(mode, mongo_store,
                                                        monkeypatch):
    batches = make_stream(3)
    store = mongo_store(transactions=mode)
    model = feed(DawidSkene(store=store), batches[:2])
    before = store.meta()
    n_tasks = len(raw(store, "tasks"))
    real_bulk_write = Collection.bulk_write

    def crash_on_tasks(self, requests, *args, **kwargs):
        if self.name.endswith(".tasks"):  # the workers were written already
            raise RuntimeError("injected failure")
        return real_bulk_write(self, requests, *args, **kwargs)

    monkeypatch.setattr(Collection, "bulk_write", crash_on_tasks)
    with pytest.raises(RuntimeError, match="injected failure"):
        model.partial_fit(batches[2], classes=CLASSES)
    monkeypatch.undo()

    reference = feed(DawidSkene(), batches)
    seen = MongoStore(store.uri, store.database, store.model).meta()
    if mode == "auto":  # the transaction was aborted: nothing was written
        assert seen == before
        assert len(raw(store, "tasks")) == n_tasks
    else:  # the write-ahead record was rolled forward by that read
        assert seen["step"] == 3 and seen["n_votes"] == reference.n_votes_seen_
        assert all(r["state"] == "done" for r in raw(store, "batches"))
    # either way, sending the batch again ends where a clean run ends
    model.partial_fit(batches[2], classes=CLASSES)
    assert store.meta()["step"] == 3
    assert_same_state(model, reference)


def test_pickle_and_clone_never_carry_a_client(mongo_store):
    batches = make_stream(3)
    store = mongo_store()
    model = feed(DawidSkene(store=store), batches)
    assert store._client is not None
    state = store.__getstate__()
    assert "_client" not in state and "command_counts" not in state
    restored = pickle.loads(pickle.dumps(model))
    assert restored.store_._client is None  # reconnects lazily
    votes = batches[0]
    np.testing.assert_allclose(restored.predict_proba(votes),
                               model.predict_proba(votes))
    assert clone(model).store._client is None


@pytest.mark.parametrize("mode", MODES)
def test_round_trips_per_batch_do_not_grow_with_votes(mode, mongo_store):
    # the same tasks and workers, once with one vote per pair, once with three
    pairs = pd.DataFrame([(f"t{t}", f"w{w}", (t + w) % 3) for t in range(20)
                          for w in range(4)], columns=["task", "worker", "label"])
    counts = []
    for repeat in (1, 3):
        store = mongo_store(transactions=mode)
        model = DawidSkene(store=store)
        model.partial_fit(pairs.iloc[::2], classes=CLASSES)
        store.command_counts.clear()
        model.partial_fit(pd.concat([pairs] * repeat), classes=CLASSES)
        counts.append({(cmd, coll.replace(store.model, "M")): n
                       for (cmd, coll), n in store.command_counts.items()})
        writes = {what: sum(n for (cmd, coll), n in store.command_counts.items()
                            if coll == f"{store.model}.{what}"
                            and cmd in ("insert", "update"))
                  for what in ("workers", "tasks")}
        # one bulk write per collection; pymongo sends the inserts of new
        # documents and the updates of known ones as one command each
        assert writes == {"workers": 2, "tasks": 1}  # w1, w3 are new
    assert counts[0] == counts[1]


def test_documents_hold_plain_values_only(mongo_store):
    store = mongo_store(transactions=False)
    feed(Wawa(store=store), make_stream(3))
    allowed = (str, int, float, type(None))

    def check(value):
        if isinstance(value, dict):
            for key, item in value.items():
                assert isinstance(key, str)
                check(item)
        elif isinstance(value, list):
            for item in value:
                check(item)
        else:
            assert isinstance(value, allowed), type(value)

    for what in ("meta", "workers", "tasks", "batches"):
        docs = raw(store, what)
        assert docs
        for doc in docs:
            check(doc)
    worker = raw(store, "workers")[0]
    assert set(worker) == {"_id", "o", "s"}
    assert set(worker["s"]) == {"agreed", "given"}
