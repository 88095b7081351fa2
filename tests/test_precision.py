"""Precision `auto`: bf16 only where the hardware runs it. On an AVX2-only CPU (AMD EPYC Zen 2) PyTorch emulates
bf16 matrix products hundreds of times slower than fp32 (benchmarks/precision_speed.py)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import pytest
import torch

from ssl_ce import runtime
from ssl_ce.config import load_config
from ssl_ce.training import train

from .conftest import REPO, tiny_config

CPU = torch.device("cpu")


@pytest.fixture
def avx2_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "cpu_features", lambda: ["avx2"])


@pytest.fixture
def avx512_bf16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(runtime, "cpu_features", lambda: ["avx2", "avx512f", "avx512_bf16"])


def test_auto_is_bf16_on_a_cpu_with_native_bf16(avx512_bf16: None) -> None:
    assert runtime.resolve_precision("auto", CPU) == "bf16"


def test_auto_is_fp32_on_a_cpu_that_would_emulate_bf16(avx2_only: None) -> None:
    assert runtime.resolve_precision("auto", CPU) == "fp32"
    assert isinstance(runtime.autocast_context("auto", CPU), type(runtime.autocast_context("fp32", CPU)))


def test_an_explicit_bf16_is_kept_with_a_warning_where_it_is_emulated(avx2_only: None) -> None:
    with pytest.warns(UserWarning, match="emulated.*use precision auto or fp32"):
        assert runtime.resolve_precision("bf16", CPU) == "bf16"


def test_an_explicit_bf16_is_quiet_where_it_is_native(avx512_bf16: None) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert runtime.resolve_precision("bf16", CPU) == "bf16"


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_no_shipped_config_runs_emulated_bf16(path: Path, avx2_only: None) -> None:
    assert runtime.resolve_precision(load_config(path).train.precision, CPU) == "fp32"


def test_run_json_records_the_precision_auto_chose(tmp_path: Path, avx2_only: None) -> None:
    cfg = tiny_config(train={"precision": "auto", "max_steps": 1})
    train(cfg, tmp_path / "run", progress=False)
    assert json.loads((tmp_path / "run" / "run.json").read_text())["precision"] == "fp32"
    assert (tmp_path / "run" / "config.yaml").read_text().count("precision: auto") == 1
