"""scikit-learn's estimator checks on every aggregator of the registry."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skcrowd.aggregation import AGGREGATORS

# Checks whose premise does not hold for vote matrices, with the reason
# (none so far: every check applies).
NOT_APPLICABLE = {}


def expected_failed_checks(estimator):
    return NOT_APPLICABLE


@parametrize_with_checks(
    [cls() for cls in AGGREGATORS.values()],
    expected_failed_checks=expected_failed_checks,
)
def test_sklearn_compatible(estimator, check):
    check(estimator)
