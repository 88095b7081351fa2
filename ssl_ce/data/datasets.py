"""The dataset interface shared by every source: uint8 RGB images of one square size, integer labels."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ssl_ce.config import DataConfig
from ssl_ce.data.images import load_image
from ssl_ce.data.splits import check_split
from ssl_ce.registries import DATASETS


class ImageDataset(torch.utils.data.Dataset):
    """Base: `batch(indices)` returns a whole batch `(uint8 (B,3,S,S), int64 (B,))`; DataLoader workers reach
    it as `__getitems__`, torch's name for the same thing.

    Labels are -1 where a source has none (a folder without class sub-folders).
    """

    size: int
    labels: torch.Tensor
    class_names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        images, labels = self.batch([index])
        return images[0], labels[0]

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        return self.batch(indices)

    @property
    def device(self) -> torch.device:
        """Where `batch` returns its tensors: the host, unless the images were moved (`on_device`)."""
        return self.labels.device

    def nbytes(self) -> int | None:
        """Bytes the images take in memory, None when they are decoded on demand (they cannot move)."""
        return None

    def on_device(self, device: torch.device) -> ImageDataset:
        """The same images held on `device` (only datasets that keep their images in memory can)."""
        raise NotImplementedError(f"{type(self).__name__} decodes images on demand; it cannot live on {device}")


class TensorImages(ImageDataset):
    """Images decoded once and held in memory (CIFAR-10, the built-in photos); resized per batch."""

    def __init__(self, images: torch.Tensor, labels: torch.Tensor, class_names: list[str], size: int) -> None:
        assert images.dtype == torch.uint8 and images.ndim == 4 and images.shape[1] == 3
        self.images, self.labels, self.class_names, self.size = images, labels.long(), class_names, size

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        index = torch.as_tensor(indices, dtype=torch.long, device=self.images.device)
        return resize_batch(self.images[index], self.size), self.labels[index]

    def nbytes(self) -> int:
        return self.images.numel() * self.images.element_size()

    def on_device(self, device: torch.device) -> TensorImages:
        return TensorImages(self.images.to(device), self.labels.to(device), self.class_names, self.size)


class FileImages(ImageDataset):
    """Image files decoded on demand (in DataLoader workers), each fitted to the model's input."""

    def __init__(self, paths: list[Path], labels: torch.Tensor, class_names: list[str], size: int) -> None:
        self.paths, self.labels, self.class_names, self.size = paths, labels.long(), class_names, size

    def batch(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        images = torch.stack([load_image(self.paths[i], self.size) for i in indices])
        return images, self.labels[torch.as_tensor(indices, dtype=torch.long)]


def all_images(dataset: ImageDataset, indices: np.ndarray | None = None) -> torch.Tensor:
    """uint8 images of `dataset` (or of `indices`), gathered in batches of 1024."""
    idx = np.arange(len(dataset)) if indices is None else indices
    return torch.cat([dataset.batch(idx[s : s + 1024].tolist())[0] for s in range(0, len(idx), 1024)])


def resize_batch(images: torch.Tensor, size: int) -> torch.Tensor:
    """uint8 (B,3,h,w) -> uint8 (B,3,size,size); antialiased when shrinking. Non-square inputs are stretched."""
    if images.shape[-2:] == (size, size):
        return images
    shrinking = images.shape[-1] > size
    out = F.interpolate(images.float(), size=(size, size), mode="bilinear", align_corners=False,
                        antialias=shrinking)
    return out.round_().clamp_(0, 255).to(torch.uint8)


@dataclass(frozen=True)
class DataSource:
    """A registered source: how to build a split, and which `data.*` keys it reads (config validation refuses
    the others' keys set for it, so no option is silently ignored) or needs."""

    build: Callable[[DataConfig, str, int], ImageDataset]
    options: frozenset[str] = field(default_factory=frozenset)
    required: frozenset[str] = field(default_factory=frozenset)


def data_source(name: str, options: Sequence[str] = (), required: Sequence[str] = ()
                ) -> Callable[[Callable[[DataConfig, str, int], ImageDataset]], DataSource]:
    """Registers a split builder `fn(cfg, split, size)` as the data source `name`."""

    def register(build: Callable[[DataConfig, str, int], ImageDataset]) -> DataSource:
        return DATASETS.register(name)(DataSource(build, frozenset(options), frozenset(required)))

    return register


def build_dataset(cfg: DataConfig, split: str, size: int) -> ImageDataset:
    """The `split` ("train", "val" or "test", disjoint: ssl_ce.data.splits) of `cfg.source`, at `size` x `size`."""
    check_split(split)
    return DATASETS.get(cfg.source).build(cfg, split, size)
