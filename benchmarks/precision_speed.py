"""bf16 against fp32 on this machine's CPU, for the product that holds most of paper-128's FLOPs (its 4000-d
bottleneck to the decoder's first 512 x 4 x 4 map, batch 64): why `precision: auto` picks fp32 where bf16 is not
native (ssl_ce/runtime.py). A few seconds where bf16 is native; over a minute where it is emulated (on one thread).

    python benchmarks/precision_speed.py
"""

from __future__ import annotations

import torch

from ssl_ce.provenance import environment, machine_line
from ssl_ce.runtime import native_bf16, resolve_precision
from ssl_ce.timing import best_seconds

CPU = torch.device("cpu")


def product_seconds(dtype: torch.dtype, batch: int = 64, bottleneck: int = 4000, out: int = 512 * 4 * 4) -> float:
    """Best of two timed (batch x bottleneck) @ (bottleneck x out) products after one warm-up."""
    a, b = torch.randn(batch, bottleneck, dtype=dtype), torch.randn(bottleneck, out, dtype=dtype)
    return best_seconds(lambda: a @ b, 2, warmup=1)


def main() -> None:
    fp32, bf16 = product_seconds(torch.float32), product_seconds(torch.bfloat16)
    env = environment(CPU)
    print(f"{machine_line(env)}; CPU features: {env['cpu_features'] or 'none listed'}")
    print(f"64 x 4000 x 8192 product: fp32 {fp32 * 1000:.1f} ms, bf16 {bf16 * 1000:.1f} ms, "
          f"bf16/fp32 {bf16 / fp32:.1f}x")
    print(f"native bf16: {native_bf16(CPU)}; precision auto runs {resolve_precision('auto', CPU)}")


if __name__ == "__main__":
    main()
