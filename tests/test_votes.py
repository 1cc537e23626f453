"""Votes and its adapters: every input format gives the same votes."""

import pickle

import numpy as np
import pandas as pd
import pytest
import scipy.sparse
import sparse

from skcrowd import DawidSkene, MajorityVote, Votes, Wawa, as_votes

# One small crowd in every format: 3 tasks, 3 workers, labels "a"/"b".
WIDE = [["a", "a", None], ["b", None, "a"], [None, "b", "b"]]
LONG = pd.DataFrame(
    {
        "task": ["t0", "t0", "t1", "t1", "t2", "t2"],
        "worker": ["w0", "w1", "w0", "w2", "w1", "w2"],
        "label": ["a", "a", "b", "a", "b", "b"],
    }
)
DICT = {
    "t0": {"w0": "a", "w1": "a"},
    "t1": {"w0": "b", "w2": "a"},
    "t2": {"w1": "b", "w2": "b"},
}


def triples(votes):
    """The votes as a set of (task id, worker id, label, weight)."""
    return sorted(
        (str(votes.task_ids[t]), str(votes.worker_ids[w]), str(votes.classes[c]), x)
        for t, w, c, x in zip(votes.task, votes.worker, votes.label, votes.weight,
                              strict=True)
    )


def test_formats_give_the_same_votes():
    wide = pd.DataFrame(WIDE, index=["t0", "t1", "t2"], columns=["w0", "w1", "w2"])
    coo = sparse.COO(
        np.array([[0, 0, 1, 1, 2, 2], [0, 1, 0, 2, 1, 2], [0, 0, 1, 0, 1, 1]]),
        np.ones(6, dtype=int), shape=(3, 3, 2),
    )
    expected = triples(as_votes(LONG))
    assert triples(as_votes(DICT)) == expected
    assert triples(as_votes(wide)) == expected
    from_coo = as_votes(coo, classes=["a", "b"])
    renamed = Votes(from_coo.task, from_coo.worker, from_coo.label,
                    task_ids=["t0", "t1", "t2"], worker_ids=["w0", "w1", "w2"],
                    classes=from_coo.classes)
    assert triples(renamed) == expected


def test_formats_give_the_same_posteriors():
    reference = DawidSkene().fit(LONG).consensus_proba_
    for X in (WIDE, DICT, np.array(WIDE, dtype=object)):
        np.testing.assert_allclose(DawidSkene().fit(X).consensus_proba_, reference)


def test_string_labels_round_trip_and_task_order():
    model = MajorityVote().fit(LONG)
    assert model.classes_.tolist() == ["a", "b"]
    assert model.task_ids_.tolist() == ["t0", "t1", "t2"]
    assert model.consensus_label_.tolist() == ["a", "a", "b"]
    shuffled = LONG.iloc[[4, 0, 2, 1, 5, 3]]
    assert as_votes(shuffled).task_ids.tolist() == ["t2", "t0", "t1"]


def test_wide_integer_matrix_uses_missing_label():
    votes = as_votes(np.array([[0, 1, -1], [2, -1, -1]]))
    assert votes.n_votes == 3 and votes.classes.tolist() == [0, 1, 2]
    votes = as_votes(np.array([[0, 1, 9], [2, 9, 9]]), missing_label=9)
    assert votes.n_votes == 3


def test_float_labels_that_are_integers_become_integers():
    votes = as_votes(np.array([[0.0, 1.0, np.nan], [1.0, np.nan, np.nan]]))
    assert votes.classes.dtype.kind == "i"
    assert votes.classes.tolist() == [0, 1]


def test_repeated_votes_add_weight():
    repeated = pd.concat([LONG, LONG.iloc[[2]]])
    weighted = LONG.assign(weight=[1, 1, 2, 1, 1, 1])
    np.testing.assert_allclose(
        DawidSkene().fit(repeated).consensus_proba_,
        DawidSkene().fit(weighted).consensus_proba_,
    )
    assert as_votes(repeated).n_votes == 7


def test_tasks_without_votes_get_the_class_prior():
    X = np.array([[0, 0, 1], [-1, -1, -1], [1, 1, 1], [0, 0, 0]])
    model = DawidSkene().fit(X)
    np.testing.assert_allclose(model.consensus_proba_[1], model.class_prior_)
    mv = MajorityVote().fit(X)
    np.testing.assert_allclose(mv.consensus_proba_[1], [5 / 9, 4 / 9])


def test_subset_of_tasks_keeps_vocabularies():
    votes = as_votes(DICT)
    sub = votes[[2, 0]]
    assert sub.task_ids.tolist() == ["t2", "t0"]
    assert sub.worker_ids.tolist() == votes.worker_ids.tolist()
    assert triples(sub) == [t for t in triples(votes) if t[0] in ("t0", "t2")]
    assert len(votes[np.array([True, False, True])]) == 2


@pytest.mark.parametrize(
    "X, error, match",
    [
        (np.empty((0, 3)), ValueError, "minimum of 1 is required"),
        (np.full((2, 3), np.nan), ValueError, "holds no vote"),
        ([[None, None]], ValueError, "holds no vote"),
        ({}, ValueError, "dict of answers is empty"),
        ({"t": {}}, ValueError, "every task's dict of answers is empty"),
        ({"t": ["w", "a"]}, TypeError, "Task 't' maps to list"),
        ({"t": {"w": None}}, ValueError, "task 't', worker 'w'"),
        (pd.DataFrame({"task": [], "worker": [], "label": []}), ValueError, "empty"),
        (pd.DataFrame({"task": [1], "label": [0]}), ValueError,
         r"missing column.*worker"),
        (pd.DataFrame({"task": [1, 2], "worker": [1, 1], "label": [0, np.nan]}),
         ValueError, "Missing label in row 1"),
        (scipy.sparse.csr_matrix(np.eye(3)), TypeError, "sparse.COO"),
        (np.array([["a", 1], ["b", 2]], dtype=object), TypeError, "mix types"),
        (np.array([[0.0, np.inf]]), ValueError, "Infinite label at task row 0"),
        (None, ValueError, "got None"),
    ],
)
def test_bad_input_is_named(X, error, match):
    with pytest.raises(error, match=match):
        as_votes(X)


@pytest.mark.parametrize(
    "data, match",
    [([-1, 1], "got -1.0 at \\(task=0, worker=0, class=0\\)"),
     ([0.5, 1], "got 0.5 at"),
     ([0, 0], "holds no vote")],
)
def test_bad_coo_counts(data, match):
    coo = sparse.COO(np.array([[0, 1], [0, 0], [0, 1]]), np.array(data),
                     shape=(2, 1, 2))
    with pytest.raises(ValueError, match=match):
        as_votes(coo)


def test_labels_outside_given_classes_are_named():
    with pytest.raises(ValueError, match=r"Labels \['c'\] are not in classes"):
        as_votes({"t": {"w": "c"}}, classes=["a", "b"])
    votes = as_votes({"t": {"w": "a"}}, classes=["a", "b", "z"])
    assert votes.classes.tolist() == ["a", "b", "z"]


def test_unit_weights_are_made_on_demand_and_survive_pickling():
    votes = Votes([1, 0, 1], [0, 1, 1], [0, 1, 1], task_ids=["a", "b"],
                  worker_ids=["u", "v"], classes=[0, 1])
    assert votes.kernel_weight() is None  # the kernels skip the products
    np.testing.assert_array_equal(votes.task, [0, 1, 1])  # sorted by task
    np.testing.assert_array_equal(votes.task_counts(), [1.0, 2.0])
    np.testing.assert_array_equal(votes.weight, [1.0, 1.0, 1.0])
    weighted = Votes([1, 0, 1], [0, 1, 1], [0, 1, 1], [1.0, 2.0, 3.0],
                     task_ids=["a", "b"], worker_ids=["u", "v"], classes=[0, 1])
    np.testing.assert_array_equal(weighted.weight, [2.0, 1.0, 3.0])  # moved along
    np.testing.assert_array_equal(weighted.task_counts(), [2.0, 4.0])
    again = pickle.loads(pickle.dumps(weighted))
    np.testing.assert_array_equal(again.weight, weighted.weight)
    np.testing.assert_array_equal(again.task_ptr, [0, 1, 3])


def test_numeric_worker_ids_are_numbered_in_increasing_order():
    frame = pd.DataFrame({"task": [0, 0, 1, 1, 2, 2],
                          "worker": [7, 3, 3, 9, 7, 9],
                          "label": [1, 0, 0, 0, 1, 1]})
    votes = as_votes(frame)
    assert votes.worker_ids.tolist() == [3, 7, 9]
    np.testing.assert_array_equal(votes.worker_ids[votes.worker], frame["worker"])
    as_text = as_votes(frame.assign(worker=frame["worker"].map("w{}".format)))
    assert as_text.worker_ids.tolist() == ["w7", "w3", "w9"]  # first appearance
    # ids 0..W-1: row w of a per-worker attribute is worker w
    gold = [0, 1, 0, 1, 0, 1] * 20
    rows = [(t, w, gold[t] if w < 4 else 1 - gold[t]) for t in range(120)
            for w in (5, 0, 3, 1, 2, 4)]
    crowd = pd.DataFrame(rows, columns=["task", "worker", "label"])
    model = MajorityVote().fit(crowd)
    assert model.worker_ids_.tolist() == list(range(6))
    wawa = Wawa().fit(crowd)
    assert wawa.worker_agreement_[:4].min() > wawa.worker_agreement_[4:].max()
