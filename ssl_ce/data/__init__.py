"""Data: sources (registered in ssl_ce.registries.DATASETS), hole masks, and the batches a step trains on."""

from ssl_ce.data.datasets import ImageDataset, build_dataset

__all__ = ["ImageDataset", "build_dataset"]
