"""The online k-NN monitor (`train.knn_every`): is the encoder improving while the loss falls?

Every `knn_every` steps the current encoder embeds a fixed labelled subset of the training split (the gallery)
and of the validation split (the queries, never test), and the weighted k-NN top-1 of the nn-retrieval evaluator
(k = 20, votes exp(cos / 0.07)) goes into metrics.csv as `knn_top1` and onto the loss-curve picture. Both
subsets are decoded once, so a measurement costs one forward pass of the encoder over them; its seconds go
beside it (`knn_seconds`), so every run shows what the monitor cost it.
"""

from __future__ import annotations

import contextlib
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from ssl_ce.config import Config
from ssl_ce.data.batches import to_model_input
from ssl_ce.data.datasets import ImageDataset
from ssl_ce.evaluators.knn import TEMPERATURE, K, build_index, normalise, search, weighted_knn_predict

GALLERY_IMAGES, QUERY_IMAGES = 5000, 1000
SUBSET_SEED = 0


def _subset(dataset, count: int) -> tuple[torch.Tensor, np.ndarray]:
    """A fixed random `count` images of `dataset` (all when it has fewer) and their labels."""
    order = torch.randperm(len(dataset), generator=torch.Generator().manual_seed(SUBSET_SEED))[:count]
    images, labels = dataset.batch(order.sort().values.tolist())
    return images, labels.numpy()


class KnnMonitor:
    """Weighted k-NN top-1 (%) of an encoder on the fixed val queries against the fixed train gallery."""

    COLUMNS = ("knn_top1", "knn_seconds")  # the metrics.csv columns `measure` fills

    def __init__(self, gallery: tuple[torch.Tensor, np.ndarray], queries: tuple[torch.Tensor, np.ndarray],
                 num_classes: int, device: torch.device, autocast: contextlib.AbstractContextManager) -> None:
        self.gallery, self.queries = gallery, queries
        self.num_classes, self.device, self.autocast = num_classes, device, autocast

    @classmethod
    def for_run(cls, cfg: Config, train_set: ImageDataset, val_set: ImageDataset, device: torch.device,
                autocast: contextlib.AbstractContextManager) -> KnnMonitor | None:
        """The monitor of a run on its own train and val splits, or None when it is off or the data have no
        labels (said in a warning)."""
        if cfg.train.knn_every == 0:
            return None
        if len(train_set.class_names) < 2:  # one class: every neighbour votes right, a meaningless 100 %
            shown = f"one class ({train_set.class_names[0]})" if train_set.class_names else "no class labels"
            warnings.warn(f"train.knn_every: the training data have {shown}, so a k-NN accuracy would mean nothing; "
                          "the k-NN monitor is off", stacklevel=2)
            return None
        return cls(_subset(train_set, GALLERY_IMAGES), _subset(val_set, QUERY_IMAGES), len(train_set.class_names),
                   device, autocast)

    @torch.no_grad()
    def _embed(self, encoder: nn.Module, images: torch.Tensor) -> np.ndarray:
        chunks = []
        for start in range(0, len(images), 256):
            with self.autocast:
                chunks.append(encoder.features(to_model_input(images[start:start + 256], self.device)).float().cpu())
        return normalise(torch.cat(chunks))

    def __call__(self, encoder: nn.Module) -> float:
        """top-1 % of the current encoder; its train/eval mode is as it was afterwards."""
        was_training = encoder.training
        encoder.eval()
        try:
            gallery, queries = self._embed(encoder, self.gallery[0]), self._embed(encoder, self.queries[0])
        finally:
            encoder.train(was_training)
        sims, ids = search(build_index(gallery), queries, min(K, len(gallery)))
        votes = weighted_knn_predict(sims, ids, self.gallery[1], self.num_classes, TEMPERATURE)
        return round(100 * float((votes.argmax(1) == self.queries[1]).mean()), 2)

    def measure(self, encoder: nn.Module) -> dict[str, float]:
        """The `COLUMNS` of one measurement: top-1 % and the wall seconds it took."""
        started = time.perf_counter()
        top1 = self(encoder)
        return {"knn_top1": top1, "knn_seconds": round(time.perf_counter() - started, 3)}


def monitor_seconds(run: Path) -> float | None:
    """Seconds the monitor took over a whole run, from its metrics.csv: None for a run without one (random init)
    or logged before the monitor timed itself."""
    metrics = run / "metrics.csv"
    seconds = pd.read_csv(metrics).get("knn_seconds") if metrics.is_file() else None
    return None if seconds is None else float(seconds.sum())
