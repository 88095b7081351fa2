"""Nothing is lost and nothing ends in a traceback: kills, interrupts, NaNs, collapse, bad bytes."""

import io
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from ssl_ce.checkpoint import CHECKPOINT_NAME, TRAIN_SECONDS, load_checkpoint, read_metadata
from ssl_ce.data.images import load_image
from ssl_ce.errors import SslCeError
from ssl_ce.training import loop as train_module
from ssl_ce.training import train

from .conftest import REPO, tiny_config

TINY_ARGS = ["--set", "data.crops_per_photo=2", "--set", "model.bottleneck=32", "--batch-size", "4",
             "--precision", "fp32", "--set", "train.grid_images=2", "--set", "train.deterministic=true",
             "--set", "train.checkpoint_every=2", "--no-progress"]


def _pretrain(out: Path, *extra: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ssl_ce.cli", "pretrain", "--out", str(out), *TINY_ARGS, *extra],
                            cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for_checkpoint(out: Path, process: subprocess.Popen, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if (out / CHECKPOINT_NAME).exists():
            return int(read_metadata(out / CHECKPOINT_NAME)["step"])
        assert process.poll() is None, process.communicate()
        time.sleep(0.02)
    raise AssertionError("no checkpoint appeared")


def test_sigkill_then_resume_ends_with_the_weights_of_an_uninterrupted_run(tmp_path: Path) -> None:
    steps = 60  # 12 epochs of 5 steps
    out = tmp_path / "killed"
    process = _pretrain(out, "--epochs", "12")
    _wait_for_checkpoint(out, process)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL
    killed_at = load_checkpoint(out / CHECKPOINT_NAME).step
    assert 0 < killed_at < steps  # killed mid-training, with a readable checkpoint

    resumed = subprocess.run([sys.executable, "-m", "ssl_ce.cli", "pretrain", "--out", str(out), "--resume",
                              "--no-progress"], cwd=REPO, capture_output=True, text=True, timeout=300, check=False)
    assert resumed.returncode == 0, resumed.stderr
    a = load_checkpoint(out / CHECKPOINT_NAME)
    reference = train(a.config, tmp_path / "reference", progress=False)  # the same config, never interrupted
    b = load_checkpoint(reference.checkpoint)
    assert a.step == b.step == steps
    assert a.tensors.keys() == b.tensors.keys()
    for key in b.tensors.keys() - {f"extra.{TRAIN_SECONDS}"}:  # all but wall time: weights, BN, Adam, RNG
        assert torch.equal(a.tensors[key], b.tensors[key]), key
    assert pd.read_csv(out / "metrics.csv")["step"].tolist() == list(range(1, steps + 1))


def test_sigint_writes_a_checkpoint_and_stops_cleanly(tmp_path: Path) -> None:
    out = tmp_path / "run"
    process = _pretrain(out, "--epochs", "400")
    _wait_for_checkpoint(out, process)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130
    assert "interrupted at step" in stderr and "--resume" in stderr and "Traceback" not in stderr
    stopped_at = int(stderr.split("interrupted at step ")[1].split(";")[0])
    assert load_checkpoint(out / CHECKPOINT_NAME).step == stopped_at
    assert pd.read_csv(out / "metrics.csv")["step"].max() == stopped_at


def test_same_seed_gives_the_same_metrics(tmp_path: Path) -> None:
    cfg = tiny_config(train={"max_steps": 6})
    train(cfg, tmp_path / "a", progress=False)
    train(cfg, tmp_path / "b", progress=False)
    a = pd.read_csv(tmp_path / "a" / "metrics.csv").drop(columns="img_per_s")
    b = pd.read_csv(tmp_path / "b" / "metrics.csv").drop(columns="img_per_s")
    pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_a_nan_loss_stops_the_run_naming_the_step_and_checkpoint(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    real_step = train_module.train_step
    calls = []

    def poisoned(*args, **kwargs):
        losses = real_step(*args, **kwargs)
        calls.append(1)
        if len(calls) >= 7:
            losses["rec"] = torch.tensor(float("nan"))
        return losses

    monkeypatch.setattr(train_module, "train_step", poisoned)
    with pytest.raises(SslCeError, match=r"loss rec became nan at step 7; the last good checkpoint is .*checkpoint"):
        train(tiny_config(train={"checkpoint_every": 3, "epochs": 4}), tmp_path / "run", progress=False)
    assert load_checkpoint(tmp_path / "run" / CHECKPOINT_NAME).step == 6  # every 3 steps: 3, 5 (epoch end), 6


def test_discriminator_collapse_is_flagged_in_metrics_and_log(tmp_path: Path) -> None:
    cfg = tiny_config(train={"collapse_steps": 3, "collapse_d_loss": 1e9, "collapse_adv_loss": -1.0})
    with pytest.warns(UserWarning, match="discriminator collapse at step 3.*lr_d"):
        train(cfg, tmp_path / "run", progress=False)
    flags = pd.read_csv(tmp_path / "run" / "metrics.csv")["d_collapsed"].tolist()
    assert flags == [0, 0] + [1] * (len(flags) - 2)


def test_healthy_training_is_not_flagged(tmp_path: Path) -> None:
    train(tiny_config(), tmp_path / "run", progress=False)
    assert pd.read_csv(tmp_path / "run" / "metrics.csv")["d_collapsed"].eq(0).all()


def _check_loaded(data: bytes, size: int) -> None:
    with tempfile.NamedTemporaryFile(suffix=".img", delete=False) as f:
        f.write(data)
    try:
        image = load_image(f.name, size)
    except SslCeError as exc:
        assert f.name in str(exc)
        return
    finally:
        os.unlink(f.name)
    assert image.shape == (3, size, size) and image.dtype == torch.uint8


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=2048), st.sampled_from([b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"BM"]))
def test_random_bytes_give_a_clean_image_or_the_project_error(data: bytes, magic: bytes) -> None:
    _check_loaded(magic + data, 24)


MODES = {"1": "PNG", "L": "PNG", "LA": "PNG", "P": "GIF", "RGB": "JPEG", "RGBA": "PNG", "CMYK": "JPEG",
         "I;16": "PNG", "I": "TIFF", "F": "TIFF", "YCbCr": "JPEG"}


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(sorted(MODES)), st.integers(1, 70), st.integers(1, 70), st.integers(0, 2**31 - 1),
       st.sampled_from([8, 32]))
def test_valid_images_of_any_mode_and_size_load_in_range(mode: str, width: int, height: int, seed: int,
                                                         size: int) -> None:
    rng = np.random.default_rng(seed)
    image = Image.fromarray(rng.integers(0, 256, (height, width, 3), dtype=np.uint8)).convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=MODES[mode])
    _check_loaded(buffer.getvalue(), size)
