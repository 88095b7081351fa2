"""The bottleneck layers computed as matrix products must be the convolutions they replace, bit for bit in
what they compute (up to float rounding) and in what they store."""

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from ssl_ce.config import ModelConfig
from ssl_ce.models import build_model
from ssl_ce.models.dense import DenseConv2d, DenseConvTranspose2d, matmul_bottleneck


def _forward_backward(module: nn.Module, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    module.zero_grad()
    y = module(x)
    (y * torch.linspace(-1, 1, y.numel()).view_as(y)).sum().backward()
    return y.detach(), module.weight.grad.clone()


LAYERS = {  # dense layer, the torch layer it replaces, input shape, output shape
    "conv": (DenseConv2d, nn.Conv2d, (8, 5, 4), (3, 8, 4, 4), (3, 5, 1, 1)),
    "up-conv": (DenseConvTranspose2d, nn.ConvTranspose2d, (6, 7, 4), (3, 6, 1, 1), (3, 7, 4, 4)),
}


@pytest.mark.parametrize("channels_last", [False, True])
@pytest.mark.parametrize("kind", LAYERS)
def test_dense_layers_match_the_convolutions_they_replace(kind: str, channels_last: bool) -> None:
    dense_cls, plain_cls, args, in_shape, out_shape = LAYERS[kind]
    torch.manual_seed(0)
    layer, reference = dense_cls(*args, bias=False), plain_cls(*args, bias=False)
    reference.load_state_dict(layer.state_dict())
    x = torch.randn(in_shape)
    if channels_last:
        layer.to(memory_format=torch.channels_last)
        x = x.contiguous(memory_format=torch.channels_last)
    y, grad = _forward_backward(layer, x)
    y_ref, grad_ref = _forward_backward(reference, x)
    assert y.shape == out_shape
    torch.testing.assert_close(y, y_ref)
    torch.testing.assert_close(grad, grad_ref)


def test_dense_weights_stay_nchw_under_channels_last_and_state_dicts_are_the_convolutions() -> None:
    layer = DenseConv2d(8, 5, 4, bias=False).to(memory_format=torch.channels_last)
    assert layer.weight.is_contiguous()  # fused Adam would copy a channels_last gradient on every step
    assert layer.state_dict().keys() == nn.Conv2d(8, 5, 4, bias=False).state_dict().keys()
    with pytest.raises(ValueError, match="stride 1"):
        DenseConv2d(8, 5, 4, stride=2)


def test_other_input_sizes_fall_back_to_the_convolution() -> None:
    layer = DenseConv2d(2, 3, 4, bias=False)
    x = torch.randn(1, 2, 6, 6)
    torch.testing.assert_close(layer(x), F.conv2d(x, layer.weight))


@pytest.mark.parametrize("name", ["small-32", "paper-128"])
def test_whole_models_match_with_the_matmul_path_on_and_off(name: str) -> None:
    torch.manual_seed(0)
    size = 32 if name == "small-32" else 128
    generator, _ = build_model(ModelConfig(name=name, bottleneck=64), size // 2)
    assert any(isinstance(m, DenseConv2d) for m in generator.modules())
    plain = copy.deepcopy(generator)
    matmul_bottleneck(plain, False)
    x = torch.randn(2, 3, size, size)
    torch.testing.assert_close(generator(x), plain(x), atol=1e-4, rtol=1e-3)  # BN over 2 images amplifies rounding
