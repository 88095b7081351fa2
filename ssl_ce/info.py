"""`ssl-ce info`: what a checkpoint or export is, how it was trained and how it scored, read from the file and
the results tables beside it."""

from __future__ import annotations

import json
from pathlib import Path

from ssl_ce.checkpoint import AVERAGED_FROM, TRAIN_SECONDS, Checkpoint, load_checkpoint
from ssl_ce.export import recorded_evaluations, training_metrics, training_run
from ssl_ce.hole_geometry import HoleGeometry
from ssl_ce.methods import method_spec
from ssl_ce.pretrained import encoder_from


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
        ("method", method_spec(cfg).label(cfg)),
        ("mask", cfg.mask.type + (f" (fills: {HoleGeometry.of(cfg).describe()})" if method_spec(cfg).inpaints
                                  else "")),
        ("training data", cfg.data.source + (f" ({cfg.data.root})" if cfg.data.root else "")),
        ("trained", f"{ckpt.step} steps, {ckpt.epoch} epochs, batch {cfg.train.batch_size}, "
                    f"{cfg.train.precision}, seed {cfg.train.seed}" + _wall_time(ckpt)),
        ("ssl-ce", ckpt.metadata.get("trained_with_ssl_ce") or ckpt.metadata.get("ssl_ce_version", "")),
    ]
    run = json.loads(ckpt.metadata.get("training_run") or training_run(path) or "{}")
    if run:
        lines += training_segments(run)
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


def _wall_time(ckpt: Checkpoint) -> str:
    """', 12.3 min' from the wall time a training checkpoint records (train_seconds), else nothing."""
    seconds = ckpt.tensors.get(f"extra.{TRAIN_SECONDS}")
    return "" if seconds is None else f", {float(seconds) / 60:.1f} min"


def training_segments(run: dict) -> list[tuple[str, str]]:
    """Where the weights come from: the training's last stretch (full commit, with `+dirty` for uncommitted
    code, and its command), the weights it started from (`init_from`) and the stretches before a resume."""
    def stretch(segment: dict) -> str:
        return (f"from step {segment.get('resumed_from_step', 0)}, commit {segment.get('git_commit', '?')}, torch "
                f"{segment.get('torch', '?')}, {segment.get('device_name', '?')} ({segment.get('device', '?')}), "
                + (f"ran in {segment['precision']}, " if "precision" in segment else "")
                + f"command: {segment.get('command', '?')}")

    earlier = run.get("earlier_segments", [])
    lines = [(f"training run, segment {i + 1} of {len(earlier) + 1}", stretch(segment))
             for i, segment in enumerate(earlier)]
    lines.append(("training run" if not earlier else f"training run, segment {len(earlier) + 1} (last)",
                  stretch(run)))
    start = run.get("initialised_from") or next((s["initialised_from"] for s in earlier if "initialised_from" in s),
                                                None)
    if start:
        lines.append(("initialised from", f"{start.get('path')} (step {start.get('step')}; loaded "
                                          f"{', '.join(start.get('loaded', []))}; fresh "
                                          f"{', '.join(start.get('fresh', [])) or 'nothing'})"))
    return lines
