"""The skcrowd command line."""

import csv
import json
import subprocess
import sys

import pytest

from skcrowd.cli import main

LONG = "task,worker,label\nt1,a,cat\nt1,b,cat\nt1,c,dog\nt2,a,dog\nt2,b,dog\n"
WIDE = "task,a,b,c\nt1,cat,cat,dog\nt2,dog,dog,\n"
ANSWERS = {"t1": {"a": "cat", "b": "cat", "c": "dog"}, "t2": {"a": "dog", "b": "dog"}}


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.mark.parametrize("name, text", [("votes.csv", LONG), ("wide.csv", WIDE),
                                        ("votes.json", json.dumps(ANSWERS))])
def test_aggregate_every_input_format(tmp_path, capsys, name, text):
    path = tmp_path / name
    path.write_text(text)
    out = tmp_path / "out.csv"
    assert main(["aggregate", str(path), "--method", "majority_vote",
                 "--output", str(out)]) == 0
    rows = read_rows(out)
    assert [(r["task"], r["label"]) for r in rows] == [("t1", "cat"), ("t2", "dog")]
    assert float(rows[0]["proba_cat"]) == 1.0
    summary = capsys.readouterr().out
    assert "tasks       2" in summary and "workers     3" in summary


def test_gold_gives_accuracy_and_params_are_passed(tmp_path, capsys):
    (tmp_path / "votes.csv").write_text(LONG)
    (tmp_path / "gold.csv").write_text("task,label\nt1,dog\nt2,dog\n")
    main(["aggregate", str(tmp_path / "votes.csv"), "--method", "DawidSkene",
          "--param", "alpha=0.5", "--param", "max_iter=3", "--param", "tol=0",
          "--gold", str(tmp_path / "gold.csv"), "-o", str(tmp_path / "o.csv")])
    summary = capsys.readouterr().out
    assert "DawidSkene" in summary and "iterations  3" in summary
    assert "accuracy    0.5000 on 2 gold tasks" in summary


def test_shipped_dataset_and_stdout(capsys):
    main(["aggregate", "--dataset", "zheng_product", "--method", "dawid_skene"])
    captured = capsys.readouterr()
    assert captured.out.startswith("task,label,proba_0,proba_1")
    assert len(captured.out.splitlines()) == 8316
    accuracy = float(captured.err.split("accuracy")[1].split()[0])
    assert accuracy >= 0.935


@pytest.mark.parametrize(
    "argv, message",
    [(["aggregate", "x.csv", "--method", "nope"], "invalid choice: 'nope'"),
     (["aggregate", "missing.csv"], "cannot read missing.csv"),
     (["aggregate"], "give either INPUT or --dataset"),
     (["aggregate", "--dataset", "mnist"], "unknown dataset 'mnist'"),
     (["aggregate", "--dataset", "zheng_dog", "--param", "bogus=1"],
      "bad --param for dawid_skene")],
)
def test_errors_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    if "invalid choice" in message:  # the valid methods are listed
        assert "'dawid_skene'" in err and "'majority_vote'" in err


def test_bad_files_are_named(tmp_path, capsys):
    (tmp_path / "bad.json").write_text("[1, 2]")
    (tmp_path / "nan.csv").write_text("task,worker,label\nt1,a,\n")
    for name, message in [("bad.json", "must hold a JSON object"),
                          ("nan.csv", "Missing label in row 0")]:
        with pytest.raises(SystemExit):
            main(["aggregate", str(tmp_path / name)])
        assert message in capsys.readouterr().err


def test_python_dash_m(tmp_path):
    (tmp_path / "v.csv").write_text(LONG)
    result = subprocess.run(
        [sys.executable, "-m", "skcrowd", "aggregate", str(tmp_path / "v.csv"),
         "--method", "wawa"], capture_output=True, text=True, check=True)
    assert result.stdout.splitlines()[1].startswith("t1,cat")
    assert "Wawa" in result.stderr
