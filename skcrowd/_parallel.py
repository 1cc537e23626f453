"""Chunked, threaded execution of the compiled kernels.

Tasks are cut into chunks whose boundaries depend only on the data (never on
the number of threads), each chunk writes its own partial statistics, and the
partials are added in chunk order: results are bitwise identical whatever
``n_jobs`` is.
"""

import itertools
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# A chunk holds at least this many votes, and there are at most MAX_CHUNKS.
MIN_CHUNK_VOTES = 16_384
MAX_CHUNKS = 8
# A chunk holds at least this many votes per float of its partial statistics.
VOTES_PER_STAT = 2
# Per-chunk statistics buffers may use at most this many bytes in all.
CHUNK_BUFFER_BYTES = 256 * 2**20

_executor = None
_CPU_COUNT = os.cpu_count() or 1


def effective_n_jobs(n_jobs):
    """Number of threads the kernels use for ``n_jobs``.

    ``None`` means every core (the kernels are threads over shared arrays,
    like the OpenMP loops of scikit-learn's HistGradientBoosting), unless a
    ``joblib.parallel_config(n_jobs=...)`` context sets another number or,
    as for those OpenMP loops, the ``OMP_NUM_THREADS`` environment variable
    does (Dask's workers set it to 1: their tasks run side by side);
    negative values count back from the number of cores as in joblib (-1:
    all, -2: all but one). Zero is an error.
    """
    if n_jobs is None:
        from joblib.parallel import get_active_backend

        n_jobs = get_active_backend()[1]
        if n_jobs is None:
            return _omp_num_threads() or _CPU_COUNT
    if n_jobs == 0:
        raise ValueError(
            "n_jobs == 0 has no meaning; use None or -1 for every core, or a "
            "positive number of threads."
        )
    import joblib

    return max(int(joblib.effective_n_jobs(n_jobs)), 1)


def _omp_num_threads():
    """``OMP_NUM_THREADS`` as a positive int (its first entry), else None."""
    value = os.environ.get("OMP_NUM_THREADS", "").split(",")[0].strip()
    try:
        threads = int(value)
    except ValueError:
        return None
    return min(threads, _CPU_COUNT) if threads > 0 else None


def task_chunks(task_ptr, stats_size=0):
    """Contiguous task ranges with balanced vote counts.

    ``stats_size`` is the number of floats of one chunk's partial statistics;
    it caps the number of chunks so that their buffers stay small.
    """
    n_tasks = len(task_ptr) - 1
    n_votes = int(task_ptr[-1])
    n_chunks = min(MAX_CHUNKS, max(1, n_votes // MIN_CHUNK_VOTES), max(n_tasks, 1))
    if stats_size:
        # a chunk's partial statistics (zeroed, then added up: two passes
        # over stats_size floats) must stay small beside its votes
        n_chunks = max(1, min(n_chunks, CHUNK_BUFFER_BYTES // (8 * stats_size),
                              n_votes // (VOTES_PER_STAT * stats_size)))
    if n_chunks == 1:
        return [(0, n_tasks)]
    targets = np.linspace(0, n_votes, n_chunks + 1)[1:-1]
    cuts = np.searchsorted(task_ptr, targets)
    bounds = np.unique(np.concatenate([[0], cuts, [n_tasks]]))
    return list(zip(bounds[:-1].tolist(), bounds[1:].tolist(), strict=True))


def map_chunks(func, chunks, n_jobs=None, indexed=False):
    """``[func(start, stop) for (start, stop) in chunks]``, in threads
    (``func(c, start, stop)`` with the chunk's position ``c`` when
    ``indexed``: the index of its partial statistics).

    ``func`` must release the GIL (a ``nogil`` numba kernel) to run in
    parallel. The calling thread and ``n_threads - 1`` pool threads take the
    chunks in turn from a shared counter (one wake-up per helper thread, not
    per chunk; a slow chunk does not hold the others back). Results come
    back in chunk order.
    """
    call = func if indexed else (lambda c, start, stop: func(start, stop))
    threads = min(effective_n_jobs(n_jobs), len(chunks))
    if threads <= 1:
        return [call(c, start, stop) for c, (start, stop) in enumerate(chunks)]
    global _executor
    if _executor is None or _executor._max_workers < threads - 1:
        _executor = ThreadPoolExecutor(max_workers=max(threads, _CPU_COUNT),
                                       thread_name_prefix="skcrowd")
    results = [None] * len(chunks)
    turn = itertools.count()  # next() is atomic under the GIL

    def drain():
        for c in iter(turn.__next__, None):
            if c >= len(chunks):
                return
            results[c] = call(c, *chunks[c])

    helpers = [_executor.submit(drain) for _ in range(threads - 1)]
    try:
        drain()
    finally:  # the helpers write into shared buffers: wait for them first
        for helper in helpers:
            helper.result()
    return results


def table_e_step(votes, log_table, log_prior, clamp, accumulate, group_size=1,
                 n_jobs=None):
    """E-step of a model whose vote likelihood is a (row, state) table.

    Runs :func:`~skcrowd._kernels.posterior_pass` over data-defined chunks
    of tasks in threads: the result does not depend on ``n_jobs``. Each class
    has ``group_size`` latent states (1 but for EBCC). Returns the posterior
    over states, the statistics ``stats[row] = sum of weight * posterior``
    (a (1, n_states) array of zeros unless ``accumulate``), the expected
    state counts and the log-likelihood.
    """
    return _posterior_e_step(votes, log_prior, clamp, accumulate, n_jobs,
                             log_table.shape, log_table=log_table,
                             group_size=group_size)


def coin_e_step(votes, log_miss, log_gain, log_prior, clamp, accumulate,
                n_jobs=None):
    """E-step of a model whose vote likelihood depends on the true class only
    through whether the vote matches it (see
    :func:`~skcrowd._kernels.posterior_pass`), chunked and threaded as
    :func:`table_e_step`. ``log_miss`` and ``log_gain`` have one entry per
    table row (worker, label). Returns the posterior, ``matched[row]`` (the
    row's expected vote weight on tasks of its own label; a (1,) array of
    zeros unless ``accumulate``), the expected class counts and the
    log-likelihood.
    """
    posterior, matched, class_counts, log_likelihood = _posterior_e_step(
        votes, log_prior, clamp, accumulate, n_jobs, log_gain.shape,
        log_gain=log_gain)
    # every vote's log_miss, which the pass leaves out
    totals = votes.row_totals(len(log_miss))
    log_likelihood += float(totals @ log_miss)
    return posterior, matched, class_counts, log_likelihood


def _posterior_e_step(votes, log_prior, clamp, accumulate, n_jobs, stats_shape,
                      log_table=None, log_gain=None, group_size=1):
    """:func:`~skcrowd._kernels.posterior_pass` over the chunks of ``votes``
    in threads, each chunk with its own partial statistics of
    ``stats_shape`` (when ``accumulate``), added in chunk order. Returns the
    posterior, the statistics (zeros of shape (1, n_states) or (1,) unless
    ``accumulate``), the state counts and the log-likelihood."""
    from ._kernels import posterior_pass, width_token

    n_states = log_prior.shape[0]
    token = width_token(n_states)
    row = votes.worker_label_index()
    weight = votes.kernel_weight()
    clamp = clamp if clamp is not None and np.any(clamp >= 0) else None
    posterior = np.empty((votes.n_tasks, n_states))
    chunks = chunks_of(votes, int(np.prod(stats_shape)) if accumulate else n_states)
    partials = partial_buffers(len(chunks), stats_shape) if accumulate else None
    state_counts = np.zeros((len(chunks), n_states))
    log_likelihoods = np.zeros(len(chunks))

    def run(c, start, stop):
        stats = None
        if accumulate:
            stats = partials[c]
            stats.fill(0.0)
        log_likelihoods[c] = posterior_pass(
            token, votes.task_ptr, row, votes.label, weight, log_table, log_gain,
            log_prior, clamp, group_size, start, stop, posterior, stats,
            state_counts[c])

    map_chunks(run, chunks, n_jobs, indexed=True)
    # partials added in chunk order: the same sums whatever the thread count
    if accumulate:
        stats = partials.sum(axis=0)
    else:
        stats = np.zeros((1, n_states) if len(stats_shape) == 2 else (1,))
    state_counts = state_counts.sum(axis=0)
    log_likelihood = float(np.add.reduce(log_likelihoods))
    return posterior, stats, state_counts, log_likelihood


_thread_local = threading.local()
# partial-statistics buffers up to this size are kept for the next call of
# the same thread (an EM loop calls with the same shapes every iteration)
KEEP_BUFFER_BYTES = 32 * 2**20


def partial_buffers(n_chunks, shape):
    """An uninitialised (n_chunks, *shape) float array for per-chunk partial
    statistics, reused from the calling thread's previous call when the
    shape is the same (no fresh pages to fault in at every EM iteration)."""
    size = n_chunks * int(np.prod(shape)) * 8
    kept = getattr(_thread_local, "partials", None)
    if kept is not None and kept.shape == (n_chunks, *shape):
        return kept
    buffers = np.empty((n_chunks, *shape))
    _thread_local.partials = buffers if size <= KEEP_BUFFER_BYTES else None
    return buffers


def chunks_of(votes, stats_size=0):
    """:func:`task_chunks` of ``votes``, computed once per Votes (they never
    change)."""
    cache = votes.__dict__.setdefault("_task_chunks", {})
    key = (stats_size, MIN_CHUNK_VOTES)
    if key not in cache:
        cache[key] = task_chunks(votes.task_ptr, stats_size)
    return cache[key]


def label_counts(votes, worker_weight=None):
    """Weighted votes per (task, class) (see :func:`skcrowd.base.vote_counts`),
    chunks of tasks in threads writing their own rows: the same sums, in the
    same order, whatever the number of threads."""
    from ._kernels import weighted_label_counts

    counts = np.zeros((votes.n_tasks, votes.n_classes))
    weight = votes.kernel_weight()

    def run(start, stop):
        weighted_label_counts(votes.task_ptr, votes.worker, votes.label, weight,
                              worker_weight, start, stop, counts)

    map_chunks(run, chunks_of(votes))
    return counts


def worker_agreement(votes, reference, mask=None):
    """``(agreed, given)`` per worker (see
    :func:`skcrowd.aggregation.vote.agreement_counts`): chunks of tasks in
    threads, each with its own partial sums, added in chunk order."""
    from ._kernels import agreement_pass

    chunks = chunks_of(votes, 2 * votes.n_workers)
    partials = np.zeros((len(chunks), 2, votes.n_workers))
    weight = votes.kernel_weight()

    def run(c, start, stop):
        agreed, given = partials[c]
        agreement_pass(votes.task_ptr, votes.worker, votes.label, weight,
                       reference, mask, start, stop, agreed, given)

    map_chunks(run, chunks, indexed=True)
    agreed, given = partials.sum(axis=0)
    return agreed, given
