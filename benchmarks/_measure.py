"""Measurement helpers of ``benchmarks/run.py``.

Every skcrowd figure runs in a fresh interpreter (``python _measure.py
--child``, the job as JSON on stdin, the result as one JSON line on stdout),
so that its peak memory is its own and nothing is cached between figures.
The parent (``run.py``) imports only numpy and the standard library: on
Linux a child's ``ru_maxrss`` starts at the parent's resident size at
fork/exec time, so a lean parent keeps the children's (and crowd-kit's)
peaks honest. The child also reads ``VmHWM`` (the peak resident set size
of its own address space, from ``/proc/self/status``), which does not
inherit anything from the parent; that is the figure reported.

Job kinds (``job["kind"]``):

``make``
    ``skcrowd.simulation.make_crowd`` -> an ``.npz`` (task, worker, label,
    y_true).
``names``
    The class names of ``skcrowd.aggregation.AGGREGATORS`` and their
    hyperparameters (so the parent never imports skcrowd).
``fit``
    Warm the numba JIT on a tiny crowd, then fit an aggregator ``repeat``
    times on a crowd file; best time, accuracy, peak memory.
``first_call``
    Import skcrowd and time the first and second fit on a tiny crowd (with
    ``NUMBA_CACHE_DIR`` pointing to an empty folder the first call compiles
    every kernel).
``floor``
    :func:`plain_dawid_skene`, the unoptimised reference, on a crowd file.
``partial_fit``
    Stream a crowd file through ``partial_fit`` in batches of tasks.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


# ----------------------------------------------------------------------
# memory and machine
def _status_mb(field):
    """A ``kB`` field of /proc/self/status in MB, or None off Linux."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        return None
    return None


def ru_maxrss_mb():
    """Peak resident memory of this process (getrusage), MB."""
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        kb /= 1024.0
    return kb / 1024.0


def peak_mb():
    """Peak RSS of this process's own address space (VmHWM), else ru_maxrss."""
    hwm = _status_mb("VmHWM")
    return ru_maxrss_mb() if hwm is None else hwm


def rss_mb():
    """Current resident memory, MB (VmRSS), or None when unknown."""
    return _status_mb("VmRSS")


def reset_peak():
    """Reset VmHWM to the current RSS (Linux >= 4.0); False if unsupported."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def load_average():
    try:
        return os.getloadavg()
    except (OSError, AttributeError):
        return (float("nan"),) * 3


def machine_info():
    """Cores, load, memory, CPU model and library versions, as a dict."""
    info = {
        "host": platform.node(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cores": os.cpu_count(),
        "cores_usable": (len(os.sched_getaffinity(0))
                         if hasattr(os, "sched_getaffinity") else os.cpu_count()),
        "load_average": [round(x, 2) for x in load_average()],
        "cpu": platform.processor() or None,
        "mem_total_mb": None,
        "numpy": np.__version__,
    }
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    info["mem_total_mb"] = round(int(line.split()[1]) / 1024)
                    break
    except OSError:
        pass
    from importlib import metadata

    for dist in ("scipy", "numba", "scikit-learn", "pandas", "skcrowd"):
        try:
            info[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            info[dist] = None
    try:
        info["git_commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, text=True,
            capture_output=True, timeout=10,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["git_commit"] = None
    return info


# ----------------------------------------------------------------------
# the parent side
def run_child(job, timeout=None, env=None):
    """Run one job in a fresh interpreter; never raises.

    Returns the child's result dict; on failure ``{"error": "..."}``.
    """
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child"]
    full_env = dict(os.environ)
    full_env.update(env or {})
    try:
        proc = subprocess.run(cmd, input=json.dumps(job), capture_output=True,
                              text=True, timeout=timeout, env=full_env)
    except subprocess.TimeoutExpired:
        return {"error": f"Timeout: over {timeout:.0f} s"}
    except OSError as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}
    for line in reversed(proc.stdout.splitlines()):
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                break
    why = (f"killed by signal {-proc.returncode}" if proc.returncode < 0
           else f"exit code {proc.returncode}")
    tail = (proc.stderr or "").strip()[-600:]
    return {"error": f"child process failed ({why}): {tail}"}


def load_crowd(path):
    """task, worker, label, y_true arrays of a crowd file."""
    with np.load(path) as z:
        return z["task"], z["worker"], z["label"], z["y_true"]


# ----------------------------------------------------------------------
# the unoptimised reference
def plain_dawid_skene(task, worker, label, n_tasks, n_workers, n_classes,
                      n_iter=100, alpha=0.01):
    """Dawid-Skene EM as two scipy.sparse products per iteration.

    The floor any implementation should beat: no compiled kernel, no fused
    passes. ``V`` is the (tasks, workers * classes) one-hot matrix of the
    votes; the E-step is ``V @ log(confusion)`` (one row per task), the
    M-step's confusion counts are ``V.T @ posterior``. Same model, smoothing
    and majority-vote start as ``skcrowd.aggregation.DawidSkene``.

    Returns the posterior, shape (n_tasks, n_classes).
    """
    import scipy.sparse as sp

    K = n_classes
    cols = worker.astype(np.int64) * K + label
    V = sp.csr_matrix((np.ones(len(task)), (task, cols)),
                      shape=(n_tasks, n_workers * K))
    VT = V.T.tocsr()
    # majority-vote start: vote shares
    counts = np.asarray(V @ np.tile(np.eye(K), (n_workers, 1)))
    post = counts / counts.sum(axis=1, keepdims=True)
    for _ in range(n_iter):
        # M-step: confusion[w, k, l] from expected counts (w*K + l, k)
        conf = (VT @ post).reshape(n_workers, K, K).transpose(0, 2, 1) + alpha
        conf /= conf.sum(axis=2, keepdims=True)
        prior = post.sum(axis=0) + alpha
        prior /= prior.sum()
        # E-step: log posterior of each task, normalised per row
        log_conf = np.log(conf).transpose(0, 2, 1).reshape(n_workers * K, K)
        logp = V @ log_conf + np.log(prior)
        logp -= logp.max(axis=1, keepdims=True)
        post = np.exp(logp)
        post /= post.sum(axis=1, keepdims=True)
    return post


# ----------------------------------------------------------------------
# the child side
def _votes(task, worker, label, n_workers, n_classes):
    from skcrowd import Votes

    n_tasks = int(task.max()) + 1
    return Votes(task, worker, label, task_ids=np.arange(n_tasks),
                 worker_ids=np.arange(n_workers), classes=np.arange(n_classes))


def _aggregator_class(name):
    from skcrowd.aggregation import AGGREGATORS

    for key, cls in AGGREGATORS.items():
        if name in (key, cls.__name__):
            return cls
    raise ValueError(f"no skcrowd aggregator named {name!r}")


def _warm_up(cls, params, like=None):
    """Fit once on a tiny crowd, in the input type of the timed fits (``like``:
    a DataFrame's columns have their own dtypes and are read-only), so the
    timed fits find the kernels compiled for their arrays."""
    from skcrowd.simulation import make_crowd

    tiny, _, _ = make_crowd(60, 12, 5, votes_per_task=4, random_state=0)
    if like is not None and hasattr(like, "columns"):
        tiny = type(like)({"task": tiny.task, "worker": tiny.worker,
                           "label": tiny.label}).astype(like.dtypes.to_dict())
    tic = time.perf_counter()
    cls(**_small(params)).fit(tiny)
    return time.perf_counter() - tic


def _small(params):
    """The params with at most 2 iterations (warm-up only)."""
    out = dict(params)
    if "max_iter" in out:
        out["max_iter"] = min(int(out["max_iter"]), 2)
    return out


def _accuracy(model, y_true):
    labels = np.asarray(model.consensus_label_)
    tasks = np.asarray(model.task_ids_, dtype=np.int64)
    return float(np.mean(labels == y_true[tasks]))


def _job_make(job):
    from skcrowd.simulation import make_crowd

    votes, y_true, _ = make_crowd(job["n_tasks"], job["n_workers"],
                                  job["n_classes"],
                                  votes_per_task=job["votes_per_task"],
                                  random_state=job["random_state"])
    np.savez(job["path"], task=votes.task, worker=votes.worker,
             label=votes.label, y_true=y_true)
    return {"n_votes": int(len(votes.task)), "path": job["path"]}


def _job_names(job):
    from skcrowd.aggregation import AGGREGATORS

    return {"aggregators": {
        cls.__name__: {"key": key, "params": sorted(cls().get_params())}
        for key, cls in AGGREGATORS.items()
    }}


def _job_fit(job, base):
    import warnings

    cls = _aggregator_class(job["estimator"])
    params = job.get("params") or {}
    task, worker, label, y_true = load_crowd(job["path"])
    n_workers, n_classes = job["n_workers"], job["n_classes"]
    if job.get("input") == "dataframe":
        import pandas as pd

        X = pd.DataFrame({"task": task, "worker": worker, "label": label})
    else:
        X = _votes(task, worker, label, n_workers, n_classes)
    n_votes = int(len(task))
    del task, worker, label
    out = {"warm_up_seconds": _warm_up(cls, params, like=X),
           "rss_before_fit_mb": rss_mb()}
    times = []
    model = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for _ in range(max(1, int(job.get("repeat", 3)))):
            model = None
            tic = time.perf_counter()
            model = cls(**params).fit(X)
            times.append(time.perf_counter() - tic)
    out.update(seconds=min(times), times=times,
               accuracy=_accuracy(model, y_true),
               n_iter=getattr(model, "n_iter_", None),
               n_votes=n_votes)
    return out


def _job_first_call(job, base):
    from skcrowd.simulation import make_crowd

    cls = _aggregator_class(job["estimator"])
    tiny, _, _ = make_crowd(200, 20, 5, votes_per_task=5, random_state=0)
    params = job.get("params") or {}
    tic = time.perf_counter()
    cls(**params).fit(tiny)
    first = time.perf_counter() - tic
    tic = time.perf_counter()
    cls(**params).fit(tiny)
    second = time.perf_counter() - tic
    return {"first_seconds": first, "second_seconds": second,
            "seconds": first - second}


def _job_floor(job, base):
    task, worker, label, y_true = load_crowd(job["path"])
    n_tasks = len(y_true)
    times = []
    post = None
    for _ in range(max(1, int(job.get("repeat", 1)))):
        post = None
        tic = time.perf_counter()
        post = plain_dawid_skene(task, worker, label, n_tasks, job["n_workers"],
                                 job["n_classes"], n_iter=job["n_iter"])
        times.append(time.perf_counter() - tic)
    return {"seconds": min(times), "times": times,
            "accuracy": float(np.mean(post.argmax(axis=1) == y_true))}


def _job_partial_fit(job, base):
    cls = _aggregator_class(job["estimator"])
    if not hasattr(cls, "partial_fit"):
        return {"skipped": f"{cls.__name__} has no partial_fit"}
    task, worker, label, y_true = load_crowd(job["path"])
    n_workers, n_classes = job["n_workers"], job["n_classes"]
    votes = _votes(task, worker, label, n_workers, n_classes)
    n_tasks = len(y_true)
    step = max(1, int(job["batch_tasks"]))
    batches = [votes[np.arange(s, min(s + step, n_tasks))]
               for s in range(0, n_tasks, step)]
    classes = np.arange(n_classes)
    warm = cls()
    warm.partial_fit(batches[0], classes=classes)
    times = []
    for _ in range(max(1, int(job.get("repeat", 3)))):
        model = cls()
        tic = time.perf_counter()
        for batch in batches:
            model.partial_fit(batch, classes=classes)
        times.append(time.perf_counter() - tic)
    best = min(times)
    return {"seconds": best, "times": times,
            "votes_per_second": len(task) / best, "n_batches": len(batches)}


_JOBS = {"make": _job_make, "names": _job_names, "fit": _job_fit,
         "first_call": _job_first_call, "floor": _job_floor,
         "partial_fit": _job_partial_fit}


def _child_main():
    job = json.loads(sys.stdin.read())
    out = {"error": None}
    tic = time.perf_counter()
    try:
        # the baseline: an interpreter that has imported numpy and skcrowd
        import skcrowd  # noqa: F401
        import skcrowd.aggregation  # noqa: F401

        out["import_seconds"] = time.perf_counter() - tic
        base = peak_mb()
        out["baseline_mb"] = base
        kind = job["kind"]
        if kind in ("make", "names"):
            out.update(_JOBS[kind](job))
        else:
            out.update(_JOBS[kind](job, base))
    except MemoryError as exc:
        out["error"] = f"MemoryError: {exc}"
    except Exception as exc:  # noqa: BLE001 - report, never crash the table
        import traceback

        traceback.print_exc(file=sys.stderr)
        out["error"] = f"{type(exc).__name__}: {str(exc).strip()[:400]}"
    out["peak_mb"] = peak_mb()
    out["ru_maxrss_mb"] = ru_maxrss_mb()
    if out.get("baseline_mb") is not None:
        out["peak_minus_baseline_mb"] = out["peak_mb"] - out["baseline_mb"]
    sys.stdout.write(json.dumps(out) + "\n")


if __name__ == "__main__":
    if sys.argv[1:] == ["--child"]:
        sys.path[:] = [p for p in sys.path
                       if Path(p or ".").resolve() != HERE]
        _child_main()
    else:
        sys.exit("benchmarks/_measure.py is a helper; run benchmarks/run.py")
