"""Accuracy on the shipped datasets against published numbers (issue 3).

The published figures and the two measuring protocols live in
``benchmarks/accuracy_table.py`` (one place for the table command and these
tests):

* Crowd-Kit paper numbers are checked under its protocol: every vote as
  shipped (a repeated answer is one more vote), ties broken to the smallest
  label.
* Li, Rubinstein & Cohn's numbers are checked under theirs: exact duplicate
  (task, worker, label) rows dropped first, a tie among m top classes earns
  1/m of a correct answer.

A model that is not registered yet is skipped, so the tests grow as the zoo
does; model-specific accuracy tests live beside each model's own tests.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from skcrowd.aggregation import AGGREGATORS

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "accuracy_table.py"
_SPEC = importlib.util.spec_from_file_location("accuracy_table", _PATH)
bench = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench)

BY_CLASS = {cls.__name__: cls for cls in AGGREGATORS.values()}


def _registered(name):
    if name not in BY_CLASS:
        pytest.skip(f"{name} is not registered in skcrowd.aggregation yet")
    return BY_CLASS[name]


CROWDKIT_CASES = [
    (method, dataset, published)
    for method, results in bench.PUBLISHED_CROWDKIT.items()
    for dataset, published in results.items()
]


@pytest.mark.parametrize("method, dataset, published", CROWDKIT_CASES)
def test_crowdkit_paper_accuracy(method, dataset, published):
    cls = _registered(method)
    accuracy, _, _ = bench.evaluate(cls, dataset, "crowdkit")
    assert abs(accuracy - published) <= 0.01, (
        f"{method} on {dataset}: {accuracy:.4f}, Crowd-Kit paper {published:.3f}")


def test_wawa_matches_crowdkit_to_the_third_decimal():
    # zheng_product: 0.89657 prints as 0.897 in the paper
    for dataset, published in bench.PUBLISHED_CROWDKIT["Wawa"].items():
        accuracy, _, _ = bench.evaluate(BY_CLASS["Wawa"], dataset, "crowdkit")
        assert round(accuracy, 3) == published


def test_protocol_helpers():
    votes, _ = bench.load("act_zc_us", "crowdkit")
    deduplicated, _ = bench.load("act_zc_us", "li")
    assert votes.n_votes - deduplicated.n_votes == 919  # exact duplicate rows
    proba = np.array([[0.5, 0.5], [0.2, 0.8], [0.7, 0.3], [1 / 3, 2 / 3]])
    credit = bench.tie_credit(proba, np.array([0, 1], dtype=object),
                              np.array([0, 1, 1, 1], dtype=object))
    np.testing.assert_allclose(credit, [0.5, 1.0, 0.0, 1.0])
    assert len(bench.LI_DATASETS) == 12


def test_best_method_reaches_the_published_ebcc_mean():
    """The best skcrowd method's mean over Li et al.'s 12 datasets is at least
    the published EBCC mean (Li protocol). Candidates are tried cheapest first
    and the search stops at the first that reaches it."""
    li_models = [name for name in ("EBCC", "IBCC", "BWA") if name in BY_CLASS]
    if not li_models:
        pytest.skip("EBCC, IBCC and BWA are not registered yet")
    target = float(np.mean([bench.PUBLISHED_LI["EBCC"][d]
                            for d in bench.LI_DATASETS]))
    # EBCC is run as Li et al. ran it: several seeded restarts, the best
    # lower bound kept (they used 40; 10 with seed 0 suffice and keep this
    # test affordable). The default n_init=1 reaches 0.870.
    candidates = [("IBCC", {}), ("BWA", {}), ("DawidSkene", {}),
                  ("EBCC", {"n_init": 10, "random_state": 0})]
    means = {}
    for name, params in candidates:
        if name not in BY_CLASS:
            continue
        accuracies = [bench.evaluate(BY_CLASS[name], d, "li", **params)[0]
                      for d in bench.LI_DATASETS]
        means[name] = float(np.mean(accuracies))
        if means[name] >= target:
            return
    assert max(means.values()) >= target, (
        f"best mean over Li et al.'s 12 datasets {max(means.values()):.4f} "
        f"({max(means, key=means.get)}) < published EBCC mean {target:.4f}; "
        f"all: {means}")
