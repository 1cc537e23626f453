"""Out-of-core streaming: ``partial_fit`` of DawidSkene over 100M synthetic
votes generated chunk by chunk, in bounded memory (issue 7, item 3).

    python benchmarks/streaming.py                  # 100M votes
    python benchmarks/streaming.py --quick          # 2M votes
    python benchmarks/streaming.py --votes 10000000 --json

The stream: K=5 classes, 10 votes per task, 1,000,000 distinct workers (one-
coin accuracies uniform in [0.5, 0.95], errors spread evenly), integer task
and worker ids, new tasks in every batch, batches of 100,000 votes built with
numpy only (never the whole stream in memory). The model:
``DawidSkene(n_worker_slots=2**14, store=MemoryStore(max_tasks=100_000))``:
worker state bounded by the slots, task state and kept votes by the window of
open tasks, so peak memory does not grow with the stream.

Printed: votes/s through ``partial_fit`` (wall clock, and per CPU second of
this process, which does not move with the machine's load), votes/s end to
end (generation included), peak resident memory (VmHWM of a fresh process),
and the accuracy of the tasks still in the window (the last 100,000) against
the synthetic truth. Targets: >= 1M votes/s, peak RSS < 1 GB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from _measure import load_average, peak_mb, rss_mb  # noqa: E402

K = 5
VOTES_PER_TASK = 10
N_WORKERS = 1_000_000
BATCH_VOTES = 100_000
N_SLOTS = 2**14
MAX_TASKS = 100_000


class Stream:
    """Synthetic batches of votes, generated one at a time."""

    def __init__(self, seed=0):
        self.rng = np.random.default_rng(seed)
        self.accuracy = 0.5 + 0.45 * self.rng.random(N_WORKERS)
        self.n_tasks = 0

    def batch(self, n_votes=BATCH_VOTES):
        """(Votes, truth of its tasks)."""
        from skcrowd import Votes

        rng = self.rng
        n_tasks = n_votes // VOTES_PER_TASK
        n_votes = n_tasks * VOTES_PER_TASK
        truth = rng.integers(0, K, n_tasks)
        task = np.repeat(np.arange(n_tasks, dtype=np.int32), VOTES_PER_TASK)
        worker = rng.integers(0, N_WORKERS, n_votes)
        right = rng.random(n_votes) < self.accuracy[worker]
        wrong = (truth[task] + rng.integers(1, K, n_votes)) % K
        label = np.where(right, truth[task], wrong).astype(np.int32)
        worker_ids, worker_code = np.unique(worker, return_inverse=True)
        votes = Votes(task, worker_code.astype(np.int32), label, None,
                      task_ids=np.arange(self.n_tasks, self.n_tasks + n_tasks),
                      worker_ids=worker_ids, classes=np.arange(K))
        self.n_tasks += n_tasks
        return votes, truth


def run(n_votes, quick=False, *, report=None):
    """Stream ``n_votes`` (2M when ``quick``) through partial_fit.

    Returns a dict of figures: votes, seconds, votes_per_s (partial_fit,
    wall), votes_per_cpu_s, end_to_end_votes_per_s, peak_rss_mb, rss_mb,
    window_accuracy, workers_slots, held_tasks. ``report(row)`` is called
    with progress rows (every 10% of the stream).
    """
    import warnings

    from sklearn.exceptions import ConvergenceWarning

    from skcrowd import DawidSkene
    from skcrowd.stores import MemoryStore

    if quick:
        n_votes = 2_000_000
    stream = Stream()
    model = DawidSkene(n_worker_slots=N_SLOTS, store=MemoryStore(max_tasks=MAX_TASKS))
    warm = DawidSkene(n_worker_slots=N_SLOTS)  # compile the kernels first
    warm.partial_fit(Stream(1).batch(10_000)[0], classes=np.arange(K))
    warm.partial_fit(Stream(2).batch(10_000)[0], classes=np.arange(K))
    del warm
    baseline = rss_mb()
    n_batches = max(n_votes // BATCH_VOTES, 1)
    truth = {}
    fit_wall = fit_cpu = 0.0
    start = time.perf_counter()
    step = max(n_batches // 10, 1)
    for b in range(n_batches):
        votes, y = stream.batch()
        truth[b] = (votes.task_ids[0], y)
        wall, cpu = time.perf_counter(), time.process_time()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.partial_fit(votes, classes=np.arange(K))
        fit_wall += time.perf_counter() - wall
        fit_cpu += time.process_time() - cpu
        # the truth of the tasks that can still be in the window
        while len(truth) * len(y) > 2 * MAX_TASKS:
            truth.pop(min(truth))
        if report is not None and ((b + 1) % step == 0 or b + 1 == n_batches):
            report({"votes": (b + 1) * BATCH_VOTES, "seconds": fit_wall,
                    "votes_per_s": (b + 1) * BATCH_VOTES / fit_wall,
                    "rss_mb": rss_mb(), "peak_rss_mb": peak_mb()})
    total = time.perf_counter() - start
    seen = n_batches * BATCH_VOTES
    consensus = model.consensus()
    first, last = min(truth), max(truth)
    offset = truth[first][0]
    y_all = np.concatenate([truth[b][1] for b in range(first, last + 1)])
    held = np.asarray(consensus.task_ids, dtype=np.int64) - offset
    inside = (held >= 0) & (held < len(y_all))
    accuracy = float(np.mean(consensus.labels[inside] == y_all[held[inside]]))
    return {
        "votes": seen, "batch_votes": BATCH_VOTES, "seconds": fit_wall,
        "votes_per_s": seen / fit_wall, "votes_per_cpu_s": seen / fit_cpu,
        "end_to_end_votes_per_s": seen / total,
        "peak_rss_mb": peak_mb(), "rss_mb": rss_mb(), "baseline_rss_mb": baseline,
        "window_accuracy": accuracy, "held_tasks": len(consensus.task_ids),
        "worker_slots": len(model.worker_ids_), "n_worker_slots": N_SLOTS,
        "max_tasks": MAX_TASKS, "load_average": list(load_average()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2M votes")
    parser.add_argument("--votes", type=int, default=100_000_000)
    parser.add_argument("--json", action="store_true",
                        help="print one JSON object (the figures) only")
    parser.add_argument("--here", action="store_true",
                        help="run in this process (default: a fresh one, so "
                             "that the peak memory is the stream's own)")
    args = parser.parse_args(argv)
    if not args.here:
        command = [sys.executable, __file__, "--here", "--votes", str(args.votes)]
        command += ["--quick"] * args.quick + ["--json"] * args.json
        return subprocess.call(command)

    def progress(row):
        if not args.json:
            print(f"  {row['votes']:>12,} votes {row['seconds']:8.1f} s "
                  f"{row['votes_per_s']:>12,.0f} votes/s  RSS "
                  f"{row['rss_mb']:6.0f} MB  peak {row['peak_rss_mb']:6.0f} MB",
                  flush=True)

    if not args.json:
        n = 2_000_000 if args.quick else args.votes
        print(f"[streaming] DawidSkene(n_worker_slots={N_SLOTS}, store=MemoryStore("
              f"max_tasks={MAX_TASKS:,})), {n:,} votes, {N_WORKERS:,} workers, "
              f"K={K}, batches of {BATCH_VOTES:,} votes "
              "(load average {:.1f} {:.1f} {:.1f})".format(*load_average()),
              flush=True)
    result = run(args.votes, args.quick, report=progress)
    if args.json:
        print(json.dumps(result))
    else:
        print(f"  partial_fit: {result['votes_per_s']:,.0f} votes/s wall, "
              f"{result['votes_per_cpu_s']:,.0f} votes per CPU second "
              f"(target >= 1,000,000); end to end "
              f"{result['end_to_end_votes_per_s']:,.0f} votes/s")
        print(f"  peak RSS {result['peak_rss_mb']:.0f} MB (target < 1,024), "
              f"{result['worker_slots']:,} worker slots, "
              f"{result['held_tasks']:,} tasks held, accuracy of the held tasks "
              f"{result['window_accuracy']:.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
