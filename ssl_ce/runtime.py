"""Where and how the nets run: device resolution, the torchrun process group, mixed precision, memory format.
Training and the evaluators both need these, so they live apart from either."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable
from dataclasses import dataclass

import torch
import torch.distributed as dist
from torch import nn

from ssl_ce.errors import SslCeError

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass(frozen=True)
class Dist:
    """This process's place in a torchrun job (rank 0 of 1 when launched plainly)."""

    rank: int = 0
    world: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def setup_distributed() -> Dist:
    """Joins the process group when launched by torchrun (WORLD_SIZE > 1); a no-op otherwise."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world <= 1:
        return Dist()
    if not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    return Dist(dist.get_rank(), world, int(os.environ.get("LOCAL_RANK", "0")))


def resolve_device(name: str, ddp: Dist | None = None) -> torch.device:
    """auto, cpu, cuda or cuda:N -> a device; under torchrun each rank takes its local GPU."""
    ddp = ddp or Dist()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise SslCeError("train.device is cuda but no CUDA device is visible; use --device cpu")
        device = torch.device(f"cuda:{ddp.local_rank}" if ddp.world > 1 else name)
        if device.index is None:  # set_device refuses a bare "cuda"
            device = torch.device("cuda", torch.cuda.current_device())
        torch.cuda.set_device(device)
        return device
    return torch.device(name)


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision for bf16/fp16; fp32 runs as it is."""
    if precision in AUTOCAST_DTYPES:
        return torch.autocast(device.type, AUTOCAST_DTYPES[precision])
    return contextlib.nullcontext()


def place_modules(modules: Iterable[nn.Module], device: torch.device, channels_last: bool) -> None:
    """Move nets to `device` in the memory format their inputs will have (channels_last or NCHW)."""
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    for module in modules:
        module.to(device, memory_format=memory_format)
