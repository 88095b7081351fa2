"""Hole-filling quality as the paper's Table 1 computes it: over the hole pixels only, images in [0, 1],
per image then averaged. PSNR of a perfect fill is infinite; it is capped at PSNR_CAP_DB."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from skimage.metrics import structural_similarity

PSNR_CAP_DB = 100.0


@dataclass(frozen=True)
class HoleScores:
    l1_pct: float
    l2_pct: float
    psnr_db: float
    ssim: float


def hole_scores(original: np.ndarray, filled: np.ndarray, hole: np.ndarray) -> tuple[float, float, float, float]:
    """(mean L1, mean L2, PSNR dB, SSIM) of one (H, W, 3) uint8 image pair over the (H, W) bool hole."""
    a = original.astype(np.float64) / 255
    b = filled.astype(np.float64) / 255
    diff = (a - b)[hole]
    l1, l2 = float(np.abs(diff).mean()), float((diff**2).mean())
    psnr = PSNR_CAP_DB if l2 == 0 else min(PSNR_CAP_DB, 10 * np.log10(1 / l2))
    win = min(7, *[s - (1 - s % 2) for s in a.shape[:2]])  # odd, no larger than the image
    _, ssim_map = structural_similarity(a, b, data_range=1.0, channel_axis=-1, full=True, win_size=max(3, win))
    return l1, l2, psnr, float(ssim_map[hole].mean())


def mean_scores(originals: list[np.ndarray], filled: list[np.ndarray], holes: list[np.ndarray]) -> HoleScores:
    per_image = np.array([hole_scores(o, f, h) for o, f, h in zip(originals, filled, holes, strict=True)])
    l1, l2, psnr, ssim = per_image.mean(axis=0)
    return HoleScores(100 * l1, 100 * l2, psnr, ssim)
