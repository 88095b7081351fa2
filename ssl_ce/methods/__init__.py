"""Pretraining methods, registered by name in ssl_ce.registries.METHODS (one module each)."""

from __future__ import annotations

from torch import nn

from ssl_ce.config import Config
from ssl_ce.data.masks import Region, prediction_region, whole_image
from ssl_ce.methods.base import Method, MethodSpec
from ssl_ce.registries import METHODS


def method_spec(cfg: Config) -> MethodSpec:
    return METHODS.get(cfg.method.name)


def output_region(cfg: Config, size: int) -> Region:
    """The square the generator predicts: its mask's hole region for methods that fill holes (and a random
    init compared with them), the whole image otherwise."""
    if method_spec(cfg).predicts == "hole":
        return prediction_region(cfg.mask.type, size)
    return whole_image(size)


def build_method(generator: nn.Module, discriminator: nn.Module | None, cfg: Config, num_classes: int = 0) -> Method:
    """The method of `cfg`; the discriminator is handed over only when the method trains one."""
    spec = method_spec(cfg)
    return spec.build(generator, discriminator if spec.needs_discriminator(cfg.method) else None, cfg, num_classes)


__all__ = ["Method", "MethodSpec", "build_method", "method_spec", "output_region"]
