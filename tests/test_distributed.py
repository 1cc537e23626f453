"""Tests of the Dask path: fits on a local cluster equal local fits."""

import numpy as np
import pandas as pd
import pytest

distributed = pytest.importorskip("distributed")
dd = pytest.importorskip("dask.dataframe")
da = pytest.importorskip("dask.array")

import joblib  # noqa: E402
from sklearn.exceptions import ConvergenceWarning  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402

from skcrowd import (  # noqa: E402
    BWA,
    GLAD,
    ClusteredDawidSkene,
    CrowdLab,
    DawidSkene,
    MajorityVote,
    OneCoinDawidSkene,
)
from skcrowd.simulation import make_classification_crowd, make_crowd  # noqa: E402

# distributed's own clean-up on shutdown (closing comms, a nanny killing a
# slow worker) may emit these; they say nothing about skcrowd's results
pytestmark = [
    pytest.mark.filterwarnings("ignore::ResourceWarning"),
    pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning"),
]


def test_no_client():
    """Runs first, before the module's cluster starts."""
    try:
        distributed.default_client()
    except ValueError:
        pass
    else:
        pytest.skip("a default dask client is already running")
    frame = pd.DataFrame({"task": [0, 0], "worker": [0, 1], "label": [1, 1]})
    with pytest.raises(ValueError, match="running dask.distributed Client"):
        DawidSkene().fit(dd.from_pandas(frame, npartitions=1))


@pytest.fixture(scope="module")
def client():
    """Two worker processes bound to 127.0.0.1, one thread each."""
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1,
                                  processes=True, host="127.0.0.1",
                                  dashboard_address=":0") as cluster, \
            distributed.Client(cluster) as client:
        yield client


@pytest.fixture(scope="module")
def crowd():
    """A long table of 1,200 votes in shuffled row order (so a task's votes
    are spread over partitions), string worker ids, integer labels."""
    votes, _, _ = make_crowd(240, 25, 3, votes_per_task=5, random_state=0)
    order = np.random.default_rng(0).permutation(votes.n_votes)
    frame = pd.DataFrame({
        "task": votes.task_ids[votes.task][order] * 7 + 3,
        "worker": np.array([f"w{w}" for w in votes.worker_ids])[votes.worker][order],
        "label": votes.classes[votes.label][order],
    })
    return frame, dd.from_pandas(frame, npartitions=3)


def _assert_same_fit(local, remote):
    assert remote.n_iter_ == local.n_iter_
    assert remote.converged_ == local.converged_
    np.testing.assert_array_equal(remote.classes_, local.classes_)
    np.testing.assert_array_equal(remote.task_ids_, local.task_ids_)
    np.testing.assert_array_equal(remote.worker_ids_, local.worker_ids_)
    for name in local._param_names:
        np.testing.assert_allclose(getattr(remote, name + "_"),
                                   getattr(local, name + "_"), rtol=0, atol=1e-8)
    np.testing.assert_allclose(remote.consensus_proba_, local.consensus_proba_,
                               rtol=0, atol=1e-8)
    np.testing.assert_array_equal(remote.consensus_label_, local.consensus_label_)
    np.testing.assert_allclose(remote.log_likelihood_history_,
                               local.log_likelihood_history_, rtol=0, atol=1e-10)


@pytest.mark.parametrize("model", [
    DawidSkene(max_iter=15, tol=0),
    OneCoinDawidSkene(tol=1e-7),
    GLAD(max_iter=8, tol=0),
    # other models on the EM driver: one with a non-additive entry in its
    # statistics, one with numpy-scalar statistics
    ClusteredDawidSkene(max_iter=5, tol=0),
    BWA(max_iter=5, tol=0),
])
def test_fit_equals_local_fit(client, crowd, model):
    frame, ddf = crowd
    local = model.__class__(**model.get_params()).fit(frame)
    remote = model.fit(ddf)
    assert remote is model
    _assert_same_fit(local, remote)
    if isinstance(model, GLAD):  # the per-task parameter, kept in partitions
        assert remote.task_easiness_.shape == (len(local.task_ids_),)


def test_convergence_warning_as_local(client, crowd):
    _, ddf = crowd
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=2"):
        model = DawidSkene(max_iter=2, tol=1e-12).fit(ddf)
    assert model.n_iter_ == 2 and not model.converged_


def test_dask_array_and_weights(client, crowd):
    """A dask array of (task, worker, label, weight) rows: weights count."""
    frame, _ = crowd
    codes = pd.DataFrame({"task": frame["task"], "worker": frame["worker"].str[1:]
                          .astype(int), "label": frame["label"],
                          "weight": np.tile([1.0, 2.0, 0.5], 400)})
    local = DawidSkene(max_iter=10, tol=0).fit(codes)
    array = da.from_array(codes.to_numpy(dtype=np.float64), chunks=(500, 2))
    remote = DawidSkene(max_iter=10, tol=0).fit(array)
    np.testing.assert_array_equal(remote.worker_ids_, local.worker_ids_)
    np.testing.assert_allclose(remote.confusion_matrices_,
                               local.confusion_matrices_, atol=1e-8)
    # predict_proba on a dask array is a dask array, rows in task order
    proba = remote.predict_proba(array)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), local.predict_proba(codes),
                               atol=1e-8)


def test_predict_on_dask_collection(client, crowd):
    frame, ddf = crowd
    model = DawidSkene(max_iter=10, tol=0).fit(frame)
    # new votes: one worker unseen at fit, tasks in a new order
    new = pd.concat([frame.iloc[::-1].iloc[:300],
                     pd.DataFrame({"task": [1], "worker": ["stranger"],
                                   "label": [2]})], ignore_index=True)
    proba = model.predict_proba(dd.from_pandas(new, npartitions=2))
    assert isinstance(proba, dd.DataFrame)
    computed = proba.compute()
    np.testing.assert_allclose(computed.to_numpy(), model.predict_proba(new),
                               rtol=0, atol=1e-12)
    np.testing.assert_array_equal(computed.index, pd.unique(new["task"]))
    np.testing.assert_array_equal(computed.columns, model.classes_)
    labels = model.predict(dd.from_pandas(new, npartitions=2))
    assert isinstance(labels, dd.Series)
    np.testing.assert_array_equal(labels.compute().to_numpy(), model.predict(new))


def test_score_on_dask_collection(client, crowd):
    frame, ddf = crowd
    model = DawidSkene(max_iter=10, tol=0).fit(frame)
    tasks = pd.unique(frame["task"])
    gold = {task: i % 3 for i, task in enumerate(tasks[:50])}  # partial gold
    assert model.score(ddf, gold) == pytest.approx(model.score(frame, gold))
    aligned = [gold.get(task) for task in tasks]
    assert model.score(ddf, aligned) == pytest.approx(model.score(frame, aligned))


def test_gold_labels(client, crowd):
    frame, ddf = crowd
    gold = {frame["task"].iloc[0]: 2, frame["task"].iloc[5]: 0}
    local = OneCoinDawidSkene(max_iter=10, tol=0).fit(frame, gold)
    remote = OneCoinDawidSkene(max_iter=10, tol=0).fit(ddf, gold)
    _assert_same_fit(local, remote)


def test_crowdlab_out_of_fold_through_joblib_dask(client):
    """CrowdLab's cross_val_predict step runs its folds on the cluster."""
    X, Y, _, _ = make_classification_crowd(n_samples=120, random_state=0)
    params = {"estimator": LogisticRegression(max_iter=200), "n_jobs": 2,
              "random_state": 0}
    local = CrowdLab(**params).fit(X, Y)
    with joblib.parallel_backend("dask"):
        remote = CrowdLab(**params).fit(X, Y)
    np.testing.assert_allclose(remote.oof_proba_, local.oof_proba_, atol=1e-8)
    np.testing.assert_allclose(remote.consensus_quality_,
                               local.consensus_quality_, atol=1e-8)
    np.testing.assert_allclose(remote.annotator_quality_,
                               local.annotator_quality_, atol=1e-8)
    np.testing.assert_array_equal(remote.consensus_label_, local.consensus_label_)


# ----------------------------------------------------------------------
# bad input
def test_missing_column_is_named(client, crowd):
    frame, _ = crowd
    bad = dd.from_pandas(frame.rename(columns={"worker": "annotator"}),
                         npartitions=2)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['worker'\]"):
        DawidSkene().fit(bad)


def test_bad_array_shape_and_missing_label(client, crowd):
    with pytest.raises(ValueError, match=r"shape \(n_votes, 3\)"):
        DawidSkene().fit(da.zeros((10, 2), chunks=5))
    frame, _ = crowd
    holes = frame.astype({"label": float})
    holes.loc[7, "label"] = np.nan
    with pytest.raises(ValueError, match="Missing label"):
        DawidSkene().fit(dd.from_pandas(holes, npartitions=2))


class _ReadsVotes(DawidSkene):
    """A model whose fit reads the votes themselves, not only EM steps."""

    def _fit_votes(self, votes, gold):
        votes.task_counts()
        return super()._fit_votes(votes, gold)


def test_unsupported_models_say_so(client, crowd):
    _, ddf = crowd
    with pytest.raises(TypeError, match="MajorityVote cannot be fitted on a Dask"):
        MajorityVote().fit(ddf)
    model = _ReadsVotes()
    with pytest.raises(TypeError, match=r"_ReadsVotes cannot be fitted on a Dask "
                       r"collection \(its fit reads votes.task_counts\)"):
        model.fit(ddf)
    assert not hasattr(model, "classes_")


class _Closing(DawidSkene):
    """DawidSkene whose third M-step shuts the cluster down."""

    shutdown = None

    def _m_step(self, stats):
        if _Closing.shutdown is not None and getattr(self, "_calls", 0) == 2:
            _Closing.shutdown()
        self._calls = getattr(self, "_calls", 0) + 1
        return super()._m_step(stats)


@pytest.mark.parametrize("fitted_before", [False, True])
def test_cluster_going_away_mid_fit(crowd, fitted_before):
    frame, _ = crowd
    model = _Closing(max_iter=10, tol=0)
    if fitted_before:
        model.fit(frame.iloc[:300])
        before = model.confusion_matrices_.copy()
        task_ids = model.task_ids_
    cluster = distributed.LocalCluster(n_workers=1, processes=False,
                                       dashboard_address=":0")
    client = distributed.Client(cluster, set_as_default=False)
    ddf = dd.from_pandas(frame, npartitions=2)

    def shutdown():
        client.close()
        cluster.close()

    _Closing.shutdown = shutdown
    try:
        with pytest.raises(RuntimeError, match="cluster went away during fit"):
            _fit(model, ddf, client)
    finally:
        _Closing.shutdown = None
        client.close()
        cluster.close()
    if fitted_before:
        np.testing.assert_array_equal(model.confusion_matrices_, before)
        assert model.task_ids_ is task_ids
    else:
        assert not hasattr(model, "classes_")
        assert not hasattr(model, "_calls")
    # refittable on a fresh cluster
    with distributed.LocalCluster(n_workers=1, processes=False,
                                  dashboard_address=":0") as fresh, \
            distributed.Client(fresh) as new_client:
        _fit(model, ddf, new_client)
    local = DawidSkene(max_iter=10, tol=0).fit(frame)
    np.testing.assert_allclose(model.confusion_matrices_,
                               local.confusion_matrices_, atol=1e-8)


def _fit(model, ddf, client):
    from skcrowd.distributed import fit

    return fit(model, ddf, client=client)
