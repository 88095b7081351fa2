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
    """A batch in, named losses out.

    `generator` is what the loop optimises with the G optimiser and saves under "generator" (its `encoder`
    is what the evaluators judge); `discriminator` is None for methods without an adversary. A method with
    `trains = False` (random init) is saved as initialised.
    """

    generator: nn.Module
    discriminator: nn.Module | None
    trains: bool

    def predict(self, batch: Batch) -> torch.Tensor:
        """The generator's output for the batch."""

    def discriminator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses for the discriminator step; key `d_total` is minimised."""

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses for the generator step; key `g_total` is minimised."""

    def sample(self, batch: Batch, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(what the network saw, what it made) as images for the per-epoch grid; None if not an image."""


class NoAdversary:
    """Mixin for methods trained by the generator step alone."""

    discriminator = None
    trains = True

    def discriminator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        raise RuntimeError(f"{type(self).__name__} has no discriminator")
