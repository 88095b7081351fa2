"""Weight averaging, in a run and across runs.

Stochastic weight averaging (Izmailov et al., UAI 2018): the mean of the generator's weights at the last
epoch ends of a run (`train.average_epochs`), written beside its checkpoint as `averaged.safetensors`.

Why: at a constant or slowly decaying rate each epoch ends at a different noisy point around the same minimum;
their mean lies nearer its centre and generalises better than any one of them (CIFAR-10 centre holes: +0.11 dB
PSNR over the run's own last weights at a constant rate, results/history/README.md). Batch-norm statistics are not
averaged but measured again with the averaged weights: the mean of the statistics is not the statistics of the
mean network.

`ssl-ce average` (`average_files`): one generator whose weights are the mean of several files' generators (a
uniform "model soup", Wortsman et al., ICML 2022). Runs continued from the same weights (other seeds, rates or
shifts) end in one basin of the loss, and the mean of their weights scores like an ensemble of them at the cost
of one model. Runs from different starts share no basin and their mean is a broken net, so this is for files of
one lineage.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path

import torch
from torch import nn

from ssl_ce.checkpoint import AVERAGED_FROM, load_checkpoint, save_checkpoint
from ssl_ce.config import Config
from ssl_ce.data.batches import epoch_batches, iterate, make_batch
from ssl_ce.data.datasets import ImageDataset, build_dataset
from ssl_ce.errors import SslCeError
from ssl_ce.methods import Method, build_method
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.provenance import environment
from ssl_ce.runtime import autocast_context, resolve_device

AVERAGED_NAME = "averaged.safetensors"
BATCH_NORM_IMAGES = 10_000  # training images whose statistics the averaged weights' batch norms take
_PREFIX = "average."
_COUNT = "average_count"


class WeightAverage:
    """Running mean of a module's parameters, kept in fp32 on the parameters' device; its state travels in the
    checkpoint's extra tensors so a resumed run averages exactly what an uninterrupted one would."""

    def __init__(self) -> None:
        self.mean: dict[str, torch.Tensor] = {}
        self.count = 0

    @torch.no_grad()
    def update(self, module: nn.Module) -> None:
        self.count += 1
        for name, param in module.named_parameters():
            value = param.detach().float()
            if name not in self.mean:
                self.mean[name] = value.clone()
            else:
                self.mean[name] += (value - self.mean[name]) / self.count

    def extras(self) -> dict[str, torch.Tensor]:
        """The state as `save_checkpoint` extras (empty before the first update)."""
        if not self.count:
            return {}
        return {_COUNT: torch.tensor(self.count), **{_PREFIX + k: v for k, v in self.mean.items()}}

    @classmethod
    def from_checkpoint(cls, tensors: dict[str, torch.Tensor], device: torch.device) -> WeightAverage:
        """The state saved by `extras` in a checkpoint's tensors (a fresh average when it holds none)."""
        average = cls()
        count = tensors.get(f"extra.{_COUNT}")
        if count is not None:
            average.count = int(count)
            start = f"extra.{_PREFIX}"
            average.mean = {k[len(start):]: v.to(device) for k, v in tensors.items() if k.startswith(start)}
        return average

    @torch.no_grad()
    def averaged(self, module: nn.Module) -> nn.Module:
        """A copy of `module` holding the mean weights (its batch-norm statistics still need measuring)."""
        result = copy.deepcopy(module)
        for name, param in result.named_parameters():
            param.copy_(self.mean[name].to(param.dtype))
        return result


@torch.no_grad()
def measure_batch_norm(module: nn.Module, batches: Iterable, forward: Callable[[object], object]) -> None:
    """Sets every batch norm's running statistics to their plain mean over `batches` (momentum None), in train
    mode without gradients, then leaves `module` in eval mode. `forward(batch)` runs the module on one batch."""
    norms = [m for m in module.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    momenta = [m.momentum for m in norms]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    module.train()
    for batch in batches:
        forward(batch)
    for norm, momentum in zip(norms, momenta, strict=True):
        norm.momentum = momentum
    module.eval()


def write_averaged(path: Path, average: WeightAverage, method: Method, train_set: ImageDataset, cfg: Config,
                   device: torch.device, step: int, epoch: int, autocast: contextlib.AbstractContextManager,
                   provenance: dict[str, str] | None = None) -> None:
    """Saves the averaged generator, its batch norms measured on up to BATCH_NORM_IMAGES training images with
    the run's holes (no flips or shifts: the statistics of the images it will be given)."""
    averaged = copy.copy(method)
    averaged.generator = average.averaged(method.generator)
    batches = epoch_batches(len(train_set), cfg.train.batch_size, cfg.train.seed, 0)  # full batches only
    batches = batches[: math.ceil(BATCH_NORM_IMAGES / cfg.train.batch_size)]
    holes = torch.Generator().manual_seed(cfg.train.seed)

    def forward(images_and_labels: tuple[torch.Tensor, torch.Tensor]) -> None:
        batch = make_batch(*images_and_labels, cfg, holes, device, train=False)
        with autocast:
            averaged.predict(batch)

    measure_batch_norm(averaged.generator, iterate(train_set, batches, cfg.data.num_workers, device.type == "cuda"),
                       forward)
    save_checkpoint(path, cfg, step, epoch, {"generator": averaged.generator}, {}, {}, provenance)


def average_files(sources: list[Path], out: Path, data_root: str | None = None, device: str = "auto") -> Path:
    """Writes to `out` the mean generator of `sources` (checkpoints, averaged files or inpainter exports of one
    architecture), its batch norms measured on the first file's training data (`data_root` overrides where
    that data lives). Returns `out`."""
    if len(sources) < 2:
        raise SslCeError("give at least two files to average")
    torch_device = resolve_device(device)
    checkpoints = [load_checkpoint(path, prefixes=("generator",)) for path in sources]
    inpainters = [ModelInpainter(path, torch_device, ckpt) for path, ckpt in zip(sources, checkpoints, strict=True)]
    first = checkpoints[0].config
    for path, inpainter in zip(sources[1:], inpainters[1:], strict=True):
        if inpainter.config.model != first.model or inpainter.region != inpainters[0].region:
            raise SslCeError(f"{path} is not the architecture of {sources[0]} ({inpainter.config.model} against "
                             f"{first.model}): only files of one architecture can be averaged")
    cfg = replace(first, data=replace(first.data, root=data_root or first.data.root))
    average = WeightAverage()
    for inpainter in inpainters:
        average.update(inpainter.generator)
    train_set = build_dataset(cfg.data, "train", inpainters[0].size)
    # only the method's predict runs (the batch-norm pass): no discriminator needs building
    method = build_method(inpainters[0].generator, None, cfg, len(train_set.class_names))
    step = max(ckpt.step for ckpt in checkpoints)
    epoch = max(ckpt.epoch for ckpt in checkpoints)
    provenance = {AVERAGED_FROM: json.dumps([str(path) for path in sources]),
                  "training_run": json.dumps(environment(torch_device))}
    write_averaged(out, average, method, train_set, cfg, torch_device, step, epoch,
                   autocast_context(cfg.train.precision, torch_device), provenance)
    return out
