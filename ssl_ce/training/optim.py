"""The optimisers (Adam for G, and for D when the method has one), their exact restore on resume, and
torch.compile of the nets they update."""

from __future__ import annotations

import torch

from ssl_ce.config import Config
from ssl_ce.methods import Method


def make_optimizers(method: Method, cfg: Config, device: torch.device) -> dict[str, torch.optim.Optimizer]:
    """Adam for G (and D when the method has one), fused into one kernel per step unless turned off."""
    betas = (cfg.optim.beta1, cfg.optim.beta2)
    fused = cfg.train.fused_adam and device.type in ("cpu", "cuda")
    optimizers = {"g": torch.optim.Adam(method.generator.parameters(), lr=cfg.optim.lr_g, betas=betas, fused=fused)}
    if method.discriminator is not None:
        optimizers["d"] = torch.optim.Adam(method.discriminator.parameters(), lr=cfg.optim.lr_d, betas=betas,
                                           fused=fused)
    return optimizers


def restore_optimizer(optimizer: torch.optim.Optimizer, state: dict) -> None:
    """load_state_dict, then give each moment tensor its parameter's memory layout: checkpoints store them
    contiguous, and fused Adam walks parameter and moments as raw memory, so a channels_last weight with a
    contiguous moment would be updated with the wrong moments."""
    optimizer.load_state_dict(state)
    for group in optimizer.param_groups:
        for param in group["params"]:
            moments = optimizer.state.get(param, {})
            for key, value in moments.items():
                if torch.is_tensor(value) and value.shape == param.shape and value.stride() != param.stride():
                    moments[key] = torch.empty_like(param, dtype=value.dtype).copy_(value)


def compile_modules(method: Method, cfg: Config) -> None:
    """torch.compile in place (`Module.compile`), so state_dict keys and checkpoints stay the same."""
    if cfg.train.compile:
        method.generator.compile()
        if method.discriminator is not None:
            method.discriminator.compile()
