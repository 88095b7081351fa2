"""Growing a trained net into a wider one of the same layout (more channels, a bigger bottleneck) that computes
exactly what it computed, so a fine-tune can add capacity without starting over (Net2Net's aim, Chen et al.,
ICLR 2016, by its simplest construction).

Every old unit keeps its weights and reads nothing from the new units (those weights are zero). New units
read the old ones through freshly initialised weights, so they compute something and learn from the first
step; their outgoing weights start at zero and get gradients at once. Old units come first in every grown
tensor, as the leading slice.
"""

from __future__ import annotations

import torch
from torch import nn


def _input_dim(module: nn.Module) -> int | None:
    """The weight dimension that indexes a layer's inputs (None for layers that read no other units)."""
    if isinstance(module, nn.ConvTranspose2d):
        return 0
    if isinstance(module, nn.Conv2d | nn.Linear):
        return 1
    return None


def _may_grow(module: nn.Module, key: str, source: torch.Size, target: torch.Size) -> bool:
    """Only unit counts grow: the channel dimensions of convolution and linear weights and the per-unit vectors
    of those layers and of batch norm, never a kernel's size (a wider kernel would compute something else)."""
    owner = module.get_submodule(key.rpartition(".")[0])
    if not isinstance(owner, nn.Conv2d | nn.ConvTranspose2d | nn.Linear | nn.BatchNorm2d | nn.BatchNorm1d):
        return False
    return (len(source) == len(target) and source[2:] == target[2:]
            and all(s <= t for s, t in zip(source[:2], target[:2], strict=True)))


def grown_state(module: nn.Module, state: dict[str, torch.Tensor]
                ) -> tuple[dict[str, torch.Tensor], list[str]] | None:
    """`state` of a narrower net embedded into `module`'s shapes (its current weights serve as the fresh
    init of the new units), and a line per grown tensor; None unless every key matches and no tensor shrinks.
    A state of the same shapes comes back as it is, with no lines."""
    own = module.state_dict()
    if set(own) != set(state):
        return None
    for key, source in state.items():
        target = own[key]
        if source.shape != target.shape and not _may_grow(module, key, source.shape, target.shape):
            return None
    out, grown = {}, []
    for key, target in own.items():
        source = state[key]
        if source.shape == target.shape:
            out[key] = source
            continue
        new = target.detach().clone()
        owner, _, leaf = key.rpartition(".")
        dim = _input_dim(module.get_submodule(owner)) if leaf == "weight" else None
        if dim is not None and source.shape[dim] < new.shape[dim]:
            new.narrow(dim, source.shape[dim], new.shape[dim] - source.shape[dim]).zero_()
        new[tuple(slice(0, n) for n in source.shape)] = source.to(new.dtype)
        out[key] = new
        grown.append(f"{key} {tuple(source.shape)} -> {tuple(target.shape)}")
    return out, grown
