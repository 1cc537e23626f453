"""Tests of skcrowd.plotting with the Agg backend."""

import builtins
import sys

import numpy as np
import pytest

from skcrowd import DawidSkene
from skcrowd.identification import spammer_score
from skcrowd.simulation import make_crowd


def test_plots_without_matplotlib_say_which_extra(monkeypatch):
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name == "matplotlib" or name.startswith("matplotlib."):
            raise ImportError(f"No module named {name!r}")
        return real_import(name, *args, **kwargs)

    for name in list(sys.modules):
        if name == "matplotlib" or name.startswith("matplotlib."):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    import skcrowd.plotting as plotting  # the module imports without it

    with pytest.raises(ImportError, match=r"pip install skcrowd\[plot\]"):
        plotting.plot_worker_quality([0.1, 0.9])
    with pytest.raises(ImportError, match=r"pip install skcrowd\[plot\]"):
        plotting.plot_confusion_matrices(np.eye(2)[None])


@pytest.fixture
def plt():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


@pytest.fixture(scope="module")
def crowd():
    votes, y_true, truth = make_crowd(300, 20, 3, strategy="hammer-spammer",
                                      ratio=0.3, hammer_accuracy=0.8,
                                      random_state=0)
    model = DawidSkene(max_iter=1000).fit(votes)
    return votes, y_true, truth, model


def test_confusion_matrices(plt, crowd, tmp_path):
    from skcrowd.plotting import plot_confusion_matrices

    votes, _, _, model = crowd
    fig = plot_confusion_matrices(model, max_workers=8)
    panels = [ax for ax in fig.axes if ax.get_images()]
    assert len(panels) == 8
    assert panels[0].get_title() == "worker 0"
    fig.savefig(tmp_path / "confusion.png", dpi=80)
    assert (tmp_path / "confusion.png").stat().st_size > 1000
    fig = plot_confusion_matrices(model.confusion_matrices_, workers=[17, 18],
                                  classes=["a", "b", "c"])
    assert [t.get_text() for t in fig.axes[0].get_xticklabels()] == ["a", "b", "c"]
    with pytest.raises(ValueError, match="shape"):
        plot_confusion_matrices(np.ones((2, 3, 4)))


def test_worker_quality_and_counts(plt, crowd):
    from skcrowd.plotting import (
        plot_tasks_per_worker,
        plot_votes_per_task,
        plot_worker_quality,
    )

    votes, _, truth, model = crowd
    fig, axes = plt.subplots(1, 3)
    ax = plot_worker_quality(spammer_score(model.confusion_matrices_),
                             threshold=0.2, label="spammer score", ax=axes[0])
    assert ax is axes[0]
    assert "6 below 0.2" in ax.get_title()  # the 6 spammers
    ax = plot_votes_per_task(votes, ax=axes[1])
    assert sum(p.get_height() for p in ax.patches) == 300
    ax = plot_tasks_per_worker(votes, ax=axes[2])
    assert sum(p.get_height() for p in ax.patches) == 20


def test_reliability_diagram(plt, crowd):
    from skcrowd.plotting import plot_reliability_diagram

    votes, y_true, _, model = crowd
    ax = plot_reliability_diagram(y_true, model.consensus_proba_, n_bins=10)
    assert ax.get_title().startswith("ECE = ")
    assert ax.get_ylim() == (0, 1)
    gold = np.where(np.arange(300) < 100, y_true, -1)
    ax = plot_reliability_diagram(gold, model.consensus_proba_, n_bins=5)
    assert "(100 tasks)" in ax.get_title()


def test_reliability_trajectory(plt):
    from skcrowd.plotting import plot_reliability_trajectory

    rng = np.random.default_rng(0)
    few = [rng.random(3) for _ in range(5)]
    ax = plot_reliability_trajectory(few, workers=["ann", "bob", "cy"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "worker ann", "worker bob", "worker cy"]
    # workers joining over time; many workers -> median and band
    ragged = [rng.random(5 + 5 * i) for i in range(6)]
    ax = plot_reliability_trajectory(ragged)
    assert "median" in [t.get_text() for t in ax.get_legend().get_texts()]
    ax = plot_reliability_trajectory(ragged, highlight=[0, 3])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [
        "worker 0", "worker 3"]
    with pytest.raises(ValueError, match="empty"):
        plot_reliability_trajectory([])
