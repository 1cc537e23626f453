"""Throughput of ``partial_fit`` in memory and in MongoDB, and the memory of a
stream of 10M votes from 1M distinct workers with ``n_worker_slots``.

    python benchmarks/online_speed.py                 # everything
    python benchmarks/online_speed.py --quick         # smaller runs
    python benchmarks/online_speed.py --only memory mongodb
    MONGODB_URI=mongodb://host:27017/ python benchmarks/online_speed.py

Figures (issue 4, "Speed it must reach"):

``memory``
    DawidSkene, K=5, batches of 10,000 votes (1,000 tasks x 10 votes, 2,000
    workers, ``skcrowd.simulation.make_crowd``), in-memory store: votes/s
    through ``partial_fit``, best of 3 (target >= 1M votes/s, issue 7's
    ambition 5M), by the wall clock and per CPU second of this process (the
    second does not move with the machine's load), with the defaults (the
    first batch is fit to convergence, later ones take up to 2 stepwise-EM
    iterations) and with ``max_iter=1`` (one E-step per batch, classic
    stepwise EM), and the accuracy reached against ``fit`` on everything.
``mongodb``
    The same model and batch size against a MongoDB server: ``MONGODB_URI``,
    else the project's test server (``scripts/mongo_test_server.sh start``,
    SecantusDB's Python server, stopped again at the end). Target >= 20k
    votes/s on the test server. Also printed: the database commands per batch,
    by collection (reads and writes), which depend on the numbers of tasks and
    workers in the batch, never on its number of votes. Run with transactions
    (the test server supports them) and with the write-ahead lease
    (``transactions=False``, what a standalone mongod uses).
``slots``
    10M votes from 1M distinct workers streamed through an in-memory
    DawidSkene with ``n_worker_slots=2**14`` and
    ``store=MemoryStore(max_tasks=100_000)`` (a window of open tasks), in a
    fresh process; the resident memory is printed after every 1M votes with
    the kept votes, the tasks held and the worker state: all stay flat. For
    comparison (``--no-compare`` skips them) the same stream with slots but
    every vote kept (the kept votes grow with the stream by design), and
    without slots (the worker state grows too).

The machine's load average is printed with every figure: the test server is a
Python process sharing the same 2 cores, so its figure moves with the load.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import load_average, peak_mb, rss_mb  # noqa: E402

K = 5
BATCH_VOTES = 10_000
VOTES_PER_TASK = 10


def _load():
    return "load average {:.1f} {:.1f} {:.1f}".format(*load_average())


def make_batches(n_tasks, n_workers, seed=0):
    """A make_crowd stream cut into batches of 1,000 tasks (10,000 votes)."""
    from skcrowd.simulation import make_crowd

    votes, y_true, _ = make_crowd(n_tasks, n_workers, K,
                                  votes_per_task=VOTES_PER_TASK, random_state=seed)
    step = BATCH_VOTES // VOTES_PER_TASK
    batches = [votes[np.arange(s, min(s + step, n_tasks))]
               for s in range(0, n_tasks, step)]
    return votes, y_true, batches


def stream(model, batches):
    tic = time.perf_counter()
    for batch in batches:
        model.partial_fit(batch, classes=np.arange(K))
    return time.perf_counter() - tic


def stream_cpu(model, batches):
    """Wall-clock and CPU seconds of this process for the stream."""
    cpu = time.process_time()
    wall = stream(model, batches)
    return wall, time.process_time() - cpu


# ----------------------------------------------------------------------
def figure_memory(quick):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skcrowd import DawidSkene

    n_tasks = 20_000 if quick else 100_000
    votes, y_true, batches = make_batches(n_tasks, 2_000)
    print(f"\n[memory] DawidSkene K={K}, {len(batches)} batches of {BATCH_VOTES} "
          f"votes, 2,000 workers ({_load()})")
    full = DawidSkene().fit(votes)
    accuracy = np.mean(full.consensus_label_ == y_true)
    print(f"  fit on everything: accuracy {accuracy:.4f}")
    stream(DawidSkene(), batches[:2])  # JIT warm-up
    figures = {}
    for params in ({}, {"max_iter": 1}):
        best_wall = best_cpu = np.inf
        for _ in range(1 if quick else 3):
            model = DawidSkene(**params)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                wall, cpu = stream_cpu(model, batches)
            best_wall, best_cpu = min(best_wall, wall), min(best_cpu, cpu)
        accuracy = np.mean(model.consensus().labels == y_true)
        rate = votes.n_votes / best_wall
        print(f"  partial_fit {params or 'defaults'}: {rate:,.0f} votes/s "
              f"({best_wall:.2f} s for {votes.n_votes:,} votes; target >= "
              f"1,000,000), {votes.n_votes / best_cpu:,.0f} votes per CPU second, "
              f"accuracy {accuracy:.4f} [{_load()}]")
        figures[str(params or "defaults")] = {
            "votes_per_s": rate, "votes_per_cpu_s": votes.n_votes / best_cpu,
            "accuracy": float(accuracy)}
    return figures


# ----------------------------------------------------------------------
def _server_uri():
    """MONGODB_URI, or the test server (started here, stopped at exit)."""
    uri = os.environ.get("MONGODB_URI")
    if uri:
        return uri, False
    script = ROOT / "scripts" / "mongo_test_server.sh"
    running = subprocess.run(["bash", str(script), "uri"], capture_output=True,
                             text=True, check=False)
    if running.returncode == 0:
        return running.stdout.split()[-1], False
    started = subprocess.run(["bash", str(script), "start"], capture_output=True,
                             text=True, check=False)
    if started.returncode != 0:
        raise RuntimeError(f"cannot start the test server: {started.stderr[-1000:]}")
    return started.stdout.split()[-1], True


def _per_batch(counts, n_batches, model_name):
    per = Counter()
    for (command, collection), n in counts.items():
        what = collection.replace(model_name + ".", "") or "-"
        per[f"{command}:{what}"] += n
    return ", ".join(f"{k} {v / n_batches:.1f}" for k, v in sorted(per.items()))


def figure_mongodb(quick):
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skcrowd import DawidSkene
    from skcrowd.stores import MongoStore

    uri, started = _server_uri()
    try:
        from pymongo import MongoClient

        with MongoClient(uri, serverSelectionTimeoutMS=5000) as client:
            hello = client.admin.command("hello")
        kind = "replica set" if hello.get("setName") else "standalone"
        print(f"\n[mongodb] server {uri} ({kind}); DawidSkene K={K}, batches of "
              f"{BATCH_VOTES} votes = 1,000 tasks x 10 votes ({_load()})")
        n_batches = 3 if quick else 6
        for n_workers in (200, 2_000):
            _, _, batches = make_batches(1_000 * (n_batches + 1), n_workers, seed=1)
            for transactions in ("auto", False):
                store = MongoStore(uri, database="skcrowd_bench",
                                   model=f"speed{n_workers}", transactions=transactions)
                store.drop()
                model = DawidSkene(store=store)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    stream(model, batches[:1])  # creates the state; not timed
                    store.command_counts.clear()
                    seconds = stream(model, batches[1:])
                n_votes = sum(b.n_votes for b in batches[1:])
                mode = "transactions" if store._use_txn else "write-ahead lease"
                distinct = np.mean([len(np.unique(b.worker)) for b in batches[1:]])
                print(f"  {n_workers:>5} workers ({distinct:.0f} per batch), {mode}: "
                      f"{n_votes / seconds:,.0f} votes/s ({seconds / n_batches:.2f} "
                      f"s per batch; target >= 20,000) [{_load()}]")
                print("      commands per batch: "
                      + _per_batch(store.command_counts, n_batches, store.model))
                store.drop()
                store.close()
    finally:
        if started:
            subprocess.run(["bash", str(ROOT / "scripts" / "mongo_test_server.sh"),
                            "stop"], check=False, capture_output=True)


# ----------------------------------------------------------------------
def slots_child(n_votes, n_slots, max_tasks):
    """Stream n_votes from 1M distinct workers; print JSON lines of memory."""
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skcrowd import DawidSkene, Votes
    from skcrowd.stores import MemoryStore

    n_workers = 1_000_000
    rng = np.random.default_rng(0)
    accuracy = 0.5 + 0.45 * rng.random(n_workers)
    n_tasks = BATCH_VOTES // VOTES_PER_TASK
    store = MemoryStore(max_tasks=max_tasks)
    model = DawidSkene(max_iter=1, n_worker_slots=n_slots, store=store)
    baseline = rss_mb()
    tic = time.perf_counter()
    seen = 0
    report_every = 1_000_000
    for b in range(n_votes // BATCH_VOTES):
        truth = rng.integers(0, K, n_tasks)
        task = np.repeat(np.arange(n_tasks), VOTES_PER_TASK)
        worker = rng.integers(0, n_workers, BATCH_VOTES)
        right = rng.random(BATCH_VOTES) < accuracy[worker]
        label = np.where(right, truth[task],
                         (truth[task] + rng.integers(1, K, BATCH_VOTES)) % K)
        ids, codes = np.unique(worker, return_inverse=True)
        votes = Votes(task.astype(np.int32), codes.astype(np.int32),
                      label.astype(np.int32), np.ones(BATCH_VOTES),
                      task_ids=np.arange(b * n_tasks, (b + 1) * n_tasks),
                      worker_ids=ids, classes=np.arange(K))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(votes, classes=np.arange(K))
        seen += BATCH_VOTES
        if seen % report_every == 0:
            kept = sum(g.data.nbytes for g in store._votes.values())
            kept += store._previous.data.nbytes
            worker_state = sum(g.data.nbytes for g in store._worker_stats.values())
            print(json.dumps({
                "votes": seen, "seconds": time.perf_counter() - tic,
                "rss_mb": rss_mb(), "peak_mb": peak_mb(), "baseline_mb": baseline,
                "kept_votes_mb": kept / 2**20,
                "tasks": len(store._tasks), "workers": len(store._workers),
                "worker_state_mb": worker_state / 2**20}), flush=True)


def figure_slots(quick, compare):
    n_votes = 1_000_000 if quick else 10_000_000
    runs = [(2**14, 100_000)] + ([(2**14, None), (None, None)] if compare else [])
    for n_slots, max_tasks in runs:
        label = (f"n_worker_slots={n_slots}, "
                 f"store=MemoryStore(max_tasks={max_tasks})")
        print(f"\n[slots] {n_votes:,} votes from 1,000,000 distinct workers, "
              f"DawidSkene(max_iter=1, {label}) ({_load()})")
        print(f"  {'votes':>11} {'seconds':>8} {'RSS MB':>8} {'peak MB':>8} "
              f"{'kept votes MB':>13} {'tasks held':>10} {'worker rows':>11} "
              f"{'worker state MB':>15}")
        child = subprocess.Popen(
            [sys.executable, __file__, "--slots-child", str(n_votes),
             str(n_slots or 0), str(max_tasks or 0)], stdout=subprocess.PIPE,
            text=True)
        for line in child.stdout:
            row = json.loads(line)
            print(f"  {row['votes']:>11,} {row['seconds']:>8.1f} {row['rss_mb']:>8.0f} "
                  f"{row['peak_mb']:>8.0f} {row['kept_votes_mb']:>13.0f} "
                  f"{row['tasks']:>10,} {row['workers']:>11,} "
                  f"{row['worker_state_mb']:>15.1f}")
        child.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", nargs="+", choices=["memory", "mongodb", "slots"])
    parser.add_argument("--no-compare", action="store_true",
                        help="skip the slots run without n_worker_slots")
    parser.add_argument("--slots-child", nargs=3, type=int, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.slots_child:
        n_votes, n_slots, max_tasks = args.slots_child
        slots_child(n_votes, n_slots or None, max_tasks or None)
        return
    only = args.only or ["memory", "mongodb", "slots"]
    if "memory" in only:
        figure_memory(args.quick)
    if "mongodb" in only:
        figure_mongodb(args.quick)
    if "slots" in only:
        figure_slots(args.quick, not args.no_compare)


if __name__ == "__main__":
    main()
