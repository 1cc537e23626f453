"""The compiled kernels' own arithmetic, against NumPy."""

import numpy as np
import pytest
from numba import njit, uintp

from skcrowd._kernels import (
    REGISTER_WIDTH,
    _exp,
    _gather_add,
    _load_row,
    _scatter_add,
    already_codes,
    hard_vote_rows,
    label_totals,
    normalized_rows,
    sorted_task_pointers,
    width_token,
)
from skcrowd._votes import factorize


@njit
def _exp_all(x):
    out = np.empty_like(x)
    for j in range(x.shape[0]):
        out[j] = _exp(x[j])
    return out


def test_exp_is_within_one_ulp_of_numpy():
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(-708, 709, 200_000),
                        rng.uniform(-40, 0, 200_000),
                        rng.uniform(-1e-3, 1e-3, 20_000),
                        np.log(np.arange(1, 1000)), [0.0, 1.0, -1.0, 709.0, -708.0]])
    got, want = _exp_all(x), np.exp(x)
    ulps = np.abs(got - want) / np.spacing(want)
    assert ulps.max() <= 1.0
    assert ulps.mean() < 0.2
    assert _exp_all(np.array([0.0]))[0] == 1.0


def test_exp_edge_cases():
    got = _exp_all(np.array([-np.inf, -1e300, -745.0, -708.5, np.nan]))
    # below exp(-708), about 3e-308, results round to zero (no subnormals)
    np.testing.assert_array_equal(got[:4], 0.0)
    assert np.isnan(got[4])


def _first_appearance_codes(values):
    """Reference: number distinct values in order of first appearance."""
    index = {}
    codes = [index.setdefault(v, len(index)) for v in values.tolist()]
    return np.array(codes), np.array(list(index))


@pytest.mark.parametrize("values", [
    np.repeat(np.arange(50, dtype=np.int32), 3),  # tasks numbered in order
    np.array([0, 0, 1, 1, 2], dtype=np.int64),
    np.array([0, 2, 1], dtype=np.int32),  # a gap: a table is needed
    np.array([1, 0, 1], dtype=np.int32),  # does not start at 0
    np.array([0, 1, 0, 2], dtype=np.int32),  # first appearance, not sorted
    np.array([5, 7, 5, 6], dtype=np.uint16),
])
def test_factorize_matches_first_appearance(values):
    codes, uniques = factorize(values)
    want_codes, want_uniques = _first_appearance_codes(values)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(uniques, want_uniques)
    assert codes.dtype == np.int32 and uniques.dtype == values.dtype


@pytest.mark.parametrize("values", [
    np.array([2, 0, 1, 1, 2], dtype=np.int32),  # every value of 0..2: codes as-is
    np.array([3, 0, 1, 3], dtype=np.int32),  # 2 missing: recoded
    np.array([4, 9, 4], dtype=np.int64),
])
def test_sorted_factorize_matches_numpy_unique(values):
    codes, uniques = factorize(values, sort=True)
    want_uniques, want_codes = np.unique(values, return_inverse=True)
    np.testing.assert_array_equal(codes, want_codes)
    np.testing.assert_array_equal(uniques, want_uniques)


def test_already_codes_reads_any_block_boundary():
    run = np.repeat(np.arange(6000, dtype=np.int32), 2)  # spans 3 blocks
    assert already_codes(run, 6000, False)
    for at in (1, 4095, 4096, 4097, len(run) - 1):
        broken = run.copy()
        broken[at] += 2  # a step of 2 or more anywhere breaks the run
        assert not already_codes(broken, int(broken.max()) + 1, False)


def test_sorted_task_pointers():
    task = np.array([0, 0, 2, 2, 2, 3], dtype=np.int32)
    np.testing.assert_array_equal(sorted_task_pointers(task, 5), [0, 2, 2, 5, 6, 6])
    assert len(sorted_task_pointers(task[::-1].copy(), 5)) == 0  # not sorted
    assert len(sorted_task_pointers(task, 3)) == 0  # a code out of range


def test_label_totals_equals_bincount():
    rng = np.random.default_rng(1)
    for n_classes in (3, 40):  # counted class by class, and vote by vote
        label = rng.integers(0, n_classes, 5_000).astype(np.int32)
        weight = rng.uniform(0, 2, 5_000)
        np.testing.assert_array_equal(label_totals(label, None, n_classes),
                                      np.bincount(label, minlength=n_classes))
        np.testing.assert_array_equal(
            label_totals(label, weight, n_classes),
            np.bincount(label, weights=weight, minlength=n_classes))


def test_normalized_rows_and_hard_vote_rows():
    counts = np.array([[2.0, 1.0, 0.0], [1.0, 1.0, 0.0], [0.0, 0.0, 0.0],
                       [0.0, 3.0, 3.0]])
    fallback = np.array([0.5, 0.3, 0.2])
    shares = np.empty_like(counts)
    normalized_rows(counts, fallback, shares)
    np.testing.assert_allclose(shares, [[2 / 3, 1 / 3, 0], [0.5, 0.5, 0],
                                        [0.5, 0.3, 0.2], [0, 0.5, 0.5]])
    hard = np.empty_like(counts)
    hard_vote_rows(counts, fallback, hard)
    np.testing.assert_array_equal(hard, [[1, 0, 0], [0.5, 0.5, 0],
                                         [0.5, 0.3, 0.2], [0, 0.5, 0.5]])


@njit
def _scatter_then_gather(token, table, rows, weights, first):
    """The vector row intrinsics: every row of ``rows`` gets ``w * first``
    added, then the sum of ``w * table[r]`` over rows is gathered."""
    value = _load_row(len(token), first, 0)
    acc = _load_row(len(token), first, 0)
    for j in range(rows.shape[0]):
        _scatter_add(token, table, uintp(rows[j]), weights[j], value)
    for j in range(rows.shape[0]):
        acc = _gather_add(token, acc, weights[j], table, uintp(rows[j]))
    return acc


@pytest.mark.parametrize("width", range(1, REGISTER_WIDTH + 1))
@pytest.mark.parametrize("layout", ["C", "strided rows", "F"])
def test_vector_row_intrinsics_match_numpy(width, layout):
    # every split into vectors of 4, 2 and 1 floats; other layouts one by one
    rng = np.random.default_rng(width)
    table = rng.normal(size=(6, width + 3))
    table = {"C": table[:, :width].copy(), "strided rows": table[:, :width],
             "F": np.asfortranarray(table[:, :width])}[layout]
    first = rng.normal(size=(1, width))
    rows = np.array([0, 3, 3, 5, 1], dtype=np.int64)
    weights = rng.uniform(0.5, 2.0, len(rows))
    want_table = table.copy()
    for r, w in zip(rows, weights, strict=True):
        want_table[r] += w * first[0]
    want = first[0] + (weights[:, None] * want_table[rows]).sum(axis=0)
    got = _scatter_then_gather(width_token(width), table, rows, weights, first)
    np.testing.assert_array_equal(table, want_table)  # the same sums, in order
    np.testing.assert_allclose(got[:width], want, rtol=1e-13)
    assert got[width:] == (0.0,) * (REGISTER_WIDTH - width)
