"""Tests of the crowd generators: reproducibility, statistics, bad input."""

import numpy as np
import pytest

from skcrowd import Votes
from skcrowd.simulation import STRATEGIES, make_classification_crowd, make_crowd


def _as_tuple(votes):
    return votes.task, votes.worker, votes.label


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_reproducible_and_well_formed(strategy):
    kwargs = dict(n_tasks=150, n_workers=20, n_classes=4, strategy=strategy)
    votes, y, truth = make_crowd(**kwargs, random_state=3)
    again, y2, _ = make_crowd(**kwargs, random_state=3)
    other, _, _ = make_crowd(**kwargs, random_state=4)
    assert isinstance(votes, Votes)
    for a, b in zip(_as_tuple(votes), _as_tuple(again), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(votes.label, other.label)
    assert votes.n_votes == 150 * 10
    assert np.all(np.diff(votes.task_ptr) == 10)
    # a task's workers are distinct
    pair = votes.task.astype(np.int64) * 20 + votes.worker
    assert len(np.unique(pair)) == votes.n_votes
    assert votes.label.min() >= 0 and votes.label.max() < 4
    assert y.shape == (150,) and truth.strategy == strategy


@pytest.mark.parametrize("n_workers, m", [(2000, 10), (30, 10), (12, 12)])
def test_workers_distinct_and_uniform(n_workers, m):
    votes, _, _ = make_crowd(3000, n_workers, 3, votes_per_task=m,
                             random_state=0)
    pair = votes.task.astype(np.int64) * n_workers + votes.worker
    assert len(np.unique(pair)) == votes.n_votes == 3000 * m
    load = np.bincount(votes.worker, minlength=n_workers)
    expected = 3000 * m / n_workers
    # every worker is equally likely: loads within 5 binomial sd
    sd = np.sqrt(3000 * (m / n_workers) * (1 - m / n_workers)) + 1e-9
    assert np.all(np.abs(load - expected) <= 5 * sd + 1e-9)


def test_realised_accuracy_matches_confusion_diagonal():
    votes, y, truth = make_crowd(4000, 20, 4, votes_per_task=10, random_state=0)
    conf = truth.confusion_matrices
    # diagonally dominant rows
    diag = np.einsum("wkk->wk", conf)
    assert np.all(diag >= conf.max(axis=2) - 1e-12)
    np.testing.assert_allclose(conf.sum(axis=2), 1.0)
    correct = (votes.label == y[votes.task]).astype(float)
    p = conf[votes.worker, y[votes.task], y[votes.task]]
    n = np.bincount(votes.worker, minlength=20)
    realised = np.bincount(votes.worker, correct, minlength=20) / n
    expected = np.bincount(votes.worker, p, minlength=20) / n
    sd = np.sqrt(np.bincount(votes.worker, p * (1 - p), minlength=20)) / n
    assert np.all(np.abs(realised - expected) <= 4.5 * sd)
    # the full confusion: answered-class frequencies of one worker
    w = 0
    mine = votes.worker == w
    for k in range(4):
        rows = mine & (y[votes.task] == k)
        freq = np.bincount(votes.label[rows], minlength=4) / rows.sum()
        se = np.sqrt(conf[w, k] * (1 - conf[w, k]) / rows.sum())
        assert np.all(np.abs(freq - conf[w, k]) <= 4.5 * se + 1e-9)


def test_class_prior_is_respected():
    _, y, _ = make_crowd(20000, 5, 3, votes_per_task=1,
                         class_prior=[0.6, 0.3, 0.1], random_state=1)
    share = np.bincount(y, minlength=3) / len(y)
    np.testing.assert_allclose(share, [0.6, 0.3, 0.1], atol=0.015)


def test_hammer_spammer():
    votes, y, truth = make_crowd(2000, 30, 5, strategy="hammer-spammer",
                                 ratio=0.3, random_state=0)
    spam = truth.worker_type == "spammer"
    assert spam.sum() == 9 and spam[-9:].all()
    correct = votes.label == y[votes.task]
    acc = np.bincount(votes.worker, correct) / np.bincount(votes.worker)
    np.testing.assert_array_equal(acc[~spam], 1.0)
    assert np.all(np.abs(acc[spam] - 0.2) < 0.08)
    np.testing.assert_allclose(truth.worker_accuracy[spam], 0.2)


def test_hammer_accuracy():
    votes, y, truth = make_crowd(3000, 10, 3, strategy="hammer-spammer",
                                 ratio=0.0, hammer_accuracy=0.7, random_state=0)
    acc = np.mean(votes.label == y[votes.task])
    assert abs(acc - 0.7) < 0.02


def test_student_teacher_copies_the_teacher():
    votes, y, truth = make_crowd(200, 30, 5, strategy="student-teacher",
                                 random_state=0)
    n_students = 24  # ratio 0.8 by default
    assert (truth.worker_type == "student").sum() == n_students
    teacher = truth.teacher
    np.testing.assert_array_equal(teacher[:6], np.arange(6))
    assert np.all(teacher[6:] < 6)
    np.testing.assert_array_equal(truth.confusion_matrices,
                                  truth.confusion_matrices[teacher])


def test_discrete_difficulty():
    votes, y, truth = make_crowd(3000, 100, 5, strategy="discrete-difficulty",
                                 ratio=0.35, ratio_diff=1.0, p_random=0.2,
                                 random_state=0)
    level = truth.task_difficulty
    share = {name: np.mean(level == name) for name in ("easy", "hard", "random")}
    assert abs(share["random"] - 0.2) < 0.03
    assert abs(share["easy"] - 0.4) < 0.03 and abs(share["hard"] - 0.4) < 0.03
    correct = votes.label == y[votes.task]
    easy = level[votes.task] == "easy"
    assert correct[easy].all()
    rand = level[votes.task] == "random"
    assert abs(correct[rand].mean() - 0.2) < 0.02
    assert (truth.worker_type == "good").sum() == 35
    good = truth.confusion_matrices[:35]
    assert np.all(np.einsum("wkk->wk", good) >= good.max(axis=2) - 1e-12)


def test_glad_accuracy_follows_ability_and_easiness():
    votes, y, truth = make_crowd(5000, 40, 3, strategy="glad", random_state=0)
    correct = (votes.label == y[votes.task]).astype(float)
    logit = truth.worker_ability[votes.worker] * truth.task_easiness[votes.task]
    p = 1 / (1 + np.exp(-logit))
    assert abs(correct.mean() - p.mean()) < 4 * np.sqrt(np.sum(p * (1 - p))) / len(p)
    # better workers are right more often
    acc = np.bincount(votes.worker, correct) / np.bincount(votes.worker)
    assert np.corrcoef(acc, truth.worker_ability)[0, 1] > 0.9


def test_imbalanced_votes():
    votes, _, _ = make_crowd(3000, 30, 5, imbalance_votes=True, random_state=0)
    per_task = np.diff(votes.task_ptr)
    assert per_task.min() == 1 and per_task.max() == 30
    assert abs(per_task.mean() - 15.5) < 0.5
    pair = votes.task.astype(np.int64) * 30 + votes.worker
    assert len(np.unique(pair)) == votes.n_votes


def test_given_confusion_matrices():
    conf = np.tile(np.array([[0.9, 0.1], [0.2, 0.8]]), (4, 1, 1))
    votes, y, truth = make_crowd(4000, 4, 2, votes_per_task=4,
                                 confusion_matrices=conf, random_state=0)
    np.testing.assert_array_equal(truth.confusion_matrices, conf)
    pos = y[votes.task] == 1
    assert abs(np.mean(votes.label[pos] == 1) - 0.8) < 0.02


def test_large_crowd_shape():
    votes, _, _ = make_crowd(100_000, 2000, 5, votes_per_task=10, random_state=0)
    assert votes.n_votes == 1_000_000
    assert np.all(np.diff(votes.task_ptr) == 10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"strategy": "nope"}, r"strategy.*independent-confusion"),
        ({"ratio": 1.5, "strategy": "hammer-spammer"}, "ratio"),
        ({"ratio": -0.1}, "ratio"),
        ({"p_random": 2.0}, "p_random"),
        ({"hammer_accuracy": 1.1}, "hammer_accuracy"),
        ({"votes_per_task": 31}, "votes_per_task"),
        ({"n_classes": 1}, "n_classes"),
        ({"class_prior": [0.5, 0.6, -0.1, 0.0, 0.0]}, "class_prior"),
        ({"class_prior": [0.5, 0.5]}, "class_prior"),
        ({"confusion_matrices": np.ones((30, 5, 5))}, "confusion_matrices"),
        ({"confusion_matrices": np.ones((2, 5, 5)) / 5}, "confusion_matrices"),
        ({"strategy": "student-teacher", "ratio": 1.0}, "ratio"),
    ],
)
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_crowd(**kwargs)


def test_classification_crowd():
    X, Y, y, truth = make_classification_crowd(random_state=0)
    assert X.shape == (300, 10) and Y.shape == (300, 50)
    assert ((Y >= 0).sum(axis=1) >= 1).all()
    rate = (Y >= 0).mean()
    assert 0.09 < rate < 0.12
    assert truth.noisy[-5:].all() and not truth.noisy[:-5].any()
    # realised annotator accuracy tracks the true one; noisy ones are worst
    hit = (Y == y[:, None]).sum(axis=0) / (Y >= 0).sum(axis=0)
    assert np.corrcoef(hit, truth.annotator_accuracy)[0, 1] > 0.8
    assert hit[-5:].max() < np.sort(hit[:-5])[2]
    X2, Y2, _, _ = make_classification_crowd(random_state=0)
    np.testing.assert_array_equal(Y, Y2)
    np.testing.assert_array_equal(X, X2)


def test_classification_crowd_majority_vote_and_model():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import cross_val_predict

    from skcrowd import MajorityVote

    mv, lr = [], []
    for seed in range(3):
        X, Y, y, _ = make_classification_crowd(random_state=seed)
        mv.append(np.mean(MajorityVote().fit_predict(Y) == y))
        lr.append(np.mean(cross_val_predict(LogisticRegression(), X, y) == y))
    # cleanlab's tutorial data: majority vote ~0.86, the model ~0.95
    assert 0.8 < np.mean(mv) < 0.92
    assert 0.9 < np.mean(lr) < 0.99


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_noisy": 60}, "n_noisy"),
        ({"noisy_accuracy": 1.5}, "noisy_accuracy"),
        ({"annotator_accuracy": (0.9, 0.6)}, "annotator_accuracy"),
        ({"labeling_rate": 0.0}, "labeling_rate"),
    ],
)
def test_classification_crowd_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_classification_crowd(**kwargs)
