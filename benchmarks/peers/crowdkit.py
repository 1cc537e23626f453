"""Run crowd-kit aggregators in their own virtual environment.

crowd-kit needs pandas<3 and scikit-learn<1.6, so it cannot share the main
environment.  ``benchmarks/peers/setup_envs.sh`` builds
``benchmarks/.envs/crowdkit``; this module writes the votes to a temporary
.npz, runs ``crowdkit_runner.py`` with that environment's python and returns
the JSON dict the runner prints.  It never raises: every failure comes back
as a dict whose ``"error"`` says what went wrong.

Environment overrides:
    SKCROWD_CROWDKIT_PYTHON  python executable of a crowd-kit environment
    SKCROWD_ENVS             folder holding the ``crowdkit`` venv
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

__all__ = ["METHODS", "crowdkit_python", "run_crowdkit"]

METHODS = (
    "MajorityVote",
    "Wawa",
    "DawidSkene",
    "OneCoinDawidSkene",
    "GLAD",
    "MACE",
    "MMSR",
    "ZeroBasedSkill",
)

_HERE = Path(__file__).resolve().parent
RUNNER = _HERE / "crowdkit_runner.py"
SETUP = _HERE / "setup_envs.sh"


def crowdkit_python() -> Path:
    """Path of the crowd-kit venv's python (it may not exist)."""
    explicit = os.environ.get("SKCROWD_CROWDKIT_PYTHON")
    if explicit:
        return Path(explicit)
    envs = Path(os.environ.get("SKCROWD_ENVS", _HERE.parent / ".envs"))
    if sys.platform == "win32":
        return envs / "crowdkit" / "Scripts" / "python.exe"
    return envs / "crowdkit" / "bin" / "python"


def _result(method, n_votes, error, **extra) -> dict:
    out = {
        "method": method,
        "seconds": None,
        "peak_mb": None,
        "n_votes": n_votes,
        "labels": None,
        "error": error,
    }
    out.update(extra)
    return out


def _tail(text: str, n: int = 400) -> str:
    text = (text or "").strip()
    return text[-n:]


def run_crowdkit(
    task,
    worker,
    label,
    method: str,
    n_iter: int | None = None,
    timeout: float | None = None,
    *,
    repeat: int = 1,
    params: dict | None = None,
    mem_limit_mb: float | None = None,
) -> dict:
    """Fit crowd-kit's ``method`` on the votes and return the runner's dict.

    Parameters
    ----------
    task, worker, label : array-like of int, one entry per vote
        Task ids should be 0..n_tasks-1 so that ``labels[t]`` is task ``t``.
    method : str
        One of :data:`METHODS` (a crowd-kit class name).
    n_iter : int, optional
        Iteration count; when given, early stopping is disabled so exactly
        ``n_iter`` iterations run.  ``None`` keeps crowd-kit's defaults.
    timeout : float, optional
        Seconds before the subprocess is killed (error "Timeout: ...").
    repeat : int
        Fit this many times; ``seconds`` is the fastest.
    params : dict, optional
        Extra constructor arguments (JSON-encodable), e.g. ``{"n_restarts": 1}``.
    mem_limit_mb : float, optional
        Address-space (virtual memory, RLIMIT_AS) cap for the subprocess, so
        that too-large allocations raise MemoryError (reported in ``error``)
        instead of swapping or meeting the OOM killer.  The interpreter with
        crowd-kit imported already maps ~600 MB, so use at least ~1000.

    Returns
    -------
    dict with keys ``method, seconds, peak_mb, n_votes, labels, error`` (and
    ``times, rss_before_mb, params, crowdkit_version`` when the runner ran).
    ``labels`` is a list of ints (-1 for a task id with no vote) or None.
    """
    n_votes = None
    try:
        task = np.asarray(task).astype(np.int32, copy=False).ravel()
        worker = np.asarray(worker).astype(np.int32, copy=False).ravel()
        label = np.asarray(label).astype(np.int32, copy=False).ravel()
        n_votes = int(task.shape[0])
        if not (task.shape == worker.shape == label.shape):
            return _result(
                method, n_votes, "ValueError: task, worker, label lengths differ"
            )
    except Exception as exc:  # noqa: BLE001
        return _result(method, n_votes, f"{type(exc).__name__}: {exc}")
    if method not in METHODS:
        return _result(
            method, n_votes, f"ValueError: unknown crowd-kit method {method!r}"
        )

    python = crowdkit_python()
    if not python.exists():
        return _result(
            method,
            n_votes,
            f"crowd-kit environment not available: {python} not found "
            f"(run bash {SETUP})",
        )

    cmd = [
        str(python),
        "-I",
        str(RUNNER),
        "",
        "--method",
        method,
        "--repeat",
        str(int(repeat)),
    ]
    if n_iter is not None:
        cmd += ["--n-iter", str(int(n_iter))]
    for key, value in (params or {}).items():
        cmd += ["--param", f"{key}={json.dumps(value)}"]
    if mem_limit_mb is not None:
        cmd += ["--mem-limit-mb", str(float(mem_limit_mb))]

    with tempfile.TemporaryDirectory(prefix="skcrowd-ck-") as tmp:
        path = os.path.join(tmp, "votes.npz")
        try:
            np.savez(path, task=task, worker=worker, label=label)
        except Exception as exc:  # noqa: BLE001
            return _result(
                method, n_votes, f"{type(exc).__name__}: writing input: {exc}"
            )
        cmd[3] = path
        env = dict(os.environ)
        # The venv must not see the caller's packages (e.g. skcrowd, pandas 3).
        env.pop("PYTHONPATH", None)
        env.pop("PYTHONHOME", None)
        try:
            proc = subprocess.run(
                cmd,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=env,
            )
        except subprocess.TimeoutExpired:
            return _result(
                method, n_votes, f"Timeout: crowd-kit {method} took over {timeout} s"
            )
        except OSError as exc:
            return _result(
                method,
                n_votes,
                f"crowd-kit environment not available: {type(exc).__name__}: {exc}",
            )

    for line in reversed(proc.stdout.splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                out = json.loads(line)
            except ValueError:
                break
            err = out.get("error") or ""
            if out.get("crowdkit_version") is None and err.startswith(
                ("ModuleNotFoundError", "ImportError")
            ):
                out["error"] = f"crowd-kit environment not available: {err}"
            return out
    if proc.returncode < 0:
        why = f"killed by signal {-proc.returncode}"
        if proc.returncode == -9:
            why += " (probably out of memory)"
    else:
        why = f"exit code {proc.returncode}"
    detail = _tail(proc.stderr)
    return _result(
        method,
        n_votes,
        f"RunnerError: no result from crowd-kit runner, {why}: {detail}",
    )
