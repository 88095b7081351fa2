"""Weight-free sharpness of a fill against the truth, on the hole pixels only: 1.0 is as sharp as the real
photo; a blur is far below 1, added texture or a checkerboard above it. And the periodic-peak ratio, which
tells a decoder's grid apart from texture: both raise the sharpness ratios, only a grid puts sharp peaks in the
spectrum of the fill's error."""

from __future__ import annotations

import numpy as np
from scipy import ndimage

PEAK_BINS = 8  # the strongest spectral bins the peak ratio averages (a grid's peaks come in symmetric pairs)
PEAK_BACKGROUND = 7  # the side, in bins, of the local median the peaks are measured against
PEAK_LONGEST_PERIOD = 20  # px: slower patterns (the holes' own shapes) are left out of the peak ratio


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


def periodic_peak_ratio(originals: list[np.ndarray], filled: list[np.ndarray], holes: list[np.ndarray]) -> float:
    """How far a periodic pattern (a checkerboard, a dot grid) stands out in the fills' errors: the power
    spectrum of (fill - truth) on the hole, summed over the images of the most common size, over its local
    median, at its strongest `PEAK_BINS` bins of periods under `PEAK_LONGEST_PERIOD` px. Smooth or textured
    errors without a period (a blur, a diffusion, an L2 model) stay at a floor of about 2 for 128 images of
    128 px (lower with more images); a grid in the fills rises far above it. 0 where every fill is the truth."""
    shapes = [o.shape[:2] for o in originals]
    common = max(set(shapes), key=shapes.count)  # spectra add up only at one size
    power = sum(np.abs(np.fft.fft2((_grey(f) - _grey(o)) * h)) ** 2
                for o, f, h in zip(originals, filled, holes, strict=True) if o.shape[:2] == common)
    background = ndimage.median_filter(power, size=PEAK_BACKGROUND, mode="wrap")
    ratio = np.divide(power, background, out=np.zeros_like(power), where=background > 0)
    fy, fx = np.meshgrid(np.fft.fftfreq(common[0]), np.fft.fftfreq(common[1]), indexing="ij")
    ratio[np.hypot(fy, fx) < 1 / PEAK_LONGEST_PERIOD] = 0  # cycles per pixel
    return float(np.sort(ratio.ravel())[-PEAK_BINS:].mean())
