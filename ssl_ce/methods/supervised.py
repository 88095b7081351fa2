"""The upper bound: the same encoder trained with labels through a linear head (cross-entropy)."""

from __future__ import annotations

import torch
from torch import nn

from ssl_ce.config import Config
from ssl_ce.data.batches import Batch
from ssl_ce.errors import SslCeError
from ssl_ce.methods.base import NoAdversary, method
from ssl_ce.methods.losses import classification_losses


class Classifier(nn.Module):
    """encoder -> flat features -> linear head. Saved as `generator`, so `generator.encoder.*` is the encoder
    for every method alike."""

    def __init__(self, encoder: nn.Module, num_classes: int) -> None:
        super().__init__()
        self.encoder = encoder
        self.head = nn.Linear(encoder.num_features, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.encoder.features(x))


@method("supervised", predicts="labels", needs_labels=True)
class Supervised(NoAdversary):
    def __init__(self, generator: nn.Module, discriminator: nn.Module | None, cfg: Config,
                 num_classes: int = 0) -> None:
        if num_classes < 2:
            raise SslCeError("method supervised needs a labelled dataset (photos, cifar10, or a folder with class "
                             "sub-folders)")
        self.generator = Classifier(generator.encoder, num_classes)

    def predict(self, batch: Batch) -> torch.Tensor:
        return self.generator(batch.images)

    def generator_losses(self, batch: Batch, pred: torch.Tensor) -> dict[str, torch.Tensor]:
        return classification_losses(pred, batch.labels, "train_acc")

    def sample(self, batch: Batch, pred: torch.Tensor) -> None:
        return None
