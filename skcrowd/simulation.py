"""Simulated crowds with known ground truth.

:func:`make_crowd` draws votes from the worker models used in the
crowdsourcing literature (the settings of peerannot's ``simulate`` command);
:func:`make_classification_crowd` adds features, for methods that also learn
a classifier (CROWDLAB, learning from crowds). Both are fully vectorised:
a million votes take a fraction of a second.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.datasets import make_classification
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._votes import Votes

__all__ = ["STRATEGIES", "make_classification_crowd", "make_crowd"]

#: Names of the worker models of :func:`make_crowd`.
STRATEGIES = (
    "independent-confusion",
    "hammer-spammer",
    "student-teacher",
    "discrete-difficulty",
    "glad",
)

# share of spammers / students / good workers when ``ratio`` is None: the
# peerannot CLI default for hammer-spammer, the published table's settings
# for the other two
_DEFAULT_RATIO = {
    "hammer-spammer": 0.1,
    "student-teacher": 0.8,
    "discrete-difficulty": 0.35,
}

_probability = Interval(Real, 0, 1, closed="both")


# ----------------------------------------------------------------------
# building blocks
def _diagonally_dominant(matrices):
    """Swap each row's largest entry onto the diagonal (in place)."""
    n_classes = matrices.shape[-1]
    rows = matrices.reshape(-1, n_classes)
    diag = np.tile(np.arange(n_classes), len(rows) // n_classes)
    top = rows.argmax(axis=1)
    index = np.arange(len(rows))
    rows[index, diag], rows[index, top] = rows[index, top], rows[index, diag].copy()
    return matrices


def _random_confusions(rng, n_workers, n_classes, concentration, dominant=True):
    """Confusion matrices whose rows are Dirichlet(concentration) draws."""
    alpha = np.full(n_classes, float(concentration))
    matrices = rng.dirichlet(alpha, size=(n_workers, n_classes))
    return _diagonally_dominant(matrices) if dominant else matrices


def _check_confusions(matrices, n_workers, n_classes, name="confusion_matrices"):
    matrices = np.asarray(matrices, dtype=np.float64)
    if matrices.shape != (n_workers, n_classes, n_classes):
        raise ValueError(
            f"{name} must have shape {(n_workers, n_classes, n_classes)} "
            f"(workers, true class, answered class); got {matrices.shape}."
        )
    if not np.all(np.isfinite(matrices)) or (matrices < 0).any() or (
        matrices > 1
    ).any():
        raise ValueError(f"{name} must hold probabilities in [0, 1].")
    if not np.allclose(matrices.sum(axis=2), 1.0):
        raise ValueError(f"Every row of {name} must sum to 1.")
    return matrices


def _floyd_sample(rng, n_tasks, n_workers, m):
    """``m`` distinct workers for each task (Floyd's algorithm, vectorised
    over tasks): cost O(n_tasks * m^2), no tasks x workers array."""
    picks = np.empty((n_tasks, m), dtype=np.int32)
    for s, j in enumerate(range(n_workers - m, n_workers)):
        candidate = rng.randint(0, j + 1, size=n_tasks, dtype=np.int32)
        taken = (picks[:, :s] == candidate[:, None]).any(axis=1)
        picks[:, s] = np.where(taken, j, candidate)
    return picks.reshape(-1)


def _assign_workers(rng, n_tasks, n_workers, counts):
    """Task and worker code of every vote; each task's workers are distinct.

    ``counts[i]`` workers are drawn without replacement for task ``i``.
    """
    task = np.repeat(np.arange(n_tasks, dtype=np.int32), counts)
    fixed = counts.min() == counts.max()
    if fixed and 4 * int(counts[0]) < n_workers:
        return task, _floyd_sample(rng, n_tasks, n_workers, int(counts[0]))
    # many votes per task: a random permutation of the workers per task,
    # truncated (at most 4 times the votes), by blocks of tasks to bound memory
    worker = np.empty(len(task), dtype=np.int32)
    block = max(1, 4_000_000 // n_workers)
    start = 0
    for first in range(0, n_tasks, block):
        stop = min(first + block, n_tasks)
        order = np.argsort(rng.random_sample((stop - first, n_workers)), axis=1)
        keep = np.arange(n_workers)[None, :] < counts[first:stop, None]
        chosen = order[keep]
        worker[start:start + len(chosen)] = chosen
        start += len(chosen)
    return task, worker


def _draw_from_confusion(rng, matrices, worker, truth):
    """Labels drawn from the rows ``matrices[worker, truth]``.

    Inverse-CDF sampling, one column of the cumulative table at a time, so
    memory stays O(n_votes).
    """
    n_classes = matrices.shape[-1]
    cdf = np.cumsum(matrices.reshape(-1, n_classes), axis=1)
    cdf /= cdf[:, -1:]
    columns = np.ascontiguousarray(cdf.T)
    row = worker.astype(np.int64) * n_classes + truth
    u = rng.random_sample(len(row))
    label = np.zeros(len(row), dtype=np.int32)
    for k in range(n_classes - 1):
        label += u >= columns[k][row]
    return label


def _other_class(rng, truth, n_classes):
    """A class drawn uniformly among the ``n_classes - 1`` wrong ones."""
    if n_classes == 1:
        return truth.copy()
    shift = rng.randint(1, n_classes, size=len(truth))
    return (truth + shift) % n_classes


# ----------------------------------------------------------------------
# worker models: each returns the labels of the votes and the truth bunch
def _independent(rng, worker, truth_of_vote, n_workers, n_classes, p):
    matrices = p["confusion_matrices"]
    if matrices is None:
        matrices = _random_confusions(rng, n_workers, n_classes, p["concentration"])
    else:
        matrices = _check_confusions(matrices, n_workers, n_classes)
    label = _draw_from_confusion(rng, matrices, worker, truth_of_vote)
    return label, {"confusion_matrices": matrices}


def _hammer_spammer(rng, worker, truth_of_vote, n_workers, n_classes, p):
    n_spammers = int(p["ratio"] * n_workers)
    eye = np.eye(n_classes)
    acc = p["hammer_accuracy"]
    hammer = acc * eye + (1 - acc) * (1 - eye) / max(n_classes - 1, 1)
    matrices = np.empty((n_workers, n_classes, n_classes))
    matrices[: n_workers - n_spammers] = hammer
    matrices[n_workers - n_spammers:] = 1.0 / n_classes
    worker_type = np.array(["hammer"] * (n_workers - n_spammers)
                           + ["spammer"] * n_spammers)
    label = _draw_from_confusion(rng, matrices, worker, truth_of_vote)
    return label, {"confusion_matrices": matrices, "worker_type": worker_type}


def _student_teacher(rng, worker, truth_of_vote, n_workers, n_classes, p):
    n_students = int(p["ratio"] * n_workers)
    n_teachers = n_workers - n_students
    if n_teachers < 1:
        raise ValueError(
            f"ratio={p['ratio']} leaves no teacher among {n_workers} workers; "
            "the share of students must leave at least one teacher."
        )
    teachers = p["confusion_matrices"]
    if teachers is None:
        teachers = _random_confusions(rng, n_teachers, n_classes,
                                      p["concentration"])
    else:
        teachers = _check_confusions(teachers, n_teachers, n_classes)
    teacher = np.concatenate([np.arange(n_teachers),
                              rng.randint(0, n_teachers, size=n_students)])
    matrices = teachers[teacher]
    worker_type = np.array(["teacher"] * n_teachers + ["student"] * n_students)
    label = _draw_from_confusion(rng, matrices, worker, truth_of_vote)
    return label, {"confusion_matrices": matrices, "worker_type": worker_type,
                   "teacher": teacher}


def _discrete_difficulty(rng, worker, truth_of_vote, n_workers, n_classes, p,
                         task_of_vote, n_tasks):
    n_good = int(p["ratio"] * n_workers)
    matrices = p["confusion_matrices"]
    if matrices is None:
        good = _random_confusions(rng, n_good, n_classes, 0.2)
        bad = _random_confusions(rng, n_workers - n_good, n_classes, 1.0,
                                 dominant=False)
        matrices = np.concatenate([good, bad])
    else:
        matrices = _check_confusions(matrices, n_workers, n_classes)
    p_random = p["p_random"]
    p_hard = (1.0 - p_random) / (p["ratio_diff"] + 1.0)
    levels = np.array(["easy", "hard", "random"])
    difficulty = levels[rng.choice(
        3, size=n_tasks, p=[1.0 - p_random - p_hard, p_hard, p_random]
    )]
    label = _draw_from_confusion(rng, matrices, worker, truth_of_vote)
    level = difficulty[task_of_vote]
    easy = level == "easy"
    label[easy] = truth_of_vote[easy]
    rand = level == "random"
    label[rand] = rng.randint(0, n_classes, size=int(rand.sum()))
    worker_type = np.array(["good"] * n_good + ["bad"] * (n_workers - n_good))
    return label, {"confusion_matrices": matrices, "worker_type": worker_type,
                   "task_difficulty": difficulty}


def _glad(rng, worker, truth_of_vote, n_workers, n_classes, p, task_of_vote,
          n_tasks):
    ability = rng.normal(p["ability_mean"], p["ability_std"], size=n_workers)
    easiness = np.exp(rng.normal(p["log_easiness_mean"], p["log_easiness_std"],
                                 size=n_tasks))
    logit = ability[worker] * easiness[task_of_vote]
    correct = rng.random_sample(len(worker)) < 1.0 / (1.0 + np.exp(-logit))
    label = np.where(correct, truth_of_vote,
                     _other_class(rng, truth_of_vote, n_classes))
    return label.astype(np.int32), {"worker_ability": ability,
                                    "task_easiness": easiness}


# ----------------------------------------------------------------------
@validate_params(
    {
        "n_tasks": [Interval(Integral, 1, None, closed="left")],
        "n_workers": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "strategy": [StrOptions(set(STRATEGIES))],
        "votes_per_task": [Interval(Integral, 1, None, closed="left")],
        "imbalance_votes": ["boolean"],
        "class_prior": ["array-like", None],
        "ratio": [_probability, None],
        "ratio_diff": [Interval(Real, 0, None, closed="left")],
        "p_random": [_probability],
        "hammer_accuracy": [_probability],
        "concentration": [Interval(Real, 0, None, closed="neither")],
        "confusion_matrices": ["array-like", None],
        "ability_mean": [Real],
        "ability_std": [Interval(Real, 0, None, closed="left")],
        "log_easiness_mean": [Real],
        "log_easiness_std": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_crowd(
    n_tasks=200,
    n_workers=30,
    n_classes=5,
    *,
    strategy="independent-confusion",
    votes_per_task=10,
    imbalance_votes=False,
    class_prior=None,
    ratio=None,
    ratio_diff=1.0,
    p_random=0.0,
    hammer_accuracy=1.0,
    concentration=1.0,
    confusion_matrices=None,
    ability_mean=1.0,
    ability_std=1.0,
    log_easiness_mean=0.0,
    log_easiness_std=1.0,
    random_state=None,
):
    """Generate a crowd of simulated workers voting on tasks with known truth.

    True labels are drawn from ``class_prior``; each task is given to
    ``votes_per_task`` distinct workers chosen uniformly at random; each
    worker answers following the worker model named by ``strategy``:

    ``"independent-confusion"``
        Each worker has a confusion matrix whose rows are drawn from a
        Dirichlet(``concentration``) distribution (uniform on the simplex by
        default) and made diagonally dominant by swapping each row's largest
        entry onto the diagonal. Mistakes are independent: Dawid-Skene's
        model.
    ``"hammer-spammer"``
        A share ``ratio`` of spammers answer uniformly at random; the other
        workers (hammers) answer correctly with probability
        ``hammer_accuracy`` (errors spread evenly).
    ``"student-teacher"``
        A share ``ratio`` of students each copy the confusion matrix of one
        teacher chosen at random (correlated mistakes, Cao et al. 2019);
        teachers' matrices are drawn as in ``"independent-confusion"``.
    ``"discrete-difficulty"``
        Whitehill et al.'s good/bad workers and easy/hard tasks: a share
        ``ratio`` of good workers with diagonally dominant Dirichlet(0.2)
        rows, bad workers with Dirichlet(1) rows (not diagonally dominant).
        Every worker answers an easy task correctly, a "random" task uniformly
        at random, and a hard task following their confusion matrix. Easy
        tasks are ``ratio_diff`` times as frequent as hard ones; a share
        ``p_random`` of the tasks is random.
    ``"glad"``
        GLAD's model (Whitehill et al. 2009): worker ``j`` with ability
        ``a_j ~ N(ability_mean, ability_std)`` answers task ``i`` of easiness
        ``b_i = exp(N(log_easiness_mean, log_easiness_std))`` correctly with
        probability ``1 / (1 + exp(-a_j b_i))``, else one of the other
        classes uniformly.

    These are the settings of peerannot's ``simulate`` command
    (``--strategy``, ``--ratio``, ``--ratio-diff``, ``--random``,
    ``--feedback`` = ``votes_per_task``, ``--imbalance-votes``,
    ``--matrix-file`` = ``confusion_matrices``), sampled with numpy's
    vectorised generators, so a million votes take well under a second.

    Parameters
    ----------
    n_tasks : int, default=200
        Number of tasks.
    n_workers : int, default=30
        Number of workers.
    n_classes : int, default=5
        Number of classes (at least 2).
    strategy : str, default="independent-confusion"
        The worker model, one of ``STRATEGIES``: ``"independent-confusion"``,
        ``"hammer-spammer"``, ``"student-teacher"``, ``"discrete-difficulty"``,
        ``"glad"``.
    votes_per_task : int, default=10
        Number of distinct workers answering each task; at most ``n_workers``.
        Ignored when ``imbalance_votes=True``.
    imbalance_votes : bool, default=False
        Draw the number of votes of each task uniformly between 1 and
        ``n_workers`` (peerannot's ``--imbalance-votes``).
    class_prior : array-like of shape (n_classes,), default=None
        Probability of each true class; uniform when None.
    ratio : float in [0, 1], default=None
        Share of spammers (``"hammer-spammer"``, default 0.1), of students
        (``"student-teacher"``, default 0.8) or of good workers
        (``"discrete-difficulty"``, default 0.35). Unused by the other
        strategies.
    ratio_diff : float, default=1.0
        ``"discrete-difficulty"``: number of easy tasks per hard task.
    p_random : float in [0, 1], default=0.0
        ``"discrete-difficulty"``: probability that a task is "random"
        (unidentifiable: every worker answers it at random).
    hammer_accuracy : float in [0, 1], default=1.0
        ``"hammer-spammer"``: probability that a hammer answers correctly.
    concentration : float, default=1.0
        Dirichlet concentration of the random confusion rows of
        ``"independent-confusion"`` and of the teachers of
        ``"student-teacher"``; smaller values give sharper rows.
    confusion_matrices : array-like of shape (n, n_classes, n_classes), \
default=None
        Use these confusion matrices instead of random ones (peerannot's
        ``--matrix-file``): one per worker (``n = n_workers``), or one per
        teacher for ``"student-teacher"`` (``n`` = number of teachers).
    ability_mean, ability_std : float, default=1.0
        ``"glad"``: the normal distribution of worker abilities.
    log_easiness_mean, log_easiness_std : float, default=0.0, 1.0
        ``"glad"``: the normal distribution of the log of task easiness.
    random_state : int, RandomState instance or None, default=None
        Seeds every random choice; the same seed gives the same crowd.

    Returns
    -------
    votes : Votes
        The votes; task, worker and class identifiers are ``0..n-1``.
    y_true : ndarray of shape (n_tasks,)
        The true class of each task.
    truth : Bunch
        The true parameters: ``strategy``; ``confusion_matrices`` (n_workers,
        n_classes, n_classes) for the confusion-based strategies;
        ``worker_accuracy``, the probability that each worker is right on a
        task drawn from the class prior (for ``"discrete-difficulty"`` on
        hard tasks); ``worker_type`` (hammer/spammer, teacher/student,
        good/bad); ``teacher`` (the teacher each worker copies);
        ``task_difficulty`` (easy/hard/random); ``worker_ability`` and
        ``task_easiness`` for ``"glad"``; ``class_prior``.

    See Also
    --------
    make_classification_crowd : a crowd with features, for CROWDLAB.

    References
    ----------
    T. Lefort, B. Charlier, A. Joly, J. Salmon, "Peerannot: classification
    for crowdsourced image datasets with Python", Computo, 2024.

    J. Whitehill, P. Ruvolo, T. Wu, J. Bergsma, J. Movellan, "Whose Vote
    Should Count More: Optimal Integration of Labels from Labelers of Unknown
    Expertise", NIPS 2009.

    Examples
    --------
    >>> from skcrowd.simulation import make_crowd
    >>> votes, y_true, truth = make_crowd(200, 30, 5, random_state=0)
    >>> votes
    Votes(n_tasks=200, n_workers=30, n_classes=5, n_votes=2000)
    >>> truth.confusion_matrices.shape
    (30, 5, 5)
    >>> votes, y_true, truth = make_crowd(strategy="hammer-spammer", ratio=0.3,
    ...                                   random_state=0)
    >>> truth.worker_type[-3:].tolist()
    ['spammer', 'spammer', 'spammer']
    """
    rng = check_random_state(random_state)
    if imbalance_votes:
        counts = rng.randint(1, n_workers + 1, size=n_tasks)
    else:
        if votes_per_task > n_workers:
            raise ValueError(
                f"votes_per_task={votes_per_task} exceeds n_workers={n_workers}: "
                "each task is answered by distinct workers; lower votes_per_task "
                "or add workers."
            )
        counts = np.full(n_tasks, votes_per_task)
    if class_prior is None:
        class_prior = np.full(n_classes, 1.0 / n_classes)
    else:
        class_prior = np.asarray(class_prior, dtype=np.float64)
        if class_prior.shape != (n_classes,):
            raise ValueError(
                f"class_prior must have n_classes={n_classes} entries; got shape "
                f"{class_prior.shape}."
            )
        if (not np.all(np.isfinite(class_prior)) or (class_prior < 0).any()
                or (class_prior > 1).any() or not np.isclose(class_prior.sum(), 1)):
            raise ValueError(
                "class_prior must hold probabilities in [0, 1] summing to 1; got "
                f"{class_prior.tolist()}."
            )
    if ratio is None:
        ratio = _DEFAULT_RATIO.get(strategy, 0.0)

    y_true = rng.choice(n_classes, size=n_tasks, p=class_prior)
    task, worker = _assign_workers(rng, n_tasks, n_workers, counts)
    truth_of_vote = y_true[task]
    params = {
        "ratio": ratio, "ratio_diff": ratio_diff, "p_random": p_random,
        "hammer_accuracy": hammer_accuracy, "concentration": concentration,
        "confusion_matrices": confusion_matrices, "ability_mean": ability_mean,
        "ability_std": ability_std, "log_easiness_mean": log_easiness_mean,
        "log_easiness_std": log_easiness_std,
    }
    args = (rng, worker, truth_of_vote, n_workers, n_classes, params)
    if strategy == "independent-confusion":
        label, truth = _independent(*args)
    elif strategy == "hammer-spammer":
        label, truth = _hammer_spammer(*args)
    elif strategy == "student-teacher":
        label, truth = _student_teacher(*args)
    elif strategy == "discrete-difficulty":
        label, truth = _discrete_difficulty(*args, task, n_tasks)
    else:
        label, truth = _glad(*args, task, n_tasks)
    if "confusion_matrices" in truth:
        diagonal = np.einsum("wkk->wk", truth["confusion_matrices"])
        truth["worker_accuracy"] = diagonal @ class_prior
    truth = Bunch(strategy=strategy, class_prior=class_prior, **truth)
    votes = Votes(task, worker, label, task_ids=np.arange(n_tasks),
                  worker_ids=np.arange(n_workers), classes=np.arange(n_classes))
    return votes, y_true, truth


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_annotators": [Interval(Integral, 1, None, closed="left")],
        "n_classes": [Interval(Integral, 2, None, closed="left")],
        "labeling_rate": [Interval(Real, 0, 1, closed="right")],
        "n_noisy": [Interval(Integral, 0, None, closed="left")],
        "annotator_accuracy": [tuple],
        "noisy_accuracy": [_probability],
        "n_features": [Interval(Integral, 2, None, closed="left")],
        "class_sep": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_classification_crowd(
    n_samples=300,
    n_annotators=50,
    n_classes=3,
    *,
    labeling_rate=0.1,
    n_noisy=5,
    annotator_accuracy=(0.6, 0.9),
    noisy_accuracy=0.3,
    n_features=10,
    class_sep=1.5,
    random_state=None,
):
    """Generate features and a sparse annotator vote matrix with known truth.

    The features come from :func:`sklearn.datasets.make_classification`
    (one Gaussian cluster per class), so a logistic regression reaches about
    0.95 accuracy with the defaults. Each annotator has a confusion matrix
    whose diagonal is their accuracy and whose off-diagonal mass is spread at
    random (Dirichlet(1)) over the wrong classes; good annotators' accuracies
    are uniform in ``annotator_accuracy`` and the **last** ``n_noisy``
    annotators have accuracy ``noisy_accuracy``. Each annotator labels each
    item with probability ``labeling_rate``; an item left without a label is
    given one by an annotator chosen at random, so every item has a label.

    This mirrors cleanlab's multiannotator tutorial data (300 examples, 50
    annotators, 3 classes, about 10% labeling rate, the last 5 annotators
    noisy), where majority vote is about 0.86 accurate.

    Parameters
    ----------
    n_samples : int, default=300
        Number of items.
    n_annotators : int, default=50
        Number of annotators.
    n_classes : int, default=3
        Number of classes.
    labeling_rate : float in (0, 1], default=0.1
        Probability that an annotator labels an item.
    n_noisy : int, default=5
        Number of noisy annotators (the last columns of ``Y``); at most
        ``n_annotators``.
    annotator_accuracy : tuple of two floats, default=(0.6, 0.9)
        Range of the accuracies of the other annotators.
    noisy_accuracy : float in [0, 1], default=0.3
        Accuracy of the noisy annotators.
    n_features : int, default=10
        Number of features (half informative, the rest noise).
    class_sep : float, default=1.5
        Separation of the classes in feature space (larger is easier).
    random_state : int, RandomState instance or None, default=None
        Seeds every random choice.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        Features.
    Y : ndarray of int of shape (n_samples, n_annotators)
        ``Y[i, j]`` is annotator ``j``'s label of item ``i``, -1 when absent.
    y_true : ndarray of shape (n_samples,)
        True classes.
    truth : Bunch
        ``confusion_matrices`` (n_annotators, n_classes, n_classes),
        ``annotator_accuracy`` (n_annotators,), ``noisy`` (bool mask of the
        noisy annotators).

    See Also
    --------
    make_crowd : crowds without features, many worker models.

    References
    ----------
    H. W. Goh, U. Tkachenko, J. Mueller, "CROWDLAB: Supervised learning to
    infer consensus labels and quality scores for data with multiple
    annotators", arXiv:2210.06812, 2022.

    Examples
    --------
    >>> from skcrowd.simulation import make_classification_crowd
    >>> X, Y, y_true, truth = make_classification_crowd(random_state=0)
    >>> X.shape, Y.shape
    ((300, 10), (300, 50))
    >>> bool(((Y >= 0).sum(axis=1) >= 1).all())
    True
    >>> truth.annotator_accuracy[-5:].tolist()
    [0.3, 0.3, 0.3, 0.3, 0.3]
    """
    low_high = annotator_accuracy
    if (len(low_high) != 2 or not all(isinstance(v, Real) for v in low_high)
            or not 0 <= low_high[0] <= low_high[1] <= 1):
        raise ValueError(
            "annotator_accuracy must be a pair (low, high) of probabilities with "
            f"0 <= low <= high <= 1; got {annotator_accuracy!r}."
        )
    if n_noisy > n_annotators:
        raise ValueError(
            f"n_noisy={n_noisy} exceeds n_annotators={n_annotators}."
        )
    rng = check_random_state(random_state)
    n_informative = max(2, n_features // 2)
    X, y_true = make_classification(
        n_samples=n_samples, n_features=n_features, n_informative=n_informative,
        n_redundant=0, n_classes=n_classes, n_clusters_per_class=1,
        class_sep=class_sep, flip_y=0.0, random_state=rng,
    )
    accuracy = rng.uniform(low_high[0], low_high[1], size=n_annotators)
    noisy = np.zeros(n_annotators, dtype=bool)
    noisy[n_annotators - n_noisy:] = True
    accuracy[noisy] = noisy_accuracy
    off = rng.dirichlet(np.ones(n_classes - 1), size=(n_annotators, n_classes))
    matrices = np.empty((n_annotators, n_classes, n_classes))
    for k in range(n_classes):  # a loop over classes, not over votes
        others = np.delete(np.arange(n_classes), k)
        matrices[:, k, k] = accuracy
        matrices[:, k, others] = (1.0 - accuracy)[:, None] * off[:, k]
    labeled = rng.random_sample((n_samples, n_annotators)) < labeling_rate
    empty = np.flatnonzero(~labeled.any(axis=1))
    labeled[empty, rng.randint(0, n_annotators, size=len(empty))] = True
    item, annotator = np.nonzero(labeled)
    Y = np.full((n_samples, n_annotators), -1, dtype=np.int64)
    Y[item, annotator] = _draw_from_confusion(rng, matrices, annotator,
                                              y_true[item])
    truth = Bunch(confusion_matrices=matrices, annotator_accuracy=accuracy,
                  noisy=noisy)
    return X, Y, y_true, truth
