"""Chunked, threaded execution of the compiled kernels.

Tasks are cut into chunks whose boundaries depend only on the data (never on
the number of threads), each chunk writes its own partial statistics, and the
partials are added in chunk order: results are bitwise identical whatever
``n_jobs`` is.
"""

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# A chunk holds at least this many votes, and there are at most MAX_CHUNKS.
MIN_CHUNK_VOTES = 65_536
MAX_CHUNKS = 8
# Per-chunk statistics buffers may use at most this many bytes in all.
CHUNK_BUFFER_BYTES = 256 * 2**20

_executor = None


def effective_n_jobs(n_jobs):
    """Number of threads for ``n_jobs`` (None or -1: all cores)."""
    cores = os.cpu_count() or 1
    if n_jobs is None or n_jobs == -1:
        return cores
    if n_jobs < 0:
        return max(cores + 1 + n_jobs, 1)
    return int(n_jobs)


def task_chunks(task_ptr, stats_size=0):
    """Contiguous task ranges with balanced vote counts.

    ``stats_size`` is the number of floats of one chunk's partial statistics;
    it caps the number of chunks so that their buffers stay small.
    """
    n_tasks = len(task_ptr) - 1
    n_votes = int(task_ptr[-1])
    n_chunks = min(MAX_CHUNKS, max(1, n_votes // MIN_CHUNK_VOTES), max(n_tasks, 1))
    if stats_size:
        n_chunks = max(1, min(n_chunks, CHUNK_BUFFER_BYTES // (8 * stats_size)))
    if n_chunks == 1:
        return [(0, n_tasks)]
    targets = np.linspace(0, n_votes, n_chunks + 1)[1:-1]
    cuts = np.searchsorted(task_ptr, targets)
    bounds = np.unique(np.concatenate([[0], cuts, [n_tasks]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def map_chunks(func, chunks, n_jobs=None):
    """``[func(start, stop) for (start, stop) in chunks]``, in threads.

    ``func`` must release the GIL (a ``nogil`` numba kernel) to run in
    parallel. Results come back in chunk order.
    """
    threads = min(effective_n_jobs(n_jobs), len(chunks))
    if threads <= 1:
        return [func(start, stop) for start, stop in chunks]
    global _executor
    if _executor is None or _executor._max_workers < threads:
        _executor = ThreadPoolExecutor(max_workers=max(threads, os.cpu_count() or 1),
                                       thread_name_prefix="skcrowd")
    futures = [_executor.submit(func, start, stop) for start, stop in chunks]
    return [future.result() for future in futures]
