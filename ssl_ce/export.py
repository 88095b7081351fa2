"""`ssl-ce export`: weights people can use without ssl-ce's training state.

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
from ssl_ce.checkpoint import AVERAGED_FROM, EXPORT_FORMAT, EXPORT_PREFIXES, atomic_write_bytes
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import result_tables
from ssl_ce.pretrained import ModelInpainter, load_trained_encoder
from ssl_ce.provenance import git_commit

BENCHMARK_TABLES = ("feature_quality.csv", "features_*.csv", "inpainter_selection_*.csv",
                    "roads_inpainter*.csv", "cats_inpainter*.csv")  # benchmarks/ rows
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


def training_run(checkpoint: Path) -> str:
    """run.json beside a training checkpoint (commit, versions, device, command of the training), as JSON."""
    run = checkpoint.parent / "run.json"
    return json.dumps(json.loads(run.read_text())) if run.exists() and checkpoint.name != run.name else ""


def recorded_evaluations(checkpoint: Path, results_dir: Path) -> list[dict[str, Any]]:
    """Rows of the results tables that evaluated this very file, without their bookkeeping columns; the
    baselines evaluated beside it (classical inpainters, HOG and pixel retrieval) share its checkpoint column
    but are not its results."""
    target = checkpoint.resolve()
    found = []
    benchmark_tables = sorted({p for pattern in BENCHMARK_TABLES for p in results_dir.glob(pattern)})
    for path in [*(results_dir / table for table in result_tables()), *benchmark_tables]:
        if not path.exists():
            continue
        with path.open(newline="") as f:
            for row in csv.DictReader(f):
                judged_itself = row.get("method") != "" and row.get("features") not in ("hog", "pixels")
                if judged_itself and row.get("checkpoint") and Path(row["checkpoint"]).resolve() == target:
                    kept = {k: v for k, v in row.items() if k not in NOT_RECORDED and v not in ("", None)}
                    found.append({"table": path.stem, **kept})
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
        "training_run": ckpt.metadata.get("training_run") or training_run(checkpoint) or "{}",
        AVERAGED_FROM: ckpt.metadata.get(AVERAGED_FROM, "[]"),
        "training_metrics": json.dumps(training_metrics(checkpoint) or json.loads(
            ckpt.metadata.get("training_metrics", "{}"))),
        "evaluations": json.dumps(recorded_evaluations(checkpoint, results_dir) or json.loads(
            ckpt.metadata.get("evaluations", "[]"))),
    }
    atomic_write_bytes(out, save(tensors, metadata=metadata))
    return metadata
