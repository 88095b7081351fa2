"""Realism columns for the inpainting evaluator: how far filled images lie from real photos of the train split
(never the scored images) in a feature network's space, on the square around the hole and on the whole image,
how sharp the fill is against the truth, and whether its error has a period (a decoder's grid).

The square around a hole is the bounding box of its pixels grown to a square and by the paper's context ring
(64/56: the square a centre model predicts), inside the image where it fits;
the real photos are cropped at the same relative places, scored image i's square going to real photos i, i + n,
..., so both sides see the same mix of places and scales.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ssl_ce.realism.distances import Kid, fid, kid
from ssl_ce.realism.networks import NETWORKS, FeatureNet
from ssl_ce.realism.sharpness import periodic_peak_ratio, sharpness_ratios
from ssl_ce.stats import Margin

REFERENCE_IMAGES = 1000  # real photos of the train split that the fills are compared with
SQUARE_GROWTH = 64 / 56  # the predicted square of the paper's centre hole, over the dropped square
KID_SCALE = 1e3  # KID columns are x10^3, as the papers print them


def realism_columns() -> list[str]:
    """Every realism column of an inpainting row, for every network (those not measured stay empty)."""
    per_net = [f"{kind}_{net}_{part}" for net in NETWORKS
               for kind, part in (("kid", "hole"), ("kid", "hole_std"), ("kid", "hole_margin"), ("kid", "image"),
                                  ("kid", "image_std"), ("fid", "image"))]
    return [*per_net, "hf_ratio", "grad_ratio", "peak_ratio", "realism_note"]


def hole_square(hole: np.ndarray, growth: float = SQUARE_GROWTH) -> tuple[float, float, float]:
    """(top, left, side) of the square `growth` times the hole's extent around all its pixels (the predicted
    square by default), as fractions of the image's height and width."""
    h, w = hole.shape
    rows, cols = np.nonzero(hole)
    side = min(round(growth * (max(rows.max() - rows.min(), cols.max() - cols.min()) + 1)), h, w)
    top = int(np.clip((rows.min() + rows.max() + 1 - side) // 2, 0, h - side))
    left = int(np.clip((cols.min() + cols.max() + 1 - side) // 2, 0, w - side))
    return top / h, left / w, side / min(h, w)


def crop(image: np.ndarray, square: tuple[float, float, float]) -> np.ndarray:
    h, w = image.shape[:2]
    top, left, side = square
    s = max(1, round(side * min(h, w)))
    y, x = min(round(top * h), h - s), min(round(left * w), w - s)
    return image[y : y + s, x : x + s]


@dataclass(frozen=True)
class Reference:
    """Real photos' features, cropped at the scored images' hole squares and whole."""

    net: FeatureNet
    squares: list[tuple[float, float, float]]
    hole: np.ndarray
    image: np.ndarray

    @classmethod
    def of(cls, net: FeatureNet, reals: list[np.ndarray], holes: list[np.ndarray]) -> Reference:
        squares = [hole_square(h) for h in holes]
        crops = [crop(r, squares[i % len(squares)]) for i, r in enumerate(reals)]
        return cls(net, squares, net.embed(crops), net.embed(reals))


@dataclass(frozen=True)
class Realism:
    hole: Kid
    image: Kid
    fid_image: float | None
    hf_ratio: float
    grad_ratio: float
    peak_ratio: float


def measure(reference: Reference, originals: list[np.ndarray], filled: list[np.ndarray], holes: list[np.ndarray],
            seed: int = 0) -> Realism:
    """The realism of one inpainter's fills of `originals` (the same holes as `reference` was cropped for)."""
    hole_features = reference.net.embed([crop(f, s) for f, s in zip(filled, reference.squares, strict=True)])
    image_features = reference.net.embed(filled)
    hf, grad = sharpness_ratios(originals, filled, holes)
    return Realism(kid(hole_features, reference.hole, seed), kid(image_features, reference.image, seed),
                   fid(image_features, reference.image), hf, grad, periodic_peak_ratio(originals, filled, holes))


def kid_margin(worse: Kid, better: Kid, level: float = 0.95) -> Margin:
    """KID(worse) - KID(better) over the same subsets (paired: same images, same real photos), x10^3, with the
    percentile interval of the subset differences: above 0 says `better` lies nearer the real photos."""
    diff = (worse.per_subset - better.per_subset) * KID_SCALE
    tail = 100 * (1 - level) / 2
    return Margin(float(diff.mean()), float(np.percentile(diff, tail)), float(np.percentile(diff, 100 - tail)),
                  level)


def row_values(net: str, realism: Realism, against: Realism | None) -> dict[str, object]:
    """The realism columns of one row; `against` is the first checkpoint's, whose margin each row reports."""
    fid_value = realism.fid_image
    return {f"kid_{net}_hole": round(realism.hole.mean * KID_SCALE, 2),
            f"kid_{net}_hole_std": round(realism.hole.std * KID_SCALE, 2),
            f"kid_{net}_hole_margin": "" if against is None else str(kid_margin(realism.hole, against.hole)),
            f"kid_{net}_image": round(realism.image.mean * KID_SCALE, 2),
            f"kid_{net}_image_std": round(realism.image.std * KID_SCALE, 2),
            f"fid_{net}_image": "" if fid_value is None else round(fid_value, 2),
            "hf_ratio": round(realism.hf_ratio, 3), "grad_ratio": round(realism.grad_ratio, 3),
            "peak_ratio": round(realism.peak_ratio, 2)}
