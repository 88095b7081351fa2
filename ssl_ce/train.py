"""The one training loop for every method: data -> masks -> method losses -> optimiser steps, with mixed
precision, channels_last, DDP under torchrun, atomic checkpoints, resume, metrics.csv and plots.

Randomness that shapes a step (data order, flips, masks) is derived from (seed, epoch) and (seed, step), so a
resumed run sees exactly the batches and holes an uninterrupted one would.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import math
import os
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn
from tqdm import tqdm

from ssl_ce.checkpoint import CHECKPOINT_NAME, load_checkpoint, load_module, save_checkpoint
from ssl_ce.config import Config
from ssl_ce.data import ImageDataset, build_dataset
from ssl_ce.data.masks import make_masks
from ssl_ce.errors import Interrupted, SslCeError
from ssl_ce.health import CollapseMonitor, check_finite
from ssl_ce.methods import Batch, Method, build_method, output_region
from ssl_ce.models import build_model, input_size
from ssl_ce.plots import plot_loss_curves, save_inpainting_grid
from ssl_ce.provenance import environment
from ssl_ce.warm_start import init_from
from ssl_ce.weight_average import AVERAGED_NAME, BATCH_NORM_IMAGES, WeightAverage, measure_batch_norm

LOG_EVERY = 10  # steps between host syncs for logging (losses are kept on device in between)
AUTOCAST_DTYPES = {"bf16": torch.bfloat16, "fp16": torch.float16}


@dataclass
class TrainResult:
    out_dir: Path
    checkpoint: Path
    step: int
    epoch: int
    images_per_second: float
    last_losses: dict[str, float]
    main_process: bool = True  # False on torchrun ranks other than 0
    averaged: Path | None = None  # the weight-averaged generator (train.average_epochs > 0)


@dataclass(frozen=True)
class Dist:
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


def resolve_device(name: str, ddp: Dist) -> torch.device:
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


def step_generator(seed: int, step: int) -> torch.Generator:
    """The RNG for one step's flips, shifts and masks, a pure function of (seed, step)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def epoch_batches(n: int, batch: int, seed: int, epoch: int, ddp: Dist) -> list[list[int]]:
    """This rank's batches for one epoch: a seeded permutation, full batches only (BN needs > 1 sample)."""
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 7919 * epoch)).tolist()
    per_step = batch * ddp.world
    steps = n // per_step
    return [order[s * per_step + ddp.rank * batch : s * per_step + (ddp.rank + 1) * batch] for s in range(steps)]


def _pass_through(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # datasets return whole batches via __getitems__


def iterate(dataset: ImageDataset, batches: list[list[int]], workers: int, pin: bool) -> Iterator:
    if workers == 0:
        return (dataset.__getitems__(b) for b in batches)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=workers,
                                         collate_fn=_pass_through, pin_memory=pin)
    return iter(loader)


def to_model_input(images: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """uint8 (B,3,H,W) -> float in [-1, 1] on `device`."""
    x = images.to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last) if channels_last else x


def place_modules(modules, device: torch.device, channels_last: bool) -> None:
    """Move nets to `device` in the memory format their inputs will have (channels_last or NCHW)."""
    memory_format = torch.channels_last if channels_last else torch.contiguous_format
    for module in modules:
        module.to(device, memory_format=memory_format)


def random_shift(images: torch.Tensor, shift: int, generator: torch.Generator) -> torch.Tensor:
    """Each image translated by up to `shift` pixels each way, edges reflected: new content under a fixed
    centre hole each epoch, which is what keeps a long run from memorising the training set's holes."""
    if shift == 0:
        return images
    b, _, h, w = images.shape
    if shift >= min(h, w):
        raise SslCeError(f"data.shift {shift} must be smaller than the {h}x{w} training images")
    padded = F.pad(images.float(), (shift, shift, shift, shift), mode="reflect").to(images.dtype)
    dy, dx = (torch.randint(0, 2 * shift + 1, (b,), generator=generator) for _ in range(2))
    rows = (dy[:, None] + torch.arange(h))[:, :, None]  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(w))[:, None, :]  # (B, 1, W)
    return padded[torch.arange(b)[:, None, None], :, rows, cols].permute(0, 3, 1, 2).contiguous()


def make_batch(images: torch.Tensor, labels: torch.Tensor, cfg: Config, generator: torch.Generator,
               device: torch.device, train: bool) -> Batch:
    """Random horizontal flip and shift (training only), masks, all drawn from `generator`."""
    if train:
        flip = torch.rand(len(images), generator=generator) < 0.5
        images = torch.where(flip[:, None, None, None], images.flip(-1), images)
        images = random_shift(images, cfg.data.shift, generator)
    masks = make_masks(cfg.mask, len(images), images.shape[-1], generator).to(device)
    return Batch(to_model_input(images, device, cfg.train.channels_last), masks, labels.to(device))


def tensorboard_writer(out: Path):
    """A SummaryWriter on <run>/tensorboard; TensorBoard is optional, so its absence is a one-line error."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise SslCeError("--tensorboard needs the tensorboard package: pip install tensorboard "
                         "(or pip install 'ssl-ce[tensorboard]')") from None
    return SummaryWriter(str(out / "tensorboard"))


class MetricsLog:
    """metrics.csv, one row per step; on resume, rows after the checkpoint's step are dropped."""

    def __init__(self, path: Path, resume_step: int) -> None:
        self.path = path
        self.columns: list[str] | None = None
        if resume_step and path.exists():
            with path.open() as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
            if rows:
                self.columns = list(rows[0].keys())
                with path.open("w", newline="") as f:
                    writer = csv.DictWriter(f, self.columns)
                    writer.writeheader()
                    writer.writerows(rows)
        elif path.exists():
            path.unlink()

    def write(self, rows: list[dict[str, float]]) -> None:
        if not rows:
            return
        new = self.columns is None
        if new:
            self.columns = list(rows[0].keys())
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, self.columns)
            if new:
                writer.writeheader()
            writer.writerows(rows)


def train(cfg: Config, out_dir: str | Path, resume: bool = False, progress: bool = True) -> TrainResult:
    """Pretrains `cfg.method` on `cfg.data` and leaves checkpoint, config, metrics and plots in `out_dir`."""
    ddp = setup_distributed()
    device = resolve_device(cfg.train.device, ddp)
    out = Path(out_dir)
    ckpt_path = out / CHECKPOINT_NAME
    if ckpt_path.exists() and not resume:
        raise SslCeError(f"{out} already holds a run; add --resume to continue it or choose another --out")
    if resume and not ckpt_path.exists():
        raise SslCeError(f"--resume: no checkpoint in {out}")
    if cfg.train.precision == "fp16" and device.type != "cuda":
        raise SslCeError("train.precision fp16 needs a CUDA device; use bf16 on CPU")
    torch.manual_seed(cfg.train.seed)
    if cfg.train.deterministic:
        torch.use_deterministic_algorithms(True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

    size = input_size(cfg.model)
    train_set = build_dataset(cfg.data, "train", size)
    grid_set = build_dataset(cfg.data, "test", size)
    per_step = cfg.train.batch_size * ddp.world
    steps_per_epoch = len(train_set) // per_step
    if steps_per_epoch == 0:
        raise SslCeError(f"the training set has {len(train_set)} images, fewer than one batch of {per_step}; "
                         "lower train.batch_size")
    total_steps = steps_per_epoch * cfg.train.epochs
    if cfg.train.max_steps is not None:
        total_steps = min(total_steps, cfg.train.max_steps)

    generator, discriminator = build_model(cfg.model, output_region(cfg, size).size)
    method: Method = build_method(generator, discriminator, cfg, len(train_set.class_names))
    if not method.trains:
        total_steps = 0
    modules = {"generator": method.generator}
    if method.discriminator is not None:
        modules["discriminator"] = method.discriminator
    place_modules(modules.values(), device, cfg.train.channels_last)
    optimizers = make_optimizers(method, cfg, device)

    step = 0
    average = WeightAverage()
    initialised = init_from(cfg.train.init_from, modules) if cfg.train.init_from and not resume else None
    if resume:
        ckpt = load_checkpoint(ckpt_path)
        for name, module in modules.items():
            load_module(module, ckpt.module_state(name), f"{name} in {ckpt_path}")
        for name, optimizer in optimizers.items():
            restore_optimizer(optimizer, ckpt.optimizer_state(name))
        torch.set_rng_state(ckpt.tensors["extra.torch_rng"])
        step = ckpt.step
        average = WeightAverage.from_checkpoint(ckpt.tensors, device)

    sampler = copy.copy(method)  # keeps the unwrapped modules: rank 0 alone draws the grids
    if ddp.world > 1:
        ids = [device.index] if device.type == "cuda" else None
        method.generator = nn.parallel.DistributedDataParallel(method.generator, device_ids=ids)
        if method.discriminator is not None:
            method.discriminator = nn.parallel.DistributedDataParallel(method.discriminator, device_ids=ids,
                                                                       forward_sync_buffers=False)
    compile_modules(method, cfg)
    scaler = torch.amp.GradScaler(device.type, enabled=cfg.train.precision == "fp16")
    autocast = autocast_context(cfg.train.precision, device)

    def checkpoint(at_step: int) -> None:
        if ddp.main:
            save_checkpoint(ckpt_path, cfg, at_step, at_step // steps_per_epoch, modules, optimizers,
                            {"torch_rng": torch.get_rng_state(), **average.extras()})

    if ddp.main:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(cfg.to_yaml())
        run_info = {"seed": cfg.train.seed, "resumed_from_step": step, "steps_per_epoch": steps_per_epoch,
                    "total_steps": total_steps, "world_size": ddp.world, "train_images": len(train_set),
                    **environment(device)}
        if initialised:
            run_info["initialised_from"] = initialised
        write_run_info(out / "run.json", run_info, resume)
        (out / "samples").mkdir(exist_ok=True)
    log = MetricsLog(out / "metrics.csv", step) if ddp.main else None
    board = tensorboard_writer(out) if ddp.main and cfg.train.tensorboard else None
    grid_images, grid_labels = grid_set.__getitems__(list(range(min(cfg.train.grid_images, len(grid_set)))))
    grid_batch = make_batch(grid_images, grid_labels, cfg, torch.Generator().manual_seed(cfg.train.seed), device,
                            train=False)

    def epoch_end(epoch: int) -> None:
        checkpoint(step)
        if not ddp.main:
            return
        sampler.generator.eval()
        with torch.no_grad(), autocast:
            shown = sampler.sample(grid_batch, sampler.predict(grid_batch))
        sampler.generator.train()
        if shown is not None:
            what = f"{cfg.mask.type} mask" if cfg.method.name == "context-encoder" else cfg.method.name
            png = out / "samples" / f"epoch_{epoch:03d}.png"
            save_inpainting_grid(*shown, grid_batch.images, png,
                                 f"{cfg.model.name}, {what}, epoch {epoch} (step {step}), held-out images")
            if board is not None:
                from PIL import Image

                board.add_image("samples", np.asarray(Image.open(png).convert("RGB")), step, dataformats="HWC")
        plot_loss_curves(out / "metrics.csv", out / "loss_curve.png", steps_per_epoch)

    collapse = CollapseMonitor(cfg.train)
    pending: list[dict[str, torch.Tensor]] = []
    rows_meta: list[tuple[int, float]] = []
    last: dict[str, float] = {}
    bar = tqdm(total=total_steps, initial=step, disable=not (progress and ddp.main), unit="step",
               dynamic_ncols=True, mininterval=1.0)
    started, images_seen, window_start = time.perf_counter(), 0, time.perf_counter()

    def flush() -> None:
        nonlocal window_start
        if not pending:
            return
        names = list(pending[0])
        values = torch.stack([torch.stack([p[n].detach().float() for n in names]) for p in pending]).cpu().tolist()
        elapsed = time.perf_counter() - window_start
        rate = len(pending) * per_step / max(elapsed, 1e-9)
        rows = []
        for (at_step, epoch_f), vals in zip(rows_meta, values, strict=True):
            row = {"step": at_step, "epoch": round(epoch_f, 4), **dict(zip(names, vals, strict=True))}
            check_finite(row, at_step, ckpt_path)
            collapsed, message = collapse.update(row)
            if message and ddp.main:
                warnings.warn(message, stacklevel=1)
            rows.append({**row, "d_collapsed": int(collapsed), "img_per_s": round(rate, 1)})
        last.update(dict(zip(names, values[-1], strict=True)))
        if log is not None:
            log.write(rows)
        if board is not None:
            for row in rows:
                for key, value in row.items():
                    if key not in ("step", "epoch"):
                        board.add_scalar(key, value, row["step"])
            board.flush()
        bar.set_postfix({"img/s": f"{rate:.0f}", **{k: f"{v:.4f}" for k, v in last.items() if k in ("rec", "adv",
                                                                                                  "d_total")}})
        pending.clear()
        rows_meta.clear()
        window_start = time.perf_counter()

    if not method.trains:  # random init: the initialised weights are the result
        checkpoint(0)
        bar.close()
        return TrainResult(out, ckpt_path, 0, 0, 0.0, {}, ddp.main)
    for module in modules.values():
        module.train()
    try:
        while step < total_steps:
            epoch = step // steps_per_epoch
            batches = epoch_batches(len(train_set), cfg.train.batch_size, cfg.train.seed, epoch, ddp)
            start_in_epoch = step - epoch * steps_per_epoch
            last_in_epoch = min(steps_per_epoch, start_in_epoch + total_steps - step)
            for images, labels in iterate(train_set, batches[start_in_epoch:last_in_epoch], cfg.data.num_workers,
                                          device.type == "cuda"):
                batch = make_batch(images, labels, cfg, step_generator(cfg.train.seed, step), device, train=True)
                set_learning_rates(optimizers, cfg, step, total_steps)
                losses = train_step(method, batch, optimizers, scaler, autocast)
                step += 1
                if average_due(step, steps_per_epoch, total_steps, cfg.train.average_epochs):
                    average.update(modules["generator"])
                images_seen += per_step
                pending.append(losses)
                rows_meta.append((step, step / steps_per_epoch))
                bar.update(1)
                if len(pending) >= LOG_EVERY:
                    flush()
                if step % cfg.train.checkpoint_every == 0 and not epoch_end_due(step, steps_per_epoch, total_steps,
                                                                                cfg.train.epoch_end_every):
                    flush()
                    checkpoint(step)
            flush()
            if epoch_end_due(step, steps_per_epoch, total_steps, cfg.train.epoch_end_every):
                epoch_end(math.ceil(step / steps_per_epoch))
    except KeyboardInterrupt:
        flush()
        checkpoint(step)
        bar.close()
        if board is not None:
            board.close()
        raise Interrupted(f"interrupted at step {step}; checkpoint saved, continue with --resume --out {out}") from None
    bar.close()
    if board is not None:
        board.close()
    elapsed = time.perf_counter() - started
    averaged = None
    if average.count and ddp.main:
        averaged = out / AVERAGED_NAME
        write_averaged(averaged, average, sampler, train_set, cfg, device, step, step // steps_per_epoch, autocast)
    if ddp.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return TrainResult(out, ckpt_path, step, step // steps_per_epoch, images_seen / max(elapsed, 1e-9), last,
                       ddp.main, averaged)


def average_due(step: int, steps_per_epoch: int, total_steps: int, epochs: int) -> bool:
    """Whether the weights after `step` join the average: each epoch end (and the last step) among the last
    `epochs` epochs of the run."""
    in_window = epochs > 0 and step > total_steps - epochs * steps_per_epoch
    return in_window and epoch_end_due(step, steps_per_epoch, total_steps, every=1)


def write_averaged(path: Path, average: WeightAverage, method: Method, train_set: ImageDataset, cfg: Config,
                   device: torch.device, step: int, epoch: int, autocast: contextlib.AbstractContextManager,
                   provenance: dict[str, str] | None = None) -> None:
    """Saves the averaged generator, its batch norms measured on up to BATCH_NORM_IMAGES training images with
    the run's holes (no flips or shifts: the statistics of the images it will be given)."""
    averaged = copy.copy(method)
    averaged.generator = average.averaged(method.generator)
    batches = epoch_batches(len(train_set), cfg.train.batch_size, cfg.train.seed, 0, Dist())  # full batches only
    batches = batches[: math.ceil(BATCH_NORM_IMAGES / cfg.train.batch_size)]
    holes = torch.Generator().manual_seed(cfg.train.seed)

    def forward(images_and_labels: tuple[torch.Tensor, torch.Tensor]) -> None:
        batch = make_batch(*images_and_labels, cfg, holes, device, train=False)
        with autocast:
            averaged.predict(batch)

    measure_batch_norm(averaged.generator, iterate(train_set, batches, cfg.data.num_workers, device.type == "cuda"),
                       forward)
    save_checkpoint(path, cfg, step, epoch, {"generator": averaged.generator}, {}, {}, provenance)


def epoch_end_due(step: int, steps_per_epoch: int, total_steps: int, every: int) -> bool:
    """Whether `step` closes an epoch whose end is marked (checkpoint, grid, plot): every `every`-th, and the last."""
    return step == total_steps or (step % steps_per_epoch == 0 and (step // steps_per_epoch) % every == 0)


def write_run_info(path: Path, info: dict, resume: bool) -> None:
    """run.json for this stretch of training; on resume the earlier stretches' records are kept under
    `earlier_segments`, so a run continued on another machine or commit still says where its start came from."""
    if resume and path.exists():
        earlier = json.loads(path.read_text())
        info = {**info, "earlier_segments": [*earlier.pop("earlier_segments", []), earlier]}
    path.write_text(json.dumps(info, indent=2))


def make_optimizers(method: Method, cfg: Config, device: torch.device) -> dict[str, torch.optim.Optimizer]:
    """Adam for G (and D when the method has one), fused into one kernel per step unless turned off."""
    betas = (cfg.optim.beta1, cfg.optim.beta2)
    fused = cfg.train.fused_adam and device.type in ("cpu", "cuda")
    optimizers = {"g": torch.optim.Adam(method.generator.parameters(), lr=cfg.optim.lr_g, betas=betas, fused=fused)}
    if method.discriminator is not None:
        optimizers["d"] = torch.optim.Adam(method.discriminator.parameters(), lr=cfg.optim.lr_d, betas=betas,
                                           fused=fused)
    return optimizers


def learning_rate(base: float, schedule: str, step: int, total_steps: int) -> float:
    """The rate for the update that follows `step` steps; cosine ends at 0 after the last step."""
    if schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * step / max(total_steps, 1)))
    return base


def set_learning_rates(optimizers: dict[str, torch.optim.Optimizer], cfg: Config, step: int, total: int) -> None:
    """Every step, from the config and the step alone: resuming needs no scheduler state."""
    bases = {"g": cfg.optim.lr_g, "d": cfg.optim.lr_d}
    for name, optimizer in optimizers.items():
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(bases[name], cfg.optim.lr_schedule, step, total)


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


def autocast_context(precision: str, device: torch.device) -> contextlib.AbstractContextManager:
    """Mixed precision for bf16/fp16; fp32 runs as it is."""
    if precision in AUTOCAST_DTYPES:
        return torch.autocast(device.type, AUTOCAST_DTYPES[precision])
    return contextlib.nullcontext()


def train_step(method: Method, batch: Batch, optimizers: dict[str, torch.optim.Optimizer],
               scaler: torch.amp.GradScaler, autocast: contextlib.AbstractContextManager) -> dict[str, torch.Tensor]:
    """Discriminator step on the current prediction, then generator step against the updated D (DCGAN order)."""
    with autocast:
        pred = method.predict(batch)
    losses: dict[str, torch.Tensor] = {}
    if method.discriminator is not None:
        with autocast:
            losses.update(method.discriminator_losses(batch, pred))
        optimizers["d"].zero_grad(set_to_none=True)
        scaler.scale(losses["d_total"]).backward()
        scaler.step(optimizers["d"])
    with autocast:
        losses.update(method.generator_losses(batch, pred))
    optimizers["g"].zero_grad(set_to_none=True)
    scaler.scale(losses["g_total"]).backward()
    scaler.step(optimizers["g"])
    scaler.update()
    return {k: v.detach() for k, v in losses.items()}
