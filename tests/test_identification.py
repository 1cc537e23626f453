"""Tests of skcrowd.identification: worker, task and agreement scores."""

import itertools

import numpy as np
import pytest
from sklearn.datasets import make_blobs
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from skcrowd import DawidSkene, MajorityVote, OneCoinDawidSkene, Votes, as_votes
from skcrowd.identification import (
    agreement_with_consensus,
    answer_entropy,
    aum,
    confusion_trace,
    fleiss_kappa,
    glad_difficulty,
    gold_accuracy,
    krippendorff_alpha,
    pairwise_agreement,
    posterior_entropy,
    spammer_score,
    task_scores,
    vote_entropy,
    vote_margin,
    waum,
    worker_pairwise_agreement,
    worker_scores,
)
from skcrowd.simulation import make_crowd

# Fleiss (1971) as worked on Wikipedia ("Fleiss' kappa"): 10 subjects, 14
# raters, 5 categories; P_bar = 0.378, P_e = 0.213, kappa = 0.210.
FLEISS_TABLE = np.array([
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
])

# Krippendorff (2011), "Computing Krippendorff's alpha-reliability": nominal
# data, 4 observers x 12 units with missing values; alpha = 0.743.
KRIPPENDORFF_NOMINAL = [
    [1, 1, -1, 1], [2, 2, 3, 2], [3, 3, 3, 3], [3, 3, 3, 3], [2, 2, 2, 2],
    [1, 2, 3, 4], [4, 4, 4, 4], [1, 1, 2, 1], [2, 2, 2, 2], [-1, 5, 5, 5],
    [-1, -1, 1, 1], [-1, 3, -1, -1],
]
# Same paper: binary data, 2 observers x 10 units; alpha = 0.095.
KRIPPENDORFF_BINARY = np.array([
    [0, 1, 0, 0, 0, 0, 0, 0, 1, 0],
    [1, 1, 1, 0, 0, 1, 0, 0, 0, 0],
]).T


def _votes_from_table(table):
    """Votes whose per-task label counts are the rows of ``table``."""
    task, label = [], []
    for t, row in enumerate(table):
        for k, count in enumerate(row):
            task += [t] * int(count)
            label += [k] * int(count)
    worker = np.concatenate([np.arange(row.sum()) for row in table])
    return Votes(task, worker, label, task_ids=np.arange(len(table)),
                 worker_ids=np.arange(table.sum(axis=1).max()),
                 classes=np.arange(table.shape[1]))


# ----------------------------------------------------------------------
# agreement statistics
def test_fleiss_kappa_textbook_example():
    votes = _votes_from_table(FLEISS_TABLE)
    assert fleiss_kappa(votes) == pytest.approx(0.2099, abs=5e-4)


def test_krippendorff_alpha_textbook_examples():
    assert krippendorff_alpha(KRIPPENDORFF_NOMINAL) == pytest.approx(0.743, abs=5e-4)
    assert krippendorff_alpha(KRIPPENDORFF_BINARY) == pytest.approx(0.095, abs=5e-4)


def test_hand_worked_small_tables():
    # two coders, three units: (a, a), (a, b), (b, b)
    X = [["a", "a"], ["a", "b"], ["b", "b"]]
    # coincidences: o_aa = 2, o_ab = o_ba = 1, o_bb = 2; n_a = n_b = 3, n = 6
    # alpha = 1 - (n - 1) * (o_ab + o_ba) / (n_a n_b + n_b n_a) = 1 - 5*2/18
    assert krippendorff_alpha(X) == pytest.approx(1 - 10 / 18)
    # Fleiss: P_i = 1, 0, 1 -> P_bar = 2/3; p = (1/2, 1/2) -> P_e = 1/2
    assert fleiss_kappa(X) == pytest.approx((2 / 3 - 0.5) / 0.5)
    # perfect agreement
    assert krippendorff_alpha([[0, 0], [1, 1]]) == 1.0
    assert fleiss_kappa([[0, 0, 0], [1, 1, 1]]) == 1.0
    # no variation at all: undefined
    assert np.isnan(krippendorff_alpha([[0, 0], [0, 0]]))
    assert np.isnan(fleiss_kappa([[0, 0], [0, 0]]))


def _alpha_brute_force(X):
    """Krippendorff's alpha from the coincidence matrix, loop by loop."""
    X = np.asarray(X)
    values = np.unique(X[X >= 0])
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for row in X:
        present = [v for v in row if v >= 0]
        m = len(present)
        if m < 2:
            continue
        for a, b in itertools.permutations(range(m), 2):
            o[index[present[a]], index[present[b]]] += 1 / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    d_o = o.sum() - np.trace(o)
    d_e = (n_c.sum() ** 2 - np.sum(n_c**2)) / (n - 1)
    return 1 - d_o / d_e


def test_krippendorff_matches_coincidence_matrix():
    rng = np.random.default_rng(0)
    for _ in range(5):
        X = rng.integers(0, 4, size=(30, 6))
        X[rng.random(X.shape) < 0.4] = -1
        assert krippendorff_alpha(X) == pytest.approx(_alpha_brute_force(X))


def test_agreement_statistics_are_permutation_invariant():
    votes, _, _ = make_crowd(200, 15, 4, votes_per_task=5, random_state=0)
    perm = np.random.default_rng(1).permutation(15)
    shuffled = Votes(votes.task, perm[votes.worker], votes.label,
                     task_ids=votes.task_ids, worker_ids=votes.worker_ids,
                     classes=votes.classes)
    assert krippendorff_alpha(shuffled) == pytest.approx(krippendorff_alpha(votes))
    assert fleiss_kappa(shuffled) == pytest.approx(fleiss_kappa(votes))
    # better crowds agree more
    good, _, _ = make_crowd(200, 15, 4, votes_per_task=5, strategy="hammer-spammer",
                            ratio=0.0, hammer_accuracy=0.9, random_state=0)
    bad, _, _ = make_crowd(200, 15, 4, votes_per_task=5, strategy="hammer-spammer",
                           ratio=0.0, hammer_accuracy=0.4, random_state=0)
    assert krippendorff_alpha(good) > krippendorff_alpha(bad) + 0.3
    assert fleiss_kappa(good) > fleiss_kappa(bad) + 0.3


@pytest.mark.parametrize("func", [krippendorff_alpha, fleiss_kappa])
def test_fewer_than_two_votes_per_task(func):
    with pytest.raises(ValueError, match="at least two votes"):
        func([[0, -1], [-1, 1], [1, -1]])


def test_pairwise_agreement_matches_brute_force():
    rng = np.random.default_rng(0)
    X = rng.integers(0, 3, size=(40, 7))
    X[rng.random(X.shape) < 0.3] = -1
    result = pairwise_agreement(X)
    shared = np.zeros((7, 7), dtype=int)
    agree = np.zeros((7, 7), dtype=int)
    for a, b in itertools.permutations(range(7), 2):
        both = (X[:, a] >= 0) & (X[:, b] >= 0)
        shared[a, b] = both.sum()
        agree[a, b] = (both & (X[:, a] == X[:, b])).sum()
    np.testing.assert_array_equal(result.n_shared.toarray(), shared)
    np.testing.assert_array_equal(result.n_agree.toarray(), agree)
    np.testing.assert_allclose(result.rate.toarray(),
                               np.divide(agree, np.maximum(shared, 1)))
    # per-worker summary = pooled pairwise rate
    pooled = agree.sum(axis=1) / shared.sum(axis=1)
    np.testing.assert_allclose(worker_pairwise_agreement(X), pooled)


def test_pairwise_agreement_sparse_path(monkeypatch):
    import skcrowd.identification as ident

    rng = np.random.default_rng(1)
    X = rng.integers(0, 3, size=(30, 6))
    X[rng.random(X.shape) < 0.3] = -1
    dense = pairwise_agreement(X)
    # force the sparse branch by pretending W * W is huge
    votes = as_votes(X)

    class Big(int):
        def __mul__(self, other):
            return 10**9

    monkeypatch.setattr(Votes, "n_workers", property(lambda self: Big(6)))
    sparse = ident.pairwise_agreement(votes)
    for name in ("n_shared", "n_agree", "rate"):
        np.testing.assert_allclose(getattr(sparse, name).toarray(),
                                   getattr(dense, name).toarray())


# ----------------------------------------------------------------------
# worker scores
def test_spammer_score_hand_worked():
    # binary: (alpha + beta - 1)^2 with sensitivity alpha, specificity beta
    conf = np.array([[[0.9, 0.1], [0.3, 0.7]]])
    assert spammer_score(conf)[0] == pytest.approx((0.9 + 0.7 - 1) ** 2)
    eye = np.eye(4)
    rank_one = np.tile([0.1, 0.2, 0.3, 0.4], (4, 1))
    permutation = eye[[1, 2, 3, 0]]
    np.testing.assert_allclose(spammer_score([eye, rank_one, permutation]),
                               [1.0, 0.0, 1.0], atol=1e-12)
    # equals the pairwise-row formula
    rng = np.random.default_rng(0)
    conf = rng.dirichlet(np.ones(3), size=(5, 3))
    brute = [sum(np.sum((c[k] - c[m]) ** 2) for k in range(3) for m in range(k + 1, 3))
             / 6 for c in conf]
    np.testing.assert_allclose(spammer_score(conf), brute)


def test_spammer_score_separates_spammers():
    votes, _, truth = make_crowd(500, 30, 4, strategy="hammer-spammer", ratio=0.3,
                                 hammer_accuracy=0.7, random_state=0)
    conf = DawidSkene().fit(votes).confusion_matrices_
    spam = truth.worker_type == "spammer"
    assert spam.sum() == 9
    assert roc_auc_score(~spam, spammer_score(conf)) >= 0.95
    assert roc_auc_score(~spam, confusion_trace(conf)) >= 0.95


def test_confusion_trace():
    np.testing.assert_allclose(confusion_trace([np.eye(3), np.full((3, 3), 1 / 3)]),
                               [1.0, 1 / 3])
    with pytest.raises(ValueError, match="confusion_matrices must have shape"):
        confusion_trace(np.ones((2, 3)))


def test_worker_scores_on_votes():
    X = [[0, 0, 1, -1], [1, 1, 1, 0], [0, 1, 0, 0], [2, 2, 2, 2]]
    np.testing.assert_allclose(agreement_with_consensus(X, [0, 1, 0, 2]),
                               [1, 3 / 4, 3 / 4, 2 / 3])
    proba = np.eye(3)[[0, 1, 0, 2]] * 0.5 + 0.5 / 3
    expected = 0.5 * agreement_with_consensus(X, [0, 1, 0, 2]) + 0.5 / 3
    np.testing.assert_allclose(agreement_with_consensus(X, proba), expected)
    np.testing.assert_allclose(gold_accuracy(X, [0, -1, 1, None]),
                               [0.5, 1.0, 0.0, 0.0])
    np.testing.assert_array_equal(gold_accuracy(X, [-1, -1, -1, 2]), 1.0)
    no_gold = gold_accuracy(X, [0, -1, -1, -1])
    assert np.isnan(no_gold[3]) and not np.isnan(no_gold[:3]).any()
    # worker 0 answered 0, 1, 0, 2
    entropy = answer_entropy(X, normalize=True)
    p = np.array([0.5, 0.25, 0.25])
    assert entropy[0] == pytest.approx(-np.sum(p * np.log(p)) / np.log(3))
    assert answer_entropy([[1, 0], [1, 1]])[0] == 0.0


def test_worker_scores_bad_input():
    X = [[0, 1], [1, 1]]
    with pytest.raises(ValueError, match="consensus has 3 labels"):
        agreement_with_consensus(X, [0, 1, 1])
    with pytest.raises(ValueError, match="expected"):
        agreement_with_consensus(X, np.ones((2, 5)) / 5)
    with pytest.raises(ValueError, match="gold has 3 labels"):
        gold_accuracy(X, [0, 1, 1])
    with pytest.raises(ValueError, match=r"Gold labels \[7\]"):
        gold_accuracy(X, [7, 1])


def test_worker_scores_table():
    votes, _, truth = make_crowd(300, 20, 3, strategy="hammer-spammer", ratio=0.25,
                                 hammer_accuracy=0.8, random_state=1)
    gold = np.full(300, -1)
    gold[:100] = np.arange(100) % 3
    scores = worker_scores(votes, gold=gold)
    for name in ("worker", "n_votes", "spammer_score", "confusion_trace",
                 "agreement_with_consensus", "pairwise_agreement", "answer_entropy",
                 "gold_accuracy", "n_gold"):
        assert len(scores[name]) == 20, name
    spam = truth.worker_type == "spammer"
    assert scores.agreement_with_consensus[spam].max() < \
        scores.agreement_with_consensus[~spam].min()
    # one-coin aggregators give confusion matrices too
    one_coin = worker_scores(votes, aggregator=OneCoinDawidSkene())
    assert roc_auc_score(~spam, one_coin.spammer_score) >= 0.95
    # vote counting has no confusion matrices
    plain = worker_scores(votes, aggregator=MajorityVote())
    assert "spammer_score" not in plain
    frame = worker_scores(votes, as_frame=True)
    assert frame.index.name == "worker" and len(frame) == 20
    with pytest.raises(ValueError, match="fitted on 10 tasks"):
        worker_scores(votes, aggregator=MajorityVote().fit(votes[:10]))


# ----------------------------------------------------------------------
# task scores
def test_task_scores_hand_worked():
    X = [[0, 0, 0, 0], [0, 0, 1, 1], [0, 1, 2, -1], [-1, -1, -1, -1.0]]
    X = np.array(X)
    ent = vote_entropy(X)
    assert ent[0] == 0.0 and ent[1] == pytest.approx(np.log(2))
    assert ent[2] == pytest.approx(np.log(3)) and np.isnan(ent[3])
    np.testing.assert_allclose(vote_margin(X)[:3], [1.0, 0.0, 0.0])
    assert np.isnan(vote_margin(X)[3])
    np.testing.assert_allclose(
        posterior_entropy([[1.0, 0.0], [0.25, 0.75]]),
        [0.0, -(0.25 * np.log(0.25) + 0.75 * np.log(0.75))],
    )
    with pytest.raises(ValueError, match="non-negative"):
        posterior_entropy([[-0.5, 1.5]])


class _GladLike(MajorityVote):
    """A stand-in for a GLAD-style model: it exposes task_easiness_."""

    def fit(self, X, y=None):
        super().fit(X, y)
        self.task_easiness_ = np.linspace(0.5, 2.0, len(self.task_ids_))
        return self


def test_glad_difficulty_and_task_table():
    votes, _, _ = make_crowd(60, 10, 3, votes_per_task=5, random_state=0)
    model = _GladLike().fit(votes)
    np.testing.assert_allclose(glad_difficulty(model), 1 / model.task_easiness_)
    scores = task_scores(votes, aggregator=_GladLike())
    np.testing.assert_allclose(scores.glad_difficulty, 1 / model.task_easiness_)
    ds = DawidSkene(max_iter=1000)
    assert "glad_difficulty" not in task_scores(votes, aggregator=ds)
    with pytest.raises(TypeError, match="task_easiness_"):
        glad_difficulty(ds.fit(votes))
    frame = task_scores(votes, aggregator=ds, as_frame=True)
    assert frame.index.name == "task" and len(frame) == 60
    # unanimous tasks have zero vote entropy and margin 1
    unanimous = frame.vote_margin == 1
    assert np.all(frame.vote_entropy[unanimous] == 0)


# ----------------------------------------------------------------------
# AUM and WAUM
def test_aum_flags_mislabelled_examples():
    X, y = make_blobs(300, centers=3, cluster_std=1.0, random_state=0)
    rng = np.random.default_rng(0)
    flipped = rng.random(300) < 0.1
    noisy = np.where(flipped, (y + rng.integers(1, 3, 300)) % 3, y)
    scores = aum(X, noisy, n_epochs=10, random_state=0)
    assert roc_auc_score(flipped, -scores) > 0.9
    # warm_start classifiers work too; probability margins are in [-1, 1]
    warm = aum(X, noisy, LogisticRegression(), n_epochs=5, margin="probability")
    assert roc_auc_score(flipped, -warm) > 0.9
    assert warm.min() >= -1 and warm.max() <= 1


def test_aum_bad_input():
    X, y = make_blobs(30, centers=2, random_state=0)
    with pytest.raises(TypeError, match="partial_fit nor warm_start"):
        aum(X, y, KNeighborsClassifier())
    with pytest.raises(ValueError, match="margin"):
        aum(X, y, margin="nope")
    with pytest.raises(ValueError, match="n_epochs"):
        aum(X, y, n_epochs=0)
    with pytest.raises(ValueError, match="30 rows but y has 29"):
        aum(X, y[:-1])
    with pytest.raises(ValueError, match="class codes"):
        aum(X, y - 1)


def test_waum_flags_ambiguous_tasks():
    X, y = make_blobs(300, centers=3, cluster_std=1.5, random_state=1)
    rng = np.random.default_rng(1)
    ambiguous = rng.random(300) < 0.1
    n_workers, per_task = 15, 5
    task = np.repeat(np.arange(300), per_task)
    worker = np.concatenate([rng.choice(n_workers, per_task, replace=False)
                             for _ in range(300)])
    right = rng.random(len(task)) < 0.85
    wrong = (y[task] + rng.integers(1, 3, len(task))) % 3
    label = np.where(right, y[task], wrong)
    # on ambiguous tasks every worker gives the same wrong class
    amb = ambiguous[task]
    label[amb] = ((y + 1) % 3)[task][amb]
    votes = Votes(task, worker, label, task_ids=np.arange(300),
                  worker_ids=np.arange(n_workers), classes=np.arange(3))
    result = waum(X, votes, n_epochs=10, random_state=0)
    assert result.waum.shape == (300,)
    assert result.aum.shape == result.trust.shape == (votes.n_votes,)
    assert np.all((result.trust >= 0) & (result.trust <= 1 + 1e-9))
    assert roc_auc_score(ambiguous, -result.waum) > 0.9
    logit = waum(X, votes, confusion_matrices=np.tile(np.eye(3), (15, 1, 1)),
                 margin="logit", n_epochs=3, random_state=0)
    assert np.isfinite(logit.waum).all()


def test_waum_bad_input():
    votes, _, _ = make_crowd(20, 5, 3, votes_per_task=3, random_state=0)
    X = np.random.default_rng(0).normal(size=(20, 2))
    with pytest.raises(ValueError, match="X has 19 rows"):
        waum(X[:-1], votes)
    with pytest.raises(ValueError, match="confusion_matrices has shape"):
        waum(X, votes, confusion_matrices=np.ones((4, 3, 3)) / 3)
