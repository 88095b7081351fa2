"""`ssl-ce eval classification`: linear probe on frozen features and end-to-end fine-tuning."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import torch

from ssl_ce.data import build_dataset
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import (
    DataOptions,
    Evaluator,
    device_option,
    eval_data_config,
    feature_key,
    option,
    pretraining_columns,
    register,
    seed_option,
    split_option,
)
from ssl_ce.evaluators.features import cached_features, layer_module
from ssl_ce.evaluators.finetune import FinetuneSettings, finetune
from ssl_ce.evaluators.linear_probe import linear_probe
from ssl_ce.pretrained import load_trained_encoder
from ssl_ce.provenance import row_stamp
from ssl_ce.runtime import resolve_device, resolve_precision

COLUMNS = ["method", "checkpoint", "model", "mask", "pretrain_data", "pretrain_steps", "pretrain_seed", "eval_data",
           "split", "protocol", "layer", "labels_per_class", "top1_pct", "top5_pct", "hyperparameters", "seed",
           "wall_time_s", "ssl_ce_version", "git_commit", "date"]


@dataclass(frozen=True)
class ClassificationOptions(DataOptions):
    protocol: str = option("both", "linear: a probe on frozen features; finetune: the whole encoder trained end to "
                           "end; both.", type=click.Choice(["linear", "finetune", "both"]))
    layer: str | None = option(None, "Encoder layer for the linear probe, e.g. conv3 [default: encoder output].")
    labels_per_class: int | None = option(None, "Use only N labelled training images per class.", type=int)
    finetune_epochs: int = option(5, "Epochs of fine-tuning.")
    split: str = split_option()  # the split scored; the probe and the fine-tune train on the train split
    seed: int = seed_option()
    device: str = device_option()


def labelled_subset(labels: torch.Tensor, per_class: int | None, seed: int) -> torch.Tensor:
    """Indices of `per_class` random images of every class (all labelled images when None)."""
    labelled = (labels >= 0).nonzero().flatten()
    if per_class is None:
        return labelled
    generator = torch.Generator().manual_seed(seed)
    chosen = []
    for cls in labels[labelled].unique():
        idx = (labels == cls).nonzero().flatten()
        if len(idx) < per_class:
            raise SslCeError(f"--labels-per-class {per_class}: class {int(cls)} has only {len(idx)} training images")
        chosen.append(idx[torch.randperm(len(idx), generator=generator)[:per_class]])
    return torch.cat(chosen).sort().values


def run_classification(checkpoint: Path, options: ClassificationOptions, results_dir: str = "results",
                       progress: bool = True) -> list[dict[str, Any]]:
    """Rows for results/classification.csv (`results_dir` is unused: this evaluator writes no pictures)."""
    protocol, labels_per_class, seed = options.protocol, options.labels_per_class, options.seed
    loaded = load_trained_encoder(checkpoint)
    data_cfg = eval_data_config(loaded.checkpoint.config.data, options.dataset, options.data_root)
    train_set = build_dataset(data_cfg, "train", loaded.input_size)
    scored_set = build_dataset(data_cfg, options.split, loaded.input_size)
    num_classes = len(train_set.class_names)
    if num_classes < 2:
        raise SslCeError(f"{data_cfg.source} at {data_cfg.root} has no class labels; classification needs a "
                         "labelled dataset (a folder needs class sub-folders)")
    if labels_per_class is not None and labels_per_class < 2:
        raise SslCeError("--labels-per-class must be >= 2 (one for validation, one for training)")
    train_idx = labelled_subset(train_set.labels, labels_per_class, seed)
    torch_device = resolve_device(options.device)
    layer_name, _ = layer_module(loaded.encoder, options.layer)
    cfg = loaded.checkpoint.config
    base = {**pretraining_columns(cfg, loaded.checkpoint.step), "checkpoint": str(checkpoint),
            "eval_data": data_cfg.source, "split": options.split, "labels_per_class": labels_per_class or "all",
            "seed": seed}
    rows = []
    if protocol in ("linear", "both"):
        start = time.perf_counter()
        size = loaded.input_size
        train_x = cached_features(checkpoint, loaded.encoder, train_set, feature_key(data_cfg, size, "train"),
                                  layer_name, torch_device, progress)
        scored_x = cached_features(checkpoint, loaded.encoder, scored_set, feature_key(data_cfg, size, options.split),
                                   layer_name, torch_device, progress)
        result = linear_probe(train_x[train_idx], train_set.labels[train_idx], scored_x, scored_set.labels,
                              num_classes, seed)
        rows.append(_row(base, "linear", layer_name, result.top1, result.top5,
                         f"features={train_x.shape[1]};weight_decay={result.weight_decay:g};"
                         f"val_top1={100 * result.val_top1:.2f}", start))
    if protocol in ("finetune", "both"):
        start = time.perf_counter()
        settings = FinetuneSettings(epochs=options.finetune_epochs)
        result = finetune(loaded.encoder, train_set, train_idx, scored_set, num_classes, settings, torch_device,
                          seed, progress)
        rows.append(_row(base, "finetune", list(loaded.encoder.feature_layers())[-1], result.top1, result.top5,
                         f"epochs={settings.epochs};head_lr={settings.head_lr:g};"
                         f"encoder_lr={settings.head_lr * settings.encoder_lr_ratio:g};batch={settings.batch_size};"
                         f"precision={resolve_precision(settings.precision, torch_device)}", start))
    return rows


def _row(base: dict[str, Any], protocol: str, layer: str, top1: float, top5: float | None, hyper: str,
         start: float) -> dict[str, Any]:
    return {**base, "protocol": protocol, "layer": layer, "top1_pct": round(100 * top1, 2),
            "top5_pct": "" if top5 is None else round(100 * top5, 2), "hyperparameters": hyper,
            "wall_time_s": round(time.perf_counter() - start, 1), **row_stamp()}


CLASSIFICATION = register(Evaluator(
    name="classification",
    help="Linear probe (frozen features, L2 strength chosen on a validation split) and fine-tuning.",
    csv_name="classification.csv",
    columns=COLUMNS,
    run=run_classification,
    options=ClassificationOptions,
))
