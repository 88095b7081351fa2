"""Rotation prediction as a method like the others, and the online k-NN monitor of the encoder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from ssl_ce.errors import SslCeError
from ssl_ce.methods.rotation import rotate
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import loop, train

from .conftest import tiny_config


def test_rotate_turns_each_image_by_its_own_quarter_turns() -> None:
    images = torch.arange(2 * 3 * 4 * 4, dtype=torch.float32).reshape(2, 3, 4, 4)
    turned = rotate(images, torch.tensor([0, 3]))
    assert torch.equal(turned[0], images[0]) and torch.equal(turned[1], torch.rot90(images[1], 3, dims=(-2, -1)))


def test_rotation_trains_a_four_way_head_and_is_no_inpainter(tmp_path: Path) -> None:
    result = train(tiny_config(method={"name": "rotation"}, train={"max_steps": 4}), tmp_path / "run",
                   progress=False)
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    assert {"ce", "rot_acc"} <= set(metrics.columns) and metrics["rot_acc"].between(0, 1).all()
    assert metrics["ce"].iloc[0] == pytest.approx(np.log(4), abs=0.7)  # starts near chance over 4 rotations
    assert not (tmp_path / "run" / "val_curve.csv").exists()  # no fill, so no val PSNR over epochs
    with pytest.raises(SslCeError, match="not an inpainter"):
        ModelInpainter(result.checkpoint, torch.device("cpu"))


def _colour_folder(root: Path) -> Path:
    """Reddish and bluish noisy images: any encoder's features separate them."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 24), ("val", 8), ("test", 8)):
        for cls, channel in (("red", 0), ("blue", 2)):
            (root / split / cls).mkdir(parents=True)
            for i in range(count):
                array = rng.integers(0, 120, (32, 32, 3), dtype=np.uint8)
                array[..., channel] += 120
                Image.fromarray(array).save(root / split / cls / f"{i}.png")
    return root


def test_the_knn_monitor_scores_val_every_n_steps_and_never_reads_test(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    splits = []
    real = loop.build_dataset
    monkeypatch.setattr(loop, "build_dataset", lambda cfg, split, size: splits.append(split) or
                        real(cfg, split, size))
    data = _colour_folder(tmp_path / "colours")
    cfg = tiny_config(data={"source": "folder", "root": str(data)},
                      train={"max_steps": 4, "knn_every": 2, "batch_size": 8})
    train(cfg, tmp_path / "run", progress=False)
    assert sorted(splits) == ["train", "val"]  # the run reads train and val only; the monitor reuses them
    metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
    measured = metrics.dropna(subset=["knn_top1"])
    assert measured["step"].tolist() == [2, 4]
    assert (measured["knn_top1"] >= 90).all()  # the two colours are easy for any features
    assert (measured["knn_seconds"] > 0).all()  # each measurement states its cost
    assert metrics.drop(measured.index)["knn_seconds"].isna().all()
    assert (tmp_path / "run" / "loss_curve.png").is_file()


def test_the_knn_monitor_is_off_without_labels(tmp_path: Path, image_folder: Path) -> None:
    flat = tmp_path / "flat"
    flat.mkdir()
    for i, path in enumerate(sorted(image_folder.rglob("*.png"))):
        path.rename(flat / f"{i}.png")
    cfg = tiny_config(data={"source": "folder", "root": str(flat)}, train={"max_steps": 2, "knn_every": 1})
    with pytest.warns(UserWarning, match="no class labels, so a k-NN accuracy would mean nothing; the k-NN monitor"):
        train(cfg, tmp_path / "run", progress=False)
    assert "knn_top1" not in pd.read_csv(tmp_path / "run" / "metrics.csv").columns
