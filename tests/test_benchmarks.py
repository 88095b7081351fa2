"""The benchmarks that make committed numbers, end to end on the built-in photos with tiny runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ssl_ce.export import recorded_evaluations

REPO = Path(__file__).resolve().parent.parent
TINY = ["data.crops_per_photo=4", "train.batch_size=8", "model.bottleneck=32", "train.precision=fp32",
        "train.grid_images=2", "train.knn_every=0"]


@pytest.mark.slow
def test_inpainter_selection_chooses_on_val_and_scores_test_once(tmp_path: Path) -> None:
    runs, results = tmp_path / "runs", tmp_path / "results"
    command = [sys.executable, str(REPO / "benchmarks" / "inpainter_selection.py"), "--config", "quick",
               "--recipe-epochs", "1", "--average-epochs", "1", "--runs", str(runs), "--results", str(results),
               "--score-test", *(arg for item in TINY for arg in ("--set", item))]
    done = subprocess.run(command, check=False, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = pd.read_csv(results / "inpainter_selection_photos.csv")
    val, test_rows = rows[rows["split"] == "val"], rows[rows["split"] == "test"]
    assert (rows["stage"] == "test, scored once").equals(rows["split"] == "test")
    assert val["stage"].str.startswith("1").sum() >= 6 and len(val) + len(test_rows) == len(rows)
    (chosen_file,) = test_rows["checkpoint"].dropna().unique()  # the chosen model alone, beside the classical ones
    recorded = recorded_evaluations(Path(chosen_file), results)  # what `ssl-ce export` writes into the file
    assert {r["split"] for r in recorded} == {"val", "test"}
    assert all(r["inpainter"].startswith("context-encoder") for r in recorded)  # not the classical rows
    report = (results / "inpainter_selection_photos.md").read_text()
    chosen = report.split("**Chosen on val:**")[1].split("\n")[0]
    assert f"({val['psnr_db'].max():.2f} dB" in chosen  # the highest val PSNR is the one chosen
    test = report.split("## Test, scored once")[1]
    assert "biharmonic" in test and "telea" in test.lower()

    records = {p: p.stat().st_mtime_ns for p in (runs / "evaluations").glob("*.json")}
    again = subprocess.run(command, check=False, capture_output=True, text=True, cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert {p: p.stat().st_mtime_ns for p in (runs / "evaluations").glob("*.json")} == records  # test scored once
    assert (results / "inpainter_selection_photos.md").read_text() == report
