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
from llvmlite import ir
from numba import njit, types, uintp
from numba.core import cgutils
from numba.extending import intrinsic

# Tasks are processed in blocks of this many: the block's posterior rows stay
# in the L1 cache between the gather, the exp (one SIMD loop over the block)
# and the normalisation and scatter.
TASK_BLOCK = 64
# Up to this many latent states the kernels are compiled for the exact width
# (see :func:`width_token`), which lets LLVM unroll the loops over states.
MAX_UNROLLED_WIDTH = 16


def width_token(n_states):
    """A tuple whose *type* carries ``n_states`` to the compiled kernels.

    Numba compiles one specialisation per tuple length, in which the number
    of states is a compile-time constant; above ``MAX_UNROLLED_WIDTH`` the
    empty tuple selects the generic code, which reads it from the arrays.
    """
    return (0.0,) * n_states if n_states <= MAX_UNROLLED_WIDTH else ()


@njit(cache=True, nogil=True, inline="always")
def _width(token, array):
    """The number of states: ``len(token)`` (a constant) or the array's."""
    if len(token) == 0:
        return array.shape[1]
    return len(token)


# Up to this many states a task's row is held in registers (a tuple) by the
# gather and the scatter: read from and written to memory once per task, not
# at every vote (numba cannot tell that the row and the table never overlap,
# so a row in memory is re-read after every store: a fifth of the time).
REGISTER_WIDTH = 8


@njit(cache=True, nogil=True, inline="always")
def _load_row(n, array, r):
    """``array[r, :n]`` as a tuple of ``REGISTER_WIDTH`` floats (zeros
    after ``n``); ``n`` must be a compile-time constant."""
    return (array[r, 0],
            array[r, 1] if n > 1 else 0.0, array[r, 2] if n > 2 else 0.0,
            array[r, 3] if n > 3 else 0.0, array[r, 4] if n > 4 else 0.0,
            array[r, 5] if n > 5 else 0.0, array[r, 6] if n > 6 else 0.0,
            array[r, 7] if n > 7 else 0.0)


# Rows of up to REGISTER_WIDTH floats are read and written as vectors of 4
# and 2 floats (and one float): for five states two stores instead of five.
# numba does not run LLVM's SLP vectoriser, which would pack the scalar
# loops, so these two intrinsics write the vector code themselves; the sums
# are the scalar loop's, bit for bit.
def _vector_pieces(width, array_type):
    """``(offset, lanes)`` pieces covering ``width`` floats of a row: vectors
    of 4, then 2, then one float (one float at a time unless the array is
    C-contiguous)."""
    if array_type.layout != "C":
        return [(k, 1) for k in range(width)]
    pieces, k = [], 0
    while k < width:
        lanes = 4 if width - k >= 4 else (2 if width - k >= 2 else 1)
        pieces.append((k, lanes))
        k += lanes
    return pieces


def _piece_pointer(context, builder, array_type, array, r, offset, lanes):
    """Pointer to the ``lanes`` floats at ``array[r, offset]``."""
    ary = context.make_array(array_type)(context, builder, value=array)
    row_stride, column_stride = cgutils.unpack_tuple(builder, ary.strides, 2)
    column = builder.mul(column_stride, ir.Constant(ir.IntType(64), offset))
    address = builder.add(builder.ptrtoint(ary.data, ir.IntType(64)),
                          builder.add(builder.mul(r, row_stride), column))
    kind = ir.DoubleType() if lanes == 1 else ir.VectorType(ir.DoubleType(), lanes)
    return builder.inttoptr(address, kind.as_pointer())


def _pack(builder, values, lanes):
    """Scalars as one vector of ``lanes`` floats (the scalar if one)."""
    if lanes == 1:
        return values[0]
    vector = ir.Constant(ir.VectorType(ir.DoubleType(), lanes), ir.Undefined)
    for j, value in enumerate(values):
        vector = builder.insert_element(vector, value, ir.Constant(ir.IntType(32), j))
    return vector


def _row_pieces(context, builder, array_type, array, r, width):
    """``(offset, lanes, pointer)`` of each piece of ``array[r, :width]``."""
    for offset, lanes in _vector_pieces(width, array_type):
        yield offset, lanes, _piece_pointer(context, builder, array_type, array,
                                            r, offset, lanes)


def _scaled(builder, scale, value, lanes):
    """``scale * value`` for a scalar ``scale`` and a piece of a row."""
    return builder.fmul(_pack(builder, [scale] * lanes, lanes), value)


def _tuple_piece(builder, row, offset, lanes):
    return _pack(builder, [builder.extract_value(row, offset + j)
                           for j in range(lanes)], lanes)


@intrinsic
def _scatter_add(typingctx, token, array, r, w, row):
    """``array[r, :n] += w * row[:n]``, ``n = len(token)`` (a row tuple of
    :func:`_load_row`; ``r`` unsigned)."""
    width = min(len(token), REGISTER_WIDTH)  # wider: a branch never taken
    sig = types.void(token, array, r, w, row)

    def codegen(context, builder, signature, args):
        _, data, index, scale, values = args
        for offset, lanes, pointer in _row_pieces(context, builder,
                                                  signature.args[1], data, index,
                                                  width):
            added = _scaled(builder, scale,
                            _tuple_piece(builder, values, offset, lanes), lanes)
            builder.store(builder.fadd(builder.load(pointer, align=8), added),
                          pointer, align=8)
        return context.get_dummy_value()

    return sig, codegen


@intrinsic
def _gather_add(typingctx, token, acc, w, array, r):
    """``acc + w * array[r, :n]`` as a row tuple (entries from ``n`` on:
    ``acc``'s), ``n = len(token)``; ``r`` unsigned."""
    width = min(len(token), REGISTER_WIDTH)  # wider: a branch never taken
    sig = acc(token, acc, w, array, r)

    def codegen(context, builder, signature, args):
        _, total, scale, data, index = args
        for offset, lanes, pointer in _row_pieces(context, builder,
                                                  signature.args[3], data, index,
                                                  width):
            added = _scaled(builder, scale, builder.load(pointer, align=8), lanes)
            piece = builder.fadd(_tuple_piece(builder, total, offset, lanes), added)
            for j in range(lanes):
                value = piece if lanes == 1 else builder.extract_element(
                    piece, ir.Constant(ir.IntType(32), j))
                total = builder.insert_value(total, value, offset + j)
        return total

    return sig, codegen


@njit(cache=True, nogil=True, inline="always")
def _in_registers(token):
    """Whether rows of this width are held in registers."""
    return len(token) > 0 and len(token) <= REGISTER_WIDTH


@njit(cache=True, nogil=True)
def _gather_rows(token, i, task_ptr, row, weight, table, first, out):
    """``out[i] = first[0] + sum over the votes v of task i of w_v
    table[row_v]`` (``w_v = 1`` when ``weight`` is None; ``first`` has one
    row). Indices are cast to unsigned (they never are negative): numba then
    skips the wraparound of negative indices, a quarter of this loop's
    time."""
    n = _width(token, out)
    t = uintp(i)
    if _in_registers(token):
        acc = _load_row(n, first, 0)
        for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
            w = 1.0 if weight is None else weight[v]
            acc = _gather_add(token, acc, w, table, uintp(row[v]))
        for k in range(n):
            out[t, k] = acc[k]
        return
    for k in range(n):
        out[t, k] = first[0, k]
    for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
        r = uintp(row[v])
        w = 1.0 if weight is None else weight[v]
        for k in range(n):
            out[t, k] += w * table[r, k]


@njit(cache=True, nogil=True)
def _scatter_rows(token, i, task_ptr, row, weight, values, stats):
    """``stats[row_v] += w_v * values[i]`` for the votes v of task i
    (unsigned indices, as in :func:`_gather_rows`)."""
    n = _width(token, values)
    t = uintp(i)
    if _in_registers(token):
        value = _load_row(n, values, t)
        for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
            w = 1.0 if weight is None else weight[v]
            _scatter_add(token, stats, uintp(row[v]), w, value)
        return
    for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
        r = uintp(row[v])
        w = 1.0 if weight is None else weight[v]
        for k in range(n):
            stats[r, k] += w * values[t, k]


# exp(x) = 2**n * exp(r) with n = round(x / ln 2) and |r| <= ln(2) / 2: the
# Cody-Waite split of ln 2 (a high part with trailing zero bits, so n * _LN2_HI
# is exact, and the rest) and the degree-13 Taylor polynomial of exp(r), whose
# remainder r**14 / 14! < 2e-17 is below half an ulp.
_LOG2_E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01
_LN2_LO = 1.90821492927058770002e-10
# below this, exp(x) is subnormal (< 2.3e-308) and the kernels round it to 0
_EXP_MIN = -708.0
_EXP_MAX = 709.0


@njit(cache=True, nogil=True, inline="always")
def _exp(x):
    """``exp(x)`` within one ulp (0 below ``_EXP_MIN``), branch-free so that
    a loop of them compiles to SIMD instructions: about four times faster
    than the scalar ``exp`` of the C library that ``np.exp`` calls in numba."""
    clipped = min(max(x, _EXP_MIN), _EXP_MAX)
    n = np.floor(clipped * _LOG2_E + 0.5)
    r = (clipped - n * _LN2_HI) - n * _LN2_LO
    p = 1.0 / 6227020800.0
    p = p * r + 1.0 / 479001600.0
    p = p * r + 1.0 / 39916800.0
    p = p * r + 1.0 / 3628800.0
    p = p * r + 1.0 / 362880.0
    p = p * r + 1.0 / 40320.0
    p = p * r + 1.0 / 5040.0
    p = p * r + 1.0 / 720.0
    p = p * r + 1.0 / 120.0
    p = p * r + 1.0 / 24.0
    p = p * r + 1.0 / 6.0
    p = p * r + 0.5
    p = p * r + 1.0
    p = p * r + 1.0
    two_to_n = np.int64((np.int64(n) + 1023) << 52).view(np.float64)
    if x != x:  # NaN stays NaN
        return x
    return 0.0 if x < _EXP_MIN else p * two_to_n


@njit(cache=True, nogil=True, inline="always")
def _softmax_inplace(scores):
    """Normalise a vector of log-scores to probabilities in place; return
    its log-sum-exp."""
    top = -np.inf
    for k in range(scores.shape[0]):
        top = max(top, scores[k])
    total = 0.0
    for k in range(scores.shape[0]):
        scores[k] = _exp(scores[k] - top)
        total += scores[k]
    inverse = 1.0 / total
    for k in range(scores.shape[0]):
        scores[k] *= inverse
    return top + np.log(total)


@njit(cache=True, nogil=True, inline="always")
def _clamp_and_shift(n, scores, b, keep, group_size):
    """Restrict row ``b`` of a block's log-scores to the states of class
    ``keep`` (when ``keep >= 0``) and shift it by its maximum, returned."""
    if keep >= 0:
        for k in range(n):
            if k // group_size != keep:
                scores[b, k] = -np.inf
    top = scores[b, 0]
    for k in range(1, n):
        top = max(top, scores[b, k])
    for k in range(n):
        scores[b, k] -= top
    return top


@njit(cache=True, nogil=True, inline="always")
def _normalize_block(n, scores, exps, tops, counts, accumulate):
    """Turn a block's shifted log-scores (``exps``: the same rows, flat)
    into probabilities; add them to ``counts`` when ``accumulate``. Returns
    the block's log-normalisers, ``tops`` included."""
    for j in range(exps.shape[0]):  # one flat loop of exp: SIMD
        exps[j] = _exp(exps[j])
    # the log-normalisers as few logs of products (each total is in [1, n])
    log_norm = 0.0
    product = 1.0
    for b in range(scores.shape[0]):
        total = 0.0
        for k in range(n):
            total += scores[b, k]
        if product > 1e250:
            log_norm += np.log(product)
            product = 1.0
        product *= total
        log_norm += tops[b]
        inverse = 1.0 / total
        for k in range(n):
            scores[b, k] *= inverse
        if accumulate:
            for k in range(n):
                counts[k] += scores[b, k]
    return log_norm + np.log(product)


@njit(cache=True, nogil=True)
def posterior_pass(token, task_ptr, row, label, weight, log_table, log_gain,
                   log_prior, clamp, group_size, start, stop, posterior, stats,
                   state_counts):
    """The E-step over tasks ``start:stop``, for either kind of vote
    likelihood (the other argument is None; numba compiles each kind apart):

    * ``log_table`` (rows x states): a vote of table row ``r`` (e.g.
      ``worker * n_classes + label``) has log-likelihood ``log_table[r, s]``
      under state ``s``: ``posterior[i] = softmax(log_prior + sum_v w_v
      log_table[row_v])``; ``stats[row_v] += w_v * posterior[i]``.
    * ``log_gain`` (one per row; MACE, the one-coin model): the vote's
      log-likelihood is ``log_miss[r]`` under every class but its label ``l``
      and ``log_miss[r] + log_gain[r]`` under ``l``. ``log_miss`` shifts
      every class of a task alike, so the posterior does not read it: the
      posterior of the table ``log_miss[r] + log_gain[r] * (state == l)``
      (which must be finite) at a fraction of the cost, one number read per
      vote and one statistic, ``stats[row_v] += w_v * posterior[i, l]`` (the
      row's expected votes on tasks of class ``l``). The log-likelihood
      returned lacks the votes' ``sum_v w_v log_miss[row_v]``, which the
      caller adds from the rows' vote totals.

    ``w_v`` is the vote's weight (1 when ``weight`` is None). State ``s``
    belongs to class ``s // group_size`` (EBCC's (class, subtype) pairs; 1
    otherwise); a known gold label ``clamp[i] = c >= 0`` restricts task ``i``
    to the states of class ``c`` (``clamp`` may be None: no gold). When
    ``stats`` is not None the pass adds the M-step statistics and
    ``state_counts += posterior[i]``. ``token`` is :func:`width_token` of the
    number of states. Returns the log-likelihood of the tasks' votes (and
    gold labels).
    """
    n = _width(token, posterior)
    flat = posterior.reshape(-1)
    first = log_prior.reshape(1, -1)
    tops = np.empty(TASK_BLOCK)
    # summed here, added to state_counts once: chunks of other threads write
    # the neighbouring rows of state_counts, in the same cache line
    counts = np.zeros(n)
    log_likelihood = 0.0
    # Tasks go in blocks whose posterior rows stay in the L1 cache between
    # the gather, the exp and the scatter; loops run over slices from 0,
    # which lets LLVM drop numba's wraparound of negative indices (and
    # vectorise the exp loop).
    for block in range(start, stop, TASK_BLOCK):
        end = min(block + TASK_BLOCK, stop)
        scores = posterior[block:end]
        for b in range(scores.shape[0]):
            t = uintp(block + b)
            # two tests on None, not if/else: numba drops a branch at compile
            # time only when its test reads an argument that is None
            if log_table is not None:
                _gather_rows(token, t, task_ptr, row, weight, log_table, first,
                             posterior)
            if log_gain is not None:
                for k in range(n):
                    scores[b, k] = first[0, k]
                for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
                    w = 1.0 if weight is None else weight[v]
                    scores[b, uintp(label[v])] += w * log_gain[uintp(row[v])]
            keep = -1 if clamp is None else clamp[t]
            tops[b] = _clamp_and_shift(n, scores, b, keep, group_size)
        log_likelihood += _normalize_block(n, scores, flat[block * n:end * n],
                                           tops, counts, stats is not None)
        if stats is None:
            continue
        for i in range(block, end):
            t = uintp(i)
            if log_table is not None:
                _scatter_rows(token, t, task_ptr, row, weight, posterior, stats)
            if log_gain is not None:
                for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
                    w = 1.0 if weight is None else weight[v]
                    stats[uintp(row[v])] += w * posterior[t, uintp(label[v])]
    for k in range(n):
        state_counts[k] += counts[k]
    return log_likelihood


@njit(cache=True, nogil=True)
def row_stats_pass(token, task_ptr, row, weight, posterior, start, stop, stats):
    """``stats[row_v] += w_v * posterior[task_v]`` for tasks start:stop."""
    for i in range(start, stop):
        _scatter_rows(token, i, task_ptr, row, weight, posterior, stats)


# ----------------------------------------------------------------------
# GLAD: the vote likelihood depends on the worker *and* the task
@njit(cache=True, nogil=True, inline="always")
def _log_sigmoid_pair(x):
    """``(log sigmoid(x), log sigmoid(-x), sigmoid(x))``, branch-free, from
    one exp, one log and one division (``log(1 + e)`` rather than ``log1p``:
    faster, and its error, below 1e-16, is immaterial here)."""
    e = np.exp(-abs(x))
    soft = np.log(1.0 + e)
    right = min(x, 0.0) - soft
    return right, right - x, (1.0 if x >= 0.0 else e) / (1.0 + e)


@njit(cache=True, nogil=True)
def glad_log_posterior_pass(task_ptr, worker, label, weight, ability, easiness,
                            log_prior, clamp, start, stop, posterior):
    """E-step of GLAD for tasks ``start:stop``; returns their log-likelihood.

    A vote of worker ``w`` on task ``i`` is correct with probability
    ``sigmoid(ability[w] * easiness[i])`` and otherwise any of the ``K - 1``
    other labels with equal probability. ``posterior[i]`` becomes
    ``softmax(log_prior + sum of the votes' log-likelihoods)``, or the one-hot
    of ``clamp[i]`` when it is non-negative (a known gold label).
    """
    n_classes = log_prior.shape[0]
    log_others = np.log(n_classes - 1.0) if n_classes > 1 else 0.0
    buf = np.empty(n_classes)
    log_likelihood = 0.0
    for i in range(start, stop):
        base = 0.0
        for k in range(n_classes):
            buf[k] = log_prior[k]
        for v in range(task_ptr[i], task_ptr[i + 1]):
            right, wrong, _ = _log_sigmoid_pair(ability[worker[v]] * easiness[i])
            wrong -= log_others
            base += weight[v] * wrong
            buf[label[v]] += weight[v] * (right - wrong)
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


@njit(cache=True, nogil=True, inline="always")
def _glad_group_terms(lo, hi, task, worker, weight, correct, ability, easiness,
                      value, by_task, log_others):
    """Expected complete-data log-likelihood of one group's votes and its
    first two derivatives in the group's variable, set to ``value``.

    The votes are ``lo:hi``; the group is a task (variable: its
    log-easiness) or a worker (variable: its ability). A vote whose
    posterior probability of being the true label is ``r`` contributes ``r
    log s + (1 - r) (log(1 - s) - log(K - 1))``, ``s = sigmoid(ability *
    easiness)``.
    """
    total = 0.0
    first = 0.0
    second = 0.0
    own = np.exp(value) if by_task else value
    for v in range(lo, hi):
        if by_task:
            scale = own
            x = ability[worker[v]] * own
        else:
            scale = easiness[task[v]]
            x = own * scale
        right, wrong, s = _log_sigmoid_pair(x)
        r = correct[v]
        wt = weight[v]
        d1 = r - s
        d2 = -s * (1.0 - s)
        total += wt * (r * right + (1.0 - r) * (wrong - log_others))
        if by_task:  # d/d log-easiness: dx = x
            first += wt * d1 * x
            second += wt * (d2 * x * x + d1 * x)
        else:  # d/d ability: dx = easiness
            first += wt * d1 * scale
            second += wt * d2 * scale * scale
    return total, first, second


@njit(cache=True, nogil=True)
def glad_newton_pass(group_ptr, task, worker, weight, correct, ability, easiness,
                     variable, n_classes, by_task, prior_mean,
                     prior_precision, n_steps, max_step, max_halvings, active,
                     start, stop):
    """Safeguarded Newton ascent on GLAD's abilities or log-easiness.

    ``variable`` (one value per group, updated in place) is each worker's
    ability, or each task's log-easiness with ``by_task``; the votes of
    group ``g`` are ``group_ptr[g]:group_ptr[g + 1]`` (votes sorted by task,
    or by worker). Each group's
    objective is its votes' expected complete-data log-likelihood plus a
    Gaussian log prior, a function of its own variable only. Each active
    group takes up to ``n_steps`` steps ``grad / max(-hess, precision)``
    (Newton's where the objective is concave enough), clipped to
    ``max_step`` and halved until the objective does not decrease: every
    accepted step increases it. Only groups ``start:stop`` are updated.
    """
    log_others = np.log(n_classes - 1.0) if n_classes > 1 else 0.0
    for g in range(start, stop):
        if not active[g]:
            continue
        lo = group_ptr[g]
        hi = group_ptr[g + 1]
        current = variable[g]
        total, first, second = _glad_group_terms(
            lo, hi, task, worker, weight, correct, ability, easiness, current,
            by_task, log_others)
        for _ in range(n_steps):
            gap = current - prior_mean
            value = total - 0.5 * prior_precision * gap * gap
            grad = first - prior_precision * gap
            curvature = max(prior_precision - second, prior_precision)
            step = min(max(grad / curvature, -max_step), max_step)
            # a predicted gain lost in rounding: converged
            if 0.5 * grad * step <= 1e-13 * (1.0 + abs(value)):
                break
            accepted = False
            for _ in range(max_halvings):
                candidate = current + step
                c_total, c_first, c_second = _glad_group_terms(
                    lo, hi, task, worker, weight, correct, ability, easiness,
                    candidate, by_task, log_others)
                c_gap = candidate - prior_mean
                if c_total - 0.5 * prior_precision * c_gap * c_gap >= value:
                    current = candidate
                    total, first, second = c_total, c_first, c_second
                    accepted = True
                    break
                step *= 0.5
            if not accepted:
                break
        variable[g] = current


import math  # noqa: E402  (appended section: special functions)


@njit(cache=True, nogil=True, inline="always")
def _digamma(x):
    """Digamma function for x > 0: the recurrence up to x >= 10, then the
    asymptotic series to the x**-14 term (within 1e-14 of SciPy's relative
    to the value, away from the root near 1.46)."""
    result = 0.0
    while x < 10.0:
        result -= 1.0 / x
        x += 1.0
    f = 1.0 / (x * x)
    series = f * (1.0 / 12 - f * (1.0 / 120 - f * (1.0 / 252 - f * (
        1.0 / 240 - f * (1.0 / 132 - f * (691.0 / 32760 - f / 12.0))))))
    return result + np.log(x) - 0.5 / x - series


@njit(cache=True, nogil=True)
def spam_variational_params(spammed, knowing, spam_prior, knowing_prior,
                            strategy_prior, spam, strategy):
    """MACE's variational M-step, worker by worker: the geometric-mean
    parameters ``exp(E[log p])`` of the Beta posterior of the spamming
    probability and of the Dirichlet posterior of the spam-label
    distribution. The latter are sub-normalised; normalised ones give the
    same vote likelihoods up to a constant per vote (hence the same
    posteriors), and are what ``strategy`` receives, with ``spam`` the
    matching spamming probability."""
    n_classes = spammed.shape[1]
    for w in range(spammed.shape[0]):
        spam_count = spam_prior
        strategy_total = 0.0
        for k in range(n_classes):
            spam_count += spammed[w, k]
            strategy_total += spammed[w, k] + strategy_prior
        total = _digamma(spam_count + knowing[w] + knowing_prior)
        spam_weight = np.exp(_digamma(spam_count) - total)
        knowing_weight = np.exp(_digamma(knowing[w] + knowing_prior) - total)
        shift = _digamma(strategy_total)
        norm = 0.0
        for k in range(n_classes):
            strategy[w, k] = np.exp(_digamma(spammed[w, k] + strategy_prior) - shift)
            norm += strategy[w, k]
        for k in range(n_classes):
            strategy[w, k] /= norm
        spam[w] = spam_weight * norm / (spam_weight * norm + knowing_weight)


@njit(cache=True, nogil=True)
def smoothed_rows(counts, alpha, out):
    """``out[w, s] = (counts[w, s] + alpha) / sum(counts[w, s] + alpha)``: the
    Dirichlet MAP rows of confusion counts, in one pass over an array of any
    strides (NumPy's reduction over the short last axis of a transposed view
    is ten times slower)."""
    n_rows, n_states, n_labels = counts.shape
    for w in range(n_rows):
        for s in range(n_states):
            total = 0.0
            for k in range(n_labels):
                total += counts[w, s, k] + alpha
            for k in range(n_labels):
                out[w, s, k] = (counts[w, s, k] + alpha) / total


@njit(cache=True, nogil=True)
def dirichlet_log_table(concentration, prior, table):
    """Expectations of Dirichlet rows, written as a (row, label) x state table.

    ``concentration[r, s]`` (shape (n_rows, n_states, n_labels)) is the
    Dirichlet posterior of row ``r`` (a worker) in latent state ``s``, and
    ``prior[s]`` its prior. Writes ``table[r * n_labels + l, s] = E[log p_l]
    = digamma(c_l) - digamma(sum(c))``, the layout the E-step kernels read,
    and returns the sum over rows and states of KL(Dir(c) || Dir(prior)).
    """
    n_rows, n_states, n_labels = concentration.shape
    prior_const = np.empty(n_states)
    for s in range(n_states):
        total = 0.0
        acc = 0.0
        for k in range(n_labels):
            total += prior[s, k]
            acc += math.lgamma(prior[s, k])
        prior_const[s] = acc - math.lgamma(total)
    kl = 0.0
    for r in range(n_rows):
        base = r * n_labels
        for s in range(n_states):
            total = 0.0
            for k in range(n_labels):
                total += concentration[r, s, k]
            digamma_total = _digamma(total)
            row_kl = math.lgamma(total) + prior_const[s]
            for k in range(n_labels):
                c = concentration[r, s, k]
                expected = _digamma(c) - digamma_total
                table[base + k, s] = expected
                row_kl += (c - prior[s, k]) * expected - math.lgamma(c)
            kl += row_kl
    return kl


# ----------------------------------------------------------------------
# M-MSR: robust rank-one completion of the workers' covariance
@njit(cache=True, nogil=True)
def msr_sweep(values, observed, other, current, n_trim, floor, out):
    """One half-step of M-MSR: ``out[j]`` is the trimmed mean of the ratios
    ``values[j, i] / other[i]`` over the observed entries of row ``j`` (the
    matrices are symmetric: rows are read, contiguous in memory).

    Mean-subsequence-reduced trimming, relative to the current value ``a =
    current[j]``: the ``n_trim`` smallest ratios below ``a`` (all of them if
    there are fewer) and the ``n_trim`` largest above ``a`` are dropped. A
    column without ratios left keeps its value; results are at least
    ``floor``. ``values`` is a dense, symmetric workers x workers matrix.
    """
    n = values.shape[0]
    buf = np.empty(n)
    for j in range(n):
        m = 0
        for i in range(n):
            if observed[j, i]:
                buf[m] = values[j, i] / other[i]
                m += 1
        a = current[j]
        if m == 0:
            out[j] = a
            continue
        # drop the n_trim smallest ratios below a and the n_trim largest
        # above a: two selections (O(m)) instead of a sort
        below = 0
        above = 0
        total = 0.0
        for k in range(m):
            total += buf[k]
            if buf[k] < a:
                below += 1
            elif buf[k] > a:
                above += 1
        low = min(below, n_trim)
        high = min(above, n_trim)
        if low + high >= m:
            out[j] = a
            continue
        if low > 0:
            part = np.partition(buf[:m], low - 1)
            for k in range(low):
                total -= part[k]
        if high > 0:
            part = np.partition(buf[:m], m - high)
            for k in range(m - high, m):
                total -= part[k]
        out[j] = max(total / (m - low - high), floor)


@njit(cache=True, nogil=True)
def counting_order(keys, n_keys):
    """The stable order that sorts ``keys`` (integers in ``range(n_keys)``),
    by a counting sort: O(len(keys) + n_keys), where argsort is O(n log n)."""
    start = np.zeros(n_keys + 1, dtype=np.int64)
    for j in range(keys.shape[0]):
        start[keys[j] + 1] += 1
    for k in range(n_keys):
        start[k + 1] += start[k]
    order = np.empty(keys.shape[0], dtype=np.int64)
    for j in range(keys.shape[0]):
        key = keys[j]
        order[start[key]] = j
        start[key] += 1
    return order


@njit(cache=True, nogil=True)
def dense_factorize(values, low, span, sort):
    """Codes and vocabulary of integers in ``[low, low + span)`` by direct
    addressing: O(len(values) + span), no sort and no hashing.

    Codes number the distinct values in order of first appearance, or in
    increasing order with ``sort``.
    """
    code_of = np.full(span, -1, dtype=np.int64)
    codes = np.empty(values.shape[0], dtype=np.int32)
    uniques = np.empty(min(span, values.shape[0]), dtype=values.dtype)
    n_unique = 0
    for j in range(values.shape[0]):
        slot = values[j] - low
        code = code_of[slot]
        if code < 0:
            code = n_unique
            code_of[slot] = code
            uniques[code] = values[j]
            n_unique += 1
        codes[j] = code
    uniques = uniques[:n_unique]
    if sort:
        rank = np.empty(n_unique, dtype=np.int32)
        order = np.argsort(uniques)
        for r in range(n_unique):
            rank[order[r]] = r
        for j in range(values.shape[0]):
            codes[j] = rank[codes[j]]
        uniques = uniques[order]
    return codes, uniques


@njit(cache=True, nogil=True)
def weighted_label_counts(task_ptr, worker, label, weight, worker_weight, start,
                          stop, counts):
    """``counts[i, label_v] += weight_v * worker_weight[worker_v]`` over the
    votes of tasks ``start:stop`` (``weight`` and ``worker_weight`` may be
    None: 1 for every vote, every worker), in vote order, as ``np.bincount``
    adds; chunks of tasks write disjoint rows."""
    for i in range(start, stop):
        t = uintp(i)
        for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
            w = 1.0 if weight is None else weight[v]
            if worker_weight is not None:
                w = w * worker_weight[uintp(worker[v])]
            counts[t, uintp(label[v])] += w


@njit(cache=True, nogil=True)
def row_argmax(scores, out):
    """``out[i] = argmax(scores[i])``, the first maximum as ``np.argmax``
    (whose reduction over a short last axis is ten times slower)."""
    for i in range(scores.shape[0]):
        best = 0
        top = scores[i, 0]
        for k in range(1, scores.shape[1]):
            if scores[i, k] > top:
                top = scores[i, k]
                best = k
        out[i] = best


@njit(cache=True, nogil=True)
def agreement_pass(task_ptr, worker, label, weight, reference, mask, start, stop,
                   agreed, given):
    """Per worker, over tasks ``start:stop``: adds to ``given`` the vote
    weight (``weight`` None: 1 per vote) on tasks with a reference
    (``reference >= 0``, and ``mask`` true unless it is None), and to
    ``agreed`` the part of it that agrees with the reference."""
    for i in range(start, stop):
        t = uintp(i)
        ref = reference[t]
        if ref < 0 or (mask is not None and not mask[t]):
            continue
        for v in range(uintp(task_ptr[t]), uintp(task_ptr[t + 1])):
            w = uintp(worker[v])
            vote_weight = 1.0 if weight is None else weight[v]
            given[w] += vote_weight
            # no branch: whether a vote agrees is unpredictable, and a
            # mispredicted branch cost four times the whole loop body
            agreed[w] += vote_weight * (label[v] == ref)


@njit(cache=True, nogil=True)
def sorted_task_pointers(task, n_tasks):
    """``task_ptr`` of codes sorted by task (votes of task ``i`` are
    ``task_ptr[i]:task_ptr[i + 1]``); an empty array when ``task`` is not
    non-decreasing codes in ``range(n_tasks)``.

    Two passes without branches (a branch per task change, or a counter
    incremented per vote, made it five times slower): a vectorised order
    test, then each vote writes its task's end; tasks without votes then
    take the end before them."""
    n = task.shape[0]
    if n and (task[0] < 0 or task[n - 1] >= n_tasks):
        return np.zeros(0, dtype=np.int64)
    following = task[1:]
    unsorted = 0
    for i in range(n - 1):
        j = uintp(i)
        unsorted += following[j] < task[j]
    if unsorted:
        return np.zeros(0, dtype=np.int64)
    ptr = np.zeros(n_tasks + 1, dtype=np.int64)
    for i in range(n):
        j = uintp(i)
        ptr[uintp(task[j]) + 1] = i + 1
    end = 0
    for i in range(1, n_tasks + 1):
        end = max(end, ptr[i])
        ptr[i] = end
    return ptr


@njit(cache=True, nogil=True)
def normalized_rows(scores, fallback, out):
    """``out[i] = scores[i] / sum(scores[i])``; ``fallback`` for rows whose
    sum is not positive. ``out`` may be ``scores``."""
    for i in range(scores.shape[0]):
        total = 0.0
        for k in range(scores.shape[1]):
            total += scores[i, k]
        if total > 0:
            for k in range(scores.shape[1]):
                out[i, k] = scores[i, k] / total
        else:
            for k in range(scores.shape[1]):
                out[i, k] = fallback[k]


@njit(cache=True, nogil=True)
def hard_vote_rows(counts, fallback, out):
    """The hard vote of each row of ``counts``: ``1/m`` on each of the ``m``
    classes with the most (positive) votes, 0 elsewhere; ``fallback`` for a
    row without votes. ``out`` may be ``counts``."""
    for i in range(counts.shape[0]):
        top = counts[i, 0]
        for k in range(1, counts.shape[1]):
            top = max(top, counts[i, k])
        if not top > 0:
            for k in range(counts.shape[1]):
                out[i, k] = fallback[k]
            continue
        n_top = 0
        for k in range(counts.shape[1]):
            n_top += counts[i, k] == top
        share = 1.0 / n_top
        for k in range(counts.shape[1]):
            out[i, k] = share if counts[i, k] == top else 0.0


@njit(cache=True, nogil=True)
def already_codes(values, n_values, sort):
    """Whether integers in ``[0, n_values)`` are already their own codes.

    Without ``sort`` (codes by first appearance) the test is that they run
    0, 0, 1, 2, 2, ... (sorted, steps of 0 or 1, as tasks numbered in
    order); with ``sort``, that every value of the range is present.
    """
    n = values.shape[0]
    if sort:
        seen = np.zeros(n_values, dtype=np.bool_)
        n_seen = 0
        for j in range(n):
            if not seen[values[j]]:
                seen[values[j]] = True
                n_seen += 1
                if n_seen == n_values:
                    return True
        return False
    if values[0] != 0:
        return False
    following = values[1:]
    for start in range(0, n - 1, 4096):  # a vectorised test per block
        bad = 0
        for i in range(start, min(start + 4096, n - 1)):
            j = uintp(i)  # unsigned: no wraparound test, so LLVM vectorises
            bad += uintp(following[j] - values[j]) > 1
        if bad:
            return False
    return True


@njit(cache=True, nogil=True)
def label_totals(label, weight, n_classes):
    """Total vote weight of each class (or of each value of any index in
    ``range(n_classes)``; ``weight`` None: 1 per vote), without
    ``np.bincount``'s copy of int32 codes. Weighted votes are added in vote
    order, as ``np.bincount`` does; unit votes of up to
    ``MAX_UNROLLED_WIDTH`` classes are counted one class at a time (one
    vectorised pass each, exact)."""
    totals = np.zeros(n_classes)
    if weight is None and n_classes <= MAX_UNROLLED_WIDTH:
        for k in range(n_classes):
            count = 0
            for i in range(label.shape[0]):
                count += label[uintp(i)] == k
            totals[k] = count
        return totals
    for v in range(label.shape[0]):
        totals[uintp(label[v])] += 1.0 if weight is None else weight[v]
    return totals
