"""`ssl-ce report` end to end on a tiny budget: every method, every evaluator, one REPORT.md."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ssl_ce import report
from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.report import RUNS, Budget, run_report

TINY = Budget(config="quick.yaml", epochs=1, linear_labels=(None,), finetune_labels=None, finetune_epochs=1,
              inpainting_images=6, context_queries=None,
              overrides={"data.crops_per_photo": 4, "model.bottleneck": 32, "train.batch_size": 8,
                         "train.precision": "fp32", "train.grid_images": 2})


@pytest.mark.slow
def test_report_runs_every_method_and_evaluator_and_reuses_finished_runs(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(report.BUDGETS, "tiny", TINY)
    out, runs = tmp_path / "out", tmp_path / "runs"
    path = run_report("tiny", out, runs, None, progress=False, log=lambda _: None)
    text = path.read_text()
    for heading in ("Table 2 analogue", "Table 1 analogue", "NN-inpainting", "Mask generalisation", "Training"):
        assert heading in text
    for name in RUNS:
        assert f"| {name} |" in text
    tables = out / "report-tiny"
    classification = pd.read_csv(tables / "classification.csv")
    assert len(classification) == 2 * len(RUNS)  # linear + fine-tune each
    assert set(pd.read_csv(tables / "inpainting.csv")["eval_mask"]) == {"center", "random-block", "random-region"}
    assert (tables / "mask_matrix.png").exists() and list((tables / "loss_curves").glob("*.png"))
    for link in [line.split("](")[1].split(")")[0] for line in text.splitlines() if "](" in line]:
        assert (out / link).exists(), link
    checkpoints = sorted(runs.glob("*/checkpoint.safetensors"))
    assert len(checkpoints) == len(RUNS)
    before = [load_checkpoint(p, prefixes=()).step for p in checkpoints]
    run_report("tiny", out, runs, None, progress=False, log=lambda _: None)  # finished runs are not retrained
    assert [load_checkpoint(p, prefixes=()).step for p in checkpoints] == before
    assert len(pd.read_csv(tables / "classification.csv")) == 2 * len(RUNS)  # tables replaced, not appended
