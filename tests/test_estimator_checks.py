"""scikit-learn's estimator checks on every aggregator of the registry."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcrowd import KOS
from skcrowd.aggregation import AGGREGATORS

# Checks whose premise does not hold for vote matrices, with the reason
# (none so far: every check applies).
NOT_APPLICABLE = {}


# KOS is defined for two classes only and must raise a ValueError on more
# (issue 3); these checks fit votes with 3+ classes. tests/test_kos.py runs
# the same guarantees (clone, pickle, refit, dtypes, subsets) on binary votes.
KOS_BINARY_ONLY = dict.fromkeys(
    [
        "check_fit_score_takes_y", "check_estimators_overwrite_params",
        "check_dont_overwrite_parameters", "check_estimators_fit_returns_self",
        "check_readonly_memmap_input", "check_n_features_in_after_fitting",
        "check_positive_only_tag_during_fit", "check_estimators_dtypes",
        "check_dtype_object", "check_f_contiguous_array_estimator",
        "check_methods_sample_order_invariance", "check_methods_subset_invariance",
        "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
        "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in",
        "check_fit2d_predict1d",
    ],
    "KOS is binary; the check's votes have 3+ classes and KOS raises on them",
)


def expected_failed_checks(estimator):
    if isinstance(estimator, KOS):
        return {**NOT_APPLICABLE, **KOS_BINARY_ONLY}
    return NOT_APPLICABLE


@parametrize_with_checks(
    [cls() for cls in AGGREGATORS.values()],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
