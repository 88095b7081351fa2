"""Convolutions whose kernel covers the whole input (the encoder's 4x4 -> 1x1 bottleneck, the decoder's
1x1 -> 4x4 first up-convolution, the discriminator's last layer), computed as the matrix products they are.

oneDNN runs these shapes through its convolution kernels 4-5x slower than one GEMM on CPU (paper-128's
8192 x 4000 bottleneck: 530 ms against 115 ms for forward + backward at batch 32, fp32 or bf16), and they
hold most of paper-128's FLOPs. The layers keep nn.Conv2d's / nn.ConvTranspose2d's parameters, so state
dicts and checkpoints are unchanged, and fall back to the convolution for any other input size.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class _KeepsNCHWWeight:
    """Mixin: the weight stays NCHW-contiguous through `module.to(memory_format=torch.channels_last)`, so the
    product reads it as a matrix without a copy, and fused Adam does not copy a non-contiguous gradient on
    every step (70-100 ms a step for paper-128's two 32.8M-weight layers)."""

    def _apply(self, fn, recurse=True):
        return super()._apply(lambda t: fn(t).contiguous(), recurse)


def _check_dense(conv: nn.Conv2d | nn.ConvTranspose2d) -> None:
    """The product form holds only for stride 1, no padding, dilation or groups."""
    trivial = (conv.stride == (1, 1) and conv.padding == (0, 0) and conv.dilation == (1, 1) and conv.groups == 1
               and conv.output_padding == (0, 0))
    if not trivial:
        raise ValueError(f"{type(conv).__name__} needs stride 1 and no padding, dilation or groups")


class DenseConv2d(_KeepsNCHWWeight, nn.Conv2d):
    """A stride-1, unpadded Conv2d whose kernel is as big as its input: (B, C, k, k) -> (B, O, 1, 1)
    as one (B, C*k*k) x (C*k*k, O) product."""

    as_matmul = True  # the throughput benchmark turns it off to time the plain convolution

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _check_dense(self)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.as_matmul or x.dim() != 4 or tuple(x.shape[-2:]) != self.kernel_size:
            return super().forward(x)
        return F.linear(x.flatten(1), self.weight.flatten(1), self.bias)[:, :, None, None]


class DenseConvTranspose2d(_KeepsNCHWWeight, nn.ConvTranspose2d):
    """A stride-1 up-convolution from a 1x1 input: (B, C, 1, 1) -> (B, O, k, k) as one
    (B, C) x (C, O*k*k) product."""

    as_matmul = True

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _check_dense(self)

    def forward(self, x: torch.Tensor, output_size: list[int] | None = None) -> torch.Tensor:
        if not self.as_matmul or output_size is not None or x.dim() != 4 or tuple(x.shape[-2:]) != (1, 1):
            return super().forward(x, output_size)
        out = (x.flatten(1) @ self.weight.flatten(1)).view(x.shape[0], self.out_channels, *self.kernel_size)
        return out if self.bias is None else out + self.bias[:, None, None]


def matmul_bottleneck(module: nn.Module, enabled: bool) -> None:
    """Turn the GEMM path of every dense layer in `module` on or off (off: plain oneDNN convolutions)."""
    for m in module.modules():
        if isinstance(m, DenseConv2d | DenseConvTranspose2d):
            m.as_matmul = enabled
