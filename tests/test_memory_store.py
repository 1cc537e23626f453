"""MemoryStore: numpy-backed id maps, per-task vote chains, the window of open
tasks (``max_tasks``), and the compiled worker-slot hash."""

import pickle
import zlib

import numpy as np
import pandas as pd
import pytest

from skcrowd import DawidSkene, MajorityVote, Votes
from skcrowd._online import worker_slots
from skcrowd.stores import MemoryStore
from skcrowd.stores.memory import _Ids


def interleaved_stream(n_tasks=60, n_batches=12, seed=0, spread=2):
    """Long-table batches where each task's votes arrive over ``spread``
    consecutive batches (tasks come back, then close)."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, 3, n_tasks)
    rows = []
    for t in range(n_tasks):
        start = t * (n_batches - spread + 1) // n_tasks
        for v in range(6):
            worker = int(rng.integers(0, 15))
            label = truth[t] if rng.random() < 0.7 else int(rng.integers(0, 3))
            rows.append((start + v % spread, t, worker, int(label)))
    frame = pd.DataFrame(rows, columns=["batch", "task", "worker", "label"])
    return [part.drop(columns="batch") for _, part in frame.groupby("batch")]


def by_task(consensus):
    return dict(zip(consensus.task_ids.tolist(), consensus.proba.tolist(),
                    strict=True))


@pytest.mark.parametrize("ids", ["int", "str"])
def test_ids_map_by_value_in_arrival_order(ids):
    index = _Ids()
    values = np.array([5, -3, 2**62, 0, 5, 7])
    if ids == "str":
        values = values.astype(str)
    np.testing.assert_array_equal(index.add(values), [0, 1, 2, 3, 0, 4])
    query = values[[5, 3, 1]].tolist() + (["99"] if ids == "str" else [99])
    np.testing.assert_array_equal(index.codes(np.array(query)), [4, 3, 1, -1])
    assert index.array().tolist() == np.unique(values, return_index=True)[0][
        np.argsort(np.unique(values, return_index=True)[1])].tolist()
    index.keep(np.array([1, 3]))
    assert index.array().tolist() == values[[1, 3]].tolist()
    np.testing.assert_array_equal(index.codes(values[[3, 1, 0]]), [1, 0, -1])


def test_integer_ids_then_strings_switch_to_a_dict():
    index = _Ids()
    rng = np.random.default_rng(0)
    big = rng.integers(-2**63, 2**63 - 1, 5000)
    codes = index.add(big)
    np.testing.assert_array_equal(index.codes(big), codes)
    np.testing.assert_array_equal(index.array()[codes], big)
    assert index.add(["x", big[3]]).tolist() == [len(np.unique(big)), codes[3]]
    assert index.codes(["x", big[0], "y"]).tolist() == [len(np.unique(big)),
                                                        codes[0], -1]


def test_integer_worker_slots_are_the_crc32_of_the_repr():
    rng = np.random.default_rng(1)
    ids = np.concatenate([[0, 1, -1, 9, 10, -(2**63), 2**63 - 1],
                          rng.integers(-2**63, 2**63 - 1, 2000)])
    expected = [zlib.crc32(repr(int(w)).encode()) % 997 for w in ids]
    np.testing.assert_array_equal(worker_slots(ids, 997), expected)
    np.testing.assert_array_equal(worker_slots(ids[:5].astype(np.int32), 997),
                                  expected[:5])
    strings = np.array(["w1", "w2"])
    assert worker_slots(strings, 997).tolist() == [
        zlib.crc32(repr(w).encode()) % 997 for w in ["w1", "w2"]]


@pytest.mark.parametrize("ids", ["int", "str"])
def test_tasks_coming_back_are_rescored_with_all_their_votes(ids):
    # counting models are exact: any split must give fit on everything
    batches = interleaved_stream()
    if ids == "str":
        batches = [b.assign(task="t" + b["task"].astype(str),
                            worker="w" + b["worker"].astype(str)) for b in batches]
    full = MajorityVote().fit(pd.concat(batches))
    online = MajorityVote()
    for batch in batches:
        online.partial_fit(batch, classes=[0, 1, 2])
    got = by_task(online.consensus())
    expected = dict(zip(full.task_ids_.tolist(), full.consensus_proba_.tolist(),
                        strict=True))
    assert got.keys() == expected.keys()
    for task in expected:
        np.testing.assert_allclose(got[task], expected[task], atol=1e-12)


@pytest.mark.parametrize("cls", [MajorityVote, DawidSkene])
def test_a_window_wider_than_the_open_tasks_changes_nothing(cls):
    # each task collects votes over 2 consecutive batches, 5 tasks per batch:
    # a window of 12 tasks (clean-ups above 18) holds every open task
    batches = interleaved_stream()
    unbounded = cls()
    bounded = cls(store=MemoryStore(max_tasks=12))
    for batch in batches:
        unbounded.partial_fit(batch, classes=[0, 1, 2])
        bounded.partial_fit(batch, classes=[0, 1, 2])
    held = bounded.consensus()
    assert 12 <= len(held.task_ids) <= 18
    everything = by_task(unbounded.consensus())
    for task, proba in by_task(held).items():
        np.testing.assert_allclose(proba, everything[task], atol=1e-12)
    assert bounded.n_votes_seen_ == unbounded.n_votes_seen_
    assert bounded.n_batches_ == unbounded.n_batches_
    order = [list(bounded.worker_ids_).index(w) for w in unbounded.worker_ids_]
    for name in bounded._param_names:
        got, expected = getattr(bounded, name + "_"), getattr(unbounded, name + "_")
        if name in bounded._worker_param_names:
            got = got[order]
        np.testing.assert_allclose(got, expected, atol=1e-12)


def test_the_window_bounds_the_state_and_forgets_the_oldest_tasks():
    store = MemoryStore(max_tasks=100)
    model = DawidSkene(store=store)
    rng = np.random.default_rng(0)
    for b in range(30):
        task = np.repeat(np.arange(20, dtype=np.int32), 5)
        votes = Votes(task, rng.integers(0, 8, 100), rng.integers(0, 3, 100),
                      task_ids=np.arange(20 * b, 20 * (b + 1)),
                      worker_ids=np.arange(8), classes=np.arange(3))
        model.partial_fit(votes, classes=[0, 1, 2])
        assert len(store._tasks) <= 150
        assert store._votes["task"].size == 5 * len(store._tasks)
    held = model.consensus().task_ids
    assert held.tolist() == list(range(600 - len(held), 600))  # the newest
    assert model.n_votes_seen_ == 3000


def test_a_forgotten_task_coming_back_is_scored_with_its_new_votes():
    model = MajorityVote(store=MemoryStore(max_tasks=1))
    model.partial_fit({"old": {"a": "x", "b": "x", "c": "x"}}, classes=["x", "y"])
    model.partial_fit({"t1": {"a": "x"}})
    model.partial_fit({"t2": {"a": "x"}})  # "old" leaves the window
    assert "old" not in model.consensus().task_ids.tolist()
    model.partial_fit({"old": {"d": "y"}})
    consensus = by_task(model.consensus())
    assert consensus["old"] == [0.0, 1.0]  # its three earlier votes are gone


def test_pickled_bounded_store_continues_identically():
    batches = interleaved_stream()
    model = DawidSkene(store=MemoryStore(max_tasks=10))
    for batch in batches[:6]:
        model.partial_fit(batch, classes=[0, 1, 2])
    copy = pickle.loads(pickle.dumps(model))
    for batch in batches[6:]:
        model.partial_fit(batch)
        copy.partial_fit(batch)
    np.testing.assert_array_equal(copy.consensus().proba, model.consensus().proba)
    np.testing.assert_array_equal(copy.confusion_matrices_,
                                  model.confusion_matrices_)


@pytest.mark.parametrize("max_tasks", [0, -5, 2.5, True, "10"])
def test_bad_max_tasks_is_named(max_tasks):
    with pytest.raises(ValueError, match="max_tasks="):
        MemoryStore(max_tasks=max_tasks)


def test_drop_keeps_the_configuration():
    store = MemoryStore(max_tasks=7)
    MajorityVote(store=store).partial_fit({"t": {"a": 0}})
    store.drop()
    assert store.meta() is None and store.max_tasks == 7
