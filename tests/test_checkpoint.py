"""Naming a checkpoint's rows and pictures: no two files given together share a label."""

from __future__ import annotations

from pathlib import Path

import pytest

from ssl_ce.checkpoint import run_labels
from ssl_ce.errors import SslCeError


def test_run_labels_tell_two_studies_runs_of_one_name_apart(tmp_path: Path) -> None:
    a = tmp_path / "study_a" / "joint-cosine" / "checkpoint.safetensors"
    b = tmp_path / "study_b" / "joint-cosine" / "checkpoint.safetensors"
    averaged = tmp_path / "study_a" / "joint-cosine" / "averaged.safetensors"
    assert run_labels([a, averaged]) == ["joint-cosine", "joint-cosine-averaged"]  # unique already: left short
    assert run_labels([a, b, averaged]) == ["study_a/joint-cosine", "study_b/joint-cosine", "joint-cosine-averaged"]
    with pytest.raises(SslCeError, match="given twice"):
        run_labels([a, a])
