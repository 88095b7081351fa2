"""An evaluation is made once: the pictures' folder does not make a split be scored again, and records written
under the older naming rule are still found."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from ssl_ce.evaluators.records import EvaluationRecord, evaluate_once
from ssl_ce.registries import EVALUATORS


@pytest.fixture
def counting_evaluator():
    """An evaluator that writes no numbers of its own: it counts its calls, so a test sees every re-scoring."""
    calls: list[dict] = []

    def evaluate(checkpoint, **options):
        calls.append(options)
        return [{"score": float(len(calls))}]

    EVALUATORS.register("counting")(evaluate)
    yield calls
    EVALUATORS.unregister("counting")


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    path = tmp_path / "runs" / "toy-seed0" / "checkpoint.safetensors"
    path.parent.mkdir(parents=True)
    path.write_bytes(b"weights")
    return path


def test_a_table_made_into_another_folder_does_not_score_again(counting_evaluator, checkpoint, tmp_path) -> None:
    records = tmp_path / "records"
    first, _ = evaluate_once(records, "counting", checkpoint, split="test", results_dir=tmp_path / "a", progress=True)
    again, _ = evaluate_once(records, "counting", checkpoint, split="test", results_dir=tmp_path / "b", progress=False)
    assert len(counting_evaluator) == 1 and again == first
    evaluate_once(records, "counting", checkpoint, split="val", results_dir=tmp_path / "b")
    assert len(counting_evaluator) == 2  # a different option is a different evaluation


def test_a_retrained_checkpoint_is_scored_again(counting_evaluator, checkpoint, tmp_path) -> None:
    evaluate_once(tmp_path / "records", "counting", checkpoint, split="test")
    checkpoint.write_bytes(b"retrained weights")
    evaluate_once(tmp_path / "records", "counting", checkpoint, split="test")
    assert len(counting_evaluator) == 2


def _name_before_the_results_dir_rule(records: Path, evaluator: str, checkpoint: Path, options: dict) -> Path:
    """The record's name as ssl-ce wrote it up to 882124f, frozen here because records on users' disks carry it."""
    shown = {k: v for k, v in options.items() if k != "progress"}
    identity = [evaluator, json.dumps(shown, sort_keys=True, default=str),
                f"{checkpoint.resolve()}:{checkpoint.stat().st_size}:{checkpoint.stat().st_mtime_ns}"]
    digest = hashlib.sha1("\n".join(identity).encode()).hexdigest()[:16]
    return records / f"{evaluator}-{checkpoint.parent.name}-{digest}.json"


def test_a_record_written_under_the_older_name_is_read_not_rescored(counting_evaluator, checkpoint, tmp_path) -> None:
    records, options = tmp_path / "records", {"split": "test", "results_dir": str(tmp_path / "results")}
    old = _name_before_the_results_dir_rule(records, "counting", checkpoint, options)
    old.parent.mkdir(parents=True)
    old.write_text(json.dumps({"seconds": 12.5, "rows": [{"score": 0.25}]}))
    assert EvaluationRecord.for_call(records, "counting", checkpoint, options).done()
    rows, seconds = evaluate_once(records, "counting", checkpoint, progress=False, **options)
    assert (rows, seconds) == ([{"score": 0.25}], 12.5) and counting_evaluator == []
