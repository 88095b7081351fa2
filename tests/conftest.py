"""Shared fixtures: tiny configs and tiny image folders, so every test runs on CPU in seconds."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from scipy import ndimage

from ssl_ce.config import Config, config_from_dict
from ssl_ce.evaluators.test_looks import LEDGER_ENV
from ssl_ce.realism.networks import FeatureNet

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def tiny_config(**sections: dict) -> Config:
    """small-32 on 20 photo crops, batch 4: a few steps take well under a second each."""
    raw = {"data": {"source": "photos", "crops_per_photo": 2},
           "model": {"name": "small-32", "bottleneck": 64},
           "train": {"epochs": 2, "batch_size": 4, "precision": "fp32", "grid_images": 2, "checkpoint_every": 3,
                     "knn_every": 0}}
    for name, values in sections.items():
        raw.setdefault(name, {}).update(values)
    if raw["data"]["source"] != "photos":
        del raw["data"]["crops_per_photo"]
    return config_from_dict(raw)


def write_images(root: Path, count: int, size: tuple[int, int] = (40, 30), mode: str = "RGB",
                 suffix: str = ".png", seed: int = 0) -> list[Path]:
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        array = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        path = root / f"img_{i:03d}{suffix}"
        Image.fromarray(array).convert(mode).save(path)
        paths.append(path)
    return paths


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    """Two classes of random images in sub-folders."""
    write_images(tmp_path / "images" / "cats", 12, seed=1)
    write_images(tmp_path / "images" / "dogs", 12, suffix=".jpg", seed=2)
    return tmp_path / "images"


def pytest_configure(config: pytest.Config) -> None:
    """Test-split scorings made by the tests go to a ledger of their own, never to results/test_looks.csv: a
    temporary file unless one was set from outside, and under pytest-xdist one file per worker beside it, so that
    two workers never append to one file at once. Each worker gets its share of the cores for torch, here and in
    the commands it starts: two workers of two threads each on two cores spin against each other and run many
    times slower than one."""
    os.environ.setdefault(LEDGER_ENV, str(Path(tempfile.mkdtemp(prefix="ssl-ce-test-looks-")) / "test_looks.csv"))
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        threads = max(1, (os.cpu_count() or 1) // int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")))
        os.environ["OMP_NUM_THREADS"] = str(threads)
        torch.set_num_threads(threads)
        ledger = Path(os.environ[LEDGER_ENV])  # set from outside, or the controller's temporary file
        os.environ[LEDGER_ENV] = str(ledger.with_name(f"{ledger.stem}-{worker}{ledger.suffix}"))


def colour_net() -> FeatureNet:
    """A cheap stand-in network: colour and detail statistics on a coarse grid (real photos vs fills differ)."""

    def embed_one(image: np.ndarray) -> np.ndarray:
        grey = image.astype(float).mean(-1)
        cells = grey.reshape(8, 28, 8, 28).mean((1, 3)).ravel()
        detail = np.abs(ndimage.laplace(grey)).reshape(8, 28, 8, 28).mean((1, 3)).ravel()
        return np.concatenate([cells / 255, detail / 50])

    return FeatureNet("mnv1", embed_one)
