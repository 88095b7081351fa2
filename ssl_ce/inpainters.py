"""Classical inpainters, the baselines a context encoder must beat. Each takes an (H, W, 3) uint8 image
(RGB, or float in [0, 1]) and an (H, W) bool hole and returns the filled image as uint8."""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from skimage.restoration import inpaint_biharmonic

Inpainter = Callable[[np.ndarray, np.ndarray], np.ndarray]


def as_uint8(image: np.ndarray) -> np.ndarray:
    """uint8 images pass through; float images in [0, 1] are scaled."""
    if image.dtype == np.uint8:
        return image
    return np.clip(np.round(image.astype(np.float64) * 255), 0, 255).astype(np.uint8)


def mean_fill(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """Every hole pixel takes the mean colour of the visible context."""
    out = as_uint8(image).copy()
    out[hole] = np.round(out[~hole].reshape(-1, 3).mean(axis=0)).astype(np.uint8) if (~hole).any() else 128
    return out


def _opencv(flag: int) -> Inpainter:
    def inpaint(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
        return cv2.inpaint(as_uint8(image), hole.astype(np.uint8), 3, flag)

    return inpaint


def biharmonic(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    return as_uint8(inpaint_biharmonic(as_uint8(image) / 255.0, hole, channel_axis=-1))


CLASSICAL: dict[str, Inpainter] = {
    "mean colour": mean_fill,
    "opencv telea": _opencv(cv2.INPAINT_TELEA),
    "opencv navier-stokes": _opencv(cv2.INPAINT_NS),
    "biharmonic (scikit-image)": biharmonic,
}
