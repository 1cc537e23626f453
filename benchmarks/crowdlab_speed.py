"""Speed and memory of CROWDLAB: skcrowd's ``label_quality`` vs cleanlab.

The workload of the issue: 50,000 items, 5 votes each (250,000 votes), 5
classes, precomputed model probabilities, the votes spread over 200
annotators, then the **same** votes spread over 1,000 annotators (cleanlab's
cost grows with items x annotators, skcrowd's must not).

    python benchmarks/crowdlab_speed.py [--n-items 50000] [--repeat 3]
                                        [--annotators 200 1000] [--no-cleanlab]

Each measurement runs in a fresh subprocess that loads the crowd from an
.npz and builds the library's input before the clock starts (skcrowd:
``Votes`` triples; cleanlab: its dense items x annotators float matrix with
NaN), then times the call (fastest of ``--repeat`` runs, wall clock).
Memory: ``traced`` is the tracemalloc peak of the memory allocated during
one call (numpy buffers included), ``rss`` the process's peak resident
memory (interpreter, libraries and input included). skcrowd is also timed
from the dense wide matrix (conversion included) and with calibration.
cleanlab runs in its own venv (``bash benchmarks/peers/setup_cleanlab_env.sh``)
through ``benchmarks/peers/cleanlab.py``; without it, its rows say why.

Both libraries compute the same thing when skcrowd runs with
``calibrate=False, n_iter=1`` (cleanlab's reported consensus is the argmax
of its first pass): the script prints how often their consensus labels agree
and the accuracy of each against the simulated truth.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def make_crowd(n_items, n_annotators, votes_per_item, n_classes, seed=0):
    """Votes of confusion-free 'one-coin' annotators and noisy probabilities."""
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_classes, n_items)
    accuracy = rng.uniform(0.5, 0.95, n_annotators)
    # votes_per_item distinct annotators per item, by rejection of duplicates
    worker = rng.integers(0, n_annotators, (n_items, votes_per_item))
    while True:
        ordered = np.sort(worker, axis=1)
        dup = (np.diff(ordered, axis=1) == 0).any(axis=1)
        if not dup.any():
            break
        worker[dup] = rng.integers(0, n_annotators, (dup.sum(), votes_per_item))
    task = np.repeat(np.arange(n_items), votes_per_item)
    worker = worker.ravel()
    right = rng.random(len(task)) < accuracy[worker]
    wrong = (truth[task] + rng.integers(1, n_classes, len(task))) % n_classes
    label = np.where(right, truth[task], wrong)
    logits = rng.normal(0.0, 1.0, (n_items, n_classes))
    logits[np.arange(n_items), truth] += 1.5
    probs = np.exp(logits - logits.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return task, worker, label, probs, truth


def _rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def measure(path, mode, repeat):
    """Subprocess body: time skcrowd on the crowd in ``path``; print JSON."""
    import tracemalloc

    from skcrowd import Votes
    from skcrowd.crowdlab import label_quality

    with np.load(path) as z:
        task, worker, label = z["task"], z["worker"], z["label"]
        probs = z["pred_probs"]
        n_items, n_annotators = int(z["n_tasks"]), int(z["n_workers"])
    n_classes = probs.shape[1]
    if mode == "wide":
        data = np.full((n_items, n_annotators), -1, dtype=np.int64)
        data[task, worker] = label
    else:
        data = Votes(task, worker, label, task_ids=np.arange(n_items),
                     worker_ids=np.arange(n_annotators), classes=np.arange(n_classes))
    calibrate = mode == "calibrated"

    def run():
        return label_quality(data, probs, calibrate=calibrate, n_iter=1)

    rss_before = _rss_mb()
    times = []
    for _ in range(repeat):
        tic = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - tic)
    rss_peak = _rss_mb()
    del result
    tracemalloc.start()
    result = run()
    traced = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(json.dumps({
        "seconds": min(times), "times": times, "traced_peak_mb": traced,
        "peak_mb": rss_peak, "rss_before_mb": rss_before,
        "consensus_label": result.consensus_label.tolist(),
    }))


def run_skcrowd(path, mode, repeat):
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", path,
           "--mode", mode, "--repeat", str(repeat)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    return {"error": proc.stderr.strip()[-400:] or f"exit code {proc.returncode}"}


def _fmt(value, unit):
    return "   n/a" if value is None else f"{value:8.2f} {unit}"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n-items", type=int, default=50_000)
    ap.add_argument("--votes-per-item", type=int, default=5)
    ap.add_argument("--n-classes", type=int, default=5)
    ap.add_argument("--annotators", type=int, nargs="+", default=[200, 1000])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-cleanlab", action="store_true")
    ap.add_argument("--cleanlab-timeout", type=float, default=600)
    ap.add_argument("--measure", help=argparse.SUPPRESS)
    ap.add_argument("--mode", default="votes", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.measure:
        measure(args.measure, args.mode, args.repeat)
        return 0

    sys.path.insert(0, str(HERE))
    from peers.cleanlab import run_cleanlab

    base = min(args.annotators)
    task, worker, label, probs, truth = make_crowd(
        args.n_items, base, args.votes_per_item, args.n_classes)
    rng = np.random.default_rng(1)
    print(f"CROWDLAB label quality: {args.n_items:,} items, {len(task):,} votes, "
          f"{args.n_classes} classes, precomputed probabilities "
          f"(model accuracy {np.mean(probs.argmax(1) == truth):.3f})")
    header = (f"{'annotators':>10} {'library':<26} {'seconds':>10} "
              f"{'traced':>11} {'rss peak':>11} {'rss before':>11}")
    print(header)
    print("-" * len(header))
    rows = []
    with tempfile.TemporaryDirectory(prefix="skcrowd-crowdlab-") as tmp:
        for n_annotators in args.annotators:
            # the same votes, each annotator of the base crowd split into
            # n_annotators / base annotators (ids stay distinct within an item)
            factor = max(n_annotators // base, 1)
            spread = worker + base * rng.integers(0, factor, len(worker))
            path = os.path.join(tmp, f"crowd_{n_annotators}.npz")
            np.savez(path, task=task, worker=spread, label=label, pred_probs=probs,
                     n_tasks=args.n_items, n_workers=base * factor)
            modes = ["votes", "calibrated"] + (["wide"] if n_annotators == base else [])
            results = {}
            for mode in modes:
                res = run_skcrowd(path, mode, args.repeat)
                results[mode] = res
                name = {"votes": "skcrowd (Votes)",
                        "calibrated": "skcrowd (Votes, calibrated)",
                        "wide": "skcrowd (wide matrix)"}[mode]
                if "error" in res:
                    print(f"{n_annotators:>10} {name:<26} error: {res['error']}")
                    continue
                print(f"{n_annotators:>10} {name:<26} {_fmt(res['seconds'], 's')} "
                      f"{_fmt(res['traced_peak_mb'], 'MB')} "
                      f"{_fmt(res['peak_mb'], 'MB')} "
                      f"{_fmt(res['rss_before_mb'], 'MB')}")
            mine = results["votes"]
            cl = None
            if not args.no_cleanlab:
                cl = run_cleanlab(task, spread, label, probs, n_tasks=args.n_items,
                                  n_workers=base * factor, repeat=1,
                                  timeout=args.cleanlab_timeout)
                if cl.get("error"):
                    print(f"{n_annotators:>10} {'cleanlab':<26} error: {cl['error']}")
                else:
                    name = f"cleanlab {cl['cleanlab_version']}"
                    print(f"{n_annotators:>10} {name:<26} {_fmt(cl['seconds'], 's')} "
                          f"{_fmt(cl['traced_peak_mb'], 'MB')} "
                          f"{_fmt(cl['peak_mb'], 'MB')} "
                          f"{_fmt(cl['rss_before_mb'], 'MB')}")
            rows.append((n_annotators, mine, cl))

    print()
    for n_annotators, mine, cl in rows:
        if "error" in mine:
            continue
        line = (f"{n_annotators} annotators: skcrowd accuracy "
                f"{np.mean(np.array(mine['consensus_label']) == truth):.4f}")
        if cl and not cl.get("error"):
            theirs = np.array(cl["consensus_label"])
            line += (f", cleanlab accuracy {np.mean(theirs == truth):.4f}, same "
                     f"consensus on {np.mean(theirs == mine['consensus_label']):.4%} "
                     f"of items; speed-up x{cl['seconds'] / mine['seconds']:.0f}, "
                     f"rss ratio x{cl['peak_mb'] / mine['peak_mb']:.1f}")
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
