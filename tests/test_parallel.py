"""Chunked, threaded kernels: the result never depends on the thread count."""

import numpy as np
import pytest
from sklearn.base import clone

from skcrowd import EBCC, DawidSkene, _parallel
from skcrowd._parallel import table_e_step, task_chunks
from skcrowd.datasets import load_dataset


@pytest.fixture
def product():
    votes, _ = load_dataset("zheng_product", return_X_y=True)
    return votes


def random_problem(votes, group_size=1, seed=0):
    rng = np.random.default_rng(seed)
    n_states = votes.n_classes * group_size
    log_table = np.log(rng.dirichlet(np.ones(n_states),
                                     size=votes.n_workers * votes.n_classes))
    log_prior = np.log(np.full(n_states, 1.0 / n_states))
    clamp = np.full(votes.n_tasks, -1, dtype=np.int32)
    return log_table, log_prior, clamp


def test_chunks_cover_every_task_once(product):
    chunks = task_chunks(product.task_ptr)
    assert chunks[0][0] == 0 and chunks[-1][1] == product.n_tasks
    assert all(a[1] == b[0] for a, b in zip(chunks, chunks[1:], strict=False))
    # the stats budget caps the number of chunks
    assert len(task_chunks(product.task_ptr, stats_size=10**9)) == 1


@pytest.mark.parametrize("group_size", [1, 3])
def test_any_thread_count_gives_bitwise_identical_results(product, monkeypatch,
                                                          group_size):
    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 2000)
    problem = random_problem(product, group_size)
    one = table_e_step(product, *problem, True, group_size, n_jobs=1)
    two = table_e_step(product, *problem, True, group_size, n_jobs=2)
    assert len(task_chunks(product.task_ptr)) > 1
    for a, b in zip(one, two, strict=True):
        np.testing.assert_array_equal(a, b)


def test_chunking_changes_nothing_but_rounding(product, monkeypatch):
    problem = random_problem(product)
    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 10**9)
    single = table_e_step(product, *problem, True)
    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 1000)
    chunked = table_e_step(product, *problem, True)
    for a, b in zip(single, chunked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("model", [DawidSkene(max_iter=20, tol=0),
                                   EBCC(n_subtypes=3, random_state=0, max_iter=20,
                                        tol=0)])
def test_models_do_not_depend_on_chunking(model, monkeypatch):
    votes, _ = load_dataset("zheng_dog", return_X_y=True)
    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 10**9)
    single = model.fit(votes).consensus_proba_.copy()
    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 500)
    chunked = model.fit(votes).consensus_proba_
    np.testing.assert_allclose(chunked, single, atol=1e-9)


def numpy_e_step(votes, log_table, log_prior, clamp, group_size=1):
    """The table E-step written with plain numpy, as independent evidence."""
    row = votes.worker.astype(np.int64) * votes.n_classes + votes.label
    scores = np.tile(log_prior, (votes.n_tasks, 1))
    np.add.at(scores, votes.task, votes.weight[:, None] * log_table[row])
    state_class = np.arange(len(log_prior)) // group_size
    known = clamp >= 0
    scores[known] = np.where(state_class[None, :] == clamp[known, None],
                             scores[known], -np.inf)
    top = scores.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(scores - top).sum(axis=1))
    posterior = np.exp(scores - log_norm[:, None])
    stats = np.zeros_like(log_table)
    np.add.at(stats, row, votes.weight[:, None] * posterior[votes.task])
    return posterior, stats, posterior.sum(axis=0), log_norm.sum()


# 2 and 4 states: rows held in registers; 10 states: rows in memory, with the
# width known at compile time (both kernels' paths)
@pytest.mark.parametrize("group_size", [1, 2, 5])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("gold", [False, True])
def test_table_e_step_matches_numpy(product, group_size, weighted, gold):
    from skcrowd._kernels import REGISTER_WIDTH

    votes = product
    assert (product.n_classes * group_size <= REGISTER_WIDTH) == (group_size < 5)
    if weighted:  # non-unit weights take the kernels' weighted path
        votes = type(votes)(votes.task, votes.worker, votes.label,
                            np.linspace(0.5, 2.0, votes.n_votes),
                            task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                            classes=votes.classes)
        assert votes.kernel_weight() is not None
    else:
        assert votes.kernel_weight() is None
    log_table, log_prior, clamp = random_problem(votes, group_size)
    if gold:
        clamp[::7] = np.arange(len(clamp[::7])) % votes.n_classes
    got = table_e_step(votes, log_table, log_prior, clamp, True, group_size)
    want = numpy_e_step(votes, log_table, log_prior, clamp, group_size)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_many_states_take_the_generic_kernel(product):
    # above MAX_UNROLLED_WIDTH states the kernel reads the width at run time
    from skcrowd._kernels import MAX_UNROLLED_WIDTH

    group_size = MAX_UNROLLED_WIDTH  # 2 classes x 16 subtypes = 32 states
    log_table, log_prior, clamp = random_problem(product, group_size)
    got = table_e_step(product, log_table, log_prior, clamp, True, group_size)
    want = numpy_e_step(product, log_table, log_prior, clamp, group_size)
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["DawidSkene", "OneCoinDawidSkene", "GLAD", "IBCC",
                                  "MACE"])
def test_n_jobs_never_changes_the_fit(name, product, monkeypatch):
    import skcrowd

    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 1000)
    assert len(task_chunks(product.task_ptr)) > 2
    model = getattr(skcrowd, name)(max_iter=10, tol=0)
    if "random_state" in model.get_params():  # MACE starts from random draws
        model.set_params(random_state=0)
    fits = [clone(model).set_params(n_jobs=n_jobs).fit(product)
            for n_jobs in (1, 2, -1, None)]
    for other in fits[1:]:
        np.testing.assert_array_equal(other.consensus_proba_, fits[0].consensus_proba_)
        assert other.n_iter_ == fits[0].n_iter_


@pytest.mark.parametrize("name", ["DawidSkene", "OneCoinDawidSkene",
                                  "DiagonalDawidSkene", "ClusteredDawidSkene",
                                  "GLAD", "IBCC", "EBCC", "MACE", "WDS"])
def test_n_jobs_zero_is_refused(name, product):
    import skcrowd

    with pytest.raises(ValueError, match="n_jobs"):
        getattr(skcrowd, name)(n_jobs=0).fit(product)


def test_n_jobs_none_follows_joblib_parallel_config():
    import joblib

    assert _parallel.effective_n_jobs(None) >= 1
    with joblib.parallel_config(n_jobs=1):
        assert _parallel.effective_n_jobs(None) == 1
    assert _parallel.effective_n_jobs(1) == 1
    with pytest.raises(ValueError, match="n_jobs == 0"):
        _parallel.effective_n_jobs(0)


def test_n_jobs_none_follows_omp_num_threads(monkeypatch):
    monkeypatch.setattr(_parallel, "_CPU_COUNT", 4)
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    assert _parallel.effective_n_jobs(None) == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as in a Dask worker
    assert _parallel.effective_n_jobs(None) == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3,2")  # nested levels: the first
    assert _parallel.effective_n_jobs(None) == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "64")  # never more than the cores
    assert _parallel.effective_n_jobs(None) == 4
    for meaningless in ("", "0", "many"):
        monkeypatch.setenv("OMP_NUM_THREADS", meaningless)
        assert _parallel.effective_n_jobs(None) == 4
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    assert _parallel.effective_n_jobs(2) == 2  # an explicit n_jobs wins


def test_threaded_vote_and_agreement_counts_match_numpy(product, monkeypatch):
    from skcrowd._parallel import label_counts, worker_agreement

    monkeypatch.setattr(_parallel, "MIN_CHUNK_VOTES", 500)
    assert len(task_chunks(product.task_ptr)) > 1
    rng = np.random.default_rng(0)
    worker_weight = rng.random(product.n_workers)
    flat = product.task * product.n_classes + product.label
    want = np.bincount(flat, product.weight * worker_weight[product.worker],
                       minlength=product.n_tasks * product.n_classes)
    got = label_counts(product, worker_weight)
    # each task's votes are added in vote order, as bincount adds them
    np.testing.assert_array_equal(got.ravel(), want)

    reference = rng.integers(-1, product.n_classes, product.n_tasks)
    mask = rng.random(product.n_tasks) < 0.7
    agreed, given = worker_agreement(product, reference, mask)
    counted = (reference[product.task] >= 0) & mask[product.task]
    right = counted & (product.label == reference[product.task])
    np.testing.assert_allclose(
        given, np.bincount(product.worker, product.weight * counted,
                           minlength=product.n_workers), rtol=1e-12)
    np.testing.assert_allclose(
        agreed, np.bincount(product.worker, product.weight * right,
                            minlength=product.n_workers), rtol=1e-12)


def test_row_argmax_is_numpy_argmax_with_ties():
    from skcrowd._kernels import row_argmax

    scores = np.random.default_rng(0).integers(0, 3, size=(500, 4)).astype(float)
    got = np.empty(len(scores), dtype=np.intp)
    row_argmax(scores, got)
    np.testing.assert_array_equal(got, np.argmax(scores, axis=1))


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("gold", [False, True])
def test_coin_e_step_matches_numpy(product, weighted, gold):
    """The one-coin pass equals the table E-step of its table, ``log_miss``
    everywhere plus ``log_gain`` where the state is the vote's label."""
    from skcrowd._parallel import coin_e_step

    votes = product
    if weighted:
        votes = type(votes)(votes.task, votes.worker, votes.label,
                            np.linspace(0.5, 2.0, votes.n_votes),
                            task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                            classes=votes.classes)
    rng = np.random.default_rng(3)
    n_rows, n_classes = votes.n_workers * votes.n_classes, votes.n_classes
    log_miss = np.log(rng.uniform(0.05, 0.5, n_rows))
    log_gain = np.log1p(rng.uniform(0.1, 5.0, n_rows))
    log_table = np.repeat(log_miss[:, None], n_classes, axis=1)
    log_table[np.arange(n_rows), np.arange(n_rows) % n_classes] += log_gain
    log_prior = np.log(np.array([0.3, 0.7]))
    clamp = np.full(votes.n_tasks, -1, dtype=np.int32)
    if gold:
        clamp[::5] = np.arange(len(clamp[::5])) % n_classes
    posterior, matched, class_counts, log_likelihood = coin_e_step(
        votes, log_miss, log_gain, log_prior, clamp, True)
    want = numpy_e_step(votes, log_table, log_prior, clamp)
    np.testing.assert_allclose(posterior, want[0], rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(matched, want[1][np.arange(n_rows),
                                                np.arange(n_rows) % n_classes],
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(class_counts, want[2], rtol=1e-12)
    np.testing.assert_allclose(log_likelihood, want[3], rtol=1e-12)


def test_mace_one_coin_e_step_equals_its_table_e_step(product):
    from skcrowd import MACE
    from skcrowd.aggregation.dawid_skene import _ConfusionEM

    model = MACE(max_iter=5, tol=0, n_restarts=1, random_state=0).fit(product)
    params = model._params_with_unseen
    clamp = np.full(product.n_tasks, -1, dtype=np.int32)
    clamp[::9] = 1
    coin = model._e_step(product, params, clamp, True)
    table = _ConfusionEM._e_step(model, product, params, clamp, True)
    np.testing.assert_allclose(coin[0], table[0], rtol=1e-12, atol=1e-14)
    assert coin[2] == pytest.approx(table[2], rel=1e-12)
    for key, value in model._split(table[1], params).items():
        np.testing.assert_allclose(coin[1][key], value, rtol=1e-10, atol=1e-12)
