"""Time one crowd-kit aggregator on one crowd; print one JSON line.

Runs INSIDE the crowd-kit virtual environment (benchmarks/.envs/crowdkit,
made by setup_envs.sh).  It must not import skcrowd.

    python crowdkit_runner.py INPUT.npz --method NAME [--n-iter N] [--repeat R]
                              [--param KEY=VALUE ...] [--mem-limit-mb MB]

INPUT.npz holds integer arrays ``task``, ``worker``, ``label`` (one row per
vote).  Only the ``fit_predict`` call is timed (time.perf_counter); building
the DataFrame and importing crowd-kit are not.  With ``--repeat R`` a fresh
aggregator is fitted R times and ``seconds`` is the fastest run (all runs are
in ``times``).  ``peak_mb`` is the process's peak resident memory
(getrusage ru_maxrss) after the runs, so it includes the Python interpreter,
pandas and the input; ``rss_before_mb`` is the same figure just before the
first fit, for reference.

Output (stdout, exactly one line):

    {"method", "seconds", "peak_mb", "n_votes", "labels", "error",
     "times", "rss_before_mb", "params", "crowdkit_version"}

``labels[t]`` is the predicted label of task ``t`` for t in 0..max(task)
(-1 for a task id that has no vote); ``labels`` is null on error.
``error`` is null or "ExceptionType: message".

When ``--n-iter`` is given, the convergence test of the classes that have one
is disabled (tol=-inf), so they run exactly N iterations.  Without it every
class runs with crowd-kit's own defaults.  Constructor names were taken from
crowd-kit 1.4.2's source (crowdkit/aggregation/classification/*.py).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import resource
import sys
import time
import traceback
from pathlib import Path

# This script lives next to benchmarks/peers/crowdkit.py (the skcrowd-side
# helper), which would shadow the real ``crowdkit`` package because Python
# puts the script's folder first on sys.path.  Drop that folder.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

# Constructor keyword for the iteration count, and whether the class has a
# ``tol`` early-stopping test (checked against crowd-kit 1.4.2):
#   DawidSkene, OneCoinDawidSkene: n_iter, tol  (stop if new_loss - loss < tol)
#   GLAD:                          n_iter, tol  (stop if Q - last_Q < tol)
#   MMSR:                          n_iter, tol  (stop if loss < tol)
#   MACE:                          n_iter, no tol (n_restarts restarts of n_iter)
#   ZeroBasedSkill:                n_iter, no tol
#   MajorityVote, Wawa:            not iterative
METHODS = {
    "MajorityVote": (None, False),
    "Wawa": (None, False),
    "DawidSkene": ("n_iter", True),
    "OneCoinDawidSkene": ("n_iter", True),
    "GLAD": ("n_iter", True),
    "MACE": ("n_iter", False),
    "MMSR": ("n_iter", True),
    "ZeroBasedSkill": ("n_iter", False),
}
# Always-on arguments: keep GLAD's progress bar off (it is off by default).
FIXED = {"GLAD": {"silent": True}}


def _rss_mb() -> float:
    # Linux reports ru_maxrss in kilobytes (macOS in bytes).
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        kb /= 1024.0
    return round(kb / 1024.0, 1)


def _parse_value(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return text


def build_params(method: str, n_iter: int | None, extra: dict) -> dict:
    iter_name, has_tol = METHODS[method]
    params = dict(FIXED.get(method, {}))
    if n_iter is not None:
        if iter_name is None:
            pass  # not iterative: nothing to set
        else:
            params[iter_name] = int(n_iter)
            if has_tol:
                params["tol"] = float("-inf")
    params.update(extra)
    return params


def _json_default(obj):
    # numpy scalars and anything else unexpected in params
    if hasattr(obj, "item"):
        return obj.item()
    return str(obj)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input", help=".npz with int arrays task, worker, label")
    ap.add_argument("--method", required=True, choices=sorted(METHODS))
    ap.add_argument("--n-iter", type=int, default=None)
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="extra constructor argument (VALUE parsed as JSON if possible)",
    )
    ap.add_argument(
        "--mem-limit-mb",
        type=float,
        default=None,
        help="cap the virtual address space (RLIMIT_AS) so big allocations raise "
        "MemoryError; crowd-kit imported already maps ~600 MB",
    )
    args = ap.parse_args(argv)

    out = {
        "method": args.method,
        "seconds": None,
        "peak_mb": None,
        "n_votes": None,
        "labels": None,
        "error": None,
        "times": [],
        "rss_before_mb": None,
        "params": None,
        "crowdkit_version": None,
    }
    real_stdout = sys.stdout
    old_as_limit = resource.getrlimit(resource.RLIMIT_AS)
    try:
        # Anything the library prints goes to stderr: stdout carries only JSON.
        with contextlib.redirect_stdout(sys.stderr):
            extra = {}
            for item in args.param:
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValueError(f"--param expects KEY=VALUE, got {item!r}")
                extra[key] = _parse_value(value)
            params = build_params(args.method, args.n_iter, extra)
            # JSON has no infinity: show tol=-inf as the string "-inf".
            out["params"] = {
                k: (repr(v) if isinstance(v, float) and not math.isfinite(v) else v)
                for k, v in params.items()
            }

            import numpy as np
            import pandas as pd

            with np.load(args.input) as z:
                task = np.asarray(z["task"])
                worker = np.asarray(z["worker"])
                label = np.asarray(z["label"])
            if not (task.shape == worker.shape == label.shape) or task.ndim != 1:
                raise ValueError(
                    "task, worker, label must be 1-d arrays of equal length"
                )
            out["n_votes"] = int(task.shape[0])
            df = pd.DataFrame({"task": task, "worker": worker, "label": label})
            n_tasks = int(task.max()) + 1 if task.size else 0

            import crowdkit
            import crowdkit.aggregation as agg

            try:
                from importlib.metadata import version

                out["crowdkit_version"] = version("crowd-kit")
            except Exception:
                out["crowdkit_version"] = getattr(crowdkit, "__version__", None)
            cls = getattr(agg, args.method)

            if args.mem_limit_mb:
                lim = int(args.mem_limit_mb * 1024 * 1024)
                resource.setrlimit(resource.RLIMIT_AS, (lim, old_as_limit[1]))

            out["rss_before_mb"] = _rss_mb()
            pred = None
            for _ in range(max(1, args.repeat)):
                model = cls(**params)
                t0 = time.perf_counter()
                pred = model.fit_predict(df)
                out["times"].append(time.perf_counter() - t0)
                del model
            out["seconds"] = min(out["times"])

            labels = np.full(n_tasks, -1, dtype=np.int64)
            idx = np.asarray(pred.index, dtype=np.int64)
            labels[idx] = np.asarray(pred.to_numpy(), dtype=np.float64).astype(np.int64)
            out["labels"] = labels.tolist()
    except MemoryError as exc:
        out["labels"] = None
        out["error"] = f"MemoryError: {exc}"
    except BaseException as exc:  # noqa: BLE001 - report everything as JSON
        if isinstance(exc, KeyboardInterrupt):
            raise
        out["labels"] = None
        msg = str(exc).strip().splitlines()
        out["error"] = f"{type(exc).__name__}: {msg[0] if msg else ''}"[:500]
        traceback.print_exc(file=sys.stderr)
    finally:
        try:
            resource.setrlimit(resource.RLIMIT_AS, old_as_limit)
        except (ValueError, OSError):
            pass
        out["peak_mb"] = _rss_mb()

    real_stdout.write(json.dumps(out, default=_json_default) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
