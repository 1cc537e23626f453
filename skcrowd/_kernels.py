"""Compiled kernels over votes sorted by task.

Every kernel reads the votes as CSR-like arrays: ``task_ptr`` (votes of task
``i`` are ``task_ptr[i]:task_ptr[i + 1]``), ``row`` (the row of a parameter
table that a vote reads, e.g. ``worker * n_classes + label``) and ``weight``.
A *table* has one row per (worker, label) pair and one column per true class.

The kernels run one pass over the votes, touching ``n_classes`` floats per
vote; they release the GIL so chunks of tasks can run in threads, and each
chunk returns additive statistics that the caller sums.
"""

import numpy as np
from numba import njit


@njit(cache=True, nogil=True, inline="always")
def _task_scores(i, task_ptr, row, weight, table, out):
    """out += sum over the votes v of task i of weight[v] * table[row[v]]."""
    n_classes = out.shape[0]
    for v in range(task_ptr[i], task_ptr[i + 1]):
        r = row[v]
        w = weight[v]
        for k in range(n_classes):
            out[k] += w * table[r, k]


@njit(cache=True, nogil=True, inline="always")
def _softmax_inplace(scores):
    """Normalise log-scores to probabilities in place; return log-sum-exp."""
    n_classes = scores.shape[0]
    top = scores[0]
    for k in range(1, n_classes):
        if scores[k] > top:
            top = scores[k]
    total = 0.0
    for k in range(n_classes):
        scores[k] = np.exp(scores[k] - top)
        total += scores[k]
    for k in range(n_classes):
        scores[k] /= total
    return top + np.log(total)


@njit(cache=True, nogil=True)
def log_posterior_pass(task_ptr, row, weight, log_table, log_prior, clamp, start,
                       stop, posterior, stats, class_stats, accumulate):
    """E-step of a model whose vote likelihood is a (row, class) table.

    For tasks ``start:stop``, ``posterior[i] = softmax(log_prior + sum_v
    weight_v * log_table[row_v])``, or the one-hot of ``clamp[i]`` when it is
    non-negative (a known gold label). With ``accumulate`` the pass also adds
    the M-step statistics: ``stats[row_v] += weight_v * posterior[task_v]`` and
    ``class_stats += posterior[i]``.

    Returns the log-likelihood of the tasks' votes (and gold labels).
    """
    n_classes = log_prior.shape[0]
    buf = np.empty(n_classes)
    log_likelihood = 0.0
    for i in range(start, stop):
        for k in range(n_classes):
            buf[k] = log_prior[k]
        _task_scores(i, task_ptr, row, weight, log_table, buf)
        c = clamp[i]
        if c >= 0:
            log_likelihood += buf[c]
            for k in range(n_classes):
                buf[k] = 0.0
            buf[c] = 1.0
        else:
            log_likelihood += _softmax_inplace(buf)
        for k in range(n_classes):
            posterior[i, k] = buf[k]
        if accumulate:
            for k in range(n_classes):
                class_stats[k] += buf[k]
            for v in range(task_ptr[i], task_ptr[i + 1]):
                r = row[v]
                w = weight[v]
                for k in range(n_classes):
                    stats[r, k] += w * buf[k]
    return log_likelihood


@njit(cache=True, nogil=True)
def row_stats_pass(task_ptr, row, weight, posterior, start, stop, stats):
    """``stats[row_v] += weight_v * posterior[task_v]`` for tasks start:stop."""
    n_classes = posterior.shape[1]
    for i in range(start, stop):
        for v in range(task_ptr[i], task_ptr[i + 1]):
            r = row[v]
            w = weight[v]
            for k in range(n_classes):
                stats[r, k] += w * posterior[i, k]
