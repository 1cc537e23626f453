"""DawidSkene on a local Dask cluster against the same fit in one process.

    python benchmarks/dask_speed.py                  # 10M votes
    python benchmarks/dask_speed.py --quick          # 1M votes
    python benchmarks/dask_speed.py --n-votes 3000000 --json

The crowd is ``skcrowd.simulation.make_crowd`` with 10 votes per task, K=5 and
one worker per 50 tasks (1M votes: 100k tasks x 2,000 workers; 10M votes: 1M
tasks x 20,000 workers, the ``CROWDS`` of ``benchmarks/run.py``), as a long
pandas table (task, worker, label) in shuffled row order, so that a task's
votes are spread over every partition.

Both fits are ``DawidSkene(max_iter=100, tol=0)`` from that table: exactly 100
EM iterations. ``local`` is ``fit(frame)`` (best of 3 in ``--quick`` mode, else
one run); ``dask`` is ``fit(ddf)`` on a ``LocalCluster`` of 2 worker processes
(one thread each) bound to 127.0.0.1, the table cut into 4 partitions and
scattered to the workers first (as if read there; the time to scatter it is
printed apart); the fit moves the votes into one partition per worker
thread. Both sides are warmed up first by a fit on 1,000 votes (imports and
numba's compiled kernels loaded in every process). The dask time includes
coding the identifiers, moving each task's votes to one partition and
gathering the posteriors on the client.
Printed: both times, the overhead ratio (dask / local), the per-iteration
times, and the largest absolute difference of the fitted parameters and
posteriors (they must agree to 1e-8: the same EM, statistics summed in another
order).

``run(n_votes, quick=False)`` returns the same figures as a dict (used by
``benchmarks/run.py``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

VOTES_PER_TASK = 10
N_CLASSES = 5
TASKS_PER_WORKER = 50
N_PARTITIONS = 4
EM_100 = {"max_iter": 100, "tol": 0.0}


def make_frame(n_votes, seed=0):
    """The long table of ``n_votes`` simulated votes, rows shuffled."""
    import pandas as pd

    from skcrowd.simulation import make_crowd

    n_tasks = max(n_votes // VOTES_PER_TASK, 1)
    n_workers = max(n_tasks // TASKS_PER_WORKER, VOTES_PER_TASK)
    votes, _, _ = make_crowd(n_tasks, n_workers, N_CLASSES,
                             votes_per_task=VOTES_PER_TASK, random_state=seed)
    order = np.random.default_rng(seed).permutation(votes.n_votes)
    frame = pd.DataFrame({
        "task": votes.task_ids[votes.task[order]],
        "worker": votes.worker_ids[votes.worker[order]],
        "label": votes.classes[votes.label[order]],
    })
    return frame, n_tasks, n_workers


def _best(func, repeats):
    times, result = [], None
    for _ in range(repeats):
        tic = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - tic)
    return min(times), result


def run(n_votes, quick=False):
    """Local and Dask fit times of DawidSkene on ``n_votes`` votes.

    Returns a dict: sizes, ``local_seconds``, ``dask_seconds``,
    ``overhead_ratio`` (dask / local), per-iteration times, the time to
    start the cluster and to persist the votes on it, and
    ``max_abs_diff_params`` / ``max_abs_diff_posterior`` between the fits.
    """
    import dask.dataframe as dd
    from distributed import Client, LocalCluster, wait

    from skcrowd import DawidSkene

    frame, n_tasks, n_workers = make_frame(n_votes)
    warm_up = frame.iloc[:1000]
    DawidSkene(max_iter=2, tol=0).fit(warm_up)
    repeats = 3 if quick else 1
    local_seconds, local = _best(lambda: DawidSkene(**EM_100).fit(frame), repeats)

    tic = time.perf_counter()
    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=":0")
    client = Client(cluster)
    start_seconds = time.perf_counter() - tic
    try:
        DawidSkene(max_iter=2, tol=0).fit(dd.from_pandas(warm_up, npartitions=2))
        tic = time.perf_counter()
        # the partitions go straight to the workers (not inside a task graph)
        cuts = np.linspace(0, len(frame), N_PARTITIONS + 1).astype(int)
        pieces = client.scatter([frame.iloc[a:b] for a, b in zip(
            cuts[:-1], cuts[1:], strict=True)])
        wait(pieces)
        ddf = dd.from_delayed(pieces, meta=frame.iloc[:0])
        persist_seconds = time.perf_counter() - tic
        dask_seconds, remote = _best(lambda: DawidSkene(**EM_100).fit(ddf), repeats)
    finally:
        client.close()
        cluster.close()

    diff_params = max(
        float(np.max(np.abs(getattr(remote, name + "_") - getattr(local, name + "_"))))
        for name in local._param_names)
    diff_posterior = float(np.max(np.abs(remote.consensus_proba_
                                         - local.consensus_proba_)))
    same_ids = bool(np.array_equal(remote.task_ids_, local.task_ids_)
                    and np.array_equal(remote.worker_ids_, local.worker_ids_))
    return {
        "n_votes": int(len(frame)),
        "n_tasks": int(n_tasks),
        "n_workers": int(n_workers),
        "n_classes": N_CLASSES,
        "n_iter": int(remote.n_iter_),
        "n_partitions": N_PARTITIONS,
        "dask_workers": 2,
        "repeats": repeats,
        "local_seconds": round(local_seconds, 3),
        "dask_seconds": round(dask_seconds, 3),
        "overhead_ratio": round(dask_seconds / local_seconds, 2),
        "local_ms_per_iteration": round(1000 * local_seconds / local.n_iter_, 2),
        "dask_ms_per_iteration": round(1000 * dask_seconds / remote.n_iter_, 2),
        "cluster_start_seconds": round(start_seconds, 2),
        "persist_seconds": round(persist_seconds, 2),
        "max_abs_diff_params": diff_params,
        "max_abs_diff_posterior": diff_posterior,
        "same_iterations": bool(remote.n_iter_ == local.n_iter_),
        "same_ids": same_ids,
        "load_average": round(os.getloadavg()[0], 2),
    }


def _table(result):
    rows = [
        ("votes", f"{result['n_votes']:,}"),
        ("tasks x workers x classes",
         f"{result['n_tasks']:,} x {result['n_workers']:,} x {result['n_classes']}"),
        ("iterations (tol=0)", str(result["n_iter"])),
        (f"local fit (best of {result['repeats']})",
         f"{result['local_seconds']:.2f} s"),
        ("dask fit, 2 workers, "
         f"{result['n_partitions']} partitions", f"{result['dask_seconds']:.2f} s"),
        ("overhead (dask / local)", f"{result['overhead_ratio']:.2f}x"),
        ("per iteration, local / dask",
         f"{result['local_ms_per_iteration']:.1f} / "
         f"{result['dask_ms_per_iteration']:.1f} ms"),
        ("cluster start / scatter votes",
         f"{result['cluster_start_seconds']:.1f} / {result['persist_seconds']:.1f} s"),
        ("max |diff| params / posteriors",
         f"{result['max_abs_diff_params']:.1e} / "
         f"{result['max_abs_diff_posterior']:.1e}"),
        ("same iterations and ids",
         str(result["same_iterations"] and result["same_ids"])),
        ("load average (1 min)", f"{result['load_average']:.2f}"),
    ]
    width = max(len(name) for name, _ in rows)
    return "\n".join(f"{name:<{width}} | {value}" for name, value in rows)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-votes", type=int, default=None,
                        help="number of votes (default 10,000,000; 1,000,000 "
                             "with --quick)")
    parser.add_argument("--quick", action="store_true",
                        help="1M votes, best of 3")
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object instead of the table")
    args = parser.parse_args(argv)
    n_votes = args.n_votes or (1_000_000 if args.quick else 10_000_000)
    result = run(n_votes, quick=args.quick)
    print(json.dumps(result) if args.json else _table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
