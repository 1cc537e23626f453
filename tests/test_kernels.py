"""The compiled kernels' own arithmetic, against NumPy."""

import numpy as np
from numba import njit

from skcrowd._kernels import _exp


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
