"""Training throughput against this machine's limit: ssl-ce's step, each speed option, and a plain reference.

For each model (small-32, paper-128, alexnet-227) it times one full training step (discriminator + generator,
centre mask, synthetic images) as:

- `reference fp32 eager`: written the way the public PyTorch ports do it: fp32, default memory format, plain
  (for-loop) Adam, plain convolutions to and from the bottleneck, and `.item()` on the losses every step;
- `ssl-ce fp32`: ssl-ce's own `train_step` with every option off;
- each option alone on top of it (the bottleneck layers as matrix products (models/dense.py), channels_last,
  bf16 or fp16 autocast, fused Adam, torch.compile);
- `ssl-ce default`: what `ssl-ce pretrain` does unless told otherwise (the TrainConfig defaults, and glibc told
  to keep freed memory: `ssl_ce.runtime.keep_freed_memory`);
- `ssl-ce default, D weight grads in the G step`: the default without the generator step's frozen D
  (`train_step(freeze_adversary=False)`), which computed D's unused weight gradients;
- `ssl-ce default (wave 2)`: the same step with glibc's malloc as it comes and D's weight gradients in the G step,
  as wave 2 trained, measured in a fresh process (a process cannot undo the allocator setting), so every run
  measures the new default against it.

Model FLOPs per step are counted once with torch's FlopCounterMode (forward + backward of both nets, the work
the default step does: without the G step's unused D weight gradients, which wave 2 also computed), so every
row shows its model FLOP/s and the fraction of this machine's measured matmul peak for its precision. Every
variant is timed `--repeats` times (all variants, then all again), each time the median of `--steps` steps; a
row gives the mean of those medians and their spread, and names the CPU or GPU, the commit and torch.
Prints a table and writes results/throughput.csv.

    python benchmarks/throughput.py [--models small-32 paper-128 alexnet-227] [--steps 20] [--repeats 2]
                                    [--device auto] [--batch N]
                                    [--update]   # replace only these models' rows in results/throughput.csv
                                    [--profile N]  # also: torch.profiler's op table of N steps of each variant

With `--profile`, throughput_profile_<cpu>.md beside --out gets, for every variant measured, the share of CPU time of
the ops that take most of a step (what keeps the step from the machine's limit).
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing
import platform
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch
import torch.nn.functional as F
from torch.utils.flop_counter import FlopCounterMode

from ssl_ce.config import Config, ModelConfig, TrainConfig
from ssl_ce.data.batches import make_batch
from ssl_ce.methods.losses import masked_l2
from ssl_ce.models import input_size
from ssl_ce.models.dense import matmul_bottleneck
from ssl_ce.provenance import environment
from ssl_ce.results import markdown_table
from ssl_ce.runtime import (
    Dist,
    keep_freed_memory,
    native_bf16,
    resolve_device,
    resolve_precision,
)
from ssl_ce.timing import matmul_gflops, seconds
from ssl_ce.training.loop import build_training, train_step
from ssl_ce.training.optim import compile_modules

REPO = Path(__file__).resolve().parent.parent
BATCH = {"small-32": 128, "paper-128": 64, "alexnet-227": 64}  # the batch each trains with in configs/
SPEED_OPTIONS = ("precision", "channels_last", "fused_adam", "compile")
OPTIONS_OFF = TrainConfig(precision="fp32", channels_last=False, compile=False, fused_adam=False)
WAVE2 = "ssl-ce default (wave 2)"  # glibc's malloc as it comes: run in a process that never called mallopt
UNFROZEN = "ssl-ce default, D weight grads in the G step"
NCHW = "ssl-ce default, NCHW"  # channels_last off: a memory format that pays on some CPU kinds and not on others


def freezes_adversary(label: str) -> bool:
    """Whether a variant's G step skips D's weight gradients (all but the two that show the step without it)."""
    return label not in (WAVE2, UNFROZEN)


def matmul_peak(dtype: torch.dtype, device: torch.device, repeats: int = 5) -> float:
    """The machine's measured matmul rate in GFLOP/s for `dtype` (best of `repeats` n x n x n products; n = 8192
    on a GPU, which a 2048 product leaves partly idle, 2048 on a CPU)."""
    n = 8192 if device.type == "cuda" else 2048
    # cuDNN runs fp32 convolutions as TF32 unless told not to, so fp32 rows are judged against the TF32 peak
    # (several times the true-fp32 one on recent GPUs), not against a rate the convolutions never aim at.
    tf32 = device.type == "cuda" and dtype == torch.float32 and torch.backends.cudnn.allow_tf32
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = tf32 or saved
    try:
        return matmul_gflops(n, n, n, repeats + 1, dtype, device)
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved


def setup(model: str, train_cfg: TrainConfig, device: torch.device, seed: int = 0, matmul: bool = True):
    """(cfg, method, optimizers, scaler, autocast, batches) for one variant, built the way `train` builds them
    (`matmul` False: plain convolutions to and from the bottleneck, as in the public ports)."""
    torch.manual_seed(seed)
    cfg = Config(model=ModelConfig(name=model), train=train_cfg)
    method, modules, optimizers, _, scaler, autocast = build_training(cfg, device, num_classes=0)
    for net in modules.values():
        matmul_bottleneck(net, matmul)
    # A fresh compile cache per variant, as in a training run: the nets of earlier variants and models would
    # otherwise use up dynamo's recompile limit, and the later compiled rows would silently run eager.
    torch._dynamo.reset()
    compile_modules(method, cfg)
    size, batch_size = input_size(cfg.model), BATCH[model]
    images = torch.randint(0, 256, (batch_size, 3, size, size), dtype=torch.uint8)
    labels = torch.zeros(batch_size, dtype=torch.long)
    batches = [make_batch(images, labels, cfg, torch.Generator().manual_seed(s), device, train=True) for s in range(4)]
    return cfg, method, optimizers, scaler, autocast, batches


def reference_step(method, batch, optimizers, cfg: Config) -> tuple[float, float]:
    """One step as the public ports write it: separate passes, plain fp32, a host sync on every loss."""
    net_g, net_d = method.generator, method.discriminator
    real = batch.masks.region.crop(batch.images)
    fake = net_g(batch.masks.apply(batch.images))
    optimizers["d"].zero_grad()
    out_real = net_d(real)
    err_d_real = F.binary_cross_entropy_with_logits(out_real, torch.ones_like(out_real))
    err_d_real.backward()
    out_fake = net_d(fake.detach())
    err_d_fake = F.binary_cross_entropy_with_logits(out_fake, torch.zeros_like(out_fake))
    err_d_fake.backward()
    optimizers["d"].step()
    optimizers["g"].zero_grad()
    out = net_d(fake)
    err_g_adv = F.binary_cross_entropy_with_logits(out, torch.ones_like(out))
    err_g_l2 = masked_l2(fake, real, batch.masks.weight)
    err_g = cfg.method.adv_weight * err_g_adv + cfg.method.rec_weight * err_g_l2
    err_g.backward()
    optimizers["g"].step()
    return err_d_real.item() + err_d_fake.item(), err_g.item()


def step_flops(model: str, device: torch.device) -> int:
    """Model FLOPs of one fp32 training step (both nets, forward and backward), counted by torch."""
    _, method, optimizers, scaler, autocast, batches = setup(model, OPTIONS_OFF, device)
    with FlopCounterMode(display=False) as counter:
        train_step(method, batches[0], optimizers, scaler, autocast)
    return counter.get_total_flops()


def measure(model: str, variant: Variant, device: torch.device, steps: int, warmup: int) -> dict:
    """Median step time of one variant; `train_cfg` None means the reference step (which syncs every step,
    while ssl-ce's loop reads its losses back once every LOG_EVERY steps)."""
    label, train_cfg, matmul = variant
    reference = train_cfg is None
    train_cfg = train_cfg or OPTIONS_OFF
    cfg, method, optimizers, scaler, autocast, batches = setup(model, train_cfg, device, matmul=matmul)

    def one_step(step: int) -> None:
        batch = batches[step % len(batches)]
        if reference:
            reference_step(method, batch, optimizers, cfg)
        else:
            losses = train_step(method, batch, optimizers, scaler, autocast, freezes_adversary(label))
            if step == warmup + steps - 1:
                float(losses["g_total"])

    times = [seconds(lambda step=step: one_step(step), device) for step in range(warmup + steps)][warmup:]
    median = sorted(times)[len(times) // 2]
    options = {name: getattr(train_cfg, name) for name in SPEED_OPTIONS}
    options["precision"] = resolve_precision(train_cfg.precision, device)  # what the default's `auto` ran
    options["matmul_bottleneck"] = matmul
    options["sync_every_step"] = reference
    return {"model": model, "variant": label, **options, "batch": BATCH[model],
            "img_per_s": BATCH[model] / median, "step_ms": median * 1000}


def profile(model: str, variant: Variant, device: torch.device, steps: int, top: int = 12) -> pd.DataFrame:
    """The ops taking most of the self CPU time of `steps` steps of one variant (after two warm-up steps)."""
    label, train_cfg, matmul = variant
    assert train_cfg is not None, "the reference step is not profiled"
    _, method, optimizers, scaler, autocast, batches = setup(model, train_cfg, device, matmul=matmul)
    freeze = freezes_adversary(label)
    for step in range(2):
        train_step(method, batches[step], optimizers, scaler, autocast, freeze)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        for step in range(steps):
            losses = train_step(method, batches[step % len(batches)], optimizers, scaler, autocast, freeze)
        float(losses["g_total"])
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    frame = pd.DataFrame([{"op": e.key, "calls per step": e.count / steps,
                           "share of CPU time %": 100 * e.self_cpu_time_total / total,
                           "ms per step": e.self_cpu_time_total / 1000 / steps} for e in events])
    return frame.sort_values("share of CPU time %", ascending=False).head(top).round(2)


def write_profiles(tables: list[tuple[str, str, pd.DataFrame]], env: dict, steps: int, folder: Path) -> Path:
    """throughput_profile_<cpu>.md in `folder`: one op table per (model, variant), headed by the machine."""
    kind = "_".join(f for f in ("amx_bf16", "avx512_bf16", "avx512f", "avx2") if f in env["cpu_features"].split())
    out = folder / f"throughput_profile_{kind.split('_')[0] if kind else 'cpu'}.md"
    lines = [f"# Where a training step's time goes: {env['device_name']}", "",
             f"CPU flags: {env['cpu_features']}; {torch.get_num_threads()} threads; torch {env['torch']}; "
             f"commit {env['git_commit']}. Self CPU time of {steps} steps (after 2 warm-up steps), by op.", "",
             f"    python benchmarks/throughput.py --profile {steps} ...", ""]
    for model, label, frame in tables:
        lines += [f"## {model}: {label}", "", markdown_table(frame.set_index("op")), ""]
    folder.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(lines))
    return out


def in_its_process(fn: Callable, model: str, variant: Variant, *rest):
    """fn(model, variant, *rest) here, or for the wave-2 variant in a fresh process that keeps glibc's malloc."""
    if variant[0] != WAVE2:
        return fn(model, variant, *rest)
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, (model, variant, *rest))


def speedup_vs(frame: pd.DataFrame, label: str) -> list[float]:
    """Each row's img/s over the img/s of its model's `label` row (NaN where that variant was not measured)."""
    base = frame[frame.variant == label].set_index("model")["img_per_s"]
    return [r.img_per_s / base[r.model] if r.model in base else float("nan") for r in frame.itertuples()]


def combine(measured: tuple[dict, ...]) -> dict:
    """One row from repeated measurements of a variant: the mean of their medians, each median, and the spread
    (max - min over the mean), which says how far apart two rows must be to differ."""
    rates = [m["img_per_s"] for m in measured]
    mean = sum(rates) / len(rates)
    return {**measured[0], "img_per_s": mean, "step_ms": sum(m["step_ms"] for m in measured) / len(measured),
            "img_per_s_each": " / ".join(f"{r:.1f}" for r in rates),
            "spread_pct": 100 * (max(rates) - min(rates)) / mean}


Variant = tuple[str, TrainConfig | None, bool]  # label, train options (None: the reference step), matmul bottleneck


def variants(device: torch.device) -> list[Variant]:
    """The reference, ssl-ce with everything off, each option alone (fp16 on CUDA only; bf16 only where it is
    native, since emulated bf16 ran paper-128's bottleneck product 467x slower than fp32), and the defaults."""
    off = OPTIONS_OFF
    bf16 = native_bf16(device)
    fast = dataclasses.replace(off, precision="bf16" if bf16 else "fp32", channels_last=True, fused_adam=True)
    return [("reference fp32 eager", None, False), ("ssl-ce fp32, options off", off, False),
            ("+ bottleneck as matmul", off, True),
            ("+ channels_last", dataclasses.replace(off, channels_last=True), False),
            *([("+ bf16 autocast", dataclasses.replace(off, precision="bf16"), False)] if bf16 else []),
            *([("+ fp16 autocast", dataclasses.replace(off, precision="fp16"), False)] if device.type == "cuda"
              else []),
            ("+ fused Adam", dataclasses.replace(off, fused_adam=True), False),
            ("+ torch.compile", dataclasses.replace(off, compile=True), False),
            (f"+ matmul + {fast.precision} + channels_last + fused Adam", fast, True),
            ("+ all of the above and compile", dataclasses.replace(fast, compile=True), True),
            (WAVE2, TrainConfig(), True), (UNFROZEN, TrainConfig(), True),
            (NCHW, dataclasses.replace(TrainConfig(), channels_last=False), True),
            ("ssl-ce default", TrainConfig(), True)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=list(BATCH))
    parser.add_argument("--batch", type=int, help="one batch size for every model instead of its config's (a GPU "
                        "is launch-bound at the configs' batches; a larger one shows what the hardware can do)")
    parser.add_argument("--steps", type=int, default=20, help="timed steps per measurement (their median counts)")
    parser.add_argument("--repeats", type=int, default=2, help="measurements of every variant, interleaved")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--variants", nargs="+", help="only the variants whose label contains one of these")
    parser.add_argument("--out", default=str(REPO / "results" / "throughput.csv"))
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="also profile N steps of each variant (not the reference) and write the op tables")
    parser.add_argument("--update", action="store_true",
                        help="replace only the measured models' rows in an existing --out (a rerun of one model)")
    args = parser.parse_args()
    device = resolve_device(args.device, Dist())
    allocator = keep_freed_memory()  # as `train` does, for every row but the wave-2 one
    if args.batch:
        BATCH.update(dict.fromkeys(BATCH, args.batch))
    peaks = {"fp32": matmul_peak(torch.float32, device)}
    if native_bf16(device):
        peaks["bf16"] = matmul_peak(torch.bfloat16, device)
    if device.type == "cuda":
        peaks["fp16"] = matmul_peak(torch.float16, device)
    env = environment(device)
    print(f"{env['device_name']} ({device}), {torch.get_num_threads()} threads; matmul peak "
          + ", ".join(f"{k} {v:.0f} GFLOP/s" for k, v in peaks.items()), flush=True)
    chosen = variants(device)
    if args.variants:
        chosen = [v for v in chosen if any(s in v[0] for s in args.variants)]
    rows = []
    for model in args.models:
        flops = step_flops(model, device)
        # every variant once, then every variant again: drift over the run shows as spread, not as a ranking
        passes = [[in_its_process(measure, model, variant, device, args.steps, args.warmup) for variant in chosen]
                  for _ in range(args.repeats)]
        for variant, measured in zip(chosen, zip(*passes, strict=True), strict=True):
            row = combine(measured)
            row["allocator"] = "system" if variant[0] == WAVE2 else allocator
            row["model_gflop_per_step"] = flops / 1e9
            row["model_gflops"] = flops / (row["step_ms"] / 1000) / 1e9
            row["peak_gflops"] = peaks[row["precision"]]
            row["fraction_of_peak"] = row["model_gflops"] / row["peak_gflops"]
            rows.append(row)
            print(f"{model:12s} {variant[0]:44s} {row['img_per_s']:8.1f} img/s (spread {row['spread_pct']:.1f} %) "
                  f"{row['model_gflops']:7.1f} GFLOP/s ({100 * row['fraction_of_peak']:.0f}% of {row['precision']} "
                  "peak)", flush=True)
    if args.profile:
        tables = [(model, v[0], in_its_process(profile, model, v, device, args.profile)) for model in args.models
                  for v in chosen if v[1] is not None]
        print(f"wrote {write_profiles(tables, env, args.profile, Path(args.out).parent)}")
    frame = pd.DataFrame(rows)
    frame["speedup_vs_reference"] = speedup_vs(frame, "reference fp32 eager")
    frame["speedup_vs_wave2_default"] = speedup_vs(frame, WAVE2)  # the speed issue's "today's default"
    for key in ("device_name", "cpu_features", "cpu_threads", "torch", "git_commit"):
        frame[key] = env[key]
    frame["machine"] = platform.machine()
    shown = ["model", "variant", "img_per_s", "spread_pct", "step_ms", "model_gflops", "fraction_of_peak",
             "speedup_vs_reference", "speedup_vs_wave2_default"]
    print(frame[shown].round(3).to_string(index=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    if args.update and Path(args.out).exists():
        kept = pd.read_csv(args.out)
        frame = pd.concat([kept[~kept.model.isin(args.models)], frame], ignore_index=True)
    frame.round(4).to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
