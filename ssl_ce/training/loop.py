"""The one training loop for every method: data -> masks -> method losses -> optimiser steps, with mixed
precision, channels_last, DDP under torchrun, atomic checkpoints, resume, metrics.csv and pictures.

Read top to bottom: `train` sets up (device, data, nets, optimisers, where the run starts), runs the steps,
and ends the run; `train_step` is one D + G update. Everything that shapes a step is a function of (seed, step)
(ssl_ce.data.batches, ssl_ce.training.schedule), so a resumed run is bit-identical to an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import torch
import torch.distributed as dist
from torch import nn

from ssl_ce.checkpoint import (
    CHECKPOINT_NAME,
    TRAIN_SECONDS,
    load_checkpoint,
    load_module,
    read_metadata,
    save_checkpoint,
)
from ssl_ce.config import RESUMABLE_CHANGES, Config, config_from_dict, recipe_changes
from ssl_ce.data import build_dataset
from ssl_ce.data.batches import Batch, epoch_batches, iterate, make_batch, place_training_images, step_rng
from ssl_ce.errors import Interrupted, SslCeError
from ssl_ce.evaluators.inpaint_realism import AUTO_NET
from ssl_ce.methods import Method, build_method, method_spec, output_region
from ssl_ce.models import build_model, input_size
from ssl_ce.provenance import environment
from ssl_ce.realism.measure import Reference
from ssl_ce.realism.networks import NETWORKS
from ssl_ce.runtime import (
    Dist,
    autocast_context,
    keep_freed_memory,
    place_modules,
    resolve_device,
    resolve_precision,
    setup_distributed,
)
from ssl_ce.training.averaging import AVERAGED_NAME, WeightAverage, write_averaged
from ssl_ce.training.knn_monitor import KnnMonitor
from ssl_ce.training.optim import compile_modules, make_optimizers, restore_optimizer
from ssl_ce.training.run_log import CURVE_KID_REALS, VAL_CURVE_IMAGES, EpochPictures, StepLog, write_run_info
from ssl_ce.training.schedule import average_due, epoch_end_due, set_learning_rates
from ssl_ce.training.warm_start import init_from


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
    train_seconds: float | None = None  # wall time up to the last checkpoint, over every process that worked on
    # the run (None: a run resumed from a checkpoint written before this was recorded)


def train(cfg: Config, out_dir: str | Path, resume: bool = False, progress: bool = True) -> TrainResult:
    """Pretrains `cfg.method` on `cfg.data` and leaves checkpoint, config, metrics and pictures in `out_dir`.
    The caller's global RNG and deterministic-algorithms setting are as it left them when this returns."""
    with _global_state_kept():
        return _train(cfg, Path(out_dir), resume, progress)


def _train(cfg: Config, out: Path, resume: bool, progress: bool) -> TrainResult:
    started = time.perf_counter()
    ddp = setup_distributed()
    device = resolve_device(cfg.train.device, ddp)
    allocator = keep_freed_memory()
    ckpt_path = out / CHECKPOINT_NAME
    _check_start(cfg, out, resume, device)
    torch.manual_seed(cfg.train.seed)  # the nets' initial weights
    if cfg.train.deterministic:
        torch.use_deterministic_algorithms(True)
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")

    # Data: the training split, and the validation split for the epoch-end grid and the k-NN monitor (never test).
    size = input_size(cfg.model)
    train_set = place_training_images(build_dataset(cfg.data, "train", size), device, cfg.train.data_on_device)
    grid_set = build_dataset(cfg.data, "val", size)
    images_per_step = cfg.train.batch_size * ddp.world
    steps_per_epoch = len(train_set) // images_per_step
    if steps_per_epoch == 0:
        raise SslCeError(f"the training set has {len(train_set)} images, fewer than one batch of {images_per_step}; "
                         "lower train.batch_size")
    total_steps = min(steps_per_epoch * cfg.train.epochs, cfg.train.max_steps or math.inf)

    # Nets and optimisers, then where the run starts: a checkpoint (--resume), other weights (init_from) or scratch.
    method, modules, optimizers, precision, scaler, autocast = build_training(cfg, device, len(train_set.class_names))
    if not method.trains:
        total_steps = 0
    step, average, initialised, seconds_before = 0, WeightAverage(), None, 0.0
    if resume:
        step, average, seconds_before = _restore(ckpt_path, modules, optimizers, device)
    elif cfg.train.init_from:
        initialised = init_from(cfg.train.init_from, modules)
    unwrapped = copy.copy(method)  # keeps the unwrapped nets: rank 0 alone draws the grids
    _wrap_distributed(method, ddp, device)
    compile_modules(method, cfg)

    saved_seconds = seconds_before  # the run's wall time as its latest checkpoint records it

    def save(at_step: int) -> None:
        nonlocal saved_seconds
        if seconds_before is not None:
            saved_seconds = seconds_before + time.perf_counter() - started
        if ddp.main:
            timing = {} if saved_seconds is None else {TRAIN_SECONDS: torch.tensor(saved_seconds, dtype=torch.float64)}
            save_checkpoint(ckpt_path, cfg, at_step, at_step // steps_per_epoch, modules, optimizers,
                            {"torch_rng": torch.get_rng_state(), **average.extras(), **timing})

    # The run's records: config.yaml, run.json, then metrics and pictures as it goes. A finished run that is only
    # reused (a comparison run again) keeps them as they are, so they still name the command that trained it.
    reused = resume and step >= total_steps
    if ddp.main and not reused:
        out.mkdir(parents=True, exist_ok=True)
        (out / "config.yaml").write_text(cfg.to_yaml())
        run_info = {"seed": cfg.train.seed, "resumed_from_step": step, "steps_per_epoch": steps_per_epoch,
                    "total_steps": total_steps, "world_size": ddp.world, "train_images": len(train_set),
                    "precision": precision, "allocator": allocator, **environment(device)}
        if initialised:
            run_info["initialised_from"] = initialised
        write_run_info(out / "run.json", run_info, resume)
    knn = KnnMonitor.for_run(cfg, train_set, grid_set, device, autocast) if ddp.main else None
    log = StepLog(out, cfg, step, total_steps, images_per_step, steps_per_epoch, ddp.main, progress,
                  KnnMonitor.COLUMNS if knn else ())
    grid_images, grid_labels = grid_set.batch(list(range(min(cfg.train.grid_images, len(grid_set)))))
    grid_batch = make_batch(grid_images, grid_labels, cfg, torch.Generator().manual_seed(cfg.train.seed), device,
                            train=False)
    curve_batch = None  # an inpainter's val PSNR over epochs: its own fixed images and holes
    if method_spec(cfg).predicts == "hole":
        curve_images, curve_labels = grid_set.batch(list(range(min(VAL_CURVE_IMAGES, len(grid_set)))))
        curve_batch = make_batch(curve_images, curve_labels, cfg, torch.Generator().manual_seed(cfg.train.seed + 1),
                                 device, train=False)
    pictures = EpochPictures(out, cfg, unwrapped, grid_batch, autocast, steps_per_epoch, log.board, curve_batch,
                             step, curve_reference(cfg, train_set, curve_batch)) if ddp.main else None

    if not method.trains:  # random init: the initialised weights are the result
        if not resume:
            save(0)
        log.close()
        return TrainResult(out, ckpt_path, 0, 0, 0.0, {}, ddp.main, train_seconds=saved_seconds)

    # The steps.
    for module in modules.values():
        module.train()
    steps_started, first_step = time.perf_counter(), step
    try:
        while step < total_steps:
            for images, labels in _rest_of_epoch(train_set, cfg, step, steps_per_epoch, total_steps, ddp, device):
                batch = make_batch(images, labels, cfg, step_rng(cfg.train.seed, step), device, train=True)
                set_learning_rates(optimizers, cfg, step, total_steps)
                losses = train_step(method, batch, optimizers, scaler, autocast)
                step += 1
                if average_due(step, steps_per_epoch, total_steps, cfg.train.average_epochs):
                    average.update(modules["generator"])
                due = knn is not None and step % cfg.train.knn_every == 0
                log.add(step, losses, knn.measure(unwrapped.generator.encoder) if due else None)
                if step % cfg.train.checkpoint_every == 0 and not epoch_end_due(step, steps_per_epoch, total_steps,
                                                                                cfg.train.epoch_end_every):
                    log.flush()
                    save(step)
            log.flush()
            if epoch_end_due(step, steps_per_epoch, total_steps, cfg.train.epoch_end_every):
                save(step)
                if pictures is not None:
                    pictures(math.ceil(step / steps_per_epoch), step)
    except KeyboardInterrupt:
        log.close()
        save(step)
        raise Interrupted(f"interrupted at step {step}; checkpoint saved, continue with --resume --out {out}") from None
    log.close()

    # The end: the averaged generator, if asked for, and the numbers the caller prints.
    rate = (step - first_step) * images_per_step / max(time.perf_counter() - steps_started, 1e-9)
    averaged = out / AVERAGED_NAME if average.count and ddp.main else None
    if averaged is not None and (step > first_step or not averaged.exists()):  # a finished run's file is kept
        write_averaged(averaged, average, unwrapped, train_set, cfg, device, step, step // steps_per_epoch, autocast)
    if ddp.world > 1:
        dist.barrier()
        dist.destroy_process_group()
    return TrainResult(out, ckpt_path, step, step // steps_per_epoch, rate, log.last, ddp.main, averaged,
                       saved_seconds)


class TrainingParts(NamedTuple):
    """What a training step needs, built as `train` builds it (the throughput benchmark builds its own here)."""

    method: Method
    modules: dict[str, nn.Module]  # "generator" and, for adversarial methods, "discriminator": what is saved
    optimizers: dict[str, torch.optim.Optimizer]
    precision: str  # what `auto` means on this device: used and recorded
    scaler: torch.amp.GradScaler
    autocast: contextlib.AbstractContextManager


def build_training(cfg: Config, device: torch.device, num_classes: int) -> TrainingParts:
    """The nets of `cfg` placed on `device`, the method around them, its optimisers and mixed precision (not yet
    loaded from anywhere, wrapped for DDP or compiled)."""
    generator, discriminator = build_model(cfg.model, output_region(cfg, input_size(cfg.model)).size)
    method = build_method(generator, discriminator, cfg, num_classes)
    modules = {"generator": method.generator}
    if method.discriminator is not None:
        modules["discriminator"] = method.discriminator
    place_modules(modules.values(), device, cfg.train.channels_last)
    precision = resolve_precision(cfg.train.precision, device)
    return TrainingParts(method, modules, make_optimizers(method, cfg, device), precision,
                         torch.amp.GradScaler(device.type, enabled=precision == "fp16"),
                         autocast_context(precision, device))


def train_step(method: Method, batch: Batch, optimizers: dict[str, torch.optim.Optimizer],
               scaler: torch.amp.GradScaler, autocast: contextlib.AbstractContextManager,
               freeze_adversary: bool = True) -> dict[str, torch.Tensor]:
    """Discriminator step on the current prediction, then generator step against the updated D (DCGAN order).
    `freeze_adversary` False computes D's unused weight gradients in the G step as wave 2 did (a benchmark's
    baseline; the numbers are the same)."""
    with autocast:
        pred = method.predict(batch)
    losses: dict[str, torch.Tensor] = {}
    if method.discriminator is not None:
        with autocast:
            losses.update(method.discriminator_losses(batch, pred))
        optimizers["d"].zero_grad(set_to_none=True)
        scaler.scale(losses["d_total"]).backward()
        scaler.step(optimizers["d"])
    with adversary_frozen(method.discriminator if freeze_adversary else None):
        with autocast:
            losses.update(method.generator_losses(batch, pred))
        optimizers["g"].zero_grad(set_to_none=True)
        scaler.scale(losses["g_total"]).backward()
    scaler.step(optimizers["g"])
    scaler.update()
    return {k: v.detach() for k, v in losses.items()}


def curve_reference(cfg: Config, train_set, curve_batch: Batch | None) -> Reference | None:
    """With `train.curve_kid`, the real train photos (cropped at the val curve's hole squares) that its KID
    compares the fills with; the realism network's file must be there, since the run asked for it."""
    if not cfg.train.curve_kid or curve_batch is None:
        return None
    images = train_set.batch(list(range(min(CURVE_KID_REALS, len(train_set)))))[0]
    reals = list(images.permute(0, 2, 3, 1).cpu().numpy())
    return Reference.of(NETWORKS[AUTO_NET](None), reals, list(curve_batch.masks.hole[:, 0].bool().cpu().numpy()))


@contextlib.contextmanager
def adversary_frozen(discriminator: nn.Module | None) -> Iterator[None]:
    """The generator step backpropagates through D to the prediction, but D's own weight gradients are never
    used (D's next step starts from zero): without its weights requiring grad, that backward skips them, and
    under DDP (no_sync) their all-reduce. Every number of the run stays the same."""
    if discriminator is None:
        yield
        return
    weights = [p for p in discriminator.parameters() if p.requires_grad]
    no_sync = discriminator.no_sync() if isinstance(discriminator, nn.parallel.DistributedDataParallel) \
        else contextlib.nullcontext()
    for weight in weights:
        weight.requires_grad_(False)
    try:
        with no_sync:
            yield
    finally:
        for weight in weights:
            weight.requires_grad_(True)


def _check_start(cfg: Config, out: Path, resume: bool, device: torch.device) -> None:
    ckpt_path = out / CHECKPOINT_NAME
    if ckpt_path.exists() and not resume:
        raise SslCeError(f"{out} already holds a run; add --resume to continue it or choose another --out")
    if resume and not ckpt_path.exists():
        raise SslCeError(f"--resume: no checkpoint in {out}")
    if resume:
        changes = recipe_changes(config_from_dict(json.loads(read_metadata(ckpt_path)["config"])), cfg)
        if changes:
            raise SslCeError(f"{out} was trained with another recipe ({'; '.join(changes)}); resume it unchanged "
                             f"or train into a new --out (a resume may change only {', '.join(RESUMABLE_CHANGES)})")
    if cfg.train.precision == "fp16" and device.type != "cuda":
        raise SslCeError("train.precision fp16 needs a CUDA device; use auto on CPU")


def _restore(path: Path, modules: dict[str, nn.Module], optimizers: dict[str, torch.optim.Optimizer],
             device: torch.device) -> tuple[int, WeightAverage, float | None]:
    """Nets, optimisers, the global RNG and the running weight average as the checkpoint left them, and the
    seconds spent training so far (None in a checkpoint written before they were recorded)."""
    ckpt = load_checkpoint(path)
    for name, module in modules.items():
        load_module(module, ckpt.module_state(name), f"{name} in {path}")
    for name, optimizer in optimizers.items():
        restore_optimizer(optimizer, ckpt.optimizer_state(name))
    torch.set_rng_state(ckpt.tensors["extra.torch_rng"])
    seconds = ckpt.tensors.get(f"extra.{TRAIN_SECONDS}")
    return ckpt.step, WeightAverage.from_checkpoint(ckpt.tensors, device), None if seconds is None else float(seconds)


def _wrap_distributed(method: Method, ddp: Dist, device: torch.device) -> None:
    if ddp.world == 1:
        return
    ids = [device.index] if device.type == "cuda" else None
    method.generator = nn.parallel.DistributedDataParallel(method.generator, device_ids=ids)
    if method.discriminator is not None:
        method.discriminator = nn.parallel.DistributedDataParallel(method.discriminator, device_ids=ids,
                                                                   forward_sync_buffers=False)


def _rest_of_epoch(train_set, cfg: Config, step: int, steps_per_epoch: int, total_steps: int, ddp: Dist,
                   device: torch.device) -> Iterator:
    """(images, labels) for the steps left in the epoch that `step` is in (all of it unless resuming mid-way)."""
    epoch = step // steps_per_epoch
    start = step - epoch * steps_per_epoch
    stop = min(steps_per_epoch, start + total_steps - step)
    batches = epoch_batches(len(train_set), cfg.train.batch_size, cfg.train.seed, epoch, ddp)[start:stop]
    return iterate(train_set, batches, cfg.data.num_workers, device.type == "cuda")


@contextlib.contextmanager
def _global_state_kept() -> Iterator[None]:
    """Training seeds the global RNG and may turn on deterministic algorithms; a caller's state comes back."""
    deterministic = torch.are_deterministic_algorithms_enabled()
    warn_only = torch.is_deterministic_algorithms_warn_only_enabled()
    cublas = os.environ.get("CUBLAS_WORKSPACE_CONFIG")
    devices = list(range(torch.cuda.device_count())) if torch.cuda.is_available() else []
    try:
        with torch.random.fork_rng(devices=devices):
            yield
    finally:
        torch.use_deterministic_algorithms(deterministic, warn_only=warn_only)
        if cublas is None:
            os.environ.pop("CUBLAS_WORKSPACE_CONFIG", None)
        else:
            os.environ["CUBLAS_WORKSPACE_CONFIG"] = cublas
