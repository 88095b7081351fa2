"""The floor: no training at all. The initialised weights are saved as a checkpoint, so a random encoder is
evaluated exactly like a trained one."""

from __future__ import annotations

from torch import nn

from ssl_ce.config import Config
from ssl_ce.methods.base import method
from ssl_ce.methods.reconstruction import Autoencoder


@method("random", predicts="hole")  # shaped like the context encoder it is the floor for
class RandomInit(Autoencoder):
    trains = False

    def __init__(self, generator: nn.Module, discriminator: nn.Module | None, cfg: Config,
                 num_classes: int = 0) -> None:
        super().__init__(generator, None, cfg)
