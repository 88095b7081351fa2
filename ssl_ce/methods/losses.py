"""Loss functions as pure functions, shared by every method."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _weighted_squared_error(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor
                            ) -> tuple[torch.Tensor, torch.Tensor]:
    """Per image: the weighted sum of squared errors and the number of weighted values (pixels x channels)."""
    weight = weight.to(pred.dtype)
    squared = ((pred.float() - target.float()).pow(2) * weight).flatten(1).sum(1)
    count = (weight > 0).flatten(1).sum(1) * pred.shape[1]
    return squared, count


def masked_l2(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Weighted mean squared error over the pixels with weight > 0.

    `weight` is (B, 1, H, W): 0 outside the hole (no gradient there), 1 in the hole, `overlap_weight` on the
    centre mask's ring. Normalised by the number of weighted pixels so the scale does not depend on hole size.
    """
    squared, count = _weighted_squared_error(pred, target, weight)
    return squared.sum() / count.sum().clamp(min=1)


LOG_L2_EPS = 1e-4  # on the [-1, 1] scale: a per-image L2 this small counts as perfect (about 46 dB on [0, 1])


def masked_log_l2(pred: torch.Tensor, target: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Mean over images of log(eps + that image's weighted MSE): minimising it maximises the mean per-image
    PSNR that Table 1 reports, where plain L2 spends its effort on the images with the largest errors."""
    squared, count = _weighted_squared_error(pred, target, weight)
    return torch.log(squared / count.clamp(min=1) + LOG_L2_EPS).mean()


RECONSTRUCTION_LOSSES = {"l2": masked_l2, "log-l2": masked_log_l2}


def bce_real(logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating GAN loss for samples that should be judged real."""
    return F.binary_cross_entropy_with_logits(logits.float(), torch.ones_like(logits, dtype=torch.float32))


def bce_fake(logits: torch.Tensor) -> torch.Tensor:
    return F.binary_cross_entropy_with_logits(logits.float(), torch.zeros_like(logits, dtype=torch.float32))


def classification_losses(logits: torch.Tensor, targets: torch.Tensor, accuracy_name: str) -> dict[str, torch.Tensor]:
    """Cross-entropy (minimised as `g_total`) and the batch's accuracy under `accuracy_name`, for methods that
    predict labels (the supervised upper bound, rotation prediction)."""
    loss = F.cross_entropy(logits.float(), targets)
    return {"ce": loss, accuracy_name: (logits.argmax(1) == targets).float().mean(), "g_total": loss}
