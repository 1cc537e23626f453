"""Time cleanlab's CROWDLAB on one crowd; print one JSON line.

Runs INSIDE the cleanlab virtual environment (benchmarks/.envs/cleanlab,
made by setup_cleanlab_env.sh).  It must not import skcrowd.

    python cleanlab_runner.py INPUT.npz [--repeat R] [--calibrate]
                              [--trace] [--scores] [--mem-limit-mb MB]

INPUT.npz holds integer arrays ``task``, ``worker``, ``label`` (one row per
vote, codes 0..n-1), a float array ``pred_probs`` (n_tasks, n_classes) and
the scalars ``n_tasks``, ``n_workers``.  The runner builds cleanlab's input,
a dense float (n_tasks, n_workers) matrix with NaN for missing votes (not
timed), then times ``get_label_quality_multiannotator(labels, pred_probs,
verbose=False, calibrate_probs=...)`` with ``time.perf_counter``; with
``--repeat R`` ``seconds`` is the fastest of R runs.

Memory: ``peak_mb`` is the process's peak resident memory (getrusage
ru_maxrss) after the runs, including the interpreter, pandas and the input;
``rss_before_mb`` is the same just before the first run.  With ``--trace``
one more run is made under ``tracemalloc`` and ``traced_peak_mb`` is the peak
of the memory allocated during the call (numpy and pandas buffers included),
the figure comparable with skcrowd's.

Output (stdout, exactly one line):

    {"seconds", "times", "peak_mb", "rss_before_mb", "traced_peak_mb",
     "n_votes", "consensus_label", "consensus_quality", "annotator_quality",
     "cleanlab_version", "error"}

``consensus_label`` is always returned (a list of ints per task); the two
score lists only with ``--scores`` (``annotator_quality`` in annotator code
order).  ``error`` is null or "ExceptionType: message".
"""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sys
import time
import traceback
import warnings
from pathlib import Path

# This script lives next to benchmarks/peers/cleanlab.py (the skcrowd-side
# helper), which would shadow the real ``cleanlab`` package because Python
# puts the script's folder first on sys.path.  Drop that folder.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]


def _rss_mb() -> float:
    kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        kb /= 1024.0
    return round(kb / 1024.0, 1)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("input")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--trace", action="store_true")
    ap.add_argument("--scores", action="store_true")
    ap.add_argument("--mem-limit-mb", type=float, default=None)
    args = ap.parse_args(argv)

    out = {
        "seconds": None,
        "times": [],
        "peak_mb": None,
        "rss_before_mb": None,
        "traced_peak_mb": None,
        "n_votes": None,
        "consensus_label": None,
        "consensus_quality": None,
        "annotator_quality": None,
        "cleanlab_version": None,
        "error": None,
    }
    real_stdout = sys.stdout
    old_limit = resource.getrlimit(resource.RLIMIT_AS)
    try:
        with contextlib.redirect_stdout(sys.stderr):
            import numpy as np

            with np.load(args.input) as z:
                task = np.asarray(z["task"], dtype=np.int64)
                worker = np.asarray(z["worker"], dtype=np.int64)
                label = np.asarray(z["label"], dtype=np.int64)
                pred_probs = np.asarray(z["pred_probs"], dtype=np.float64)
                n_tasks = int(z["n_tasks"])
                n_workers = int(z["n_workers"])
            out["n_votes"] = int(len(task))

            import cleanlab
            from cleanlab.multiannotator import get_label_quality_multiannotator

            out["cleanlab_version"] = cleanlab.__version__
            labels = np.full((n_tasks, n_workers), np.nan)
            labels[task, worker] = label

            def run():
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    return get_label_quality_multiannotator(
                        labels, pred_probs, verbose=False,
                        calibrate_probs=args.calibrate,
                    )

            if args.mem_limit_mb:
                lim = int(args.mem_limit_mb * 1024 * 1024)
                resource.setrlimit(resource.RLIMIT_AS, (lim, old_limit[1]))
            out["rss_before_mb"] = _rss_mb()
            result = None
            for _ in range(max(1, args.repeat)):
                t0 = time.perf_counter()
                result = run()
                out["times"].append(time.perf_counter() - t0)
            out["seconds"] = min(out["times"])
            out["peak_mb"] = _rss_mb()
            if args.trace:
                import tracemalloc

                del result
                tracemalloc.start()
                result = run()
                out["traced_peak_mb"] = round(
                    tracemalloc.get_traced_memory()[1] / 2**20, 1)
                tracemalloc.stop()
            quality = result["label_quality"]
            out["consensus_label"] = quality["consensus_label"].astype(int).tolist()
            if args.scores:
                out["consensus_quality"] = quality["consensus_quality_score"].tolist()
                stats = result["annotator_stats"].sort_index()
                out["annotator_quality"] = stats["annotator_quality"].tolist()
    except MemoryError as exc:
        out["error"] = f"MemoryError: {exc}"
    except BaseException as exc:  # noqa: BLE001 - report everything as JSON
        if isinstance(exc, KeyboardInterrupt):
            raise
        msg = str(exc).strip().splitlines()
        out["error"] = f"{type(exc).__name__}: {msg[0] if msg else ''}"[:500]
        traceback.print_exc(file=sys.stderr)
    finally:
        try:
            resource.setrlimit(resource.RLIMIT_AS, old_limit)
        except (ValueError, OSError):
            pass
        if out["peak_mb"] is None:
            out["peak_mb"] = _rss_mb()

    real_stdout.write(json.dumps(out) + "\n")
    real_stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
