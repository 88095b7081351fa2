"""Frozen-encoder features for a dataset split, from any probe-able layer, computed once and cached beside
the checkpoint (the cache is keyed by the checkpoint's content stamp, so a newer checkpoint recomputes)."""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

import torch
import torch.nn.functional as F
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn
from tqdm import tqdm

from ssl_ce.checkpoint import atomic_write_bytes
from ssl_ce.data.batches import to_model_input
from ssl_ce.data.datasets import ImageDataset
from ssl_ce.errors import SslCeError

MAX_SPATIAL_DIMS = 9216  # spatial maps are average-pooled until channels x side^2 fits (AlexNet pool5 size)


def pool_to_vector(fmap: torch.Tensor) -> torch.Tensor:
    """(B, C, H, W) -> (B, C * s * s) with the largest side s <= H such that C * s^2 <= MAX_SPATIAL_DIMS."""
    b, c, h, _ = fmap.shape
    side = h
    while side > 1 and c * side * side > MAX_SPATIAL_DIMS:
        side -= 1
    if side != h:
        fmap = F.adaptive_avg_pool2d(fmap, side)
    return fmap.reshape(b, -1)


def layer_module(encoder: nn.Module, layer: str | None) -> tuple[str, nn.Module]:
    """The named layer (default: the encoder's output, the last of its feature layers)."""
    layers = encoder.feature_layers()
    name = layer or list(layers)[-1]
    if name not in layers:
        raise SslCeError(f"unknown layer {name!r} for this encoder; choose one of: {', '.join(layers)}")
    return name, layers[name]


@torch.no_grad()
def extract(encoder: nn.Module, dataset: ImageDataset, layer: str | None, device: torch.device,
            batch_size: int = 256, progress: bool = True, hole: torch.Tensor | None = None) -> torch.Tensor:
    """Float32 features (N, D) of every image in `dataset` at `layer`; with `hole` (1, 1, H, W), of the images
    with those pixels dropped to the mean, as the context encoder saw them."""
    _, module = layer_module(encoder, layer)
    captured: list[torch.Tensor] = []
    hook = module.register_forward_hook(lambda _m, _i, output: captured.append(output))
    encoder.eval().to(device)
    chunks = []
    try:
        starts = range(0, len(dataset), batch_size)
        for start in tqdm(starts, desc="features", unit="batch", disable=not progress, leave=False):
            images, _ = dataset.batch(list(range(start, min(start + batch_size, len(dataset)))))
            captured.clear()
            x = to_model_input(images, device, channels_last=False)
            encoder(x if hole is None else x * (1 - hole.to(device)))
            chunks.append(pool_to_vector(captured[-1].float()).cpu())
    finally:
        hook.remove()
    return torch.cat(chunks)


def checkpoint_stamp(path: Path) -> str:
    """Changes whenever the checkpoint file is rewritten."""
    stat = path.stat()
    return hashlib.sha1(f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}".encode()).hexdigest()[:16]


def cached_features(checkpoint: Path, encoder: nn.Module, dataset: ImageDataset, key: str, layer: str | None,
                    device: torch.device, progress: bool = True, hole: torch.Tensor | None = None) -> torch.Tensor:
    """`extract`, cached in `<run>/features/<key>-<layer>[-holed].safetensors`."""
    name, _ = layer_module(encoder, layer)
    cache = checkpoint.parent / "features" / f"{key}-{name}{'' if hole is None else '-holed'}.safetensors"
    stamp = checkpoint_stamp(checkpoint)
    if cache.is_file():
        with contextlib.suppress(SafetensorError, OSError), safe_open(str(cache), framework="pt") as f:
            if (f.metadata() or {}).get("checkpoint") == stamp:
                features = f.get_tensor("features")
                if len(features) == len(dataset):
                    return features
    features = extract(encoder, dataset, layer, device, progress=progress, hole=hole)
    with contextlib.suppress(OSError):  # a read-only run directory only costs the cache
        atomic_write_bytes(cache, save({"features": features.contiguous()}, metadata={"checkpoint": stamp}))
    return features
