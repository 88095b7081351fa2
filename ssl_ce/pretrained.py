"""Loading a trained encoder from a checkpoint, strictly: a mismatch is an error, never a partial load."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from torch import nn

from ssl_ce.checkpoint import Checkpoint, load_checkpoint, load_module
from ssl_ce.methods import output_region
from ssl_ce.models import build_model, input_size


@dataclass
class LoadedEncoder:
    encoder: nn.Module  # eval mode; .features(x), .num_features, .feature_layers()
    input_size: int
    checkpoint: Checkpoint


def load_encoder(path: str | Path) -> LoadedEncoder:
    """The encoder saved under `generator.encoder.*` (the same key for every method), in eval mode."""
    ckpt = load_checkpoint(path, prefixes=("generator",))
    size = input_size(ckpt.config.model)
    generator, _ = build_model(ckpt.config.model, output_region(ckpt.config, size).size)
    load_module(generator.encoder, ckpt.module_state("generator.encoder"), f"encoder in {path}")
    return LoadedEncoder(generator.encoder.eval(), size, ckpt)
