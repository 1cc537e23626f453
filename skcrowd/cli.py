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


def _aggregate(args):
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
    try:
        model = get_aggregator(args.method, **dict(args.param))
    except TypeError as exc:
        raise CommandError(f"bad --param for {args.method}: {exc}") from exc
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
