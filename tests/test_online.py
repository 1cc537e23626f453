"""partial_fit with the in-memory store."""

import pickle

import numpy as np
import pandas as pd
import pytest

from skcrowd import (
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
    VoteProportions,
    Wawa,
)
from skcrowd.datasets import load_dataset

COUNTING = [MajorityVote, VoteProportions, Wawa]
EM = [DawidSkene, OneCoinDawidSkene]


def batches(frame, n_batches, shuffle=None):
    if shuffle is not None:
        frame = frame.sample(frac=1, random_state=shuffle)
    return [frame.iloc[part] for part in np.array_split(np.arange(len(frame)),
                                                        n_batches)]


def by_task(task_ids, values):
    return dict(zip(task_ids.tolist(), np.asarray(values).tolist(), strict=True))


@pytest.fixture(scope="module")
def dog():
    return load_dataset("zheng_dog", return_X_y=True, as_frame=True)


@pytest.mark.parametrize("cls", COUNTING)
@pytest.mark.parametrize("shuffle", [None, 0, 1])
def test_counting_models_are_exact_for_any_split(cls, shuffle, dog):
    # votes (not tasks) are split, so most tasks come back in later batches
    frame, _ = dog
    full = cls().fit(frame)
    online = cls()
    for batch in batches(frame, 7, shuffle):
        online.partial_fit(batch, classes=[0, 1, 2, 3])
    consensus = online.consensus()
    expected = by_task(full.task_ids_, full.consensus_proba_.tolist())
    got = by_task(consensus.task_ids, consensus.proba.tolist())
    assert got.keys() == expected.keys()
    np.testing.assert_allclose([got[t] for t in expected],
                               list(expected.values()), atol=1e-12)
    np.testing.assert_allclose(online.class_prior_, full.class_prior_)
    if cls is Wawa:
        order = [list(online.worker_ids_).index(w) for w in full.worker_ids_]
        np.testing.assert_allclose(online.worker_agreement_[order],
                                   full.worker_agreement_)


@pytest.mark.parametrize("cls", EM)
@pytest.mark.parametrize("dataset", ["zheng_product", "act_sp"])
@pytest.mark.parametrize("shuffle", [None, 0])
def test_em_models_online_reach_the_batch_accuracy(cls, dataset, shuffle):
    # peerannot's online Dawid-Skene drops from 0.89 to 0.66 with small
    # batches; stepwise EM with vote-share starts stays within 0.01 of fit.
    frame, gold = load_dataset(dataset, return_X_y=True, as_frame=True)
    truth = gold.to_dict()
    full = cls().fit(frame)
    fit_accuracy = np.mean([truth[t] == label for t, label in
                            zip(full.task_ids_, full.consensus_label_, strict=True)])
    online = cls()
    for batch in batches(frame, 10, shuffle):
        online.partial_fit(batch, classes=[0, 1])
    consensus = online.consensus()
    accuracy = np.mean([truth[t] == label for t, label in
                        zip(consensus.task_ids, consensus.labels, strict=True)])
    assert accuracy >= fit_accuracy - 0.01


@pytest.mark.parametrize("cls", EM)
def test_first_batch_is_fit_on_that_batch(cls, dog):
    frame, _ = dog
    batch = frame.iloc[:3000]
    # the first batch sets the statistics (step 1) and is iterated from the
    # same vote-share start as fit, so both reach the same fixed point
    full = cls(tol=1e-13, max_iter=3000).fit(batch)
    online = cls(tol=1e-13, max_iter=3000).partial_fit(batch)
    consensus = online.consensus(refresh=False)
    np.testing.assert_allclose(consensus.proba, full.consensus_proba_, atol=1e-4)


def test_a_task_seen_again_is_rescored_with_all_its_votes():
    model = MajorityVote()
    model.partial_fit({"t": {"a": "x", "b": "x"}}, classes=["x", "y"])
    model.partial_fit({"t": {"c": "y", "d": "y", "e": "y"}})
    assert model.consensus().labels.tolist() == ["y"]
    ds = DawidSkene()
    ds.partial_fit({"t": {"a": "x", "b": "x"}, "u": {"a": "y"}}, classes=["x", "y"])
    ds.partial_fit({"t": {"c": "y", "d": "y", "e": "y"}})
    assert ds.n_votes_seen_ == 6
    assert ds.consensus().task_ids.tolist() == ["t", "u"]


@pytest.mark.parametrize("cls", COUNTING + EM)
def test_resending_a_batch_is_a_no_op(cls):
    batch = {"t1": {"a": 0, "b": 1}, "t2": {"a": 1}}
    model = cls().partial_fit(batch)
    before = model.consensus().proba
    model.partial_fit(batch)
    assert model.n_batches_ == 1 and model.n_votes_seen_ == 3
    np.testing.assert_array_equal(model.consensus().proba, before)
    model.partial_fit(batch, batch_id="explicit")
    assert model.n_batches_ == 2 and model.n_votes_seen_ == 6
    model.partial_fit({"t3": {"c": 0}}, batch_id="explicit")
    assert model.n_batches_ == 2


def test_new_labels_need_classes_or_allow_new_classes():
    model = DawidSkene().partial_fit({"t": {"a": "oak"}})
    with pytest.raises(ValueError, match=r"Labels \['birch'\] are not in classes"):
        model.partial_fit({"u": {"a": "birch"}})
    assert model.n_batches_ == 1  # nothing applied
    grown = DawidSkene(allow_new_classes=True).partial_fit({"t": {"a": "oak"}})
    grown.partial_fit({"u": {"a": "birch", "b": "oak"}})
    assert grown.classes_.tolist() == ["oak", "birch"]  # appended, not sorted
    assert grown.confusion_matrices_.shape == (2, 2, 2)
    np.testing.assert_allclose(grown.consensus().proba.sum(axis=1), 1.0)
    upfront = DawidSkene().partial_fit({"t": {"a": "oak"}}, classes=["oak", "birch"])
    upfront.partial_fit({"u": {"a": "birch"}})
    assert upfront.classes_.tolist() == ["birch", "oak"]
    with pytest.raises(ValueError, match="differs from the classes"):
        upfront.partial_fit({"v": {"a": "oak"}}, classes=["oak", "pine"])


def test_new_workers_and_predict_between_batches(dog):
    frame, gold = dog
    model = DawidSkene()
    workers = frame["worker"].unique()
    first = frame[frame["worker"].isin(workers[:50])]
    second = frame[~frame["worker"].isin(workers[:50])]
    model.partial_fit(first, classes=[0, 1, 2, 3])
    assert len(model.worker_ids_) == 50
    proba = model.predict_proba(second)  # unseen workers: the pooled worker
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    model.partial_fit(second)
    assert len(model.worker_ids_) == len(workers)


def test_worker_slots_bound_the_state():
    rng = np.random.default_rng(0)
    n = 5000
    frame = pd.DataFrame({"task": rng.integers(0, 500, n),
                          "worker": [f"w{i}" for i in range(n)],
                          "label": rng.integers(0, 3, n)})
    model = DawidSkene(n_worker_slots=64)
    for batch in batches(frame, 5):
        model.partial_fit(batch, classes=[0, 1, 2])
    assert len(model.worker_ids_) <= 64
    assert model.confusion_matrices_.shape[0] <= 64
    # the same worker always lands in the same slot
    again = DawidSkene(n_worker_slots=64).partial_fit(frame.iloc[:10],
                                                       classes=[0, 1, 2])
    assert set(again.worker_ids_) <= set(model.worker_ids_)


def test_verbose_prints_a_progress_table_at_doubling_intervals(capsys, dog):
    frame, _ = dog
    model = DawidSkene(verbose=1)
    for batch in batches(frame, 9):
        model.partial_fit(batch, classes=[0, 1, 2, 3])
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:4] == ["batch", "votes", "tasks", "batch"]
    assert [int(line.split()[0]) for line in lines[1:]] == [1, 2, 4, 8]


def test_pickled_model_continues_identically(dog):
    frame, _ = dog
    parts = batches(frame, 4)
    model = Wawa()
    model.partial_fit(parts[0], classes=[0, 1, 2, 3])
    model.partial_fit(parts[1])
    copy = pickle.loads(pickle.dumps(model))
    for part in parts[2:]:
        model.partial_fit(part)
        copy.partial_fit(part)
    np.testing.assert_array_equal(copy.consensus().proba, model.consensus().proba)


def test_fit_after_partial_fit_starts_over(dog):
    frame, _ = dog
    model = MajorityVote().partial_fit(frame.iloc[:100])
    model.fit(frame)
    assert not hasattr(model, "store_")
    assert len(model.task_ids_) == 807


@pytest.mark.parametrize(
    "params, match",
    [({"learning_decay": 0}, "'learning_decay'"),
     ({"learning_decay": -1}, "'learning_decay'"),
     ({"learning_offset": -1}, "'learning_offset'"),
     ({"n_worker_slots": 0}, "'n_worker_slots'"),
     ({"store": "redis://x"}, "not a MongoDB URI"),
     ({"store": object()}, "lacks")],
)
def test_bad_online_parameters_are_named(params, match):
    with pytest.raises((ValueError, TypeError), match=match):
        DawidSkene(**params).partial_fit({"t": {"a": 0}})


def test_models_without_online_support_have_no_partial_fit():
    from skcrowd.aggregation import AGGREGATORS

    for cls in AGGREGATORS.values():
        supported = getattr(cls, "_stat_class_axes", None) is not None
        assert hasattr(cls(), "partial_fit") == supported
