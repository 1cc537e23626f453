"""Chunked, threaded kernels: the result never depends on the thread count."""

import numpy as np
import pytest

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
