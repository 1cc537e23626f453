"""MongoStore: database commands per batch, counted with pymongo's command
monitoring against the real test server (see conftest.py).

A batch costs a fixed number of commands on the global documents, one bulk
write per collection (pymongo sends the inserts of new documents and the
updates of known ones as one command each), and reads of its own tasks and
workers by ``_id`` in chunks of ``_IN_CHUNK`` ids: O(tasks + workers of the
batch), never O(votes), and independent of how much the store already holds.
"""

import math

import pandas as pd
import pytest

from skcrowd import DawidSkene
from skcrowd.stores.mongo import _IN_CHUNK

CLASSES = [0, 1, 2]


def batch(tasks, workers, votes_per_task=3, offset=0):
    rows = [(f"t{t}", f"w{(t * 7 + v * 3 + offset) % workers}", (t + v) % 3)
            for t in range(tasks) for v in range(votes_per_task)]
    return pd.DataFrame(rows, columns=["task", "worker", "label"])


def per_collection(store):
    counts = {}
    for (command, collection), n in store.command_counts.items():
        what = collection.replace(store.model + ".", "") if collection else "-"
        counts[f"{command}:{what}"] = counts.get(f"{command}:{what}", 0) + n
    return counts


@pytest.mark.parametrize("mode", ["auto", False])
@pytest.mark.parametrize("n_tasks, n_workers", [(40, 12), (300, 200)])
def test_commands_per_batch_grow_with_its_tasks_and_workers_only(
        mode, n_tasks, n_workers, mongo_store):
    store = mongo_store(transactions=mode)
    model = DawidSkene(store=store)
    model.partial_fit(batch(10, 5), classes=CLASSES)  # creates the state
    # the same tasks again (updates of known task documents), and all the
    # workers, a few of them known
    for repeat in range(2):
        store.command_counts.clear()
        model.partial_fit(batch(n_tasks, n_workers, offset=repeat), classes=CLASSES)
        counts = per_collection(store)
        reads = {"find:tasks": math.ceil(n_tasks / _IN_CHUNK),
                 "find:workers": math.ceil(n_workers / _IN_CHUNK)}
        for name, expected in reads.items():
            assert counts.pop(name) == expected, name
        # one bulk write per collection: at most one insert and one update
        writes = {}
        for what in ("tasks", "workers"):
            writes[what] = [counts.pop(f"{cmd}:{what}", 0)
                            for cmd in ("insert", "update")]
            assert 1 <= sum(writes[what]) <= 2 and max(writes[what]) == 1, writes
        if repeat:  # every task known: only updates
            assert writes["tasks"] == [0, 1]
        # the rest is a fixed number of commands on the global documents
        assert sum(counts.values()) <= 8, counts
        assert not any(cmd in ("getMore", "delete", "aggregate")
                       for cmd in (key.split(":")[0] for key in counts)), counts
