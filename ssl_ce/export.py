"""`ssl-ce export` and `ssl-ce info`: weights people can use without ssl-ce's training state.

An export is one safetensors file: the encoder's (or the whole generator's) state_dict under its own clean
key names, optionally in fp16, and metadata saying what it is: the model config, method, data, steps, the
last training losses and every evaluation recorded for the checkpoint in the results tables. No optimiser
state, no pickles. `load_checkpoint` reads exports too, so every evaluator and the Python API accept them.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import save

from ssl_ce import __version__
from ssl_ce.checkpoint import (
    AVERAGED_FROM,
    EXPORT_FORMAT,
    EXPORT_PREFIXES,
    Checkpoint,
    atomic_write_bytes,
    load_checkpoint,
)
from ssl_ce.errors import SslCeError
from ssl_ce.pretrained import ModelInpainter, encoder_from, load_trained_encoder
from ssl_ce.provenance import git_commit

RESULT_TABLES = ("classification.csv", "feature_quality.csv", "nn_retrieval.csv", "inpainting.csv")
NOT_RECORDED = {"checkpoint", "git_commit", "ssl_ce_version", "grid_png", "hyperparameters", "note", "method",
                "model", "mask", "pretrain_data", "pretrain_steps", "trained_mask", "adv_weight", "seed"}


def training_metrics(checkpoint: Path) -> dict[str, float]:
    """The last row of the metrics.csv beside a training checkpoint (empty when there is none)."""
    metrics = checkpoint.parent / "metrics.csv"
    if not metrics.exists():
        return {}
    with metrics.open(newline="") as f:
        rows = list(csv.DictReader(f))
    return {k: float(v) for k, v in rows[-1].items() if v not in ("", None)} if rows else {}


def _training_run(checkpoint: Path) -> str:
    """run.json beside a training checkpoint (commit, versions, device, command of the training), as JSON."""
    run = checkpoint.parent / "run.json"
    return json.dumps(json.loads(run.read_text())) if run.exists() and checkpoint.name != run.name else ""


def recorded_evaluations(checkpoint: Path, results_dir: Path) -> list[dict[str, Any]]:
    """Rows of the results tables that evaluated this very file, without their bookkeeping columns; the
    baselines evaluated beside it (classical inpainters, HOG and pixel retrieval) share its checkpoint column
    but are not its results."""
    target = checkpoint.resolve()
    found = []
    for table in RESULT_TABLES:
        path = results_dir / table
        if not path.exists():
            continue
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                judged_itself = row.get("method") != "" and row.get("features") not in ("hog", "pixels")
                if judged_itself and row.get("checkpoint") and Path(row["checkpoint"]).resolve() == target:
                    kept = {k: v for k, v in row.items() if k not in NOT_RECORDED and v not in ("", None)}
                    found.append({"table": table.removesuffix(".csv"), **kept})
    return found


def export_checkpoint(checkpoint: Path, out: Path, part: str = "encoder", half: bool = False,
                      results_dir: Path = Path("results")) -> dict[str, str]:
    """Writes the export (atomically) and returns its metadata; the weights are checked to load first."""
    if part not in EXPORT_PREFIXES:
        raise SslCeError(f"--part must be one of {', '.join(EXPORT_PREFIXES)}, got {part!r}")
    loaded = load_trained_encoder(checkpoint)  # strict: a file that does not load is never exported
    ckpt = loaded.checkpoint
    if part == "inpainter":
        ModelInpainter(checkpoint, torch.device("cpu"), ckpt)  # refuses encoder-only files and supervised nets
    state = ckpt.module_state(EXPORT_PREFIXES[part])
    tensors = {k: (v.half() if half and v.is_floating_point() else v).contiguous() for k, v in state.items()}
    metadata = {
        **{k: ckpt.metadata[k] for k in ("config", "step", "epoch", "model", "method", "mask", "data")},
        "format": EXPORT_FORMAT, "part": part, "dtype": "float16" if half else "float32",
        "input_size": str(loaded.input_size), "num_features": str(loaded.encoder.num_features),
        "parameters": str(sum(v.numel() for k, v in state.items() if not k.endswith("num_batches_tracked"))),
        "trained_with_ssl_ce": ckpt.metadata.get("trained_with_ssl_ce", ckpt.metadata.get("ssl_ce_version", "")),
        "ssl_ce_version": __version__, "git_commit": git_commit(), "source": checkpoint.name,
        "training_run": ckpt.metadata.get("training_run") or _training_run(checkpoint) or "{}",
        AVERAGED_FROM: ckpt.metadata.get(AVERAGED_FROM, "[]"),
        "training_metrics": json.dumps(training_metrics(checkpoint) or json.loads(
            ckpt.metadata.get("training_metrics", "{}"))),
        "evaluations": json.dumps(recorded_evaluations(checkpoint, results_dir) or json.loads(
            ckpt.metadata.get("evaluations", "[]"))),
    }
    atomic_write_bytes(out, save(tensors, metadata=metadata))
    return metadata


def describe(path: Path, results_dir: Path = Path("results")) -> list[tuple[str, str]]:
    """(field, value) lines for `ssl-ce info`: what the file is, how it was trained, how it scored."""
    ckpt: Checkpoint = load_checkpoint(path)
    loaded = encoder_from(ckpt, path)
    cfg = ckpt.config
    counts: dict[str, int] = {}
    for key, value in ckpt.tensors.items():
        if not key.startswith(("optim.", "extra.")) and not key.endswith("num_batches_tracked"):
            module = ".".join(key.split(".")[:2]) if key.startswith("generator.") else key.split(".")[0]
            counts[module] = counts.get(module, 0) + value.numel()
    if ckpt.part != "training":
        kind = f"export: {ckpt.part} only, {ckpt.metadata.get('dtype', 'float32')}"
    elif any(key.startswith("optim.") for key in ckpt.tensors):
        kind = "training checkpoint (weights, optimiser and RNG state)"
    elif AVERAGED_FROM in ckpt.metadata:
        kind = f"weight average of {', '.join(json.loads(ckpt.metadata[AVERAGED_FROM]))} (ssl-ce average)"
    else:  # what train.average_epochs writes beside the checkpoint
        kind = "weights of a training run (weight average, no optimiser state: not resumable)"
    lines = [
        ("file", f"{path} ({path.stat().st_size / 1e6:.1f} MB)"),
        ("kind", kind),
        ("architecture", f"{cfg.model.name}, input {loaded.input_size}x{loaded.input_size}, "
                         f"{loaded.encoder.num_features}-d features"),
        ("parameters", ", ".join(f"{m} {n:,}" for m, n in sorted(counts.items()))),
        ("method", f"{cfg.method.name}" + (f" (rec {cfg.method.rec_weight:g}, adv {cfg.method.adv_weight:g})"
                                           if cfg.method.name == "context-encoder" else "")),
        ("mask", cfg.mask.type),
        ("training data", cfg.data.source + (f" ({cfg.data.root})" if cfg.data.root else "")),
        ("trained", f"{ckpt.step} steps, {ckpt.epoch} epochs, batch {cfg.train.batch_size}, "
                    f"{cfg.train.precision}, seed {cfg.train.seed}"),
        ("ssl-ce", ckpt.metadata.get("trained_with_ssl_ce") or ckpt.metadata.get("ssl_ce_version", "")),
    ]
    run = json.loads(ckpt.metadata.get("training_run") or _training_run(path) or "{}")
    if run:
        lines.append(("training run", f"commit {run.get('git_commit', '?')[:12]}, torch {run.get('torch', '?')}, "
                                      f"{run.get('device_name', '?')} ({run.get('device', '?')}), "
                                      f"command: {run.get('command', '?')}"))
    metrics = json.loads(ckpt.metadata["training_metrics"]) if "training_metrics" in ckpt.metadata \
        else training_metrics(path)
    if metrics:
        lines.append(("last losses", ", ".join(f"{k} {v:.4g}" for k, v in metrics.items()
                                               if k not in ("step", "epoch", "d_collapsed"))))
    evaluations = json.loads(ckpt.metadata["evaluations"]) if "evaluations" in ckpt.metadata \
        else recorded_evaluations(path, results_dir)
    for row in evaluations:
        table = row.pop("table")
        lines.append((f"evaluation: {table}", ", ".join(f"{k}={v}" for k, v in row.items())))
    if not evaluations:
        lines.append(("evaluations", f"none recorded (looked in {results_dir}/)" if ckpt.part == "training"
                      else "none recorded at export time"))
    return lines
