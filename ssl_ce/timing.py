"""Wall-clock timing for the speed benchmarks, in one place: a GPU runs asynchronously, so a call is timed between
two synchronisations, and on a shared machine noise only ever adds time, so the fastest of several runs counts."""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

CPU = torch.device("cpu")


def synchronize(device: torch.device) -> None:
    """Wait for the device's queued work (a no-op on the CPU, which runs every op before returning)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds(fn: Callable[[], object], device: torch.device = CPU) -> float:
    """Wall time of one call of `fn`, including the device work it queued."""
    synchronize(device)
    start = time.perf_counter()
    fn()
    synchronize(device)
    return time.perf_counter() - start


def best_seconds(fn: Callable[[], object], repeats: int, device: torch.device = CPU, warmup: int = 0) -> float:
    """The fastest of `repeats` timed calls, after `warmup` untimed ones."""
    for _ in range(warmup):
        fn()
    return min(seconds(fn, device) for _ in range(repeats))


def matmul_gflops(rows: int, inner: int, cols: int, repeats: int, dtype: torch.dtype = torch.float32,
                  device: torch.device = CPU, warmup: int = 0) -> float:
    """The machine's rate in GFLOP/s for a (rows x inner) @ (inner x cols) product of random `dtype` matrices."""
    a = torch.randn(rows, inner, device=device, dtype=dtype)
    b = torch.randn(inner, cols, device=device, dtype=dtype)
    return 2 * rows * inner * cols / best_seconds(lambda: a @ b, repeats, device, warmup) / 1e9
