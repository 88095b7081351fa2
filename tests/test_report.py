"""`ssl-ce report` end to end on a tiny budget: every method, every evaluator, one REPORT.md."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ssl_ce import report
from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.registries import MASKS
from ssl_ce.report import RUNS, Budget, run_report

TINY = Budget(config="quick.yaml", epochs=1, linear_labels=(None,), finetune_labels=None, finetune_epochs=1,
              inpainting_images=6, context_queries=None, seeds=(0, 1),
              overrides={"data.crops_per_photo": 4, "model.bottleneck": 32, "train.batch_size": 8,
                         "train.precision": "fp32", "train.grid_images": 2})


@pytest.mark.slow
def test_report_runs_every_method_and_evaluator_and_reuses_finished_runs(tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(report.BUDGETS, "tiny", TINY)
    out, runs = tmp_path / "out", tmp_path / "runs"
    path = run_report("tiny", out, runs, None, progress=False, log=lambda _: None)
    text = path.read_text()
    assert f"Made by `ssl-ce report --budget tiny --out {out}`" in text  # the command that writes this file
    for heading in ("Against the targets", "Table 2 analogue", "Table 1 analogue", "NN-inpainting",
                    "Mask generalisation", "Training"):
        assert heading in text
    for name in RUNS:
        assert f"| {name} |" in text and f"| {name} | 1 |" in text  # in the tables, and trained with seed 1
    targets = text.split("## Against the targets")[1].split("## ")[0]
    verdicts = [line.rsplit("|", 2)[1].strip() for line in targets.splitlines() if line.startswith("| context")]
    measured = pd.read_csv(out / "report-tiny" / "inpainting.csv")["kid_mnv1_hole"].notna().any()
    assert len(verdicts) == 7 + measured and set(verdicts) <= {"met", "missed", "not established"}
    assert ("hole KID (x1e3) lower" in targets) == measured  # the joint loss's claim judged where it can be
    assert " ± " in text and "[" in targets  # mean ± std over seeds, margins with their interval
    table1 = text.split("Table 1 analogue")[1].split("## ")[0]
    assert ("KID hole x1e3" in table1) == measured  # realism beside PSNR wherever the network was found
    tables = out / "report-tiny"
    classification = pd.read_csv(tables / "classification.csv")
    assert len(classification) == 2 * len(RUNS) * 2  # linear + fine-tune, each run, each seed
    assert set(classification["split"]) == {"test"} and set(classification["pretrain_seed"]) == {0, 1}
    assert set(pd.read_csv(tables / "inpainting.csv")["eval_mask"]) == set(MASKS.names())  # every hole type
    assert (tables / "mask_matrix.png").exists() and list((tables / "loss_curves").glob("*.png"))
    for link in [line.split("](")[1].split(")")[0] for line in text.splitlines() if "](" in line]:
        assert (out / link).exists(), link
    checkpoints = sorted(runs.glob("*/checkpoint.safetensors"))
    assert len(checkpoints) == 2 * len(RUNS)
    before = [load_checkpoint(p, prefixes=()).step for p in checkpoints]
    records = {p: p.stat().st_mtime_ns for p in (runs / "evaluations").glob("*.json")}
    assert records  # every evaluation's rows are kept beside the runs

    again = run_report("tiny", out, runs, None, progress=False, log=lambda _: None)
    assert [load_checkpoint(p, prefixes=()).step for p in checkpoints] == before  # finished runs are not retrained
    assert {p: p.stat().st_mtime_ns for p in (runs / "evaluations").glob("*.json")} == records  # nor re-scored
    assert again.read_text() == text  # the same report, its minutes included: they are the runs' recorded times
    assert len(pd.read_csv(tables / "classification.csv")) == 4 * len(RUNS)  # tables replaced, not appended
