"""partial_fit of the models without a closed-form M-step: GLAD, KOS, M-MSR
and Zero-Based Skill (running, vote-weighted means of batch estimates)."""

import numpy as np
import pytest

from skcrowd import GLAD, KOS, MMSR, ZeroBasedSkill
from skcrowd.datasets import load_dataset
from skcrowd.stores import MongoStore

MODELS = [GLAD, KOS, MMSR, ZeroBasedSkill]
# the per-worker parameter each model learns
WORKER_PARAM = {GLAD: "worker_ability_", KOS: "worker_reliability_",
                MMSR: "worker_skill_", ZeroBasedSkill: "worker_skill_"}


def make(cls, **kwargs):
    if cls in (KOS, MMSR):
        kwargs.setdefault("random_state", 0)
    return cls(**kwargs)


def batches(frame, n_batches, shuffle=None):
    if shuffle is not None:
        frame = frame.sample(frac=1, random_state=shuffle)
    return [frame.iloc[part] for part in np.array_split(np.arange(len(frame)),
                                                        n_batches)]


def feed(model, parts, **kwargs):
    for part in parts:
        model.partial_fit(part, classes=[0, 1], **kwargs)
    return model


def by_worker(model, name):
    return dict(zip(model.worker_ids_.tolist(), getattr(model, name).tolist(),
                    strict=True))


@pytest.fixture(scope="module")
def product():
    # binary (KOS needs two classes): 24945 votes, 8315 tasks, 176 workers
    return load_dataset("zheng_product", return_X_y=True, as_frame=True)


@pytest.mark.parametrize("cls", MODELS)
def test_one_batch_is_fit_on_that_batch(cls, product):
    frame, _ = product
    batch = frame.iloc[:4000]
    full = make(cls).fit(batch)
    online = make(cls).partial_fit(batch)
    consensus = online.consensus(refresh=False)
    assert consensus.task_ids.tolist() == full.task_ids_.tolist()
    np.testing.assert_allclose(consensus.proba, full.consensus_proba_, atol=1e-12)
    name = WORKER_PARAM[cls]
    expected, got = by_worker(full, name), by_worker(online, name)
    assert got.keys() == expected.keys()
    np.testing.assert_allclose([got[w] for w in expected], list(expected.values()),
                               rtol=1e-12, atol=1e-12)
    # refreshing re-scores the tasks with the learned workers, as predict does
    np.testing.assert_allclose(online.consensus().proba,
                               online.predict_proba(batch), atol=1e-12)


# accuracy of fit and of 10 batches (file order, shuffled votes) measured on
# zheng_product: GLAD 0.9283 / 0.9274 / 0.9289, KOS 0.8955 / 0.9057 / 0.8966,
# MMSR 0.9263 / 0.9247 / 0.9252, ZeroBasedSkill 0.8966 / 0.8966 / 0.8966
@pytest.mark.parametrize("cls", MODELS)
@pytest.mark.parametrize("shuffle", [None, 0])
def test_ten_batches_reach_the_accuracy_of_fit(cls, shuffle, product):
    frame, gold = product
    truth = gold.to_dict()
    full = make(cls).fit(frame)
    fit_accuracy = np.mean([truth[t] == label for t, label in
                            zip(full.task_ids_, full.consensus_label_, strict=True)])
    online = feed(make(cls), batches(frame, 10, shuffle))
    assert online.n_batches_ == 10 and online.n_votes_seen_ == len(frame)
    for refresh in (True, False):
        consensus = online.consensus(refresh=refresh)
        assert sorted(consensus.task_ids.tolist()) == sorted(truth)
        np.testing.assert_allclose(consensus.proba.sum(axis=1), 1.0)
        assert np.all(consensus.proba >= 0)
        accuracy = np.mean([truth[t] == label for t, label in
                            zip(consensus.task_ids, consensus.labels, strict=True)])
        assert accuracy >= fit_accuracy - 0.01, (refresh, accuracy, fit_accuracy)
    if cls is ZeroBasedSkill:  # the class prior counts votes exactly
        np.testing.assert_allclose(online.class_prior_, full.class_prior_,
                                   rtol=1e-12)


@pytest.mark.parametrize("cls", MODELS)
def test_new_workers_in_later_batches(cls, product):
    frame, _ = product
    frame = frame.iloc[:6000]
    workers = frame["worker"].unique()
    first = frame[frame["worker"].isin(workers[: len(workers) // 2])]
    second = frame[~frame["worker"].isin(workers[: len(workers) // 2])]
    model = make(cls).partial_fit(first, classes=[0, 1])
    assert set(model.worker_ids_) == set(first["worker"])
    before = by_worker(model, WORKER_PARAM[cls])
    proba = model.predict_proba(second)  # unseen workers: the mean worker
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    model.partial_fit(second)
    assert set(model.worker_ids_) == set(workers)
    after = by_worker(model, WORKER_PARAM[cls])
    assert np.all(np.isfinite(list(after.values())))
    # workers without a vote on the second batch's tasks keep their parameters
    local = frame[frame["task"].isin(second["task"])]
    untouched = set(first["worker"]) - set(local["worker"])
    assert untouched
    np.testing.assert_allclose([after[w] for w in untouched],
                               [before[w] for w in untouched], rtol=1e-12)
    np.testing.assert_allclose(model.consensus().proba.sum(axis=1), 1.0)


def test_a_batch_moves_a_known_worker_by_its_share_of_the_evidence():
    # ZeroBasedSkill by hand: batch 1 is fit (skills = agreement = 1 for
    # a and b); in batch 2 (step 1: eta = 11 ** -0.7, scale = 2 tasks seen
    # / 1 in the batch) worker a disagrees with the weighted vote once
    model = ZeroBasedSkill().partial_fit({"t1": {"a": 0, "b": 0}}, classes=[0, 1])
    model.partial_fit({"t2": {"a": 1, "b": 0, "c": 0}})
    eta, scale = 11 ** -0.7, 2.0
    evidence = (1 - eta) * 1.0 + eta * scale * 1.0
    skill = dict(zip(model.worker_ids_.tolist(), model.worker_skill_, strict=True))
    np.testing.assert_allclose(skill["a"], (1 - eta) * 1.0 / evidence)
    assert skill["b"] == pytest.approx(1.0)
    assert skill["c"] == pytest.approx(1.0)  # a new worker: its agreement
    assert model.consensus().labels.tolist() == [0, 0]


@pytest.mark.parametrize("cls", MODELS)
def test_a_new_estimator_on_the_same_store_continues(cls, product):
    frame, _ = product
    parts = batches(frame.iloc[:6000], 6, shuffle=1)
    uninterrupted = feed(make(cls), parts)
    first = feed(make(cls), parts[:3])
    resumed = feed(make(cls, store=first.store_), parts[3:])
    assert resumed.n_batches_ == 6
    np.testing.assert_array_equal(resumed.consensus().proba,
                                  uninterrupted.consensus().proba)
    name = WORKER_PARAM[cls]
    np.testing.assert_array_equal(getattr(resumed, name),
                                  getattr(uninterrupted, name))
    # re-sending a batch is a no-op
    resumed.partial_fit(parts[-1], classes=[0, 1])
    assert resumed.n_batches_ == 6


@pytest.mark.parametrize("cls", MODELS)
def test_mongo_store_gives_the_memory_posteriors(cls, product, mongo_store):
    frame, _ = product
    parts = batches(frame.iloc[:1500], 3, shuffle=2)  # tasks come back
    memory = feed(make(cls), parts)
    store = mongo_store()
    feed(make(cls, store=store), parts[:2])
    # a new estimator (as in a new process) on the same MongoDB state
    again = MongoStore(store.uri, store.database, store.model)
    mongo = feed(make(cls, store=again), parts[2:])
    expected = dict(zip(memory.consensus().task_ids.tolist(),
                        memory.consensus().proba.tolist(), strict=True))
    got = mongo.consensus()
    assert sorted(got.task_ids.tolist()) == sorted(expected)
    np.testing.assert_allclose(got.proba, [expected[t] for t in got.task_ids],
                               rtol=0, atol=1e-9)
    name = WORKER_PARAM[cls]
    expected = by_worker(memory, name)
    got = by_worker(mongo, name)
    assert got.keys() == expected.keys()
    np.testing.assert_allclose([got[w] for w in expected], list(expected.values()),
                               rtol=0, atol=1e-9)
    again.close()


@pytest.mark.parametrize("cls", [GLAD, MMSR, ZeroBasedSkill])
def test_new_classes_with_allow_new_classes(cls):
    model = make(cls, allow_new_classes=True)
    model.partial_fit({"t1": {"a": "oak", "b": "oak"}, "t2": {"a": "elm"}})
    with pytest.raises(ValueError, match="not in classes"):
        make(cls).partial_fit({"t1": {"a": "oak"}}).partial_fit(
            {"t2": {"a": "ash"}})
    model.partial_fit({"t3": {"a": "ash", "b": "ash", "c": "oak"}})
    assert model.classes_.tolist() == ["elm", "oak", "ash"]
    proba = model.consensus().proba
    assert proba.shape == (3, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)


def test_kos_refuses_a_third_class_and_changes_nothing():
    model = KOS(random_state=0, allow_new_classes=True)
    model.partial_fit({"t1": {"a": 0, "b": 1}, "t2": {"a": 1, "b": 1}})
    with pytest.raises(ValueError, match="KOS is a binary method"):
        model.partial_fit({"t3": {"a": 2, "b": 0}})
    assert model.n_batches_ == 1 and model.classes_.tolist() == [0, 1]


@pytest.mark.parametrize("cls", MODELS)
def test_worker_slots_and_bad_online_parameters(cls, product):
    frame, _ = product
    model = feed(make(cls, n_worker_slots=16), batches(frame.iloc[:3000], 3))
    assert len(model.worker_ids_) <= 16
    np.testing.assert_allclose(model.consensus().proba.sum(axis=1), 1.0)
    for params, match in [({"learning_decay": 0}, "'learning_decay'"),
                          ({"learning_offset": -1}, "'learning_offset'"),
                          ({"n_worker_slots": 0}, "'n_worker_slots'")]:
        with pytest.raises(ValueError, match=match):
            make(cls, **params).partial_fit({"t": {"a": 0}})


def test_glad_verbose_prints_progressive_validation(capsys, product):
    frame, _ = product
    model = GLAD(verbose=1)
    feed(model, batches(frame.iloc[:3000], 4))
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split()[:4] == ["batch", "votes", "tasks", "batch"]
    rows = [line.split() for line in lines[1:]]
    assert [int(row[0]) for row in rows] == [1, 2, 4]  # doubling intervals
    # the log-likelihood of a batch before the update, from the second on
    assert all(np.isfinite(float(row[3])) and float(row[3]) < 0 for row in rows[1:])
