"""The three disjoint splits every data source has: train (pretraining and probe training), val (every choice:
recipes, checkpoints, hyper-parameters) and test (scored once, by the committed report recipe).

A source that ships only train and test carves val out of train here, stratified by class and seeded by a
constant, so the carve-out is the same on every machine and no image is ever in two splits.
"""

from __future__ import annotations

import torch

from ssl_ce.errors import SslCeError

SPLITS = ("train", "val", "test")
VAL_FRACTION = 0.1  # of the training images, per class
SPLIT_SEED = 20161  # fixed: the carve-out is part of the benchmark's definition, not of a run


def check_split(split: str) -> None:
    if split not in SPLITS:
        raise SslCeError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")


def stratified_split(labels: torch.Tensor, fraction: float, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices (keep, held_out) with `fraction` of every class held out (at least one where a class has 2+)."""
    rng = torch.Generator().manual_seed(seed)
    keep, held = [], []
    for cls in labels.unique():
        idx = (labels == cls).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=rng)]
        n_held = min(len(idx) - 1, max(1, round(fraction * len(idx)))) if len(idx) > 1 else 0
        held.append(idx[:n_held])
        keep.append(idx[n_held:])
    return torch.cat(keep).sort().values, torch.cat(held).sort().values


def carve_val(labels: torch.Tensor, split: str) -> torch.Tensor:
    """Indices of a shipped training set that belong to `split` ("train" or "val"): VAL_FRACTION of every
    class goes to val, the rest stays in train."""
    keep, held = stratified_split(labels, VAL_FRACTION, SPLIT_SEED)
    return held if split == "val" else keep
