"""Shipped datasets: complete, loaded offline, statistics as documented."""

import socket

import numpy as np
import pytest

from skcrowd.datasets import list_datasets, load_dataset

# (tasks, workers, classes, answers) from shared/datasets/INDEX.md
INDEX = {
    "zheng_product": (8315, 176, 2, 24945),
    "zheng_sentiment": (1000, 85, 2, 20000),
    "zheng_dog": (807, 109, 4, 8070),
    "zheng_face": (584, 27, 4, 5242),
    "zheng_emotion": (700, 38, None, 7000),
    "welinder_bluebirds": (108, 39, 2, 4212),
    "snow_rte": (800, 164, 2, 8000),
    "act_cf": (300, 461, 5, 1720),
    "act_cf_amt": (300, 110, 5, 6030),
    "act_sp": (4999, 203, 2, 27746),
    "act_sp_amt": (500, 143, 2, 10000),
    "act_zc_all": (2040, 78, 2, 21855),
    "act_zc_us": (2040, 74, 2, 12190),
    "gal_bm": (1000, 83, 2, 5000),
    "rodrigues_labelme": (1000, 59, 8, 2547),
}


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a loader tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_every_dataset_is_listed():
    assert list_datasets() == sorted(INDEX)


@pytest.mark.parametrize("name", sorted(INDEX))
def test_statistics_match_the_index(name, no_network):
    data = load_dataset(name)
    tasks, workers, classes, answers = INDEX[name]
    votes = data.votes
    assert (votes.n_tasks, votes.n_workers, votes.n_votes) == (tasks, workers,
                                                               answers)
    if classes is not None:
        assert votes.n_classes <= classes
    assert len(data.gold) == tasks
    assert data.task_ids.tolist() == votes.task_ids.tolist()
    assert "Citation" in data.DESCR


def test_as_frame_is_a_crowd_kit_long_table():
    pd = pytest.importorskip("pandas")
    frame, gold = load_dataset("zheng_dog", return_X_y=True, as_frame=True)
    assert isinstance(frame, pd.DataFrame)
    assert list(frame.columns) == ["task", "worker", "label"]
    assert gold.index.name == "task" and len(gold) == 807
    votes, gold_array = load_dataset("zheng_dog", return_X_y=True)
    np.testing.assert_array_equal(gold.to_numpy(), gold_array)


def test_loader_functions_exist_for_every_dataset():
    import skcrowd.datasets as ds

    for name in INDEX:
        assert getattr(ds, f"load_{name}")().name == name


def test_unknown_dataset_lists_the_valid_ones():
    with pytest.raises(ValueError, match="zheng_product"):
        load_dataset("mnist")
