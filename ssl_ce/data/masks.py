"""Hole masks: which pixels are dropped from the input, and how the reconstruction loss weights them.

Every mask function returns a `MaskBatch` for a batch of square images. Masks are drawn from an explicit
random generator (`rng`), so a run (and a resumed run) sees exactly the same holes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from ssl_ce.config import MaskConfig
from ssl_ce.registries import MASKS


@dataclass(frozen=True)
class Region:
    """The square the network predicts: the centre patch for `center`, the whole image otherwise."""

    top: int
    size: int

    def crop(self, x: torch.Tensor) -> torch.Tensor:
        return x[..., self.top : self.top + self.size, self.top : self.top + self.size]

    def paste(self, image: torch.Tensor, patch: torch.Tensor) -> torch.Tensor:
        out = image.clone()
        out[..., self.top : self.top + self.size, self.top : self.top + self.size] = patch
        return out


@dataclass(frozen=True)
class MaskBatch:
    hole: torch.Tensor  # (B, 1, H, W), 1 where the input pixel is dropped
    weight: torch.Tensor  # (B, 1, S, S) over the predicted region: reconstruction-loss weight, 0 = no loss
    region: Region

    def apply(self, images: torch.Tensor, fill: float = 0.0) -> torch.Tensor:
        """Drops the hole pixels, filling them with the dataset mean (0 after scaling to [-1, 1])."""
        hole = self.hole.to(images.dtype)
        return images * (1 - hole) + fill * hole

    def to(self, device: torch.device | str) -> MaskBatch:
        return MaskBatch(self.hole.to(device, non_blocking=True), self.weight.to(device, non_blocking=True),
                         self.region)


MaskFn = Callable[[int, int, MaskConfig, torch.Generator], MaskBatch]


def whole_image(size: int) -> Region:
    return Region(0, size)


def centre_square(size: int) -> Region:
    """The central half-size square (64x64 of 128x128)."""
    side = size // 2
    return Region((size - side) // 2, side)


@dataclass(frozen=True)
class MaskSpec:
    """A registered hole type: `make(batch, size, cfg, rng)` draws the holes; `region(size)` is the square a
    hole-filling net predicts for them; `fixed` says every image gets the same hole (NN-inpainting needs it)."""

    make: MaskFn
    region: Callable[[int], Region] = whole_image
    fixed: bool = False


def mask(name: str, region: Callable[[int], Region] = whole_image, fixed: bool = False
         ) -> Callable[[MaskFn], MaskFn]:
    """Registers a mask function under `name` (the function itself is returned unchanged)."""

    def register(make: MaskFn) -> MaskFn:
        MASKS.register(name)(MaskSpec(make, region, fixed))
        return make

    return register


def prediction_region(mask_type: str, size: int) -> Region:
    """What a hole-filling net predicts for holes of `mask_type`."""
    return MASKS.get(mask_type).region(size)


def ring_width(cfg: MaskConfig, size: int) -> int:
    """`cfg.overlap` is given at 128x128 (the paper's 4 px); scaled to the image size, at least 1 when > 0."""
    if cfg.overlap == 0:
        return 0
    return max(1, round(cfg.overlap * size / 128))


@mask("center", region=centre_square, fixed=True)
def center_mask(batch: int, size: int, cfg: MaskConfig, rng: torch.Generator) -> MaskBatch:
    """The paper's central square: the centre patch minus a visible ring is dropped; the net predicts the
    whole patch and the ring's pixels weigh `overlap_weight` times more in the loss."""
    region = centre_square(size)
    ring = ring_width(cfg, size)
    hole = torch.zeros(batch, 1, size, size)
    lo, hi = region.top + ring, region.top + region.size - ring
    hole[..., lo:hi, lo:hi] = 1
    weight = torch.full((batch, 1, region.size, region.size), cfg.overlap_weight)
    weight[..., ring : region.size - ring, ring : region.size - ring] = 1.0
    return MaskBatch(hole, weight, region)


@mask("random-block")
def random_block_mask(batch: int, size: int, cfg: MaskConfig, rng: torch.Generator) -> MaskBatch:
    """1..max_blocks random rectangles (sides 1/8..1/2 of the image) covering at most `max_coverage`."""
    hole = torch.zeros(batch, 1, size, size)
    lo_side, hi_side = max(1, size // 8), max(2, size // 2)
    for i in range(batch):
        n_blocks = int(torch.randint(1, cfg.max_blocks + 1, (1,), generator=rng))
        for _ in range(n_blocks):
            h, w = (int(v) for v in torch.randint(lo_side, hi_side + 1, (2,), generator=rng))
            top = int(torch.randint(0, size - h + 1, (1,), generator=rng))
            left = int(torch.randint(0, size - w + 1, (1,), generator=rng))
            candidate = hole[i].clone()
            candidate[:, top : top + h, left : left + w] = 1
            if candidate.mean() > cfg.max_coverage:
                if hole[i].sum() == 0:  # the first block alone is too big: shrink it to fit
                    side = max(1, int((cfg.max_coverage * size * size) ** 0.5))
                    hole[i, :, top : top + side, left : left + side] = 1
                break
            hole[i] = candidate
    return MaskBatch(hole, hole.clone(), whole_image(size))


@mask("random-region")
def random_region_mask(batch: int, size: int, cfg: MaskConfig, rng: torch.Generator) -> MaskBatch:
    """Arbitrary shapes, as the paper's code: bicubic-upsampled uniform noise thresholded at the target
    density, keeping only masks whose coverage lies in `region_coverage` (a fresh shape per image)."""
    lo, hi = cfg.region_coverage
    density = (lo + hi) / 2
    cells = max(2.0, cfg.region_scale * 128)  # noise cells across the image, as at the paper's 128x128
    grid = int(cells) + 2
    upsampled = round(grid * size / cells)
    accepted: list[torch.Tensor] = []
    while len(accepted) < batch:
        noise = torch.rand(4 * batch, 1, grid, grid, generator=rng)
        field = F.interpolate(noise, size=(upsampled, upsampled), mode="bicubic", align_corners=False)
        top, left = (int(v) for v in torch.randint(0, upsampled - size + 1, (2,), generator=rng))
        masks = (field[..., top : top + size, left : left + size] < density).float()
        coverage = masks.mean(dim=(1, 2, 3))
        accepted.extend(masks[(coverage > lo) & (coverage < hi)])
    hole = torch.stack(accepted[:batch])
    return MaskBatch(hole, hole.clone(), whole_image(size))


def make_masks(cfg: MaskConfig, batch: int, size: int, rng: torch.Generator) -> MaskBatch:
    return MASKS.get(cfg.type).make(batch, size, cfg, rng)


def make_holes(mask: MaskConfig, model_size: int, shapes: list[tuple[int, int]], seed: int
               ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Holes drawn at the model's input size from a fixed seed, and the same holes at each image's size."""
    small = make_masks(mask, len(shapes), model_size, torch.Generator().manual_seed(seed)).hole[:, 0]
    full = [hole_at_image_size(h, shape) for h, shape in zip(small, shapes, strict=True)]
    return [h.bool().numpy() for h in small], full


def hole_at_image_size(small: torch.Tensor, shape: tuple[int, int]) -> np.ndarray:
    """A hole drawn at the model's size (S, S) stretched to an image's (H, W) (nearest: still a hard mask)."""
    return F.interpolate(small[None, None].float(), size=shape, mode="nearest")[0, 0].bool().numpy()


def hole_at_size(hole: np.ndarray, size: int) -> np.ndarray:
    """A full-size hole (H, W) at a model's square input size: a pixel is missing there when any of the pixels
    it covers is, so the model never sees a pixel of the hole."""
    resized = F.interpolate(torch.from_numpy(hole.astype(np.float32))[None, None], size=(size, size), mode="area")
    return resized[0, 0].numpy() > 0
