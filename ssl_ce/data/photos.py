"""The built-in offline dataset: crops of the real photographs that scikit-image ships.

Label = which photograph a crop comes from. The split is spatial: along each photograph's longer axis the
first half is the training region, the third quarter the validation region and the last quarter the test
region, and no crop crosses a border, so val and test crops are never seen in training.
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
REGIONS = {"train": (0.0, 0.5), "val": (0.5, 0.75), "test": (0.75, 1.0)}  # fractions of the longer side
SPLIT_SEED = {"train": 0, "val": 2, "test": 1}


def load_photo(name: str) -> np.ndarray:
    """One photograph as an (H, W, 3) uint8 array (grayscale ones replicated to RGB)."""
    import skimage.data

    image = getattr(skimage.data, name)()
    if isinstance(image, tuple):  # stereo_motorcycle returns (left, right, disparity)
        image = image[0]
    return np.asarray(to_rgb(Image.fromarray(image)))


def split_region(shape: tuple[int, ...], split: str) -> tuple[int, int, int, int]:
    """(top, left, height, width) of a photograph's train, val or test region."""
    h, w = shape[:2]
    start, stop = REGIONS[split]
    if w >= h:
        lo, hi = round(w * start), round(w * stop)
        return 0, lo, h, hi - lo
    lo, hi = round(h * start), round(h * stop)
    return lo, 0, hi - lo, w


def crops_of(photo: np.ndarray, split: str, count: int, size: int, rng: np.random.Generator) -> torch.Tensor:
    """`count` random square crops inside the split's region; sides span half to all of the narrower held-out
    strip's short side in every split, so train, val and test see the same scales."""
    top, left, height, width = split_region(photo.shape, split)
    max_side = min(min(split_region(photo.shape, held_out)[2:]) for held_out in ("val", "test"))
    crops = []
    for _ in range(count):
        side = int(rng.integers(max_side // 2, max_side + 1))
        y = top + int(rng.integers(0, height - side + 1))
        x = left + int(rng.integers(0, width - side + 1))
        crops.append(to_tensor(fit_square(Image.fromarray(photo[y : y + side, x : x + side]), size)))
    return torch.stack(crops)


@data_source("photos", options=("crops_per_photo",))
def photos(cfg: DataConfig, split: str, size: int) -> TensorImages:
    """`data.crops_per_photo` training crops per photograph, a quarter as many for val and for test."""
    count = cfg.crops_per_photo if split == "train" else max(1, cfg.crops_per_photo // 4)
    rng = np.random.default_rng(SPLIT_SEED[split])
    images, labels = [], []
    for label, name in enumerate(PHOTOS):
        images.append(crops_of(load_photo(name), split, count, size, rng))
        labels += [label] * count
    return TensorImages(torch.cat(images), torch.tensor(labels), list(PHOTOS), size)
