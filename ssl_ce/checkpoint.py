"""Checkpoints: one safetensors file holding weights, optimiser state and RNG state, with the resolved
config in its metadata. No pickles, so loading never executes code; written atomically, so a crash
leaves either the previous checkpoint or the new one, never a torn file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import save
from torch import nn

from ssl_ce import __version__
from ssl_ce.config import Config, config_from_dict
from ssl_ce.errors import SslCeError

FORMAT = "ssl-ce-checkpoint/1"
EXPORT_FORMAT = "ssl-ce-export/1"  # weights only (see ssl_ce.export); read by the same loader
EXPORT_PREFIXES = {"encoder": "generator.encoder", "inpainter": "generator"}  # part -> checkpoint namespace
CHECKPOINT_NAME = "checkpoint.safetensors"
AVERAGED_FROM = "averaged_from"  # metadata of `ssl-ce average` files: the JSON list of their source files
TRAIN_SECONDS = "train_seconds"  # extra of training checkpoints: the run's wall time so far, over every process


def run_label(path: str | Path) -> str:
    """A file's run directory name, plus its stem unless it is the run's checkpoint: names rows and pictures so
    that a run's checkpoint and its averaged.safetensors (or an export beside it) never share one."""
    path = Path(path)
    run = path.parent.name
    if not run:
        return path.stem
    return run if path.name == CHECKPOINT_NAME else f"{run}-{path.stem}"


def run_labels(paths: list[str | Path]) -> list[str]:
    """`run_label` of each file; where two share one, each of those is led by as many of its parent folders as
    it takes: two studies' `joint-cosine/checkpoint.safetensors` become `study_a/joint-cosine` and
    `study_b/joint-cosine`."""
    paths = [Path(p).resolve() for p in paths]
    if len(set(paths)) < len(paths):
        raise SslCeError("the same file was given twice: " + ", ".join(sorted({str(p) for p in paths
                                                                              if paths.count(p) > 1})))
    labels = [run_label(p) for p in paths]
    for depth in range(1, max((len(p.parts) for p in paths), default=0)):
        shared = {label for label in labels if labels.count(label) > 1}
        if not shared:
            break
        labels = ["/".join([*p.parent.parts[-1 - depth : -1], run_label(p)]) if label in shared else label
                  for p, label in zip(paths, labels, strict=True)]
    return labels


@dataclass
class Checkpoint:
    config: Config
    step: int
    epoch: int
    tensors: dict[str, torch.Tensor]
    metadata: dict[str, str]
    part: str = "training"  # "training" (a pretrain checkpoint), or an export's "encoder" / "inpainter"

    def module_state(self, prefix: str) -> dict[str, torch.Tensor]:
        """The state_dict saved under `prefix` ("generator", "discriminator")."""
        head = prefix + "."
        return {k[len(head):]: v for k, v in self.tensors.items() if k.startswith(head)}

    def optimizer_state(self, name: str) -> dict[str, Any]:
        head = f"optim.{name}."
        state: dict[int, dict[str, torch.Tensor]] = {}
        for key, value in self.tensors.items():
            if key.startswith(head):
                index, stat = key[len(head):].split(".", 1)
                state.setdefault(int(index), {})[stat] = value
        return {"state": state, "param_groups": json.loads(self.metadata[f"optim.{name}.param_groups"])}


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file beside `path`, fsync it, rename over `path`, fsync the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def save_checkpoint(path: Path, config: Config, step: int, epoch: int, modules: dict[str, nn.Module],
                    optimizers: dict[str, torch.optim.Optimizer], extra: dict[str, torch.Tensor],
                    provenance: dict[str, str] | None = None) -> None:
    """`provenance`: extra metadata strings for files that no run directory describes (`ssl-ce average`)."""
    tensors: dict[str, torch.Tensor] = {}
    metadata = {**(provenance or {}), "format": FORMAT, "ssl_ce_version": __version__,
                "config": json.dumps(config.to_dict()), "step": str(step), "epoch": str(epoch),
                "model": config.model.name, "method": config.method.name, "mask": config.mask.type,
                "data": config.data.source}
    for name, module in modules.items():
        for key, value in module.state_dict().items():
            tensors[f"{name}.{key}"] = value.detach().cpu().contiguous()
    for name, optimizer in optimizers.items():
        state = optimizer.state_dict()
        for index, stats in state["state"].items():
            for stat, value in stats.items():
                tensors[f"optim.{name}.{index}.{stat}"] = torch.as_tensor(value).detach().cpu().contiguous()
        metadata[f"optim.{name}.param_groups"] = json.dumps(state["param_groups"])
    for key, value in extra.items():
        tensors[f"extra.{key}"] = value.detach().cpu().contiguous()
    atomic_write_bytes(path, save(tensors, metadata=metadata))


def read_metadata(path: str | Path) -> dict[str, str]:
    """The metadata of an ssl-ce checkpoint or export; anything else raises SslCeError saying what it is not."""
    path = Path(path)
    if not path.is_file():
        raise SslCeError(f"checkpoint not found: {path}")
    try:
        with safe_open(str(path), framework="pt") as f:
            metadata = f.metadata() or {}
    except (SafetensorError, OSError, ValueError) as exc:
        raise SslCeError(f"{path} is not a safetensors checkpoint ({exc})") from None
    if metadata.get("format") not in (FORMAT, EXPORT_FORMAT):
        raise SslCeError(f"{path} is a safetensors file but not an ssl-ce checkpoint (no '{FORMAT}' or "
                         f"'{EXPORT_FORMAT}' format tag)")
    return metadata


def load_checkpoint(path: str | Path, prefixes: tuple[str, ...] | None = None) -> Checkpoint:
    """Reads a checkpoint; with `prefixes`, only tensors under them (evaluators need no optimiser state).

    An export is read into the checkpoint's key namespace (its clean keys prefixed back, half precision
    widened to fp32), so everything that loads checkpoints also loads exports.
    """
    metadata = read_metadata(path)
    part = metadata.get("part", "training")
    head = f"{EXPORT_PREFIXES[part]}." if part in EXPORT_PREFIXES else ""
    tensors = {}
    try:
        with safe_open(str(path), framework="pt") as f:
            for stored in f.keys():  # noqa: SIM118 (safe_open is not a dict)
                key = head + stored
                if prefixes is None or key.split(".", 1)[0] in prefixes:
                    value = f.get_tensor(stored)
                    tensors[key] = value.float() if head and value.dtype in (torch.float16, torch.bfloat16) else value
        config = config_from_dict(json.loads(metadata["config"]))
    except (SafetensorError, OSError, ValueError, KeyError) as exc:
        raise SslCeError(f"{path} is damaged: {exc}") from None
    return Checkpoint(config, int(metadata["step"]), int(metadata["epoch"]), tensors, metadata, part)


def state_mismatch(module: nn.Module, state: dict[str, torch.Tensor]) -> list[str]:
    """How `state` differs from `module`'s own (missing, unexpected, wrong-shape keys); empty when it fits."""
    own = module.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = sorted(k for k in set(own) & set(state) if own[k].shape != state[k].shape)
    return [f"{label}: {', '.join(keys[:3])}{' ...' if len(keys) > 3 else ''}"
            for label, keys in (("missing", missing), ("unexpected", unexpected), ("wrong shape", wrong)) if keys]


def load_module(module: nn.Module, state: dict[str, torch.Tensor], what: str) -> None:
    """Strict load; a mismatch names the differing keys instead of loading part of the weights."""
    mismatch = state_mismatch(module, state)
    if mismatch:
        raise SslCeError(f"{what} does not match this architecture ({'; '.join(mismatch)})")
    module.load_state_dict(state)
