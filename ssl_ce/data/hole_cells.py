"""Holes for the robustness table (issue 41): one hole per photo for each cell of size x shape x place, so a
model's score can be read as its hole grows, changes shape or moves to the border.

- size: the hole's share of the photo's area (`SIZES`, 2 % to 50 %);
- shape: `square` (the centre protocol's), `box` (a 2:1 rectangle), `strokes` (brush strokes) or `region`
  (the paper's random region), the last two drawn by ssl_ce.data.freeform inside a square patch of twice the
  hole's area, so they keep their spread-out look;
- place: the shape's patch centred in the photo, against the middle of its left edge, or in its top-left corner.

Every hole is drawn from (photo index, cell) alone, so every inpainter and every run sees the same holes.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import cv2
import numpy as np
import torch

from ssl_ce.config import MaskConfig
from ssl_ce.data.freeform import draw_stroke, region_hole

SIZES = (0.02, 0.05, 0.10, 0.20, 0.35, 0.50)
SHAPES = ("square", "box", "strokes", "region")
PLACES = ("centre", "edge", "corner")


@dataclass(frozen=True)
class Cell:
    size: float
    shape: str
    place: str

    def seed(self, index: int) -> int:
        key = f"{self.size}:{self.shape}:{self.place}:{index}".encode()
        return int.from_bytes(hashlib.sha1(key).digest()[:4], "little")


def all_cells() -> list[Cell]:
    return [Cell(size, shape, place) for shape in SHAPES for place in PLACES for size in SIZES]


def _patch(side: int, height: int, cell: Cell, area: float, rng: torch.Generator) -> np.ndarray:
    """The hole inside its (height, side) patch, covering about `area` pixels."""
    if cell.shape in ("square", "box"):
        return np.ones((height, side), dtype=np.uint8)
    if cell.shape == "region":
        return region_hole(side, min(0.95, area / side**2), MaskConfig(), rng)[:height]
    canvas = np.zeros((side, side), dtype=np.uint8)
    while canvas.sum() < area:
        draw_stroke(canvas, rng)
    return canvas


def cell_hole(shape: tuple[int, int], cell: Cell, index: int) -> np.ndarray:
    """The (H, W) bool hole of photo `index` in `cell`."""
    h, w = shape
    area = cell.size * h * w
    rng = torch.Generator().manual_seed(cell.seed(index))
    if cell.shape == "square":
        side = height = min(h, w, round(math.sqrt(area)))
    elif cell.shape == "box":
        side = min(w, round(math.sqrt(2 * area)))
        height = min(h, round(area / side))
    else:
        side = height = min(h, w, round(math.sqrt(2 * area)))
    patch = _patch(side, height, cell, area, rng)
    patch = cv2.resize(patch, (side, height), interpolation=cv2.INTER_NEAREST) if patch.shape != (height, side) \
        else patch
    top = {"centre": (h - height) // 2, "edge": (h - height) // 2, "corner": 0}[cell.place]
    left = {"centre": (w - side) // 2, "edge": 0, "corner": 0}[cell.place]
    hole = np.zeros((h, w), dtype=bool)
    hole[top : top + height, left : left + side] = patch > 0
    return hole
