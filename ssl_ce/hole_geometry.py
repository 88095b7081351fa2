"""The hole a model was trained on, and how a user's hole of any size and place is mapped onto it.

A context encoder only fills well the hole it learned: the published centre models saw the centre square minus
a 4-px visible ring dropped (56x56 of 128x128), and score 7 dB lower when fed a 64x64 hole. So every path that
fills with a model (`ssl-ce inpaint`, `load_inpainter`, `ssl-ce eval inpainting`, the demo) cuts the photo
through the one `HoleGeometry` of its model:

- a model trained on one fixed hole (`center`) gets a window, around each connected hole, sized so that the
  hole's bounding box becomes the trained hole (grown by the few pixels that keep rounding from spilling past
  it), and exactly the trained hole is dropped from the input; the fill is pasted into the user's hole only;
- a model trained on varying holes (random blocks or regions, free-form) gets the hole as drawn, in a window cut
  one of two ways (`CUTS`, compared on val by benchmarks/hole_robustness.py --cut): `photo`, the square of the
  photo's shorter side around the hole, kept inside the photo (training fits each whole photo to the model's
  input, so a hole is seen at the scale it was learned at), or `hole`, twice the side of the hole's bounding box
  (a small hole seen large, as tools that crop around the mask do).

A varying-hole model's fill may also be Poisson-blended into the known pixels around it (ssl_ce.blend: its
gradients kept, its colour offset at the hole's edge removed), chosen on val the same way (`--blends`); a
fixed-hole model's fill is pasted as it is.

A hole that covers little of the square a fixed-hole model fills (a brush stroke given to a centre model) is
still filled, with a one-line note saying it does not suit that model.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from ssl_ce.config import Config
from ssl_ce.data.masks import Region, make_masks, prediction_region
from ssl_ce.errors import SslCeError
from ssl_ce.models import input_size
from ssl_ce.registries import MASKS

MIN_FIXED_COVERAGE = 0.3  # below this share of the trained hole, a fixed-hole model mostly re-paints known pixels
FREE_WINDOW_FACTOR = 2  # the `hole` cut's window side, in bounding boxes of the hole
CUTS = ("photo", "hole")  # how a varying-hole model's window is cut (module docstring)
DEFAULT_CUT = "photo"  # chosen on val: results/hole_robustness_val.md (20.12 dB mean against 19.64 for "hole")
DEFAULT_FREE_BLEND = "poisson"  # ssl_ce.blend.BLENDS, chosen on val (+1.8 dB mean over "none"); fixed holes: never


@dataclass(frozen=True)
class HoleGeometry:
    """`trained_hole`: the (size, size) hole of a model trained on one fixed hole, None for varying holes;
    `cut`: how a varying-hole model's window is cut (one of CUTS; a fixed-hole model's follows its hole)."""

    mask_type: str
    size: int
    region: Region
    trained_hole: np.ndarray | None
    cut: str = DEFAULT_CUT

    def __post_init__(self) -> None:
        if self.cut not in CUTS:
            raise SslCeError(f"unknown cut {self.cut!r}; one of {', '.join(CUTS)}")

    @classmethod
    def of(cls, cfg: Config, cut: str = DEFAULT_CUT) -> HoleGeometry:
        size = input_size(cfg.model)
        trained = None
        if MASKS.get(cfg.mask.type).fixed:  # the very hole training drew (any generator: it is fixed)
            trained = make_masks(cfg.mask, 1, size, torch.Generator().manual_seed(0)).hole[0, 0].bool().numpy()
        return cls(cfg.mask.type, size, prediction_region(cfg.mask.type, size), trained, cut)

    @property
    def fixed(self) -> bool:
        return self.trained_hole is not None

    @property
    def default_blend(self) -> str:
        """A fixed-hole model's fill is pasted as it is (its published scores were made so)."""
        return "none" if self.fixed else DEFAULT_FREE_BLEND

    def window_side(self, extent: int, photo: tuple[int, int]) -> int:
        """The side of the window (photo pixels) in which a hole whose bounding box's longer side is `extent`,
        in a photo of shape `photo`, sits as the model was trained: the trained hole's scale for a fixed hole,
        else as `cut` says."""
        if self.trained_hole is None:
            return max(min(photo), extent) if self.cut == "photo" else FREE_WINDOW_FACTOR * extent
        trained_extent = int(self.trained_hole.any(axis=0).sum())
        return max(1, math.ceil(extent * self.size / trained_extent))

    def fits(self, hole_small: np.ndarray) -> bool:
        """Whether a hole at the model's size lies inside the hole this model was trained on (any hole fits a
        varying-hole model)."""
        return self.trained_hole is None or not (hole_small & ~self.trained_hole).any()

    def input_hole(self, hole_small: np.ndarray) -> np.ndarray:
        """The pixels dropped from the model's input for a hole `hole_small` at the model's size."""
        return hole_small if self.trained_hole is None else hole_small | self.trained_hole

    def mismatch(self, hole_small: np.ndarray) -> str | None:
        """Why a hole (at model size, in its window) does not suit this model, or None when it does."""
        if self.trained_hole is None or not hole_small.any():
            return None
        coverage = (hole_small & self.trained_hole).sum() / self.trained_hole.sum()
        if coverage >= MIN_FIXED_COVERAGE:
            return None
        return (f"the hole covers {100 * coverage:.0f}% of the {self.describe()} this model was trained on; a "
                "model trained with free-form holes (e.g. weights/inpainter-freeform-*) suits it")

    def describe(self) -> str:
        """One line for notes, `ssl-ce info` and the demo: the hole this model was trained to fill."""
        if self.trained_hole is None:
            return f"{self.mask_type} holes anywhere in a {self.size}x{self.size} window"
        rows, cols = self.trained_hole.any(axis=1).sum(), self.trained_hole.any(axis=0).sum()
        return f"{rows}x{cols} {self.mask_type} square of a {self.size}x{self.size} window"
