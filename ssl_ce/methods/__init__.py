"""Pretraining methods, registered by name. Importing this module registers every method."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ssl_ce.config import Config
from ssl_ce.data.masks import Region, prediction_region
from ssl_ce.methods.base import Batch, Method
from ssl_ce.methods.context_encoder import ContextEncoder
from ssl_ce.methods.random_init import RandomInit
from ssl_ce.methods.reconstruction import Autoencoder, DenoisingAutoencoder
from ssl_ce.methods.supervised import Supervised
from ssl_ce.registry import Registry

MethodFactory = Callable[[nn.Module, nn.Module, Config, int], Method]
METHODS: Registry[MethodFactory] = Registry("method")
METHODS.register("context-encoder")(lambda g, d, cfg, n: ContextEncoder(g, d, cfg.method))
METHODS.register("autoencoder")(lambda g, d, cfg, n: Autoencoder(g, d, cfg.method))
METHODS.register("denoising")(lambda g, d, cfg, n: DenoisingAutoencoder(g, d, cfg.method))
METHODS.register("random")(lambda g, d, cfg, n: RandomInit(g, d, cfg.method))
METHODS.register("supervised")(lambda g, d, cfg, n: Supervised(g, d, cfg.method, n))


def output_region(cfg: Config, size: int) -> Region:
    """What the generator predicts: the centre patch for a centre-mask context encoder (and a random init
    compared with it), the whole image otherwise."""
    if cfg.method.name in ("context-encoder", "random"):
        return prediction_region(cfg.mask.type, size)
    return Region(0, size)


def build_method(generator: nn.Module, discriminator: nn.Module | None, cfg: Config, num_classes: int = 0) -> Method:
    return METHODS.get(cfg.method.name)(generator, discriminator, cfg, num_classes)


__all__ = ["METHODS", "Batch", "Method", "build_method", "output_region"]
