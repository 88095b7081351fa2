"""Models, registered by name in ssl_ce.registries.MODELS: one factory per name builds a generator (encoder +
bridge + decoder) and a discriminator.

Every generator exposes `encoder.features(x)` and `encoder.num_features`, so evaluators need nothing
model-specific.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch
from torch import nn

from ssl_ce.config import ModelConfig
from ssl_ce.models.alexnet import AlexNetBridge, AlexNetDecoder, AlexNetEncoder
from ssl_ce.models.dcgan import DCGANDecoder, DCGANEncoder, PatchDiscriminator, init_dcgan_weights, spectral_normalise
from ssl_ce.registries import MODELS


class Generator(nn.Module):
    """Context in, predicted region out: decoder(bridge(encoder(x)))."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, bridge: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder = encoder
        self.bridge = bridge if bridge is not None else nn.Identity()
        self.decoder = decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.bridge(self.encoder(x)))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder.features(x)


Builder = Callable[[ModelConfig, int], tuple[Generator, nn.Module]]


@dataclass(frozen=True)
class ModelSpec:
    """A named architecture: its input side, how to build G and D for a predicted region of a given side, and
    whether it takes the DCGAN-style options (`model.width_mult`, `model.upsample`, `model.d_norm`)."""

    input_size: int
    build: Builder
    dcgan: bool = False


def _dcgan(input_size: int, widths: tuple[int, ...], d_widths: tuple[int, ...], bottleneck: int) -> Builder:
    def build(cfg: ModelConfig, output_size: int) -> tuple[Generator, nn.Module]:
        g_widths = tuple(max(1, round(w * cfg.width_mult)) for w in widths)
        encoder = DCGANEncoder(input_size, g_widths, cfg.bottleneck or bottleneck)
        decoder = DCGANDecoder(encoder.num_features, tuple(reversed(g_widths)), output_size, cfg.upsample)
        generator = Generator(encoder, decoder)
        discriminator = PatchDiscriminator(output_size, d_widths, batch_norm=cfg.d_norm == "batch")
        init_dcgan_weights(generator)
        init_dcgan_weights(discriminator)
        if cfg.d_norm == "spectral":
            spectral_normalise(discriminator)
        return generator, discriminator

    return build


def _alexnet(cfg: ModelConfig, output_size: int) -> tuple[Generator, nn.Module]:
    generator = Generator(AlexNetEncoder(cfg.pool_free), AlexNetDecoder(output_size),
                          AlexNetBridge(cfg.channel_wise_fc, cfg.dropout))
    discriminator = PatchDiscriminator(output_size, (64, 128, 256, 512))
    init_dcgan_weights(discriminator)
    return generator, discriminator


MODELS.register("small-32")(ModelSpec(32, _dcgan(32, (64, 128, 256), (64, 128, 256), 1024), dcgan=True))
MODELS.register("paper-128")(ModelSpec(128, _dcgan(128, (64, 64, 128, 256, 512), (64, 128, 256, 512), 4000),
                                       dcgan=True))
MODELS.register("alexnet-227")(ModelSpec(227, _alexnet))


def build_model(cfg: ModelConfig, output_size: int) -> tuple[Generator, nn.Module]:
    """G and D for `cfg.name`, predicting a square region of side `output_size`."""
    return MODELS.get(cfg.name).build(cfg, output_size)


def input_size(cfg: ModelConfig) -> int:
    return MODELS.get(cfg.name).input_size
