"""The CUDA path: runs only where a GPU is visible (CI has none; the device machine runs these)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.runtime import Dist, resolve_device
from ssl_ce.training import train

from .conftest import tiny_config

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


def test_a_bare_cuda_device_name_resolves_to_an_indexed_device() -> None:
    device = resolve_device("cuda", Dist())
    assert device.type == "cuda" and device.index == torch.cuda.current_device()


@pytest.mark.parametrize("precision", ["bf16", "fp16", "fp32"])
def test_training_on_cuda_gives_finite_losses_and_a_checkpoint_that_loads_on_cpu(tmp_path: Path,
                                                                                  precision: str) -> None:
    cfg = tiny_config(train={"device": "cuda", "precision": precision, "epochs": 1})
    result = train(cfg, tmp_path / "run", progress=False)
    assert result.step == 5 and all(torch.isfinite(torch.tensor(v)) for v in result.last_losses.values())
    ckpt = load_checkpoint(result.checkpoint)
    assert all(t.device.type == "cpu" for t in ckpt.tensors.values())
