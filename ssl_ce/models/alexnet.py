"""The paper's feature-learning net: AlexNet conv1-pool5, a channel-wise fully-connected layer, up-convs.

The channel-wise FC connects each of the 256 pool5 maps only to itself (36x36 weights per map), so every
output location sees the whole context at 1/256 of a full FC layer's cost; a 1x1 conv then mixes channels.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn.functional as F
from torch import nn

POOL5_SIDE = 6
POOL5_CHANNELS = 256


class ChannelWiseFC(nn.Module):
    """A fully-connected layer per channel: (B, C, H, W) -> (B, C, H, W), no cross-channel weights."""

    def __init__(self, channels: int, side: int) -> None:
        super().__init__()
        n = side * side
        self.weight = nn.Parameter(torch.randn(channels, n, n) * 0.02)
        self.bias = nn.Parameter(torch.zeros(channels, n))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        y = torch.einsum("bcn,cnm->bcm", x.reshape(b, c, h * w), self.weight) + self.bias
        return y.reshape(b, c, h, w)


class FullFC(nn.Module):
    """The dense alternative the paper avoids (`channel_wise_fc: false`): every unit sees every unit."""

    def __init__(self, channels: int, side: int) -> None:
        super().__init__()
        self.fc = nn.Linear(channels * side * side, channels * side * side)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(x.flatten(1)).reshape(x.shape)


def _pool(channels: int, pool_free: bool) -> list[nn.Module]:
    """3x3 stride-2 max-pool, or a learned conv of the same kernel and stride (`pool_free`)."""
    if pool_free:
        return [nn.Conv2d(channels, channels, 3, 2), nn.ReLU(True)]
    return [nn.MaxPool2d(3, 2)]


class AlexNetEncoder(nn.Module):
    """AlexNet conv1-pool5 (Krizhevsky et al. widths 96-256-384-384-256, no LRN): 227x227 -> 256x6x6."""

    def __init__(self, pool_free: bool = False) -> None:
        super().__init__()
        self._conv_relus = [nn.ReLU(True) for _ in range(5)]
        r1, r2, r3, r4, r5 = self._conv_relus
        self.net = nn.Sequential(
            nn.Conv2d(3, 96, 11, 4), r1, *_pool(96, pool_free),  # 55 -> 27
            nn.Conv2d(96, 256, 5, padding=2), r2, *_pool(256, pool_free),  # 27 -> 13
            nn.Conv2d(256, 384, 3, padding=1), r3,
            nn.Conv2d(384, 384, 3, padding=1), r4,
            nn.Conv2d(384, POOL5_CHANNELS, 3, padding=1), r5, *_pool(POOL5_CHANNELS, pool_free),  # 6
        )
        self.num_features = POOL5_CHANNELS * POOL5_SIDE * POOL5_SIDE

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # (B, 256, 6, 6)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """pool5, flattened (9216-d): the layer the paper transfers."""
        return self.forward(x).flatten(1)

    def feature_layers(self) -> dict[str, nn.Module]:
        """conv1..conv5 (after ReLU) and pool5 (the last, the default)."""
        return {**{f"conv{i + 1}": m for i, m in enumerate(self._conv_relus)}, "pool5": self.net[-1]}


class AlexNetBridge(nn.Module):
    """pool5 -> channel-wise FC (or full FC) -> dropout -> 1x1 conv mixing channels."""

    def __init__(self, channel_wise_fc: bool, dropout: float) -> None:
        super().__init__()
        fc = ChannelWiseFC if channel_wise_fc else FullFC
        self.net = nn.Sequential(
            fc(POOL5_CHANNELS, POOL5_SIDE), nn.ReLU(True), nn.Dropout(dropout),
            nn.Conv2d(POOL5_CHANNELS, POOL5_CHANNELS, 1), nn.ReLU(True),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class AlexNetDecoder(nn.Module):
    """Five 4x4 stride-2 up-convs with ReLU (6 -> 192), a last conv to RGB, resized to the hole, tanh."""

    def __init__(self, output_size: int) -> None:
        super().__init__()
        chans = [POOL5_CHANNELS, 128, 64, 64, 32, 32]
        layers: list[nn.Module] = []
        for cin, cout in itertools.pairwise(chans):
            layers += [nn.ConvTranspose2d(cin, cout, 4, 2, 1), nn.ReLU(True)]
        layers.append(nn.Conv2d(chans[-1], 3, 3, padding=1))
        self.net = nn.Sequential(*layers)
        self.output_size = output_size

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        y = F.interpolate(self.net(z), size=self.output_size, mode="bilinear", align_corners=False)
        return torch.tanh(y)
