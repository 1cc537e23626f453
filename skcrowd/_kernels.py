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


@njit(cache=True, nogil=True)
def grouped_log_posterior_pass(task_ptr, row, weight, log_table, log_prior, clamp,
                               group_size, start, stop, posterior, stats,
                               class_stats, accumulate):
    """:func:`log_posterior_pass` over latent states grouped by class.

    State ``s`` belongs to class ``s // group_size`` (EBCC's (class, subtype)
    pairs). A known gold label ``clamp[i] = c`` restricts task ``i`` to the
    states of class ``c``, renormalised among themselves, instead of a single
    state. With ``group_size == 1`` this is :func:`log_posterior_pass`.
    """
    n_states = log_prior.shape[0]
    buf = np.empty(n_states)
    log_likelihood = 0.0
    for i in range(start, stop):
        for k in range(n_states):
            buf[k] = log_prior[k]
        _task_scores(i, task_ptr, row, weight, log_table, buf)
        c = clamp[i]
        if c >= 0:
            for k in range(n_states):
                if k // group_size != c:
                    buf[k] = -np.inf
        log_likelihood += _softmax_inplace(buf)
        for k in range(n_states):
            posterior[i, k] = buf[k]
        if accumulate:
            for k in range(n_states):
                class_stats[k] += buf[k]
            for v in range(task_ptr[i], task_ptr[i + 1]):
                r = row[v]
                w = weight[v]
                for k in range(n_states):
                    stats[r, k] += w * buf[k]
    return log_likelihood


# ----------------------------------------------------------------------
# GLAD: the vote likelihood depends on the worker *and* the task
@njit(cache=True, nogil=True, inline="always")
def _log_sigmoid(x):
    """``log(1 / (1 + exp(-x)))``, stable for any x."""
    if x >= 0.0:
        return -np.log1p(np.exp(-x))
    return x - np.log1p(np.exp(x))


@njit(cache=True, nogil=True)
def glad_log_posterior_pass(task_ptr, worker, label, weight, ability, log_easiness,
                            log_prior, clamp, posterior):
    """E-step of GLAD for every task; returns the log-likelihood.

    A vote of worker ``w`` on task ``i`` is correct with probability
    ``sigmoid(ability[w] * exp(log_easiness[i]))`` and otherwise any of the
    ``K - 1`` other labels with equal probability. ``posterior[i]`` becomes
    ``softmax(log_prior + sum of the votes' log-likelihoods)``, or the one-hot
    of ``clamp[i]`` when it is non-negative (a known gold label).
    """
    n_tasks = task_ptr.shape[0] - 1
    n_classes = log_prior.shape[0]
    log_others = np.log(n_classes - 1.0) if n_classes > 1 else 0.0
    buf = np.empty(n_classes)
    log_likelihood = 0.0
    for i in range(n_tasks):
        easiness = np.exp(log_easiness[i])
        base = 0.0
        for k in range(n_classes):
            buf[k] = log_prior[k]
        for v in range(task_ptr[i], task_ptr[i + 1]):
            x = ability[worker[v]] * easiness
            wrong = _log_sigmoid(-x) - log_others
            base += weight[v] * wrong
            buf[label[v]] += weight[v] * (_log_sigmoid(x) - wrong)
        for k in range(n_classes):
            buf[k] += base
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
    return log_likelihood


@njit(cache=True, nogil=True)
def glad_vote_terms(task, worker, weight, correct, ability, log_easiness, n_classes,
                    by_task, value, grad, hess):
    """GLAD's expected complete-data log-likelihood, grouped, with derivatives.

    For every vote, ``correct[v]`` is the posterior probability that it is
    the true label; its term is ``r log s + (1 - r) (log(1 - s) - log(K -
    1))`` with ``s = sigmoid(ability * exp(log_easiness))``. The terms are
    added to ``value[g]`` and their first and second derivatives to
    ``grad[g]`` and ``hess[g]``, where the group ``g`` and the variable are
    the task and its log-easiness (``by_task``) or the worker and its
    ability. Each group's sum depends on that group's variable only, so one
    Newton step per group is exact coordinate-wise optimisation.
    """
    log_others = np.log(n_classes - 1.0) if n_classes > 1 else 0.0
    for v in range(task.shape[0]):
        t = task[v]
        w = worker[v]
        easiness = np.exp(log_easiness[t])
        x = ability[w] * easiness
        log_s = _log_sigmoid(x)
        s = np.exp(log_s)
        r = correct[v]
        wt = weight[v]
        d1 = r - s
        d2 = -s * (1.0 - s)
        if by_task:
            g = t
            first = d1 * x
            second = d2 * x * x + d1 * x
        else:
            g = w
            first = d1 * easiness
            second = d2 * easiness * easiness
        value[g] += wt * (r * log_s + (1.0 - r) * (_log_sigmoid(-x) - log_others))
        grad[g] += wt * first
        hess[g] += wt * second
