"""KID (Binkowski et al. 2018) and FID between two feature sets, in plain numpy.

KID is the unbiased squared MMD with the polynomial kernel k(x, y) = (x.y / d + 1)^3, here over all images
(so it depends on the sets, not their order); its spread over random half-size subsets, as torch-fidelity and
the paper compute KID, is reported beside it, and paired subsets give a comparison's interval. FID fits one
Gaussian per set, which needs many more images than features: below `FID_MIN_PER_FEATURE` images per feature
it is not computed (its covariance would be mostly noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import linalg

KID_SUBSETS = 100
KID_SUBSET_SIZE = 1000  # at most; smaller sets draw half their images per subset
FID_MIN_PER_FEATURE = 2.0


@dataclass(frozen=True)
class Kid:
    mean: float  # over all images
    std: float  # over the subsets
    per_subset: np.ndarray  # the subset estimates, for paired comparisons


def _kernel(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    return (x @ y.T / x.shape[1] + 1) ** 3


def _mmd2_unbiased(k_xx: np.ndarray, k_yy: np.ndarray, k_xy: np.ndarray) -> float:
    m, n = len(k_xx), len(k_yy)
    xx = (k_xx.sum() - np.trace(k_xx)) / (m * (m - 1))
    yy = (k_yy.sum() - np.trace(k_yy)) / (n * (n - 1))
    return float(xx + yy - 2 * k_xy.mean())


def subset_draws(n_fake: int, n_real: int, seed: int = 0, subsets: int = KID_SUBSETS,
                 size: int = KID_SUBSET_SIZE) -> list[tuple[np.ndarray, np.ndarray]]:
    """The (fake, real) index subsets KID averages over; the same draws for two inpainters make them paired."""
    rng = np.random.default_rng(seed)
    m = max(2, min(size, n_fake // 2, n_real // 2))  # halves at most, so that both sides vary across subsets
    return [(rng.choice(n_fake, m, replace=False), rng.choice(n_real, m, replace=False)) for _ in range(subsets)]


def kid(fake: np.ndarray, real: np.ndarray, seed: int = 0) -> Kid:
    """KID between (n, d) feature sets, and its subsets' estimates (the same subsets for the same sizes and
    seed, so two fill sets of the same images are compared pair by pair)."""
    if len(fake) < 2 or len(real) < 2:
        raise ValueError("KID needs at least two images on each side")
    fake, real = fake.astype(np.float64), real.astype(np.float64)
    k_ff, k_rr, k_fr = _kernel(fake, fake), _kernel(real, real), _kernel(fake, real)
    values = np.array([_mmd2_unbiased(k_ff[np.ix_(f, f)], k_rr[np.ix_(r, r)], k_fr[np.ix_(f, r)])
                       for f, r in subset_draws(len(fake), len(real), seed)])
    return Kid(_mmd2_unbiased(k_ff, k_rr, k_fr), float(values.std()), values)


def fid(fake: np.ndarray, real: np.ndarray) -> float | None:
    """Frechet distance of the two sets' Gaussians, or None when either set is too small for its covariance."""
    if min(len(fake), len(real)) < FID_MIN_PER_FEATURE * fake.shape[1]:
        return None
    mu_f, mu_r = fake.mean(0), real.mean(0)
    cov_f, cov_r = np.cov(fake, rowvar=False), np.cov(real, rowvar=False)
    root = linalg.sqrtm(cov_f @ cov_r).real
    return float(((mu_f - mu_r) ** 2).sum() + np.trace(cov_f + cov_r - 2 * root))
