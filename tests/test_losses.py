import torch

from ssl_ce.config import MaskConfig
from ssl_ce.data.masks import make_masks, ring_width
from ssl_ce.methods.losses import masked_l2


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
