"""The ``skcrowd simulate`` and ``skcrowd identify`` subcommands."""

import csv
import json

import numpy as np
import pytest

from skcrowd.cli import main


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_simulate_writes_votes_truth_and_workers(tmp_path, capsys):
    out = tmp_path / "crowd.csv"
    assert main(["simulate", "--n-tasks", "50", "--n-workers", "12",
                 "--n-classes", "3", "--votes-per-task", "4", "--strategy",
                 "hammer-spammer", "--ratio", "0.25", "--seed", "1",
                 "--output", str(out)]) == 0
    votes = read_rows(out)
    assert len(votes) == 200 and set(votes[0]) == {"task", "worker", "label"}
    truth = read_rows(tmp_path / "crowd_truth.csv")
    assert len(truth) == 50 and set(truth[0]) == {"task", "label"}
    workers = read_rows(tmp_path / "crowd_workers.csv")
    assert [w["worker_type"] for w in workers].count("spammer") == 3
    assert "votes       200" in capsys.readouterr().out
    # reproducible with the seed
    again = tmp_path / "again.csv"
    main(["simulate", "--n-tasks", "50", "--n-workers", "12", "--n-classes", "3",
          "--votes-per-task", "4", "--strategy", "hammer-spammer", "--ratio",
          "0.25", "--seed", "1", "--output", str(again)])
    assert again.read_text() == out.read_text()


def test_simulate_json_and_difficulty(tmp_path):
    out = tmp_path / "answers.json"
    truth = tmp_path / "gt.csv"
    matrices = tmp_path / "m.npy"
    assert main(["simulate", "--strategy", "discrete-difficulty", "--n-tasks",
                 "40", "--n-workers", "20", "--ratio", "0.35", "--ratio-diff", "1",
                 "--output", str(out), "--truth", str(truth),
                 "--save-matrices", str(matrices)]) == 0
    answers = json.loads(out.read_text())
    assert len(answers) == 40
    assert all(len(v) == 10 for v in answers.values())
    rows = read_rows(truth)
    assert {r["task_difficulty"] for r in rows} <= {"easy", "hard", "random"}
    assert np.load(matrices).shape == (20, 5, 5)


def test_simulate_with_matrix_file(tmp_path):
    conf = np.tile(np.eye(3), (6, 1, 1))
    path = tmp_path / "conf.npy"
    np.save(path, conf)
    out = tmp_path / "v.csv"
    main(["simulate", "--n-tasks", "30", "--n-workers", "6", "-K", "3",
          "--votes-per-task", "3", "--matrix-file", str(path), "-o", str(out)])
    votes = read_rows(out)
    truth = {r["task"]: r["label"] for r in read_rows(tmp_path / "v_truth.csv")}
    assert all(v["label"] == truth[v["task"]] for v in votes)  # perfect workers


@pytest.mark.parametrize(
    "args, match",
    [
        (["--strategy", "nope"], "invalid choice"),
        (["--votes-per-task", "40"], "votes_per_task"),
        (["--ratio", "1.5", "--strategy", "hammer-spammer"], "ratio"),
    ],
)
def test_simulate_bad_input(tmp_path, capsys, args, match):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", *args, "--output", str(tmp_path / "v.csv")])
    assert exc.value.code == 2
    assert match in capsys.readouterr().err


def test_identify_finds_spammers(tmp_path, capsys):
    votes = tmp_path / "v.csv"
    main(["simulate", "--strategy", "hammer-spammer", "--ratio", "0.3",
          "--hammer-accuracy", "0.8", "--n-tasks", "300", "--n-workers", "20",
          "--n-classes", "3", "--votes-per-task", "5", "--seed", "0",
          "--output", str(votes)])
    capsys.readouterr()
    workers_csv, tasks_csv = tmp_path / "w.csv", tmp_path / "t.csv"
    assert main(["identify", str(votes), "--gold", str(tmp_path / "v_truth.csv"),
                 "--param", "max_iter=1000",
                 "--workers-output", str(workers_csv),
                 "--tasks-output", str(tasks_csv), "--top", "6"]) == 0
    printed = capsys.readouterr().out
    assert "krippendorff_alpha" in printed and "fleiss_kappa" in printed
    workers = read_rows(workers_csv)
    truth = {r["worker"]: r["worker_type"]
             for r in read_rows(tmp_path / "v_workers.csv")}
    ranked = sorted(workers, key=lambda r: float(r["spammer_score"]))
    assert {truth[r["worker"]] for r in ranked[:6]} == {"spammer"}
    assert all(r["gold_accuracy"] != "" for r in workers)
    tasks = read_rows(tasks_csv)
    assert len(tasks) == 300
    assert {"vote_entropy", "posterior_entropy", "vote_margin"} <= set(tasks[0])


def test_identify_dataset_and_method(tmp_path, capsys):
    assert main(["identify", "--dataset", "zheng_sentiment", "--method",
                 "majority_vote", "--workers-output", str(tmp_path / "w.csv"),
                 "--tasks-output", str(tmp_path / "t.csv")]) == 0
    rows = read_rows(tmp_path / "w.csv")
    assert "spammer_score" not in rows[0]  # majority vote has no confusions
    assert "gold_accuracy" in rows[0]


def test_identify_single_votes_explains_agreement(tmp_path, capsys):
    path = tmp_path / "v.csv"
    path.write_text("task,worker,label\nt1,a,x\nt2,b,y\n")
    main(["identify", str(path), "--method", "majority_vote",
          "--workers-output", str(tmp_path / "w.csv"),
          "--tasks-output", str(tmp_path / "t.csv")])
    assert "at least two votes" in capsys.readouterr().out


def test_identify_needs_input(capsys):
    with pytest.raises(SystemExit):
        main(["identify"])
    assert "INPUT or --dataset" in capsys.readouterr().err


def test_help_explains_every_option(capsys):
    for command in ("simulate", "identify"):
        with pytest.raises(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out
        assert "--help" in text
        # every option is followed by an explanation
        assert text.count("(default") >= 3
