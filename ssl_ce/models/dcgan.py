"""The paper's DCGAN-style inpainting net (`paper-128`) and its CIFAR-scale variant (`small-32`).

All convolutions are 4x4, stride 2, bias-free, N(0, 0.02)-initialised, as in the paper's code. The layers
from and to the bottleneck vector are computed as matrix products (models/dense.py), with the same weights.
The same builders serve both sizes, so the two differ only in widths. Two options fight the adversarial
loss's checkerboards and blotches (issue 44): the decoder's upsampling (`model.upsample`) and spectral
normalisation in the discriminator (`spectral_normalise`).
"""

from __future__ import annotations

import itertools
import math

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import spectral_norm

from ssl_ce.models.dense import DenseConv2d, DenseConvTranspose2d


def _down(cin: int, cout: int, batch_norm: bool) -> list[nn.Module]:
    """4x4 stride-2 conv (halves the size), optional BN, LeakyReLU 0.2."""
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, 4, 2, 1, bias=False)]
    if batch_norm:
        layers.append(nn.BatchNorm2d(cout))
    layers.append(nn.LeakyReLU(0.2, inplace=True))
    return layers


class SubPixelUp(nn.Sequential):
    """Sub-pixel convolution (Shi et al. 2016): a 3x3 conv to 4x the channels, then a pixel shuffle that
    doubles the size. ICNR-initialised (Aitken et al. 2017): the 4 sub-pixels of a channel start with equal
    kernels, so the initial output is a nearest-neighbour upsampling, free of checkerboard."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__(nn.Conv2d(cin, cout * 4, 3, 1, 1, bias=False), nn.PixelShuffle(2))

    @torch.no_grad()
    def tie_subpixels(self) -> None:
        weight = self[0].weight  # (cout * 4, cin, 3, 3); the shuffle takes channel 4c + i to sub-pixel i of c
        grouped = weight.view(weight.shape[0] // 4, 4, *weight.shape[1:])
        grouped.copy_(grouped[:, :1].expand_as(grouped))


def _doubling(kind: str, cin: int, cout: int) -> nn.Module:
    """One 2x upsampling of `model.upsample`'s kind."""
    if kind == "transposed":
        return nn.ConvTranspose2d(cin, cout, 4, 2, 1, bias=False)  # the paper's
    if kind == "resize-conv":  # Odena et al. 2016: every output pixel sees the same number of input pixels
        return nn.Sequential(nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, 1, 1, bias=False))
    if kind == "pixel-shuffle":
        return SubPixelUp(cin, cout)
    raise ValueError(f"unknown upsampling {kind!r} (ModelConfig.upsample lists them)")


def _up(cin: int, cout: int, upsample: str, from_vector: bool = False) -> list[nn.Module]:
    """Up-convolution (doubles the size, or a 4x4 one takes a 1x1 vector to 4x4), BN, ReLU."""
    up = DenseConvTranspose2d(cin, cout, 4, bias=False) if from_vector else _doubling(upsample, cin, cout)
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
    """4x4 up-conv from the bottleneck to 4x4, then `upsample` doublings to `output_size`, tanh."""

    def __init__(self, bottleneck: int, widths: tuple[int, ...], output_size: int,
                 upsample: str = "transposed") -> None:
        super().__init__()
        steps = _halvings(output_size)
        chans = list(widths[:steps])  # paper-128, 64x64 centre: 512, 256, 128, 64
        if len(chans) != steps:
            raise ValueError(f"{len(widths)} widths cannot reach {output_size}x{output_size}")
        layers = _up(bottleneck, chans[0], upsample, from_vector=True)
        for cin, cout in itertools.pairwise(chans):
            layers += _up(cin, cout, upsample)
        layers += [_doubling(upsample, chans[-1], 3), nn.Tanh()]
        self.net = nn.Sequential(*layers)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.net(z)


class PatchDiscriminator(nn.Module):
    """Judges a predicted region alone: stride-2 convs (BN from the 2nd) down to under 8x8, then one conv
    covering what is left (4x4 for power-of-two sizes) to a single logit. Without `batch_norm` (for
    spectral normalisation, which replaces it) no layer has BN."""

    def __init__(self, input_size: int, widths: tuple[int, ...], batch_norm: bool = True) -> None:
        super().__init__()
        sizes = [input_size]
        while sizes[-1] >= 8:
            sizes.append(sizes[-1] // 2)
        steps = len(sizes) - 1
        chans = list(widths[-steps:]) if steps <= len(widths) else [widths[0]] * (steps - len(widths)) + list(widths)
        layers: list[nn.Module] = []
        cin = 3
        for i, width in enumerate(chans):
            layers += _down(cin, width, batch_norm=batch_norm and i > 0)
            cin = width
        layers.append(DenseConv2d(cin, 1, sizes[-1], bias=False))
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x).flatten()  # (B,) logits


def init_dcgan_weights(module: nn.Module) -> None:
    """The paper's init: conv weights N(0, 0.02), BN scale N(1, 0.02) and shift 0 (sub-pixel convs then
    ICNR). Called before `spectral_normalise`, whose power iteration starts from these weights."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d):
            if parametrize.is_parametrized(m, "weight"):
                raise ValueError("initialise the weights before spectral_normalise")
            nn.init.normal_(m.weight, 0.0, 0.02)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
    for m in module.modules():
        if isinstance(m, SubPixelUp):
            m.tie_subpixels()


def spectral_normalise(module: nn.Module) -> nn.Module:
    """Spectral norm (Miyato et al. 2018) on every convolution of `module`: each weight is divided by its
    largest singular value, estimated by one power iteration per training forward."""
    for m in list(module.modules()):
        if isinstance(m, nn.Conv2d):
            spectral_norm(m)
    return module
