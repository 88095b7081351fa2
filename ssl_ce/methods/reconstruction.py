"""Baselines that reconstruct the whole image through the same encoder/decoder (bottleneck and all):
the autoencoder sees the clean image, the denoising autoencoder a corrupted one."""

from __future__ import annotations

import torch
from torch import nn

from ssl_ce.config import Config
from ssl_ce.data.batches import Batch
from ssl_ce.methods.base import NoAdversary, method


@method("autoencoder")
class Autoencoder(NoAdversary):
    """loss = mean squared error over every pixel of the reconstructed image."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module | None, cfg: Config,
                 num_classes: int = 0) -> None:
        self.generator = generator
        self.cfg = cfg.method

    def corrupt(self, batch: Batch) -> torch.Tensor:
        return batch.images

    def predict(self, batch: Batch) -> torch.Tensor:
        return self.generator(self.corrupt(batch))

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        rec = (pred.float() - batch.images.float()).pow(2).mean()
        return {"rec": rec, "g_total": rec}

    def sample(self, batch: Batch, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.corrupt(batch), pred


@method("denoising")
class DenoisingAutoencoder(Autoencoder):
    """Input: Gaussian noise (std `noise_std` on the [-1, 1] scale) plus pixels dropped to the mean with
    probability `pixel_dropout`. The corruption is drawn from the step's RNG (`batch.rng`, a function of seed
    and step), so a resumed run sees the same corruption as an uninterrupted one and the global RNG is not
    touched; a batch without one (an evaluation) draws a fixed corruption."""

    def corrupt(self, batch: Batch) -> torch.Tensor:
        images = batch.images
        rng = batch.rng if batch.rng is not None else torch.Generator().manual_seed(0)
        noise = torch.randn(images.shape, generator=rng).to(images.device, images.dtype)
        drop = torch.rand((len(images), 1, *images.shape[2:]), generator=rng).to(images.device)
        keep = (drop >= self.cfg.pixel_dropout).to(images.dtype)
        return ((images + self.cfg.noise_std * noise) * keep).clamp(-1, 1)
