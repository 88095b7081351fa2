"""The study harness (ssl_ce.study): runs x seeds, each evaluation made once, tables and their commands."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd
import pytest

from ssl_ce.errors import SslCeError
from ssl_ce.study import Scores, Study, command_line, write_table

TINY = {"data.source": "photos", "data.crops_per_photo": 2, "model.bottleneck": 32, "train.batch_size": 4,
        "train.precision": "fp32", "train.grid_images": 2, "train.knn_every": 0, "train.max_steps": 2}


def test_a_study_trains_each_run_and_seed_once_and_refuses_a_changed_recipe(tmp_path: Path) -> None:
    runs = {"ce": {"method.name": "context-encoder"}, "ae": {"method.name": "autoencoder"}}
    study = Study("quick", runs, tmp_path, TINY, seeds=(0, 1), one_seed=("ae",))
    assert list(study.pairs()) == [("ce", 0), ("ce", 1), ("ae", 0)]
    trained = study.train_all(log=lambda _: None)
    assert {pair: result.out_dir.name for pair, result in trained.items()} == {
        ("ce", 0): "ce-seed0", ("ce", 1): "ce-seed1", ("ae", 0): "ae-seed0"}
    assert study.config_of("ce", 1).train.seed == 1
    stamps = {pair: result.checkpoint.stat().st_mtime_ns for pair, result in trained.items()}
    again = study.train_all(log=lambda _: None)  # finished runs are reused as they are
    assert {pair: result.checkpoint.stat().st_mtime_ns for pair, result in again.items()} == stamps
    changed = Study("quick", {"ce": {"method.name": "context-encoder", "method.adv_weight": 0.5}}, tmp_path, TINY)
    with pytest.raises(SslCeError, match=r"method\.adv_weight"):
        changed.train("ce", 0)


def test_scores_evaluate_once_and_tag_the_rows(tmp_path: Path) -> None:
    study = Study("quick", {"ce": {}}, tmp_path / "runs", TINY)
    checkpoint = study.train("ce", 0).checkpoint
    scores = Scores(tmp_path / "records", {"split": "val", "progress": False, "results_dir": tmp_path})
    rows = scores("inpainting", checkpoint, {"name": "ce"}, classical=False, limit=4, realism="none")
    assert rows[0]["name"] == "ce" and rows[0]["split"] == "val" and scores.seconds > 0
    records = {p: p.stat().st_mtime_ns for p in (tmp_path / "records").glob("*.json")}
    took = scores.seconds
    assert scores("inpainting", checkpoint, {"name": "ce"}, classical=False, limit=4, realism="none") == rows
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "records").glob("*.json")} == records  # read back
    assert scores.seconds == pytest.approx(2 * took)  # a read-back counts the seconds it took when made


def test_the_command_names_every_option_given_and_none_left_at_its_default() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--methods", nargs="+", default=["a"])
    parser.add_argument("--set", dest="sets", action="append", default=[])
    parser.add_argument("--score-test", action="store_true")
    parser.add_argument("--runs", default="runs")
    args = parser.parse_args(["--seeds", "0", "1", "--methods", "random init", "b", "--set", "x=1", "--set", "y=2",
                              "--score-test", "--runs", "elsewhere"])
    command = command_line("benchmarks/b.py", parser, args, always=("epochs",), leave_out=("runs",))
    assert command == ('python benchmarks/b.py --epochs 3 --seeds 0 1 --methods "random init" b --set x=1 '
                       "--set y=2 --score-test")
    assert command_line("b.py", parser, parser.parse_args([])) == "python b.py"
    parser.add_argument("tables", nargs="*")
    assert command_line("b.py", parser, parser.parse_args(["--epochs", "4", "a.csv", "my b.csv"])) == (
        'python b.py a.csv "my b.csv" --epochs 4')  # positionals first, as a user types them


def test_write_table_writes_every_row_and_the_markdown(tmp_path: Path) -> None:
    write_table(tmp_path / "t" / "table", [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}], ["# title", "", "text"])
    assert pd.read_csv(tmp_path / "t" / "table.csv")["a"].tolist() == [1, 2]
    assert (tmp_path / "t" / "table.md").read_text() == "# title\n\ntext"
