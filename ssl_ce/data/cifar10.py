"""CIFAR-10 from the python-version pickles, validated by content rather than by md5.

torchvision's loader refuses copies whose md5 differs from the official tarball (such as the rebuilt copy
in ../shared/data), so the pickles are read here; torchvision is used only to download when asked.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import torch

from ssl_ce.config import DataConfig
from ssl_ce.data.datasets import TensorImages, data_source
from ssl_ce.data.splits import carve_val
from ssl_ce.errors import SslCeError

FOLDER = "cifar-10-batches-py"
TRAIN_FILES = [f"data_batch_{i}" for i in range(1, 6)]
TEST_FILES = ["test_batch"]


def find_cifar10(root: str | Path | None) -> Path:
    """The cifar-10-batches-py folder under (or at) `root`."""
    if root is None:
        raise SslCeError("cifar10 needs --data-root DIR (the folder holding cifar-10-batches-py); "
                         "add --download to fetch it")
    root = Path(root)
    for candidate in (root / FOLDER, root):
        if (candidate / "batches.meta").is_file():
            return candidate
    raise SslCeError(f"CIFAR-10 not found under {root}: expected {root / FOLDER}/data_batch_1..5, test_batch "
                     "and batches.meta; point --data-root at the folder holding it, or add --download")


def _read_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    if not path.is_file():
        raise SslCeError(f"CIFAR-10 file missing: {path}; re-download it with --download")
    try:
        with path.open("rb") as f:
            entry = pickle.load(f, encoding="bytes")
        data = np.asarray(entry[b"data"], dtype=np.uint8)
        labels = np.asarray(entry[b"labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise SslCeError(f"CIFAR-10 file {path} is corrupt ({exc}); re-download it with --download") from None
    if data.ndim != 2 or data.shape[1] != 3072 or len(labels) != len(data) or labels.min() < 0 or labels.max() > 9:
        raise SslCeError(f"CIFAR-10 file {path} has unexpected content (data {data.shape}, labels 0..9 expected)")
    return data.reshape(-1, 3, 32, 32), labels


def read_cifar10(folder: Path, split: str) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    parts = [_read_batch(folder / name) for name in (TRAIN_FILES if split == "train" else TEST_FILES)]
    with (folder / "batches.meta").open("rb") as f:
        names = [n.decode() for n in pickle.load(f, encoding="bytes")[b"label_names"]]
    images = torch.from_numpy(np.concatenate([p[0] for p in parts]))
    labels = torch.from_numpy(np.concatenate([p[1] for p in parts]))
    return images, labels, names


def download_cifar10(root: str | Path) -> None:
    """Fetches the official archive with torchvision (needs a network)."""
    from torchvision.datasets import CIFAR10

    try:
        CIFAR10(str(root), train=True, download=True)
    except Exception as exc:  # noqa: BLE001 (network errors come in many types)
        raise SslCeError(f"CIFAR-10 download to {root} failed: {exc}") from None


@data_source("cifar10", options=("root", "download"))
def cifar10(cfg: DataConfig, split: str, size: int) -> TensorImages:
    if cfg.download and cfg.root is not None:
        try:
            find_cifar10(cfg.root)
        except SslCeError:
            download_cifar10(cfg.root)
    images, labels, names = read_cifar10(find_cifar10(cfg.root), "test" if split == "test" else "train")
    if split != "test":  # val: a stratified 5,000 of the 50,000 training images; train: the other 45,000
        keep = carve_val(labels, split)
        images, labels = images[keep], labels[keep]
    return TensorImages(images, labels, names, size)
