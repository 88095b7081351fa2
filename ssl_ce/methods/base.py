"""The contract every pretraining method meets, so one loop, data and logging serve all of them, and what each
method declares about itself so that no code elsewhere needs to ask for a method by name."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, Protocol

import torch
from torch import nn

from ssl_ce.config import Config, MethodConfig
from ssl_ce.data.batches import Batch
from ssl_ce.registries import METHODS


class Method(Protocol):
    """A batch in, named losses out.

    `generator` is what the loop optimises with the G optimiser and saves under "generator" (its `encoder`
    is what the evaluators judge); `discriminator` is None for methods without an adversary. A method with
    `trains = False` (random init) is saved as initialised.
    """

    generator: nn.Module
    discriminator: nn.Module | None
    trains: bool

    def predict(self, batch: Batch) -> torch.Tensor:
        """The generator's output for the batch."""

    def discriminator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses for the discriminator step; key `d_total` is minimised."""

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        """Losses for the generator step; key `g_total` is minimised."""

    def sample(self, batch: Batch, pred: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(what the network saw, what it made) as images for the per-epoch grid; None if not an image."""


MethodFactory = Callable[[nn.Module, "nn.Module | None", Config, int], Method]


def _no(cfg: MethodConfig) -> bool:
    return False


def _plain_label(cfg: Config) -> str:
    return cfg.method.name


@dataclass(frozen=True)
class MethodSpec:
    """A registered method.

    predicts: what the generator outputs: "hole" (the region its mask's holes fill: the centre square for
      centre holes, else the whole image), "image" (the whole image) or "labels" (class scores: not an inpainter).
    needs_labels: trains on class labels, so the data must have them.
    needs_discriminator(method config): whether the run builds and trains an adversary.
    label(config): how tables, grids and `ssl-ce info` name a model trained with this config.
    rec_losses: the `method.rec_loss` values it supports (config validation refuses the others).
    """

    build: MethodFactory
    predicts: Literal["hole", "image", "labels"] = "image"
    needs_labels: bool = False
    needs_discriminator: Callable[[MethodConfig], bool] = _no
    label: Callable[[Config], str] = _plain_label
    rec_losses: tuple[str, ...] = ("l2",)

    @property
    def inpaints(self) -> bool:
        return self.predicts != "labels"


def method(name: str, **declared: object) -> Callable[[type], type]:
    """Registers a method class (constructed as `cls(generator, discriminator, cfg, num_classes)`) under `name`,
    with what it declares about itself (MethodSpec's fields)."""

    def register(cls: type) -> type:
        METHODS.register(name)(MethodSpec(build=cls, **declared))  # type: ignore[arg-type]
        return cls

    return register


class NoAdversary:
    """Mixin for methods trained by the generator step alone."""

    discriminator = None
    trains = True

    def discriminator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        raise RuntimeError(f"{type(self).__name__} has no discriminator")
