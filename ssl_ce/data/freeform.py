"""Free-form holes: the holes people draw, for models that must take any mask.

Each image gets one kind, drawn uniformly: brush strokes (thin, medium or thick polylines with round joints, as
LaMa and DeepFill v2 train on), boxes, or the paper's random regions (thresholded smooth noise), grown until
the hole covers a share of the image drawn uniformly from `mask.freeform_coverage` (5-50 % by default). Every
random number comes from the mask generator, so a run and its resume draw the same holes.
"""

from __future__ import annotations

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from ssl_ce.config import MaskConfig
from ssl_ce.data.masks import MaskBatch, mask, whole_image

KINDS = ("strokes", "boxes", "region")
STROKE_WIDTHS = {"thin": (0.02, 0.05), "medium": (0.05, 0.1), "thick": (0.1, 0.18)}  # of the image side
MAX_SHAPES = 64  # a hole is finished after this many strokes or boxes, even below its target


def _uniform(rng: torch.Generator, lo: float = 0.0, hi: float = 1.0) -> float:
    return lo + (hi - lo) * float(torch.rand((), generator=rng))


def _randint(rng: torch.Generator, lo: int, hi: int) -> int:
    """An integer in [lo, hi]."""
    return int(torch.randint(lo, hi + 1, (), generator=rng))


def draw_stroke(canvas: np.ndarray, rng: torch.Generator) -> None:
    """One brush stroke: a random walk of 2-8 segments at one width."""
    size = canvas.shape[0]
    lo, hi = STROKE_WIDTHS[list(STROKE_WIDTHS)[_randint(rng, 0, len(STROKE_WIDTHS) - 1)]]
    width = max(1, round(_uniform(rng, lo, hi) * size))
    y, x = _uniform(rng, 0, size), _uniform(rng, 0, size)
    angle = _uniform(rng, 0, 2 * np.pi)
    for _ in range(_randint(rng, 2, 8)):
        angle += _uniform(rng, -np.pi / 2, np.pi / 2)
        length = _uniform(rng, 0.1, 0.35) * size
        ny, nx = np.clip(y + length * np.sin(angle), 0, size - 1), np.clip(x + length * np.cos(angle), 0, size - 1)
        cv2.line(canvas, (round(x), round(y)), (round(nx), round(ny)), 1, width)
        cv2.circle(canvas, (round(nx), round(ny)), width // 2, 1, -1)
        y, x = ny, nx


def _box(canvas: np.ndarray, rng: torch.Generator) -> None:
    """One rectangle, sides 1/10 to 1/2 of the image."""
    size = canvas.shape[0]
    h, w = (max(1, round(_uniform(rng, 0.1, 0.5) * size)) for _ in range(2))
    top, left = _randint(rng, 0, size - h), _randint(rng, 0, size - w)
    canvas[top : top + h, left : left + w] = 1


def region_hole(size: int, coverage: float, cfg: MaskConfig, rng: torch.Generator) -> np.ndarray:
    """The paper's random region (bicubic-upsampled noise), thresholded to cover `coverage` of the image."""
    cells = max(2.0, cfg.region_scale * 128)
    grid = int(cells) + 2
    upsampled = round(grid * size / cells)
    noise = torch.rand(1, 1, grid, grid, generator=rng)
    field = F.interpolate(noise, size=(upsampled, upsampled), mode="bicubic", align_corners=False)[0, 0]
    top, left = _randint(rng, 0, upsampled - size), _randint(rng, 0, upsampled - size)
    field = field[top : top + size, left : left + size]
    return (field <= torch.quantile(field.flatten(), coverage)).numpy().astype(np.uint8)


def freeform_hole(size: int, cfg: MaskConfig, rng: torch.Generator) -> tuple[np.ndarray, str]:
    """One (size, size) uint8 hole and its kind."""
    lo, hi = cfg.freeform_coverage
    target = _uniform(rng, lo, hi)
    kind = KINDS[_randint(rng, 0, len(KINDS) - 1)]
    if kind == "region":
        return region_hole(size, target, cfg, rng), kind
    canvas = np.zeros((size, size), dtype=np.uint8)
    draw = draw_stroke if kind == "strokes" else _box
    for _ in range(MAX_SHAPES):
        before = canvas.copy()
        draw(canvas, rng)
        if canvas.mean() > hi:  # the last shape overshot the range: keep the hole without it, or draw again
            canvas = before
            if canvas.any():
                break
        elif canvas.mean() >= target:
            break
    return canvas, kind


@mask("freeform")
def freeform_mask(batch: int, size: int, cfg: MaskConfig, rng: torch.Generator) -> MaskBatch:
    """Strokes, boxes or random regions, a fresh kind and coverage per image; the net predicts the whole image
    and the loss counts the hole pixels."""
    hole = torch.from_numpy(np.stack([freeform_hole(size, cfg, rng)[0] for _ in range(batch)])).float()[:, None]
    return MaskBatch(hole, hole.clone(), whole_image(size))
