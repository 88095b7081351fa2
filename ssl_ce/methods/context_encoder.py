"""Context Encoders (Pathak et al., CVPR 2016): paint the dropped region back, judged by masked L2 and a
discriminator that sees only the predicted region (real patches vs predicted ones, nothing else)."""

from __future__ import annotations

import torch
from torch import nn

from ssl_ce.config import Config, MethodConfig
from ssl_ce.data.batches import Batch
from ssl_ce.methods.base import method
from ssl_ce.methods.losses import RECONSTRUCTION_LOSSES, bce_fake, bce_real


def _adversarial(cfg: MethodConfig) -> bool:
    return cfg.adv_weight > 0  # L2-only: no adversary to train


def _label(cfg: Config) -> str:
    loss = "" if cfg.method.rec_loss == "l2" else f", {cfg.method.rec_loss}"
    return f"{cfg.method.name} ({cfg.mask.type} mask, adv {cfg.method.adv_weight:g}{loss})"


@method("context-encoder", predicts="hole", needs_discriminator=_adversarial, label=_label,
        rec_losses=tuple(RECONSTRUCTION_LOSSES))
class ContextEncoder:
    """loss_G = rec_weight * masked L2 + adv_weight * BCE(D(pred), real); loss_D = BCE(real) + BCE(fake).
    `method.rec_loss: log-l2` swaps masked L2 for the mean per-image log of it (see losses.py)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module | None, cfg: Config,
                 num_classes: int = 0) -> None:
        self.generator = generator
        self.discriminator = discriminator
        self.cfg = cfg.method

    trains = True

    def predict(self, batch: Batch) -> torch.Tensor:
        return self.generator(batch.masks.apply(batch.images))

    def discriminator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        assert self.discriminator is not None
        real = batch.masks.region.crop(batch.images)
        d_real = bce_real(self.discriminator(real))
        d_fake = bce_fake(self.discriminator(pred.detach()))
        return {"d_total": d_real + d_fake, "d_real": d_real, "d_fake": d_fake}

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        target = batch.masks.region.crop(batch.images)
        rec = RECONSTRUCTION_LOSSES[self.cfg.rec_loss](pred, target, batch.masks.weight)
        losses = {"rec": rec}
        total = self.cfg.rec_weight * rec
        if self.discriminator is not None:
            adv = bce_real(self.discriminator(pred))
            losses["adv"] = adv
            total = total + self.cfg.adv_weight * adv
        losses["g_total"] = total
        return losses

    def sample(self, batch: Batch, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return batch.masks.apply(batch.images), fill_hole(batch, pred)


def fill_hole(batch: Batch, pred: torch.Tensor) -> torch.Tensor:
    """The images with their hole pixels replaced by the prediction (the context kept as it was)."""
    hole = batch.masks.hole.to(pred.dtype)
    region = batch.masks.region
    filled_region = pred * region.crop(hole) + region.crop(batch.images) * (1 - region.crop(hole))
    return region.paste(batch.images, filled_region.to(batch.images.dtype))
