"""Where and how the nets run: device resolution, the torchrun process group, mixed precision, memory format.
Training and the evaluators both need these, so they live apart from either."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import os
import platform
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.distributed as dist
from torch import nn

from ssl_ce.errors import SslCeError
from ssl_ce.provenance import cpu_features

AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}
NATIVE_BF16_CPU_FEATURES = ("avx512_bf16", "amx_bf16")  # CPUs whose bf16 matrix products run in hardware
SYSTEM_ALLOCATOR_ENV = "SSL_CE_SYSTEM_ALLOCATOR"  # set to 1: leave glibc's malloc as it comes (wave 2's step)
_M_TRIM_THRESHOLD, _M_MMAP_MAX, _M_ARENA_MAX = -1, -4, -8  # glibc's mallopt parameters (malloc.h)


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


def native_bf16(device: torch.device) -> bool:
    """Whether bf16 runs in hardware on `device`. Where it does not (AVX2-only CPUs such as AMD EPYC Zen 2),
    PyTorch emulates it on one thread: paper-128's bottleneck product took 24.7 s in bf16 against 53 ms in fp32 on
    an AMD EPYC (`python benchmarks/precision_speed.py`)."""
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return device.type == "cpu" and any(f in cpu_features() for f in NATIVE_BF16_CPU_FEATURES)


def resolve_precision(precision: str, device: torch.device) -> str:
    """The precision a run uses: `auto` is bf16 where the device runs it natively and fp32 elsewhere. An explicit
    bf16 without native support is kept, as asked, with a warning that it is emulated and slow."""
    native = native_bf16(device)
    if precision == "auto":
        return "bf16" if native else "fp32"
    if precision == "bf16" and not native:
        warnings.warn(f"precision bf16: this {device.type} has no native bf16 (no AVX-512 BF16 or AMX on a CPU), "
                      "so it is emulated and far slower than fp32 (467x on a measured matrix product); "
                      "use precision auto or fp32",
                      stacklevel=1)  # one place, so Python shows it once however many callers resolve it
    return precision


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision for bf16/fp16 (`auto` resolved first); fp32 runs as it is."""
    precision = resolve_precision(precision, device)
    if precision in AUTOCAST_DTYPES:
        return torch.autocast(device.type, AUTOCAST_DTYPES[precision])
    return contextlib.nullcontext()


def place_modules(modules: Iterable[nn.Module], device: torch.device, channels_last: bool) -> None:
    """Move nets to `device` in the memory format their inputs will have (channels_last or NCHW)."""
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    for module in modules:
        module.to(device, memory_format=memory_format)


def keep_freed_memory() -> str:
    """Tell glibc to keep freed memory for the next allocation instead of handing it back to the OS.

    Why: by default glibc maps every block over 32 MB afresh and unmaps it when freed, so the big tensors a
    training step frees and allocates again (the bf16 casts of paper-128's 131 MB bottleneck weights and their
    gradients) are page-faulted in anew on every step: a fresh cast took 24.7 ms against 10.2 ms into reused
    memory, and 8 steps page-faulted 1.8M times against 0.6M. Kept, paper-128's step runs 1.3-1.5x
    faster (`benchmarks/throughput.py`: the default against its "wave 2" row) in about the same resident memory:
    what PyTorch's CPU guides get from preloading jemalloc or tcmalloc, without a preload. Returns what the
    process's allocator now does, for the run's records.
    """
    if os.environ.get(SYSTEM_ALLOCATOR_ENV) == "1":
        return f"system ({SYSTEM_ALLOCATOR_ENV}=1)"
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return "system (not glibc)"
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    # No block mapped on its own, no trimming of the heap's top (-1 turns it off, `man mallopt`), and one arena for
    # all threads, so the oneDNN threads' scratch memory is reused too rather than trimmed from their own heaps.
    settings = ((_M_MMAP_MAX, 0), (_M_TRIM_THRESHOLD, -1), (_M_ARENA_MAX, 1))
    applied = all(libc.mallopt(option, value) == 1 for option, value in settings)
    return "glibc, freed memory kept" if applied else "system (mallopt refused)"


def resident_mb() -> float:
    """This process's resident memory now (VmRSS), in MB; 0 where /proc is absent. A leak shows as growth
    between two equal bursts of work."""
    try:
        status = Path("/proc/self/status").read_text().splitlines()
    except OSError:
        return 0.0
    return next((int(line.split()[1]) / 1024 for line in status if line.startswith("VmRSS")), 0.0)
