"""Baselines that reconstruct the whole image through the same encoder/decoder (bottleneck and all):
the autoencoder sees the clean image, the denoising autoencoder a corrupted one."""

from __future__ import annotations

import torch
from torch import nn

from ssl_ce.config import MethodConfig
from ssl_ce.methods.base import Batch, NoAdversary


class Autoencoder(NoAdversary):
    """loss = mean squared error over every pixel of the reconstructed image."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module | None, cfg: MethodConfig) -> None:
        self.generator = generator
        self.cfg = cfg

    def corrupt(self, batch: Batch) -> torch.Tensor:
        return batch.images

    def predict(self, batch: Batch) -> torch.Tensor:
        return self.generator(self.corrupt(batch))

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        rec = (pred.float() - batch.images.float()).pow(2).mean()
        return {"rec": rec, "g_total": rec}

    def sample(self, batch: Batch, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.corrupt(batch), pred


class DenoisingAutoencoder(Autoencoder):
    """Input: Gaussian noise (std `noise_std` on the [-1, 1] scale) plus pixels dropped to the mean with
    probability `pixel_dropout`. The corruption comes from the global torch RNG, whose state checkpoints
    keep, so a resumed run sees the same corruption as an uninterrupted one."""

    def corrupt(self, batch: Batch) -> torch.Tensor:
        images = batch.images
        noisy = images + self.cfg.noise_std * torch.randn_like(images)
        keep = (torch.rand_like(images[:, :1]) >= self.cfg.pixel_dropout).to(images.dtype)
        return (noisy * keep).clamp(-1, 1)
