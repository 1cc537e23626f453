"""The ``skcrowd`` command line.

``skcrowd aggregate INPUT --method NAME [--gold GOLD] [--output OUT]`` reads
votes (a long CSV ``task,worker,label``, a wide CSV whose first column holds
task ids and whose header holds worker ids, or a JSON dict of dicts), or a
shipped dataset with ``--dataset NAME``, and writes one consensus label per
task with its class probabilities.
"""

import argparse
import csv
import json
import sys
import time
import warnings

import numpy as np

from . import __version__
from ._votes import Votes, as_votes, labels_from_strings
from .aggregation import AGGREGATORS, aggregator_name, get_aggregator

__all__ = ["main"]


class CommandError(Exception):
    """A user error: printed as ``skcrowd: error: ...`` with exit status 2."""


def _read_csv_rows(path):
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
    except (OSError, UnicodeDecodeError) as exc:
        raise CommandError(f"cannot read {path}: {exc}") from exc
    if not rows:
        raise CommandError(f"{path} is empty")
    return rows


def read_votes(path):
    """Votes from a long CSV, a wide CSV or a JSON dict of dicts.

    A CSV whose header holds ``task``, ``worker`` and ``label`` is a long
    table (an optional ``weight`` column is read too); any other CSV is a
    wide matrix: first column task ids, header worker ids, empty cell =
    no vote. Labels that are all integers are read as integers.
    """
    if str(path).lower().endswith(".json"):
        try:
            with open(path, encoding="utf-8") as handle:
                answers = json.load(handle)
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CommandError(f"cannot read {path}: {exc}") from exc
        if not isinstance(answers, dict):
            raise CommandError(
                f"{path} must hold a JSON object {{task: {{worker: label}}}}"
            )
        return as_votes(answers)
    header, *rows = _read_csv_rows(path)
    names = [h.strip() for h in header]
    if {"task", "worker", "label"} <= set(names):
        if not rows:
            raise CommandError(f"{path} has a header but no votes")
        columns = list(zip(*rows, strict=False))
        col = {name: np.asarray(columns[names.index(name)]) for name in names}
        weight = col["weight"].astype(float) if "weight" in col else None
        given = col["label"] != ""
        labels = np.full(len(given), None, dtype=object)
        labels[given] = labels_from_strings(col["label"][given])
        return Votes.from_long(col["task"], col["worker"], labels, weight)
    cells = np.asarray([row[1:] for row in rows], dtype=object)
    if cells.ndim != 2 or cells.shape[1] != len(names) - 1:
        raise CommandError(
            f"{path}: every row of a wide CSV needs one cell per worker column "
            f"({len(names) - 1})"
        )
    present = cells != ""
    values = labels_from_strings(cells[present].astype(str))
    matrix = np.full(cells.shape, None, dtype=object)
    matrix[present] = values
    return Votes.from_wide(matrix, task_ids=np.asarray([r[0] for r in rows]),
                           worker_ids=np.asarray(names[1:]))


def read_gold(path):
    """``{task: label}`` from a CSV with columns ``task,label``."""
    header, *rows = _read_csv_rows(path)
    names = [h.strip() for h in header]
    if not {"task", "label"} <= set(names):
        raise CommandError(f"{path} must have columns task,label; got {names}")
    ti, li = names.index("task"), names.index("label")
    labels = labels_from_strings(np.asarray([r[li] for r in rows]))
    return dict(zip((r[ti] for r in rows), labels.tolist(), strict=True))


def _parse_param(text):
    key, sep, value = text.partition("=")
    if not sep:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        value = json.loads(value)
    except json.JSONDecodeError:
        pass
    return key, value


def _method_name(text):
    try:
        return aggregator_name(text)
    except ValueError:
        return text  # argparse then lists the valid choices


def _write_consensus(model, handle):
    writer = csv.writer(handle)
    writer.writerow(["task", "label", *[f"proba_{c}" for c in model.classes_]])
    for task, label, proba in zip(model.task_ids_, model.consensus_label_,
                                  model.consensus_proba_, strict=True):
        writer.writerow([task, label, *(f"{p:.6g}" for p in proba)])


def _votes_and_gold(args):
    """The votes of INPUT or --dataset, and the gold labels {task: label}."""
    if (args.input is None) == (args.dataset is None):
        raise CommandError("give either INPUT or --dataset NAME")
    gold = None
    if args.dataset is not None:
        from .datasets import list_datasets, load_dataset

        if args.dataset not in list_datasets():
            raise CommandError(
                f"unknown dataset {args.dataset!r}; choose one of {list_datasets()}"
            )
        votes, gold_array = load_dataset(args.dataset, return_X_y=True)
        gold = dict(zip(votes.task_ids.tolist(), gold_array.tolist(), strict=True))
    else:
        votes = read_votes(args.input)
    if args.gold is not None:
        gold = read_gold(args.gold)
    return votes, gold


def _aggregator(args):
    """The aggregator named by --method with the --param values."""
    try:
        return get_aggregator(args.method, **dict(args.param))
    except TypeError as exc:
        raise CommandError(f"bad --param for {args.method}: {exc}") from exc


def _aggregate(args):
    votes, gold = _votes_and_gold(args)
    model = _aggregator(args)
    tic = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(votes)
    seconds = time.perf_counter() - tic
    if args.output is None or args.output == "-":
        _write_consensus(model, sys.stdout)
        report = sys.stderr
    else:
        with open(args.output, "w", newline="", encoding="utf-8") as handle:
            _write_consensus(model, handle)
        report = sys.stdout
    lines = [
        f"method      {type(model).__name__}",
        f"tasks       {votes.n_tasks}",
        f"workers     {votes.n_workers}",
        f"votes       {votes.n_votes}",
        f"classes     {len(model.classes_)} ({', '.join(map(str, model.classes_))})",
    ]
    if hasattr(model, "n_iter_"):
        lines.append(
            f"iterations  {model.n_iter_} (converged: {model.converged_})"
        )
    lines.append(f"fit seconds {seconds:.3f}")
    if gold is not None:
        scored = [t for t in model.task_ids_.tolist() if gold.get(t) is not None]
        if scored:
            accuracy = model.score(votes, gold)
            lines.append(f"accuracy    {accuracy:.4f} on {len(scored)} gold tasks")
        else:
            lines.append("accuracy    no gold label matches a task id")
    if args.output not in (None, "-"):
        lines.append(f"written     {args.output}")
    lines += [f"warning     {w.message}" for w in caught]
    print("\n".join(lines), file=report)
    return 0


def build_parser():
    """The argument parser of the ``skcrowd`` command."""
    parser = argparse.ArgumentParser(
        prog="skcrowd",
        description="Aggregate crowdsourced labels with scikit-learn estimators.",
    )
    parser.add_argument("--version", action="version",
                        version=f"skcrowd {__version__}")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="COMMAND")
    aggregate = commands.add_parser(
        "aggregate",
        help="consensus labels from votes",
        description=(
            "Fit an aggregator on votes and write one consensus label per task "
            "with its class probabilities (CSV: task,label,proba_<class>...). "
            "A summary goes to the terminal."
        ),
    )
    aggregate.add_argument(
        "input", nargs="?", metavar="INPUT",
        help=("votes: a long CSV with columns task,worker,label[,weight]; a wide "
              "CSV (first column task ids, header worker ids, empty cell = no "
              "vote); or a JSON object {task: {worker: label}}"),
    )
    aggregate.add_argument(
        "--dataset", metavar="NAME",
        help="use a dataset shipped with skcrowd instead of INPUT (gold included)",
    )
    aggregate.add_argument(
        "--method", default="dawid_skene", type=_method_name,
        choices=sorted(AGGREGATORS), metavar="NAME",
        help=f"aggregator, one of: {', '.join(sorted(AGGREGATORS))} "
             "(default: dawid_skene)",
    )
    aggregate.add_argument(
        "--param", action="append", type=_parse_param, default=[],
        metavar="KEY=VALUE",
        help="hyperparameter of the aggregator, e.g. --param alpha=0.1 "
             "(repeatable; values are read as JSON when they parse)",
    )
    aggregate.add_argument(
        "--gold", metavar="GOLD",
        help="CSV with columns task,label: report accuracy against it",
    )
    aggregate.add_argument(
        "--output", "-o", metavar="OUT",
        help="write the consensus CSV here (default: standard output)",
    )
    aggregate.set_defaults(handler=_aggregate)
    _add_simulate_parser(commands)
    _add_identify_parser(commands)
    return parser


def main(argv=None):
    """Run the command line; return the exit status.

    Examples
    --------
    >>> from skcrowd.cli import main
    >>> main(["aggregate", "--dataset", "zheng_sentiment", "--method",
    ...       "majority_vote", "--output", "/dev/null"])  # doctest: +ELLIPSIS
    method      MajorityVote
    ...
    accuracy    0.9320 on 1000 gold tasks
    written     /dev/null
    0
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except (CommandError, ValueError, TypeError) as exc:
        parser.exit(2, f"skcrowd {args.command}: error: {exc}\n")


# ----------------------------------------------------------------------
# skcrowd simulate / skcrowd identify
def _write_votes_file(votes, path, fmt):
    """Votes as a long CSV task,worker,label or a JSON dict of dicts."""
    task = votes.task_ids[votes.task]
    worker = votes.worker_ids[votes.worker]
    label = votes.classes[votes.label]
    if fmt == "json":
        answers = {str(t): {} for t in votes.task_ids.tolist()}
        for t, w, lab in zip(task.tolist(), worker.tolist(), label.tolist(),
                             strict=True):
            answers[str(t)][str(w)] = lab
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(answers, handle)
        return
    table = np.column_stack([task, worker, label])
    np.savetxt(path, table, fmt="%s", delimiter=",", header="task,worker,label",
               comments="")


def _write_columns(path, columns):
    """A CSV with one column per (name, array) pair."""
    names = list(columns)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        values = []
        for name in names:
            column = np.asarray(columns[name])
            if column.dtype.kind == "f":
                column = [f"{v:.6g}" for v in column.tolist()]
            else:
                column = column.tolist()
            values.append(column)
        writer.writerows(zip(*values, strict=True))


def _simulate(args):
    from .simulation import make_crowd

    params = {}
    for name in ("ratio", "ratio_diff", "p_random", "hammer_accuracy",
                 "concentration"):
        value = getattr(args, name)
        if value is not None:
            params[name] = value
    if args.matrix_file is not None:
        try:
            params["confusion_matrices"] = np.load(args.matrix_file)
        except (OSError, ValueError) as exc:
            raise CommandError(f"cannot read {args.matrix_file}: {exc}") from exc
    votes, y_true, truth = make_crowd(
        args.n_tasks, args.n_workers, args.n_classes, strategy=args.strategy,
        votes_per_task=args.votes_per_task, imbalance_votes=args.imbalance_votes,
        random_state=args.seed, **params,
    )
    fmt = args.format or ("json" if str(args.output).endswith(".json") else "csv")
    stem = str(args.output).rsplit(".", 1)[0]
    truth_path = args.truth or f"{stem}_truth.csv"
    workers_path = args.workers or f"{stem}_workers.csv"
    _write_votes_file(votes, args.output, fmt)
    task_columns = {"task": votes.task_ids, "label": y_true}
    for name in ("task_difficulty", "task_easiness"):
        if name in truth:
            task_columns[name] = truth[name]
    _write_columns(truth_path, task_columns)
    worker_columns = {"worker": votes.worker_ids}
    for name in ("worker_type", "teacher", "worker_accuracy", "worker_ability"):
        if name in truth:
            worker_columns[name] = truth[name]
    _write_columns(workers_path, worker_columns)
    if "confusion_matrices" in truth and args.save_matrices:
        np.save(args.save_matrices, truth["confusion_matrices"])
    print("\n".join([
        f"strategy    {args.strategy}",
        f"tasks       {votes.n_tasks}",
        f"workers     {votes.n_workers}",
        f"votes       {votes.n_votes}",
        f"classes     {votes.n_classes}",
        f"written     {args.output} ({fmt}), {truth_path}, {workers_path}",
    ]))
    return 0


def _identify(args):
    from .identification import (
        fleiss_kappa,
        krippendorff_alpha,
        task_scores,
        worker_scores,
    )

    votes, gold = _votes_and_gold(args)
    gold_array = None
    if gold is not None:
        gold_array = np.empty(votes.n_tasks, dtype=object)
        gold_array[:] = [gold.get(t) for t in votes.task_ids.tolist()]
    model = _aggregator(args)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(votes)
    workers = worker_scores(votes, aggregator=model, gold=gold_array)
    tasks = task_scores(votes, aggregator=model)
    _write_columns(args.workers_output, workers)
    _write_columns(args.tasks_output, tasks)
    lines = [
        f"method      {type(model).__name__}",
        f"tasks       {votes.n_tasks}",
        f"workers     {votes.n_workers}",
        f"votes       {votes.n_votes}",
    ]
    try:
        lines.append(f"krippendorff_alpha {krippendorff_alpha(votes):.4f}")
        lines.append(f"fleiss_kappa       {fleiss_kappa(votes):.4f}")
    except ValueError as exc:
        lines.append(f"agreement   not computed: {exc}")
    if "spammer_score" in workers:
        order = np.argsort(workers.spammer_score)[: args.top]
        lines.append("likely spammers (lowest spammer score): " + ", ".join(
            f"{workers.worker[i]} ({workers.spammer_score[i]:.3f})" for i in order))
    order = np.argsort(-tasks.posterior_entropy)[: args.top]
    lines.append("most ambiguous tasks (highest posterior entropy): " + ", ".join(
        f"{tasks.task[i]} ({tasks.posterior_entropy[i]:.3f})" for i in order))
    lines.append(f"written     {args.workers_output}, {args.tasks_output}")
    lines += [f"warning     {w.message}" for w in caught]
    print("\n".join(lines))
    return 0


def _add_simulate_parser(commands):
    from .simulation import STRATEGIES

    simulate = commands.add_parser(
        "simulate",
        help="simulate a crowd with known truth",
        description=(
            "Draw a simulated crowd (skcrowd.simulation.make_crowd) and write "
            "its votes (long CSV task,worker,label, or a JSON object "
            "{task: {worker: label}}), the true label of every task "
            "(CSV task,label[,task_difficulty|task_easiness], usable as --gold) "
            "and the true worker parameters (CSV worker,worker_type,"
            "worker_accuracy,...). The settings mirror peerannot's simulate "
            "command."
        ),
    )
    simulate.add_argument("--n-tasks", type=int, default=200, metavar="N",
                          help="number of tasks (default: 200)")
    simulate.add_argument("--n-workers", type=int, default=30, metavar="N",
                          help="number of workers (default: 30)")
    simulate.add_argument("--n-classes", "-K", type=int, default=5, metavar="K",
                          help="number of classes (default: 5)")
    simulate.add_argument(
        "--strategy", default="independent-confusion", choices=STRATEGIES,
        metavar="NAME",
        help=("worker model, one of: " + ", ".join(STRATEGIES)
              + " (default: independent-confusion)"),
    )
    simulate.add_argument(
        "--votes-per-task", "--feedback", type=int, default=10, metavar="N",
        help="distinct workers answering each task, at most --n-workers "
             "(default: 10; ignored with --imbalance-votes)",
    )
    simulate.add_argument(
        "--imbalance-votes", action="store_true",
        help="draw each task's number of votes uniformly in 1..n_workers",
    )
    simulate.add_argument(
        "--ratio", type=float, metavar="R",
        help="share of spammers (hammer-spammer, default 0.1), of students "
             "(student-teacher, default 0.8) or of good workers "
             "(discrete-difficulty, default 0.35), in [0, 1]",
    )
    simulate.add_argument(
        "--ratio-diff", type=float, metavar="R",
        help="discrete-difficulty: easy tasks per hard task (default: 1)",
    )
    simulate.add_argument(
        "--p-random", "--random", type=float, metavar="P",
        help="discrete-difficulty: probability that a task is unidentifiable "
             "(answered at random by everyone), in [0, 1] (default: 0)",
    )
    simulate.add_argument(
        "--hammer-accuracy", type=float, metavar="P",
        help="hammer-spammer: probability that a hammer is right (default: 1)",
    )
    simulate.add_argument(
        "--concentration", type=float, metavar="A",
        help="Dirichlet concentration of random confusion rows (default: 1; "
             "smaller is sharper)",
    )
    simulate.add_argument(
        "--matrix-file", metavar="NPY",
        help="numpy .npy file of confusion matrices (n_workers, K, K) to use "
             "instead of random ones ((n_teachers, K, K) for student-teacher)",
    )
    simulate.add_argument("--seed", type=int, default=0,
                          help="random seed (default: 0)")
    simulate.add_argument(
        "--output", "-o", default="votes.csv", metavar="VOTES",
        help="where to write the votes (default: votes.csv; a .json name "
             "writes JSON)",
    )
    simulate.add_argument("--format", choices=("csv", "json"),
                          help="format of the votes file (default: from the "
                               "extension of --output)")
    simulate.add_argument(
        "--truth", metavar="TRUTH",
        help="where to write the true task labels (default: "
             "<VOTES stem>_truth.csv)",
    )
    simulate.add_argument(
        "--workers", metavar="WORKERS",
        help="where to write the true worker parameters (default: "
             "<VOTES stem>_workers.csv)",
    )
    simulate.add_argument(
        "--save-matrices", metavar="NPY",
        help="also save the true confusion matrices to this .npy file",
    )
    simulate.set_defaults(handler=_simulate)


def _add_identify_parser(commands):
    identify = commands.add_parser(
        "identify",
        help="score workers and tasks: spammers, ambiguous tasks, agreement",
        description=(
            "Fit an aggregator on votes and write one row of scores per worker "
            "(n_votes, spammer_score and confusion_trace when the model has "
            "confusion matrices, agreement_with_consensus, pairwise_agreement, "
            "answer_entropy, and gold_accuracy/n_gold with --gold) and one row "
            "per task (n_votes, consensus, confidence, vote_entropy, "
            "posterior_entropy, vote_margin, glad_difficulty for GLAD-like "
            "models). Krippendorff's alpha, Fleiss' kappa, the likeliest "
            "spammers and the most ambiguous tasks are printed."
        ),
    )
    identify.add_argument(
        "input", nargs="?", metavar="INPUT",
        help=("votes: a long CSV with columns task,worker,label[,weight]; a wide "
              "CSV (first column task ids, header worker ids, empty cell = no "
              "vote); or a JSON object {task: {worker: label}}"),
    )
    identify.add_argument(
        "--dataset", metavar="NAME",
        help="use a dataset shipped with skcrowd instead of INPUT (gold included)",
    )
    identify.add_argument(
        "--method", default="dawid_skene", type=_method_name,
        choices=sorted(AGGREGATORS), metavar="NAME",
        help="aggregator giving the consensus and the worker parameters, one "
             f"of: {', '.join(sorted(AGGREGATORS))} (default: dawid_skene)",
    )
    identify.add_argument(
        "--param", action="append", type=_parse_param, default=[],
        metavar="KEY=VALUE",
        help="hyperparameter of the aggregator, e.g. --param alpha=0.1 "
             "(repeatable; values are read as JSON when they parse)",
    )
    identify.add_argument(
        "--gold", metavar="GOLD",
        help="CSV with columns task,label: adds each worker's accuracy on gold",
    )
    identify.add_argument(
        "--workers-output", default="worker_scores.csv", metavar="CSV",
        help="where to write the worker scores (default: worker_scores.csv)",
    )
    identify.add_argument(
        "--tasks-output", default="task_scores.csv", metavar="CSV",
        help="where to write the task scores (default: task_scores.csv)",
    )
    identify.add_argument(
        "--top", type=int, default=5, metavar="N",
        help="how many likely spammers and ambiguous tasks to print (default: 5)",
    )
    identify.set_defaults(handler=_identify)
