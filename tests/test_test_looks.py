"""The test-look ledger: every test-split evaluation is one row, whoever calls the evaluator; val is not."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from ssl_ce.evaluators.inpainting import INPAINTING
from ssl_ce.evaluators.test_looks import LEDGER_ENV, file_sha256
from ssl_ce.training import train

from .conftest import tiny_config


def test_every_test_scoring_appends_one_ledger_row_and_val_none(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ledger = tmp_path / "looks.csv"
    monkeypatch.setenv(LEDGER_ENV, str(ledger))
    checkpoint = train(tiny_config(train={"max_steps": 2}), tmp_path / "run", progress=False).checkpoint
    options = {"limit": 3, "classical": False, "realism": "none", "results_dir": str(tmp_path), "progress": False}
    INPAINTING(checkpoint, split="val", **options)
    assert not ledger.exists()
    rows = INPAINTING(checkpoint, split="test", **options)
    INPAINTING(checkpoint, split="test", **options)
    looks = pd.read_csv(ledger, dtype=str)
    assert len(looks) == 2 and set(looks["evaluator"]) == {"inpainting"}
    assert looks["checkpoint_sha256"].iloc[0] == file_sha256(checkpoint)
    assert f"psnr_db={rows[0]['psnr_db']}" in looks["headline"].iloc[0] and '"split": "test"' in looks["options"][0]
