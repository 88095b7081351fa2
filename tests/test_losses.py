import math

import pytest
import torch

from ssl_ce.config import MaskConfig
from ssl_ce.data.masks import make_masks, ring_width
from ssl_ce.methods.losses import LOG_L2_EPS, masked_l2, masked_log_l2


def test_masked_l2_has_no_gradient_outside_the_hole_and_10x_on_the_ring() -> None:
    size = 32
    masks = make_masks(MaskConfig(type="center"), 1, size, torch.Generator().manual_seed(0))
    ring = ring_width(MaskConfig(), size)
    side = masks.region.size
    target = torch.zeros(1, 3, side, side)
    pred = torch.full((1, 3, side, side), 0.5, requires_grad=True)  # equal error everywhere
    masked_l2(pred, target, masks.weight).backward()
    grad = pred.grad[0, 0]
    interior = grad[ring + 1, ring + 1]
    assert interior > 0
    assert torch.allclose(grad[0, 0], 10 * interior) and torch.allclose(grad[ring - 1, side // 2], 10 * interior)


def test_overlap_weight_zero_leaves_the_loss_to_the_hole_alone() -> None:
    masks = make_masks(MaskConfig(type="center", overlap_weight=0.0), 2, 32, torch.Generator().manual_seed(0))
    hole = masks.region.crop(masks.hole).bool().expand(2, 3, -1, -1)
    pred, target = torch.randn(2, 3, 16, 16), torch.randn(2, 3, 16, 16)
    expected = (pred - target)[hole].pow(2).mean()
    assert torch.allclose(masked_l2(pred, target, masks.weight), expected)
    assert masks.weight.sum() == masks.hole.sum() == 2 * 14 * 14  # the 1-px ring at 32x32 carries no weight


def test_masked_l2_ignores_pixels_with_zero_weight() -> None:
    masks = make_masks(MaskConfig(type="random-region"), 2, 32, torch.Generator().manual_seed(1))
    pred = torch.randn(2, 3, 32, 32, requires_grad=True)
    target = torch.randn(2, 3, 32, 32)
    loss = masked_l2(pred, target, masks.weight)
    loss.backward()
    outside = masks.weight.expand_as(pred) == 0
    assert (pred.grad[outside] == 0).all() and (pred.grad[~outside] != 0).all()
    # Changing the prediction outside the hole changes nothing.
    shifted = pred.detach() + outside.float() * 5
    assert torch.allclose(masked_l2(shifted, target, masks.weight), loss.detach())


def test_masked_l2_is_the_mean_squared_error_in_the_hole() -> None:
    weight = torch.zeros(1, 1, 4, 4)
    weight[..., :2, :] = 1
    pred = torch.ones(1, 3, 4, 4)
    target = torch.zeros(1, 3, 4, 4)
    target[..., :1, :] = 1  # half of the hole is exact, half off by 1
    assert masked_l2(pred, target, weight).item() == 0.5


def test_masked_log_l2_is_the_mean_per_image_log_error() -> None:
    weight = torch.zeros(2, 1, 4, 4)
    weight[..., :2, :] = 1
    pred = torch.ones(2, 3, 4, 4)
    target = torch.zeros(2, 3, 4, 4)
    target[0, :, :1, :] = 1  # image 0: half its hole exact (MSE 0.5); image 1: MSE 1
    expected = (math.log(0.5 + LOG_L2_EPS) + math.log(1 + LOG_L2_EPS)) / 2
    assert masked_log_l2(pred, target, weight).item() == pytest.approx(expected)


def test_masked_log_l2_weighs_each_image_by_the_inverse_of_its_error() -> None:
    """Plain L2 pushes hardest on the worst image; log L2 pushes each image in proportion to 1 / its MSE,
    as the mean of per-image PSNRs does."""
    weight = torch.ones(2, 1, 4, 4)
    target = torch.zeros(2, 3, 4, 4)
    errors = torch.tensor([0.1, 1.0])[:, None, None, None]
    log_ratio = (0.1 / (0.01 + LOG_L2_EPS)) / (1 / (1 + LOG_L2_EPS))  # d log(eps + e^2) / de = 2e / (eps + e^2)
    for loss, small_over_large in ((masked_l2, 0.1), (masked_log_l2, log_ratio)):
        pred = (target + errors).requires_grad_()
        loss(pred, target, weight).backward()
        ratio = (pred.grad[0].abs().mean() / pred.grad[1].abs().mean()).item()
        assert ratio == pytest.approx(small_over_large, rel=1e-4)
