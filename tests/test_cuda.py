"""The CUDA path: runs only where a GPU is visible (CI has none; the device machine runs these)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.data import build_dataset
from ssl_ce.data.batches import make_batch, place_training_images, step_rng
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


def test_a_batch_made_from_images_on_the_gpu_is_the_batch_made_on_the_host() -> None:
    cfg = tiny_config(data={"shift": 2})
    photos = build_dataset(cfg.data, "train", 32)
    on_gpu = place_training_images(photos, torch.device("cuda"), allowed=True)
    assert on_gpu.device.type == "cuda"
    indices = [0, 3, 5, 7]
    host = make_batch(*photos.batch(indices), cfg, step_rng(0, 11), torch.device("cpu"), train=True)
    gpu = make_batch(*on_gpu.batch(indices), cfg, step_rng(0, 11), torch.device("cuda"), train=True)
    assert torch.equal(host.images, gpu.images.cpu()) and torch.equal(host.masks.hole, gpu.masks.hole.cpu())
