"""Training-step throughput (img/s) of ssl-ce's own step, per model and precision, on this machine.

Times `ssl_ce.train.train_step` (D step + G step, the real loop's code) on synthetic images with the
model's centre mask, after warm-up steps. Prints a table and writes results/train_speed.csv.

    python benchmarks/train_speed.py [--models small-32 paper-128] [--precisions fp32 bf16] [--steps 10]
"""

from __future__ import annotations

import argparse
import contextlib
import platform
import time
from pathlib import Path

import pandas as pd
import torch

from ssl_ce.config import Config, ModelConfig
from ssl_ce.methods import build_method, output_region
from ssl_ce.models import build_model, input_size
from ssl_ce.provenance import git_commit
from ssl_ce.train import AUTOCAST_DTYPES, make_batch, train_step

BATCH = {"small-32": 64, "paper-128": 32, "alexnet-227": 32}


def measure(model: str, precision: str, steps: int, warmup: int, channels_last: bool) -> dict:
    cfg = Config(model=ModelConfig(name=model))
    size = input_size(cfg.model)
    batch_size = BATCH[model]
    generator, discriminator = build_model(cfg.model, output_region(cfg, size).size)
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    generator.to(memory_format=memory_format)
    discriminator.to(memory_format=memory_format)
    method = build_method(generator, discriminator, cfg)
    optimizers = {"g": torch.optim.Adam(generator.parameters(), lr=cfg.optim.lr_g, betas=(0.5, 0.999)),
                  "d": torch.optim.Adam(discriminator.parameters(), lr=cfg.optim.lr_d, betas=(0.5, 0.999))}
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    autocast = torch.autocast("cpu", AUTOCAST_DTYPES[precision]) if precision != "fp32" else contextlib.nullcontext()
    images = torch.randint(0, 256, (batch_size, 3, size, size), dtype=torch.uint8)
    labels = torch.zeros(batch_size, dtype=torch.long)
    times = []
    for step in range(warmup + steps):
        batch = make_batch(images, labels, cfg, torch.Generator().manual_seed(step), torch.device("cpu"), train=True)
        start = time.perf_counter()
        losses = train_step(method, batch, optimizers, scaler, autocast)
        float(losses["g_total"])  # wait for the step to finish
        if step >= warmup:
            times.append(time.perf_counter() - start)
    median = sorted(times)[len(times) // 2]
    return {"model": model, "precision": precision, "channels_last": channels_last, "batch": batch_size,
            "img_per_s": round(batch_size / median, 1), "step_ms_median": round(median * 1000, 1),
            "steps_timed": steps, "threads": torch.get_num_threads(), "torch": torch.__version__,
            "cpu": platform.processor() or platform.machine(), "git_commit": git_commit()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["small-32", "paper-128"])
    parser.add_argument("--precisions", nargs="+", default=["fp32", "bf16"])
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent.parent / "results" / "train_speed.csv"))
    args = parser.parse_args()
    torch.manual_seed(0)
    rows = [measure(m, p, args.steps, args.warmup, channels_last=True) for m in args.models for p in args.precisions]
    frame = pd.DataFrame(rows)
    base = frame[frame.precision == "fp32"].set_index("model")["img_per_s"]
    frame["speedup_vs_fp32"] = [round(r.img_per_s / base[r.model], 2) if r.model in base else None
                                for r in frame.itertuples()]
    shown = ["model", "precision", "batch", "img_per_s", "step_ms_median", "speedup_vs_fp32"]
    print(frame[shown].to_string(index=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
