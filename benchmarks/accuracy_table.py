"""Accuracy of every skcrowd aggregator on every shipped classification dataset.

One command prints the whole table, with the published numbers beside ours::

    python benchmarks/accuracy_table.py
    python benchmarks/accuracy_table.py --methods dawid_skene IWMV --datasets zheng_dog
    python benchmarks/accuracy_table.py --protocol li

Rows are the aggregators registered in ``skcrowd.aggregation.AGGREGATORS`` at run
time (default hyperparameters), columns the datasets of
``skcrowd.datasets.list_datasets()`` except the numeric ones. Every cell is the
accuracy against the gold labels of the transductive consensus (``fit`` on all the
votes, ``consensus_label_`` / ``consensus_proba_``), under two protocols, because
the two sources of published numbers measured differently:

* ``crowdkit`` -- the Crowd-Kit paper (Ustalov, Pavlichenko, Tseitlin, JOSS 2024,
  arXiv:2109.08584): all votes as shipped (a repeated answer is one more vote) and
  ties broken to the smallest label (``consensus_label_``).
* ``li`` -- Li, Rubinstein & Cohn (BWA, WWW 2019; EBCC, ICML 2019), from their
  published notebooks: exact duplicate (task, worker, label) rows are dropped
  first, and a task whose ``consensus_proba_`` ties m classes at the top earns
  1/m if the gold label is among them (fractional credit, the expected accuracy
  of a random tie-break).

The protocols differ only on datasets with duplicates (act_cf_amt, act_zc_all,
act_zc_us) and for methods whose posteriors tie (majority-vote-like ones). A
task for which a method outputs no label (``TwoThird`` without consensus)
scores 0 under both protocols.

Aggregators whose tags require ``y`` (``GoldMajorityVote``) are cross-fitted:
5 folds of tasks; each fold's labels come from a fit that sees the votes of
all tasks and the gold labels of the other four folds only. The fit time
column sums the fits. A cell marked ``*`` raised a warning (e.g. a
ConvergenceWarning); a model that raises shows ``ERR`` and its error is
printed under the table, and the table goes on. Every model runs with its
default hyperparameters, and ``random_state=0`` where it has one.
"""

import argparse
import sys
import time
import traceback
import warnings

import numpy as np

from skcrowd import Votes
from skcrowd.aggregation import AGGREGATORS
from skcrowd.datasets import DATASETS, list_datasets, load_dataset

# ----------------------------------------------------------------------------
# Published accuracies, keyed by skcrowd class name then dataset name.

#: Crowd-Kit paper, Table "accuracy against gold" (Ustalov, Pavlichenko,
#: Tseitlin, "Learning from Crowds with Crowd-Kit", JOSS 2024,
#: arXiv:2109.08584); D_Product = zheng_product, D_PosSent = zheng_sentiment.
#: Ties are broken to the smallest label; M-MSR did not finish on D_Product.
PUBLISHED_CROWDKIT = {
    "MajorityVote": {"zheng_product": 0.897, "zheng_sentiment": 0.932},
    "Wawa": {"zheng_product": 0.897, "zheng_sentiment": 0.951},
    "DawidSkene": {"zheng_product": 0.940, "zheng_sentiment": 0.960},
    "GLAD": {"zheng_product": 0.928, "zheng_sentiment": 0.948},
    "KOS": {"zheng_product": 0.895, "zheng_sentiment": 0.933},
    "MACE": {"zheng_product": 0.929, "zheng_sentiment": 0.950},
    "MMSR": {"zheng_sentiment": 0.937},
}

#: Li, Rubinstein & Cohn, "Exploiting Worker Correlation for Label Aggregation
#: in Crowdsourcing" (EBCC, ICML 2019) and "Bayesian Weighted Average" (BWA,
#: WWW 2019), from their published notebooks: exact duplicate rows dropped,
#: ties given fractional credit.
_LI_TABLE = """
dataset            BWA     EBCC    IBCC
act_cf             0.8933  0.8833  0.8833
act_cf_amt         0.8600  0.8567  0.8567
act_sp             0.9170  0.9152  0.9150
act_sp_amt         0.9460  0.9440  0.9440
act_zc_all         0.8348  0.8623  0.7951
act_zc_us          0.9108  0.9123  0.8270
zheng_product      0.9194  0.9349  0.9383
zheng_sentiment    0.9560  0.9610  0.9600
zheng_face         0.6182  0.6353  0.6404
welinder_bluebirds 0.7593  0.8611  0.8889
zheng_dog          0.8315  0.8401  0.8389
snow_rte           0.9275  0.9313  0.9275
"""


def _parse_li_table(text):
    rows = [line.split() for line in text.strip().splitlines()]
    methods = rows[0][1:]
    return {m: {row[0]: float(row[1 + j]) for row in rows[1:]}
            for j, m in enumerate(methods)}


PUBLISHED_LI = _parse_li_table(_LI_TABLE)

#: The 12 datasets of Li et al.'s table, over which the mean is taken.
LI_DATASETS = tuple(PUBLISHED_LI["EBCC"])

PUBLISHED = {"crowdkit": PUBLISHED_CROWDKIT, "li": PUBLISHED_LI}
PROTOCOLS = ("crowdkit", "li")

SHORT_NAMES = {
    "act_cf": "cf", "act_cf_amt": "cf_amt", "act_sp": "sp", "act_sp_amt": "sp_amt",
    "act_zc_all": "zc_all", "act_zc_us": "zc_us", "gal_bm": "bm",
    "rodrigues_labelme": "labelme", "snow_rte": "rte", "welinder_bluebirds": "bird",
    "zheng_dog": "dog", "zheng_face": "face", "zheng_product": "product",
    "zheng_sentiment": "sent",
}


# ----------------------------------------------------------------------------
# Data and scoring


def classification_datasets():
    """Names of the shipped datasets with class labels (not numeric)."""
    return [name for name in list_datasets() if DATASETS[name][0] != "numeric"]


def drop_duplicate_votes(votes):
    """The votes without exact duplicate (task, worker, label) rows."""
    key = ((votes.task.astype(np.int64) * votes.n_workers + votes.worker)
           * votes.n_classes + votes.label)
    _, first = np.unique(key, return_index=True)
    first.sort()
    return Votes(votes.task[first], votes.worker[first], votes.label[first],
                 votes.weight[first], task_ids=votes.task_ids,
                 worker_ids=votes.worker_ids, classes=votes.classes)


_CACHE = {}


def load(name, protocol):
    """(votes, gold) of a dataset as the protocol sees them (cached)."""
    if (name, protocol) not in _CACHE:
        votes, gold = load_dataset(name, return_X_y=True)
        if protocol == "li":
            votes = drop_duplicate_votes(votes)
        _CACHE[name, protocol] = votes, np.asarray(gold, dtype=object)
    return _CACHE[name, protocol]


def tie_credit(proba, classes, gold):
    """Per task: 1/m if the gold label is among the m top classes, else 0."""
    top = proba >= proba.max(axis=1, keepdims=True) * (1 - 1e-12)
    hit = top & (classes[None, :] == gold[:, None])
    return hit.sum(axis=1) / top.sum(axis=1)


def task_scores(labels, proba, classes, gold, protocol):
    """Per-task credit (0..1) of a consensus under a protocol."""
    gold = np.asarray(gold, dtype=object)
    labels = np.asarray(labels, dtype=object)
    known_classes = set(classes.tolist())
    has_label = np.array([lab in known_classes for lab in labels], dtype=bool)
    if protocol == "crowdkit":
        return (labels == gold) & has_label
    return tie_credit(proba, np.asarray(classes, dtype=object), gold) * has_label


def consensus(estimator, votes, gold, n_folds=5, seed=0):
    """(labels, proba, classes, seconds) of the fitted tasks.

    Estimators that require ``y`` are cross-fitted over ``n_folds`` folds of
    tasks (gold labels of the other folds given); the others get no gold.
    """
    if not estimator.__sklearn_tags__().target_tags.required:
        tic = time.perf_counter()
        estimator.fit(votes)
        seconds = time.perf_counter() - tic
        return (estimator.consensus_label_, estimator.consensus_proba_,
                estimator.classes_, seconds)
    folds = np.random.default_rng(seed).integers(n_folds, size=votes.n_tasks)
    labels = np.empty(votes.n_tasks, dtype=object)
    proba = None
    seconds = 0.0
    for fold in range(n_folds):
        held_out = folds == fold
        y = gold.copy()
        y[held_out] = None
        tic = time.perf_counter()
        estimator.fit(votes, y)
        seconds += time.perf_counter() - tic
        if proba is None:
            proba = np.zeros((votes.n_tasks, len(estimator.classes_)))
        labels[held_out] = estimator.consensus_label_[held_out]
        proba[held_out] = estimator.consensus_proba_[held_out]
    return labels, proba, estimator.classes_, seconds


def evaluate(cls, dataset, protocol, **params):
    """Accuracy, fit seconds and warning messages of one method on one dataset.

    ``params`` go to the constructor; ``random_state`` defaults to 0 for the
    estimators that have one, so that every run prints the same table.
    """
    if "random_state" in cls().get_params():
        params.setdefault("random_state", 0)
    votes, gold = load(dataset, protocol)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels, proba, classes, seconds = consensus(cls(**params), votes, gold)
    known = np.array([g is not None for g in gold])
    credit = task_scores(labels[known], proba[known], classes, gold[known], protocol)
    messages = sorted({f"{w.category.__name__}: {w.message}" for w in caught})
    return float(np.mean(credit)), seconds, messages


# ----------------------------------------------------------------------------
# Table


def _resolve_methods(names):
    by_class = {cls.__name__.lower(): key for key, cls in AGGREGATORS.items()}
    if not names:
        return list(AGGREGATORS)
    keys = []
    for name in names:
        key = name.lower().replace("-", "_")
        key = key if key in AGGREGATORS else by_class.get(key.replace("_", ""))
        if key is None:
            sys.exit(f"Unknown method {name!r}; registered: {sorted(AGGREGATORS)}")
        keys.append(key)
    return keys


def run(methods, datasets, protocol, out=print):
    """Evaluate and print one protocol's table; return {(method, dataset): acc}."""
    results, errors, notes = {}, [], []
    seconds = {}
    for key in methods:
        cls = AGGREGATORS[key]
        seconds[key] = 0.0
        for name in datasets:
            try:
                acc, sec, messages = evaluate(cls, name, protocol)
            except Exception as exc:  # noqa: BLE001 -- report and go on
                results[key, name] = exc
                last = traceback.extract_tb(exc.__traceback__)[-1]
                errors.append(f"{key} on {name}: {type(exc).__name__}: {exc} "
                              f"({last.filename.split('/')[-1]}:{last.lineno})")
                continue
            results[key, name] = acc
            seconds[key] += sec
            if messages:
                notes.append(f"{key} on {name}: " + "; ".join(messages)[:300])
    published = PUBLISHED[protocol]
    title = {
        "crowdkit": "Crowd-Kit protocol: all votes, ties -> smallest label; "
                    "published = Crowd-Kit paper (JOSS 2024)",
        "li": "Li et al. protocol: exact duplicate rows dropped, ties -> "
              "fractional credit; published = Li, Rubinstein & Cohn 2019",
    }[protocol]
    width = 7  # each cell: the value in `width` characters, then a marker
    header = (f"{'method':<22}" + "".join(f"{SHORT_NAMES.get(d, d)[:width]:>{width}} "
                                          for d in datasets)
              + f"{'mean12':>7}{'fit s':>9}")
    out("")
    out(title)
    out(header)
    out("-" * len(header))
    mean_ok = all(d in datasets for d in LI_DATASETS)

    def mean12(values):
        vals = [values.get(d) for d in LI_DATASETS]
        if not mean_ok or any(not isinstance(v, float) for v in vals):
            return f"{'':>7}"
        return f"{np.mean(vals):>7.4f}"

    for key in methods:
        cells = []
        values = {}
        for name in datasets:
            value = results[key, name]
            if isinstance(value, Exception):
                cells.append(f"{'ERR':>{width}} ")
                continue
            values[name] = value
            warned = any(n.startswith(f"{key} on {name}:") for n in notes)
            cells.append(f"{value:>{width}.4f}{'*' if warned else ' '}")
        out(f"{key:<22}" + "".join(cells) + mean12(values) + f"{seconds[key]:>9.2f}")
        paper = published.get(AGGREGATORS[key].__name__)
        if paper:
            cells = [f"{paper[d]:>{width}.4f} " if d in paper else " " * (width + 1)
                     for d in datasets]
            out(f"{'  published':<22}" + "".join(cells) + mean12(paper))
    unregistered = sorted(set(published) - {cls.__name__ for cls in
                                            AGGREGATORS.values()})
    for name in unregistered:
        paper = published[name]
        cells = [f"{paper[d]:>{width}.4f} " if d in paper else " " * (width + 1)
                 for d in datasets]
        out(f"{name + ' (published)':<22}" + "".join(cells) + mean12(paper))
    if notes:
        out("* warnings:")
        for note in notes:
            out(f"    {note}")
    if errors:
        out("errors:")
        for error in errors:
            out(f"    {error}")
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--methods", nargs="*", help="registry keys or class names "
                        "(default: every registered aggregator)")
    parser.add_argument("--datasets", nargs="*", help="dataset names (default: every "
                        "shipped classification dataset)")
    parser.add_argument("--protocol", choices=("both",) + PROTOCOLS, default="both")
    args = parser.parse_args(argv)
    methods = _resolve_methods(args.methods)
    datasets = args.datasets or classification_datasets()
    unknown = set(datasets) - set(classification_datasets())
    if unknown:
        sys.exit(f"Unknown datasets {sorted(unknown)}; choose from "
                 f"{classification_datasets()}")
    legend = ", ".join(f"{SHORT_NAMES.get(d, d)}={d}" for d in datasets)
    print(f"datasets: {legend}")
    print("mean12 = mean over Li et al.'s 12 datasets; fit s = total fit seconds")
    protocols = PROTOCOLS if args.protocol == "both" else (args.protocol,)
    for protocol in protocols:
        run(methods, datasets, protocol)


if __name__ == "__main__":
    main()
