"""Data sources (registered by name) and hole masks. Importing this module registers every source."""

from ssl_ce.data import cifar10, folder, photos  # noqa: F401  (explicit registration list)
from ssl_ce.data.datasets import DATASETS, ImageDataset, build_dataset

__all__ = ["DATASETS", "ImageDataset", "build_dataset"]
