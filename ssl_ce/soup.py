"""`ssl-ce average`: one generator whose weights are the mean of several files' generators (a uniform "model
soup", Wortsman et al., ICML 2022).

Why: runs continued from the same weights (other seeds, rates or shifts) end in one basin of the loss, and the
mean of their weights scores like an ensemble of them at the cost of one model (CIFAR-10 centre holes,
results/README.md). Runs from different starts share no basin and their mean is a broken net, so this is for
files of one lineage. As for `train.average_epochs`, batch norms are measured again, not averaged.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ssl_ce.checkpoint import AVERAGED_FROM, load_checkpoint
from ssl_ce.data import build_dataset
from ssl_ce.errors import SslCeError
from ssl_ce.methods import build_method
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.provenance import environment
from ssl_ce.train import Dist, autocast_context, resolve_device, write_averaged
from ssl_ce.weight_average import WeightAverage


def average_files(sources: list[Path], out: Path, data_root: str | None = None, device: str = "auto") -> Path:
    """Writes to `out` the mean generator of `sources` (checkpoints, averaged files or inpainter exports of one
    architecture), its batch norms measured on the first file's training data (`data_root` overrides where
    that data lives). Returns `out`."""
    if len(sources) < 2:
        raise SslCeError("give at least two files to average")
    torch_device = resolve_device(device, Dist())
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
