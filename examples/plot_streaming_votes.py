"""
Streaming votes: learning online, in memory and in MongoDB
==========================================================

Votes arrive in batches from a labeling app. ``partial_fit`` updates the
model with each batch without reprocessing history: a task seen again is
re-scored with all its votes, new workers and new classes may appear, and
``consensus()`` gives the current answer for every task seen so far.

The same stream runs twice: with the default in-memory store, and with a
:class:`~skcrowd.stores.MongoStore` when a MongoDB server is reachable
(``MONGODB_URI``, else ``mongodb://127.0.0.1:27017``). With MongoDB the state
lives in the database: several processes can feed one model, and a new
process continues where the last one stopped. The project's test server
starts with ``bash scripts/mongo_test_server.sh start`` (it prints its URI).

Run it as ``python examples/plot_streaming_votes.py [figure.png]``.
"""

import os
import sys

from skcrowd import OneCoinDawidSkene

# %%
# Two batches of tree-species votes, as dicts of dicts {task: {worker: label}}.
# The second brings more votes on task_A and task_B, new tasks, a new worker
# and a new class, "Tilia cordata".
BATCHES = [
    {
        "task_A": {"user_001": "Quercus robur", "user_002": "Betula pendula"},
        "task_B": {"user_003": "Pinus sylvestris"},
        "task_C": {"user_001": "Fagus sylvatica", "user_004": "Quercus robur"},
        "task_D": {"user_002": "Betula pendula", "user_005": "Acer platanoides"},
    },
    {
        "task_A": {"user_003": "Quercus robur", "user_005": "Quercus robur"},
        "task_B": {"user_001": "Pinus sylvestris", "user_004": "Pinus sylvestris"},
        "task_E": {"user_002": "Tilia cordata", "user_006": "Tilia cordata"},
        "task_F": {"user_001": "Acer platanoides", "user_003": "Acer platanoides",
                   "user_006": "Tilia cordata"},
        "task_G": {"user_004": "Fagus sylvatica", "user_005": "Fagus sylvatica"},
    },
]


def reliability(model):
    """Each worker's probability of answering right (one-coin model)."""
    return dict(zip(model.worker_ids_.tolist(), model.worker_accuracy_.tolist(),
                    strict=True))


def stream(store, title):
    """Feed the batches, print the answers and reliabilities after each."""
    print(f"\n=== {title} ===")
    # One accuracy per worker (a handful of votes cannot fit a full confusion
    # matrix per worker), with a Dirichlet(2) prior (alpha=1) on each, fitting
    # for so few votes. New classes may appear mid-stream (otherwise pass
    # classes= to the first partial_fit).
    model = OneCoinDawidSkene(alpha=1.0, store=store, allow_new_classes=True)
    history = []
    for number, batch in enumerate(BATCHES, start=1):
        model.partial_fit(batch)
        answers = model.consensus()
        print(f"after batch {number}: {model.n_votes_seen_} votes, "
              f"classes {[str(c) for c in model.classes_]}")
        for task, label, proba in zip(answers.task_ids, answers.labels,
                                      answers.proba.max(axis=1), strict=True):
            print(f"  {task}: {label:<17} ({proba:.2f})")
        history.append(reliability(model))
        print("  worker reliability: " + ", ".join(
            f"{w} {r:.2f}" for w, r in sorted(history[-1].items())))
    return history


def mongodb_store():
    """A MongoStore when a server answers, else None."""
    from skcrowd.stores import MongoStore, StoreUnavailableError

    uri = os.environ.get("MONGODB_URI",
                         "mongodb://127.0.0.1:27017/?directConnection=true")
    store = MongoStore(uri, database="skcrowd_examples", model="trees", timeout=2)
    try:
        store.drop()  # start the walkthrough from scratch
    except StoreUnavailableError:
        print(f"\n(no MongoDB server at {uri}: set MONGODB_URI, or run "
              "`bash scripts/mongo_test_server.sh start`, to replay the stream "
              "in MongoDB)")
        return None
    return store


histories = {"in memory": stream(None, "in-memory store")}
store = mongodb_store()
if store is not None:
    histories["MongoDB"] = stream(store, f"MongoDB store ({store!r})")
    store.close()

# %%
# Worker reliabilities over time (one line per worker; dashed: MongoDB, which
# gives the same numbers).
try:
    import matplotlib.pyplot as plt
except ImportError:
    plt = None
if plt is not None:
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for (name, history), style in zip(histories.items(), ("-", "--"),
                                      strict=False):
        workers = sorted(set().union(*history))
        for i, worker in enumerate(workers):
            ax.plot([b + 1 for b, h in enumerate(history) if worker in h],
                    [h[worker] for h in history if worker in h], style,
                    marker="o", color=f"C{i}",
                    label=worker if name == "in memory" else None)
    ax.set_xlabel("batch")
    ax.set_ylabel("P(correct answer)")
    ax.set_xticks(range(1, len(BATCHES) + 1))
    ax.set_title("Worker reliability as the votes stream in")
    ax.legend(fontsize="small", ncol=2)
    fig.tight_layout()
    if len(sys.argv) > 1:
        fig.savefig(sys.argv[1], dpi=100)
        print(f"\nfigure written to {sys.argv[1]}")
    elif plt.get_backend().lower() != "agg":
        plt.show()
