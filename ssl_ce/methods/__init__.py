"""Pretraining methods, registered by name. Importing this module registers every method."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ssl_ce.config import MethodConfig
from ssl_ce.methods.base import Batch, Method
from ssl_ce.methods.context_encoder import ContextEncoder
from ssl_ce.registry import Registry

MethodFactory = Callable[[nn.Module, nn.Module, MethodConfig], Method]
METHODS: Registry[MethodFactory] = Registry("method")
METHODS.register("context-encoder")(ContextEncoder)


def build_method(generator: nn.Module, discriminator: nn.Module, cfg: MethodConfig) -> Method:
    return METHODS.get(cfg.name)(generator, discriminator, cfg)


__all__ = ["METHODS", "Batch", "Method", "build_method"]
