"""Loss functions as pure functions, shared by every method."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def masked_l2(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error over the pixels with weight > 0.

    `weight` is (B, 1, H, W): 0 outside the hole (no gradient there), 1 in the hole, `overlap_weight` on the
    centre mask's ring. Normalised by the number of weighted pixels so the scale does not depend on hole size.
    """
    weight = weight.to(pred.dtype)
    squared = (pred.float() - target.float()).pow(2) * weight
    count = (weight > 0).sum() * pred.shape[1]
    return squared.sum() / count.clamp(min=1)


def bce_real(logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating GAN loss for samples that should be judged real."""
    return F.binary_cross_entropy_with_logits(logits.float(), torch.ones_like(logits, dtype=torch.float32))


def bce_fake(logits: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.zeros_like(logits, dtype=torch.float32))
