"""The contract every pretraining method meets, so one loop, data and logging serve all of them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import torch
from torch import nn

from ssl_ce.data.masks import MaskBatch


@dataclass
class Batch:
    images: torch.Tensor  # (B, 3, H, W) in [-1, 1]
    masks: MaskBatch
    labels: torch.Tensor  # (B,), -1 where unknown


class Method(Protocol):
    """A batch in, named losses out. `discriminator` is None for methods without an adversary."""

    generator: nn.Module
    discriminator: nn.Module | None

    def predict(self, batch: Batch) -> torch.Tensor:
        """The generator's output for the batch (the predicted region)."""

    def discriminator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses for the discriminator step; key `d_total` is minimised."""

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses for the generator step; key `g_total` is minimised."""

    def inpaint(self, batch: Batch, pred: torch.Tensor) -> torch.Tensor:
        """Full images with the hole filled from `pred`, for sample grids and evaluation."""
