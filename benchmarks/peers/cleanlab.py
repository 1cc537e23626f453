"""Run cleanlab's CROWDLAB in its own virtual environment.

cleanlab is not a dependency of skcrowd; ``benchmarks/peers/
setup_cleanlab_env.sh`` builds ``benchmarks/.envs/cleanlab`` (``pip install
cleanlab`` with whatever pandas and scikit-learn it pulls).  This module
writes the votes and probabilities to a temporary .npz, runs
``cleanlab_runner.py`` with that environment's python and returns the JSON
dict the runner prints.  It never raises: every failure comes back as a dict
whose ``"error"`` says what went wrong.

Environment overrides:
    SKCROWD_CLEANLAB_PYTHON  python executable of a cleanlab environment
    SKCROWD_ENVS             folder holding the ``cleanlab`` venv
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["cleanlab_python", "run_cleanlab"]

_HERE = Path(__file__).resolve().parent
RUNNER = _HERE / "cleanlab_runner.py"
SETUP = _HERE / "setup_cleanlab_env.sh"


def cleanlab_python() -> Path:
    """Path of the cleanlab venv's python (it may not exist)."""
    explicit = os.environ.get("SKCROWD_CLEANLAB_PYTHON")
    if explicit:
        return Path(explicit)
    envs = Path(os.environ.get("SKCROWD_ENVS", _HERE.parent / ".envs"))
    if sys.platform == "win32":
        return envs / "cleanlab" / "Scripts" / "python.exe"
    return envs / "cleanlab" / "bin" / "python"


def _result(n_votes, error) -> dict:
    return {
        "seconds": None,
        "times": [],
        "peak_mb": None,
        "rss_before_mb": None,
        "traced_peak_mb": None,
        "n_votes": n_votes,
        "consensus_label": None,
        "consensus_quality": None,
        "annotator_quality": None,
        "cleanlab_version": None,
        "error": error,
    }


def run_cleanlab(task, worker, label, pred_probs, *, n_tasks=None, n_workers=None,
                 calibrate=False, repeat=1, trace=False, scores=False,
                 timeout=None, mem_limit_mb=None) -> dict:
    """Run ``cleanlab.multiannotator.get_label_quality_multiannotator``.

    Parameters
    ----------
    task, worker, label : array-like of int, one entry per vote
        Codes ``0..n-1``; each (task, worker) pair at most once (cleanlab's
        input is a dense tasks x workers matrix).
    pred_probs : array-like of shape (n_tasks, n_classes)
        Out-of-sample probabilities; column ``k`` is label code ``k``.
    n_tasks, n_workers : int, optional
        Sizes of the dense matrix (default: largest code + 1).
    calibrate : bool
        Pass ``calibrate_probs=True``.
    repeat : int
        Run this many times; ``seconds`` is the fastest.
    trace : bool
        One more run under tracemalloc (``traced_peak_mb``).
    scores : bool
        Also return ``consensus_quality`` and ``annotator_quality``.
    timeout : float, optional
        Seconds before the subprocess is killed.
    mem_limit_mb : float, optional
        Address-space cap (RLIMIT_AS) of the subprocess.

    Returns
    -------
    dict
        The runner's output (see ``cleanlab_runner.py``); ``error`` is None
        on success.
    """
    n_votes = None
    try:
        task = np.asarray(task).astype(np.int64).ravel()
        worker = np.asarray(worker).astype(np.int64).ravel()
        label = np.asarray(label).astype(np.int64).ravel()
        pred_probs = np.asarray(pred_probs, dtype=np.float64)
        n_votes = int(task.shape[0])
        if not task.shape == worker.shape == label.shape:
            return _result(n_votes, "ValueError: task, worker, label lengths differ")
        n_tasks = int(task.max()) + 1 if n_tasks is None else int(n_tasks)
        n_workers = int(worker.max()) + 1 if n_workers is None else int(n_workers)
    except Exception as exc:  # noqa: BLE001
        return _result(n_votes, f"{type(exc).__name__}: {exc}")

    python = cleanlab_python()
    if not python.exists():
        return _result(
            n_votes,
            f"cleanlab environment not available: {python} not found "
            f"(run bash {SETUP})",
        )
    cmd = [str(python), "-I", str(RUNNER), "", "--repeat", str(int(repeat))]
    if calibrate:
        cmd.append("--calibrate")
    if trace:
        cmd.append("--trace")
    if scores:
        cmd.append("--scores")
    if mem_limit_mb is not None:
        cmd += ["--mem-limit-mb", str(float(mem_limit_mb))]

    with tempfile.TemporaryDirectory(prefix="skcrowd-cl-") as tmp:
        path = os.path.join(tmp, "crowd.npz")
        try:
            np.savez(path, task=task, worker=worker, label=label,
                     pred_probs=pred_probs, n_tasks=n_tasks, n_workers=n_workers)
        except Exception as exc:  # noqa: BLE001
            return _result(n_votes, f"{type(exc).__name__}: writing input: {exc}")
        cmd[3] = path
        env = dict(os.environ)
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True,
                                  text=True, timeout=timeout, env=env)
        except subprocess.TimeoutExpired:
            return _result(n_votes, f"Timeout: cleanlab took over {timeout} s")
        except OSError as exc:
            return _result(n_votes, "cleanlab environment not available: "
                                    f"{type(exc).__name__}: {exc}")

    for line in reversed(proc.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                out = json.loads(line)
            except ValueError:
                break
            err = out.get("error") or ""
            if out.get("cleanlab_version") is None and err.startswith(
                    ("ModuleNotFoundError", "ImportError")):
                out["error"] = f"cleanlab environment not available: {err}"
            return out
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}"
        if proc.returncode == -9:
            why += " (probably out of memory)"
    else:
        why = f"exit code {proc.returncode}"
    detail = (proc.stderr or "").strip()[-400:]
    return _result(n_votes, f"RunnerError: no result from cleanlab runner, {why}: "
                            f"{detail}")
