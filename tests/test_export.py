"""Portable weights: `ssl-ce export`, `ssl-ce info`, and the load_encoder / load_inpainter API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from ssl_ce import load_encoder, load_inpainter
from ssl_ce.checkpoint import EXPORT_FORMAT
from ssl_ce.errors import SslCeError
from ssl_ce.export import export_checkpoint
from ssl_ce.info import describe
from ssl_ce.results import append_rows
from ssl_ce.training import train

from .conftest import REPO, tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny centre context encoder trained for a few steps."""
    out = tmp_path_factory.mktemp("export") / "run"
    return train(tiny_config(train={"max_steps": 3}), out, progress=False).checkpoint


def test_encoder_export_round_trip_gives_identical_features_and_no_training_state(trained: Path,
                                                                                   tmp_path: Path) -> None:
    out = tmp_path / "enc.safetensors"
    metadata = export_checkpoint(trained, out, "encoder", results_dir=tmp_path)
    with safe_open(str(out), framework="pt") as f:
        keys = list(f.keys())
        assert f.metadata()["format"] == EXPORT_FORMAT
    assert keys and not any(k.startswith(("optim", "extra", "generator", "discriminator")) for k in keys)
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    enc = load_encoder(out)
    assert not enc.training and enc.num_features == 64 == int(metadata["num_features"])
    assert torch.equal(enc(images), load_encoder(trained)(images))


def test_fp16_export_is_half_the_size_and_close(trained: Path, tmp_path: Path) -> None:
    full, half = tmp_path / "full.safetensors", tmp_path / "half.safetensors"
    export_checkpoint(trained, full, "encoder", results_dir=tmp_path)
    export_checkpoint(trained, half, "encoder", half=True, results_dir=tmp_path)
    assert half.stat().st_size < 0.6 * full.stat().st_size
    images = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    a, b = load_encoder(full)(images), load_encoder(half)(images)
    assert torch.allclose(a, b, atol=2e-2 * a.abs().max().item())


def test_inpainter_export_round_trip_and_api_keeps_type_and_context(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "inp.safetensors"
    export_checkpoint(trained, out, "inpainter", results_dir=tmp_path)
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (45, 60, 3), dtype=np.uint8)  # any size, not the model's 32x32
    mask = np.zeros((45, 60), bool)
    mask[10:30, 20:40] = True
    from_export, from_ckpt = load_inpainter(out)(image, mask), load_inpainter(trained)(image, mask)
    assert from_export.dtype == np.uint8 and from_export.shape == image.shape
    assert np.array_equal(from_export, from_ckpt)
    assert np.array_equal(from_export[~mask], image[~mask])
    assert not np.array_equal(from_export[mask], image[mask])
    tensor = torch.from_numpy(image).permute(2, 0, 1).float() / 255
    filled = load_inpainter(out)(tensor, torch.from_numpy(mask))
    assert isinstance(filled, torch.Tensor) and filled.shape == tensor.shape and filled.dtype == torch.float32
    assert torch.equal(filled[:, ~torch.from_numpy(mask)], tensor[:, ~torch.from_numpy(mask)])


def test_encoder_only_export_is_not_an_inpainter(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "enc.safetensors"
    export_checkpoint(trained, out, "encoder", results_dir=tmp_path)
    with pytest.raises(SslCeError, match="encoder-only export"):
        load_inpainter(out)


def test_truncated_foreign_and_mismatched_files_give_the_projects_error(trained: Path, tmp_path: Path) -> None:
    out = tmp_path / "enc.safetensors"
    export_checkpoint(trained, out, "encoder", results_dir=tmp_path)
    truncated = tmp_path / "truncated.safetensors"
    truncated.write_bytes(out.read_bytes()[: out.stat().st_size // 2])
    with pytest.raises(SslCeError, match=r"truncated\.safetensors"):
        load_encoder(truncated)
    foreign = tmp_path / "foreign.safetensors"
    save_file({"weight": torch.zeros(3)}, str(foreign))
    with pytest.raises(SslCeError, match="not an ssl-ce checkpoint"):
        load_encoder(foreign)
    with safe_open(str(out), framework="pt") as f:  # same weights, metadata claiming a wider bottleneck
        tensors = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118
        metadata = f.metadata()
    config = json.loads(metadata["config"])
    config["model"]["bottleneck"] = 128
    other = tmp_path / "other.safetensors"
    save_file(tensors, str(other), metadata={**metadata, "config": json.dumps(config)})
    with pytest.raises(SslCeError, match="does not match this architecture"):
        load_encoder(other)


def test_export_records_evaluations_and_info_shows_them(trained: Path, tmp_path: Path) -> None:
    row = {"checkpoint": str(trained), "protocol": "linear", "top1_pct": 42.5, "eval_data": "photos",
           "git_commit": "abc"}
    append_rows(tmp_path / "classification.csv", list(row), [row])
    baseline = {"checkpoint": str(trained), "inpainter": "opencv telea", "method": "", "psnr_db": 20.1}
    append_rows(tmp_path / "inpainting.csv", list(baseline), [baseline])
    out = tmp_path / "enc.safetensors"
    export_checkpoint(trained, out, "encoder", results_dir=tmp_path)
    lines = dict(describe(out, tmp_path / "elsewhere"))
    assert "42.5" in lines["evaluation: classification"] and "protocol=linear" in lines["evaluation: classification"]
    assert not any("telea" in value for value in lines.values())  # a baseline beside it is not its result
    assert lines["method"].startswith("context-encoder") and lines["trained"].startswith("3 steps")
    assert "export: encoder only" in lines["kind"]
    assert "rec" in lines["last losses"]
    assert dict(describe(trained, tmp_path))["trained"].endswith(" min")  # the run's recorded wall time


def test_cli_export_and_info(trained: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    out = tmp_path / "inp.safetensors"
    run = [sys.executable, "-m", "ssl_ce.cli"]
    done = subprocess.run([*run, "export", str(trained), "--out", str(out), "--part", "inpainter", "--fp16",
                           "--results", str(tmp_path)], capture_output=True, text=True, env=env, check=False)
    assert done.returncode == 0, done.stderr
    assert "inpainter" in done.stdout and out.exists()
    shown = subprocess.run([*run, "info", str(out)], capture_output=True, text=True, env=env, check=False)
    assert shown.returncode == 0, shown.stderr
    assert "small-32" in shown.stdout and "float16" in shown.stdout and "context-encoder" in shown.stdout
    bad = subprocess.run([*run, "info", str(tmp_path / "missing.safetensors")], capture_output=True, text=True,
                         env=env, check=False)
    assert bad.returncode == 2 and bad.stderr.startswith("error:") and "Traceback" not in bad.stderr


def test_info_names_each_training_segment_by_its_full_commit_and_the_weights_it_started_from() -> None:
    from ssl_ce.info import training_segments

    commit = "0123456789abcdef0123456789abcdef01234567"
    first = {"resumed_from_step": 0, "git_commit": commit, "command": "ssl-ce pretrain A",
             "initialised_from": {"path": "base.safetensors", "step": 90, "loaded": ["generator"],
                                  "fresh": ["discriminator"]}}
    run = {"resumed_from_step": 40, "git_commit": commit + "+dirty", "command": "ssl-ce pretrain A --resume",
           "earlier_segments": [first]}
    lines = dict(training_segments(run))
    assert f"commit {commit}, " in lines["training run, segment 1 of 2"]
    assert f"commit {commit}+dirty" in lines["training run, segment 2 (last)"]  # uncommitted code says so
    assert "from step 40" in lines["training run, segment 2 (last)"]
    assert lines["initialised from"].startswith("base.safetensors (step 90; loaded generator; fresh discriminator")
    assert "initialised from" not in dict(training_segments({"git_commit": commit}))


@pytest.mark.parametrize("model", [{"upsample": "resize-conv", "d_norm": "spectral"}, {"upsample": "pixel-shuffle"}])
def test_model_options_train_save_resume_and_export(model: dict, tmp_path: Path) -> None:
    """Each DCGAN option trains, resumes from its checkpoint, and its export fills as the checkpoint does."""
    cfg = tiny_config(model=model, train={"max_steps": 4, "checkpoint_every": 2})
    checkpoint = train(cfg, tmp_path / "run", progress=False).checkpoint
    resumed = train(tiny_config(model=model, train={"max_steps": 6, "checkpoint_every": 2}), tmp_path / "run",
                    resume=True, progress=False)
    assert resumed.step == 6
    out = tmp_path / "inp.safetensors"
    export_checkpoint(checkpoint, out, "inpainter", results_dir=tmp_path)
    image = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    mask = np.zeros((32, 32), bool)
    mask[8:24, 8:24] = True
    assert np.array_equal(load_inpainter(out)(image, mask), load_inpainter(checkpoint)(image, mask))
