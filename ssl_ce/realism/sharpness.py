"""Weight-free sharpness of a fill against the truth, on the hole pixels only: 1.0 is as sharp as the real
photo; a blur is far below 1, added texture or a checkerboard above it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage


def _grey(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64).mean(axis=-1) / 255


def high_frequency_energy(image: np.ndarray, hole: np.ndarray) -> float:
    """Mean squared Laplacian response over the hole: the energy of the finest detail."""
    return float((ndimage.laplace(_grey(image)) ** 2)[hole].mean())


def gradient_magnitude(image: np.ndarray, hole: np.ndarray) -> float:
    """Mean Sobel gradient magnitude over the hole: how strong its edges are."""
    grey = _grey(image)
    return float(np.hypot(ndimage.sobel(grey, 0), ndimage.sobel(grey, 1))[hole].mean())


def sharpness_ratios(originals: list[np.ndarray], filled: list[np.ndarray], holes: list[np.ndarray]
                     ) -> tuple[float, float]:
    """(high-frequency energy ratio, gradient magnitude ratio), fills over truths, each summed over images
    first so that flat photos do not dominate with ratios of tiny numbers."""
    triples = list(zip(originals, filled, holes, strict=True))
    hf = sum(high_frequency_energy(f, h) for _, f, h in triples) / sum(high_frequency_energy(o, h)
                                                                        for o, _, h in triples)
    grad = sum(gradient_magnitude(f, h) for _, f, h in triples) / sum(gradient_magnitude(o, h) for o, _, h in triples)
    return float(hf), float(grad)
