"""The published weights load through the public API and still score what their model card says."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors import safe_open

from ssl_ce import load_encoder, load_inpainter
from ssl_ce.evaluators.classification import CLASSIFICATION
from ssl_ce.evaluators.inpainting import INPAINTING

from .conftest import REPO, SHARED_DATA

WEIGHTS = sorted((REPO / "weights").glob("*.safetensors"))
INPAINTER = REPO / "weights" / "inpainter-center-cifar10-small32.safetensors"
ENCODERS = [p for p in WEIGHTS if p != INPAINTER]  # the inpainter's card is its PSNR, not a linear probe


def _recorded(path: Path) -> list[dict]:
    with safe_open(str(path), framework="pt") as f:
        return json.loads(f.metadata()["evaluations"])


@pytest.mark.parametrize("path", ENCODERS, ids=[p.stem for p in ENCODERS])
def test_published_weights_load_strictly_and_carry_their_evaluations(path: Path) -> None:
    enc = load_encoder(path)
    assert enc(torch.rand(2, 3, 32, 32)).shape == (2, enc.num_features) == (2, 1024)
    protocols = {(r.get("protocol"), r.get("labels_per_class")) for r in _recorded(path)}
    assert ("linear", "all") in protocols and ("linear", "100") in protocols


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").exists(), reason="needs ../shared/data CIFAR-10")
def test_published_context_encoder_reproduces_its_recorded_low_label_linear_probe(tmp_path: Path) -> None:
    """Linear probe with 100 labels per class (seeded subset), all 10,000 test images: within 1 point."""
    weights = REPO / "weights" / "context-encoder-cifar10-small32.safetensors"
    local = tmp_path / weights.name  # the evaluator caches features beside the file: keep them out of the repo
    shutil.copyfile(weights, local)
    (recorded,) = [r for r in _recorded(weights)
                   if r.get("protocol") == "linear" and r.get("labels_per_class") == "100"]
    (row,) = CLASSIFICATION(local, dataset="cifar10", data_root=str(SHARED_DATA), protocol="linear",
                                labels_per_class=100, progress=False)
    assert row["top1_pct"] == pytest.approx(float(recorded["top1_pct"]), abs=1.0)


def _recorded_centre_psnr(path: Path) -> float:
    """The single-pass PSNR on CIFAR-10 test images with centre holes that the file's card reports."""
    (row,) = [r for r in _recorded(path) if r.get("table") == "inpainting" and r.get("eval_data") == "cifar10"
              and r.get("eval_mask") == "center" and "flip average" not in r["inpainter"]]
    return float(row["psnr_db"])


def test_published_inpainter_fills_only_the_hole_and_carries_its_centre_psnr() -> None:
    inp = load_inpainter(INPAINTER)
    image = torch.rand(1, 3, 32, 32)
    hole = torch.zeros(32, 32, dtype=torch.bool)
    hole[8:24, 8:24] = True
    filled = inp(image, hole)
    assert torch.equal(filled[..., ~hole], image[..., ~hole])
    assert not torch.equal(filled[..., hole], image[..., hole])
    assert _recorded_centre_psnr(INPAINTER) > 16.63  # the card's number beats biharmonic's (results/README.md)


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").exists(), reason="needs ../shared/data CIFAR-10")
def test_published_inpainter_reproduces_its_recorded_centre_psnr(tmp_path: Path) -> None:
    """The fp16 file on the same 1,000 test images and holes as its training checkpoint: within 0.05 dB."""
    rows = INPAINTING(INPAINTER, dataset="cifar10", data_root=str(SHARED_DATA), mask="center",
                          classical=False, results_dir=str(tmp_path), progress=False)
    (row,) = rows  # no classical inpainters, and NN-inpainting is one of them
    assert row["psnr_db"] == pytest.approx(_recorded_centre_psnr(INPAINTER), abs=0.05)
