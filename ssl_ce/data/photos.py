"""The built-in offline dataset: crops of the real photographs that scikit-image ships.

Label = which photograph a crop comes from. The split is spatial: each photograph's last quarter along its
longer axis is the test region, and no training crop overlaps it, so test crops are never seen in training.
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from ssl_ce.config import DataConfig
from ssl_ce.data.datasets import TensorImages, data_source
from ssl_ce.data.images import fit_square, to_rgb, to_tensor

PHOTOS = ["astronaut", "camera", "chelsea", "coffee", "hubble_deep_field", "immunohistochemistry", "moon",
          "stereo_motorcycle", "retina", "rocket"]
TEST_FRACTION = 0.25
SPLIT_SEED = {"train": 0, "test": 1}


def load_photo(name: str) -> np.ndarray:
    """One photograph as an (H, W, 3) uint8 array (grayscale ones replicated to RGB)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle returns (left, right, disparity)
        image = image[0]
    return np.asarray(to_rgb(Image.fromarray(image)))


def split_region(shape: tuple[int, ...], split: str) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a photograph's train or test region."""
    h, w = shape[:2]
    if w >= h:
        cut = round(w * (1 - TEST_FRACTION))
        return (0, 0, h, cut) if split == "train" else (0, cut, h, w - cut)
    cut = round(h * (1 - TEST_FRACTION))
    return (0, 0, cut, w) if split == "train" else (cut, 0, h - cut, w)


def crops_of(photo: np.ndarray, split: str, count: int, size: int, rng: np.random.Generator) -> torch.Tensor:
    """`count` random square crops inside the split's region; sides span half to all of the test strip's
    short side in both splits, so train and test see the same scales."""
    top, left, height, width = split_region(photo.shape, split)
    max_side = min(split_region(photo.shape, "test")[2:])
    crops = []
    for _ in range(count):
        side = int(rng.integers(max_side // 2, max_side + 1))
        y = top + int(rng.integers(0, height - side + 1))
        x = left + int(rng.integers(0, width - side + 1))
        crops.append(to_tensor(fit_square(Image.fromarray(photo[y : y + side, x : x + side]), size)))
    return torch.stack(crops)


@data_source("photos", options=("crops_per_photo",))
def photos(cfg: DataConfig, split: str, size: int) -> TensorImages:
    count = cfg.crops_per_photo if split == "train" else max(1, cfg.crops_per_photo // 4)
    rng = np.random.default_rng(SPLIT_SEED[split])
    images, labels = [], []
    for label, name in enumerate(PHOTOS):
        images.append(crops_of(load_photo(name), split, count, size, rng))
        labels += [label] * count
    return TensorImages(torch.cat(images), torch.tensor(labels), list(PHOTOS), size)
