"""The paper's DCGAN-style inpainting net (`paper-128`) and its CIFAR-scale variant (`small-32`).

All convolutions are 4x4, stride 2, bias-free, N(0, 0.02)-initialised, as in the paper's code. The layers
from and to the bottleneck vector are computed as matrix products (models/dense.py), with the same weights.
The same builders serve both sizes, so the two differ only in widths.
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn

from ssl_ce.models.dense import DenseConv2d, DenseConvTranspose2d


def _down(cin: int, cout: int, batch_norm: bool) -> list[nn.Module]:
    """4x4 stride-2 conv (halves the size), optional BN, LeakyReLU 0.2."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


def _up(cin: int, cout: int, from_vector: bool = False) -> list[nn.Module]:
    """4x4 up-convolution (doubles the size, or takes a 1x1 vector to 4x4), BN, ReLU."""
    if from_vector:
        up: nn.Module = DenseConvTranspose2d(cin, cout, 4, bias=False)
    else:
        up = nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)
    return [up, nn.BatchNorm2d(cout), nn.ReLU(True)]


def _halvings(size: int) -> int:
    """How many stride-2 steps take `size` down to 4x4 (size must be 4 * 2**k)."""
    steps = int(math.log2(size // 4))
    if 4 * 2**steps != size:
        raise ValueError(f"size {size} is not 4 * 2**k")
    return steps


class DCGANEncoder(nn.Module):
    """Stride-2 convs down to 4x4, then a 4x4 conv to a `bottleneck`-d vector (BN, LeakyReLU)."""

    def __init__(self, input_size: int, widths: tuple[int, ...], bottleneck: int) -> None:
        super().__init__()
        if _halvings(input_size) != len(widths):
            raise ValueError(f"{len(widths)} widths do not take {input_size}x{input_size} to 4x4")
        layers: list[nn.Module] = []
        cin = 3
        for i, width in enumerate(widths):
            layers += _down(cin, width, batch_norm=i > 0)  # paper: no BN on the first layer
            cin = width
        layers += [DenseConv2d(cin, bottleneck, 4, bias=False), nn.BatchNorm2d(bottleneck),
                   nn.LeakyReLU(0.2, inplace=True)]
        self.net = nn.Sequential(*layers)
        self.num_features = bottleneck

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, bottleneck, 1, 1)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The bottleneck as a flat feature vector, the representation the evaluators judge."""
        return self.forward(x).flatten(1)

    def feature_layers(self) -> dict[str, nn.Module]:
        """Layers whose output can be probed: conv1..convN and the bottleneck (the last, the default)."""
        acts = [m for m in self.net if isinstance(m, nn.LeakyReLU)]
        return {**{f"conv{i + 1}": m for i, m in enumerate(acts[:-1])}, "bottleneck": acts[-1]}


class DCGANDecoder(nn.Module):
    """4x4 up-conv from the bottleneck to 4x4, then up-convs doubling to `output_size`, tanh."""

    def __init__(self, bottleneck: int, widths: tuple[int, ...], output_size: int) -> None:
        super().__init__()
        steps = _halvings(output_size)
        chans = list(widths[:steps])  # paper-128, 64x64 centre: 512, 256, 128, 64
        if len(chans) != steps:
            raise ValueError(f"{len(widths)} widths cannot reach {output_size}x{output_size}")
        layers = _up(bottleneck, chans[0], from_vector=True)
        for cin, cout in itertools.pairwise(chans):
            layers += _up(cin, cout)
        layers += [nn.ConvTranspose2d(chans[-1], 3, 4, 2, 1, bias=False), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class PatchDiscriminator(nn.Module):
    """Judges a predicted region alone: stride-2 convs (BN from the 2nd) down to under 8x8, then one conv
    covering what is left (4x4 for power-of-two sizes) to a single logit."""

    def __init__(self, input_size: int, widths: tuple[int, ...]) -> None:
        super().__init__()
        sizes = [input_size]
        while sizes[-1] >= 8:
            sizes.append(sizes[-1] // 2)
        steps = len(sizes) - 1
        chans = list(widths[-steps:]) if steps <= len(widths) else [widths[0]] * (steps - len(widths)) + list(widths)
        layers: list[nn.Module] = []
        cin = 3
        for i, width in enumerate(chans):
            layers += _down(cin, width, batch_norm=i > 0)
            cin = width
        layers.append(DenseConv2d(cin, 1, sizes[-1], bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (B,) logits


def init_dcgan_weights(module: nn.Module) -> None:
    """The paper's init: conv weights N(0, 0.02), BN scale N(1, 0.02) and shift 0."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
