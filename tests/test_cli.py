"""The real `ssl-ce` command, run as a user would (a subprocess, the installed entry point)."""

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from .conftest import REPO, SHARED_DATA

TINY = ["--set", "data.crops_per_photo=2", "--set", "model.bottleneck=32", "--batch-size", "4",
        "--precision", "fp32", "--set", "train.grid_images=2"]


def ssl_ce(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess:
    """The command line of this source tree (whatever is installed), as a user runs it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run([sys.executable, "-m", "ssl_ce.cli", *args], cwd=cwd, capture_output=True, text=True,
                          timeout=600, check=False, env=env)


def test_help_lists_the_commands_and_options() -> None:
    result = ssl_ce("pretrain", "--help")
    assert result.returncode == 0
    for option in ("--config", "--data-root", "--download", "--resume", "--precision", "--mask", "--set"):
        assert option in result.stdout


@pytest.mark.slow
def test_pretrain_then_resume_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "run"
    first = ssl_ce("pretrain", "--config", "configs/quick.yaml", "--out", str(out), "--max-steps", "4",
                   "--no-progress", *TINY)
    assert first.returncode == 0, first.stderr
    assert "trained 4 steps" in first.stdout
    assert (out / "checkpoint.safetensors").is_file() and (out / "samples" / "epoch_001.png").is_file()
    again = ssl_ce("pretrain", "--out", str(out), "--resume", "--max-steps", "7", "--no-progress")
    assert again.returncode == 0, again.stderr
    assert "trained 7 steps" in again.stdout
    results = tmp_path / "results"
    for _ in range(2):
        evaluated = ssl_ce("eval", "classification", "--checkpoint", str(out / "checkpoint.safetensors"),
                           "--results", str(results), "--finetune-epochs", "1", "--no-progress")
        assert evaluated.returncode == 0, evaluated.stderr
        assert "protocol=linear" in evaluated.stdout and "protocol=finetune" in evaluated.stdout
    table = pd.read_csv(results / "classification.csv")
    assert len(table) == 4 and set(table["protocol"]) == {"linear", "finetune"}
    assert (table["pretrain_steps"] == 7).all() and table["top1_pct"].between(0, 100).all()


@pytest.mark.parametrize("args, message", [
    (["--set", "train.lerning_rate=1"], "unknown key 'train.lerning_rate'"),
    (["--config", "nope.yaml"], "config file not found"),
    (["--data", "cifar10", "--data-root", "/nonexistent"], "CIFAR-10 not found"),
    (["--data", "folder"], "data.root"),
    (["--set", "optim.lr_g=-1"], "optim.lr_g must be > 0"),
    (["--resume"], "--resume needs --out"),
    (["--init-from", "nope.safetensors"], "train.init_from: no such file: nope.safetensors"),
    (["--config", "quick", "--data-root", "/no/such/dir"], "data.root is not used by data.source 'photos'"),
    (["--data", "photos", "--download"], "data.download is not used by data.source 'photos'"),
    (["--method", "jigsaw"], "'jigsaw' is not one of 'context-encoder', 'autoencoder'"),
])
def test_bad_input_is_one_line_and_exit_code_2(args: list[str], message: str, tmp_path: Path) -> None:
    result = ssl_ce("pretrain", *args, "--no-progress", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "runs").exists()  # nothing half-written


def test_eval_refuses_a_file_that_is_not_a_checkpoint(tmp_path: Path) -> None:
    bogus = tmp_path / "weights.safetensors"
    bogus.write_bytes(b"definitely not safetensors")
    result = ssl_ce("eval", "classification", "--checkpoint", str(bogus), "--results", str(tmp_path / "r"))
    assert result.returncode == 2 and "not a safetensors checkpoint" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "r").exists()


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").is_dir(), reason="../shared/data is not present")
def test_cifar10_config_trains_offline_on_the_shared_copy(tmp_path: Path) -> None:
    result = ssl_ce("pretrain", "--config", "configs/cifar10.yaml", "--data-root", str(SHARED_DATA),
                    "--out", str(tmp_path / "c"), "--max-steps", "3", "--no-progress", "--precision", "fp32")
    assert result.returncode == 0, result.stderr
    assert "trained 3 steps" in result.stdout


@pytest.mark.slow
def test_torchrun_trains_with_two_processes_on_cpu(tmp_path: Path) -> None:
    torchrun = Path(sys.executable).with_name("torchrun")
    if not torchrun.exists():
        pytest.skip("torchrun is not installed beside this Python")
    result = subprocess.run(
        [str(torchrun), "--nproc_per_node=2", "-m", "ssl_ce.cli", "pretrain", "--out", str(tmp_path / "ddp"),
         "--max-steps", "3", "--batch-size", "4", "--set", "data.crops_per_photo=4", "--precision", "fp32",
         "--set", "model.bottleneck=32", "--no-progress"],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.count("trained 3 steps") == 1  # only rank 0 reports
    assert '"world_size": 2' in (tmp_path / "ddp" / "run.json").read_text()


def test_strict_refuses_a_broken_image_in_one_line(tmp_path: Path) -> None:
    from .conftest import write_images

    write_images(tmp_path / "imgs", 12, size=(40, 40))
    (tmp_path / "imgs" / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n broken")
    result = ssl_ce("pretrain", "--data", "folder", "--data-root", str(tmp_path / "imgs"), "--strict",
                    "--out", str(tmp_path / "run"), "--no-progress", cwd=tmp_path)
    assert result.returncode == 2 and "broken.png" in result.stderr and "drop --strict" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not (tmp_path / "run").exists()
