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
ROADS_INPAINTER = REPO / "weights" / "inpainter-center-roads-128.safetensors"
ROADS = SHARED_DATA / "roads"
FREEFORM_INPAINTER = REPO / "weights" / "inpainter-freeform-roads-128.safetensors"
ENCODERS = [p for p in WEIGHTS if not p.name.startswith("inpainter-")]  # an inpainter's card is its PSNR


def _metadata(path: Path) -> dict[str, str]:
    with safe_open(str(path), framework="pt") as f:
        return f.metadata()


def _recorded(path: Path) -> list[dict]:
    return json.loads(_metadata(path)["evaluations"])


@pytest.mark.parametrize("path", ENCODERS, ids=[p.stem for p in ENCODERS])
def test_published_weights_load_strictly_and_carry_their_evaluations(path: Path) -> None:
    enc = load_encoder(path)
    assert enc(torch.rand(2, 3, 32, 32)).shape == (2, enc.num_features) == (2, 1024)
    protocols = {(r.get("protocol"), r.get("labels_per_class")) for r in _recorded(path)}
    assert ("linear", "all") in protocols and ("linear", "100") in protocols


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").exists(), reason="needs ../shared/data CIFAR-10")
def test_published_context_encoder_reproduces_its_recorded_low_label_linear_probe(tmp_path: Path) -> None:
    """Linear probe with 100 labels per class (seeded subset of the 45,000 training images), all 5,000
    validation images: the number the card states, within 1 point. The encoder never trained on val."""
    weights = REPO / "weights" / "context-encoder-cifar10-small32.safetensors"
    local = tmp_path / weights.name  # the evaluator caches features beside the file: keep them out of the repo
    shutil.copyfile(weights, local)
    (recorded,) = [r for r in _recorded(weights) if r.get("protocol") == "linear"
                   and r.get("labels_per_class") == "100" and r.get("split") == "val"]
    assert json.loads(_metadata(weights)["training_run"])["train_images"] == 45_000  # val was held out
    (row,) = CLASSIFICATION(local, dataset="cifar10", data_root=str(SHARED_DATA), protocol="linear",
                            labels_per_class=100, progress=False)
    assert row["split"] == "val" and row["top1_pct"] == pytest.approx(float(recorded["top1_pct"]), abs=1.0)
    card = (REPO / "weights" / "README.md").read_text()
    assert f"{float(recorded['top1_pct']):.2f} %" in card  # the card states the number the file reproduces


def _recorded_test_row(path: Path) -> dict:
    """The file's one test row: all 10,000 CIFAR-10 test images with centre holes, scored once after
    benchmarks/inpainter_selection.py chose the model (and whether to mirror-average) on val."""
    (row,) = [r for r in _recorded(path) if "psnr_db" in r and r.get("eval_data") == "cifar10"
              and r.get("eval_mask") == "center" and r.get("split") == "test"]
    assert row["images"] == "10000"
    return row


def _flip_averaged(row: dict) -> bool:
    return "flip average" in row["inpainter"]


def test_published_inpainter_fills_only_the_hole_and_the_cards_state_its_recorded_psnr() -> None:
    inp = load_inpainter(INPAINTER)
    image = torch.rand(1, 3, 32, 32)
    hole = torch.zeros(32, 32, dtype=torch.bool)
    hole[8:24, 8:24] = True
    filled = inp(image, hole)
    assert torch.equal(filled[..., ~hole], image[..., ~hole])
    assert not torch.equal(filled[..., hole], image[..., hole])
    row = _recorded_test_row(INPAINTER)
    assert json.loads(_metadata(INPAINTER)["training_run"])["train_images"] == 45_000  # val was held out
    how = "with `--flip-average`" if _flip_averaged(row) else "in one pass"
    stated = f"{float(row['psnr_db']):.2f} dB PSNR on all 10,000 CIFAR-10 test images ({how})"
    assert stated in " ".join((REPO / "README.md").read_text().split())
    assert stated in " ".join((REPO / "weights" / "README.md").read_text().split())


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").exists(), reason="needs ../shared/data CIFAR-10")
def test_published_inpainter_reproduces_its_recorded_test_psnr(tmp_path: Path) -> None:
    """The fp16 file on the 10,000 test images and holes its fp32 checkpoint was scored on, the way it was chosen
    (one pass or mirror-averaged): within 0.05 dB of the recorded row the cards state."""
    recorded = _recorded_test_row(INPAINTER)
    rows = INPAINTING(INPAINTER, dataset="cifar10", data_root=str(SHARED_DATA), mask="center", split="test",
                      classical=False, flip_average=_flip_averaged(recorded), realism="none",
                      results_dir=str(tmp_path), progress=False)  # PSNR is what it checks; realism has its tests
    (row,) = rows  # no classical inpainters, and NN-inpainting is one of them
    assert row["images"] == 10_000
    assert row["psnr_db"] == pytest.approx(float(recorded["psnr_db"]), abs=0.05)


def _recorded_roads_test_row() -> dict:
    """The road inpainter's one test row: the 1,126 road test photos at 160 px with centre holes, in one pass,
    scored once after benchmarks/roads_inpainter.py chose the model on val."""
    (row,) = [r for r in _recorded(ROADS_INPAINTER) if r.get("split") == "test" and "psnr_db" in r]
    assert (row["images"], row["eval_mask"], row["eval_data"]) == ("1126", "center", "folder:../shared/data/roads")
    assert not _flip_averaged(row)
    return row


def test_published_road_inpainter_fills_only_the_hole_of_any_photo_and_the_cards_state_its_test_psnr() -> None:
    inp = load_inpainter(ROADS_INPAINTER)
    image = torch.rand(1, 3, 90, 150)  # not square, not 128 px
    hole = torch.zeros(90, 150, dtype=torch.bool)
    hole[30:60, 50:100] = True
    filled = inp(image, hole)
    assert filled.shape == image.shape and torch.equal(filled[..., ~hole], image[..., ~hole])
    assert not torch.equal(filled[..., hole], image[..., hole])
    assert ROADS_INPAINTER.stat().st_size <= 50 * 2**20  # the repository's limit per file
    stated = f"{float(_recorded_roads_test_row()['psnr_db']):.2f} dB PSNR on the 1,126 road test photos (in one pass)"
    assert stated in " ".join((REPO / "README.md").read_text().split())
    assert stated in " ".join((REPO / "weights" / "README.md").read_text().split())


@pytest.mark.slow
@pytest.mark.skipif(not (ROADS / "test").exists(), reason="needs ../shared/data/roads")
def test_published_road_inpainter_reproduces_its_recorded_test_psnr(tmp_path: Path) -> None:
    """The fp16 file on the test photos and holes its fp32 weights were scored on: within 0.05 dB."""
    (row,) = INPAINTING(ROADS_INPAINTER, images=str(ROADS), mask="center", split="test", classical=False,
                        realism="none", results_dir=str(tmp_path), progress=False)
    assert row["images"] == 1126
    assert row["psnr_db"] == pytest.approx(float(_recorded_roads_test_row()["psnr_db"]), abs=0.05)


def test_published_free_form_inpainter_fills_a_stroke_without_a_note_and_its_card_states_its_val_choice() -> None:
    inp = load_inpainter(FREEFORM_INPAINTER)
    image = torch.rand(1, 3, 97, 131)  # not square, not 128 px
    hole = torch.zeros(97, 131, dtype=torch.bool)
    hole[20:80, 60:66] = True  # a thin vertical stroke
    hole[50:56, 10:120] = True  # crossed by a horizontal one
    filled = inp(image, hole)
    assert filled.shape == image.shape and torch.equal(filled[..., ~hole], image[..., ~hole])
    assert not torch.equal(filled[..., hole], image[..., hole])
    assert FREEFORM_INPAINTER.stat().st_size <= 50 * 2**20
    val = [r for r in _recorded(FREEFORM_INPAINTER) if r.get("split") == "val"]
    assert val, "the exported file records its val rows"
    stated = f"{float(val[0]['psnr_db']):.2f} dB on the 416 road val photos"
    assert stated in " ".join((REPO / "weights" / "README.md").read_text().split())
