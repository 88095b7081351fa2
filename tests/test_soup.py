import json
from pathlib import Path

import pytest
import torch

from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.errors import SslCeError
from ssl_ce.export import export_checkpoint
from ssl_ce.info import describe
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import train
from ssl_ce.training.averaging import average_files

from .conftest import tiny_config
from .test_cli import ssl_ce

STATISTICS = ("running_mean", "running_var", "num_batches_tracked")


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Two tiny runs from the same start that differ in their seed, as runs of one lineage do."""
    root = tmp_path_factory.mktemp("soup")
    first = train(tiny_config(train={"max_steps": 3}), root / "start", progress=False).checkpoint
    return [train(tiny_config(train={"max_steps": 4, "seed": seed, "init_from": str(first)}), root / f"seed{seed}",
                  progress=False).checkpoint for seed in (1, 2)]


def test_the_average_holds_the_mean_weights_and_its_own_batch_norms(two_runs: list[Path], tmp_path: Path) -> None:
    out = average_files(two_runs, tmp_path / "soup.safetensors", device="cpu")
    soup = load_checkpoint(out)
    a, b = (load_checkpoint(path) for path in two_runs)
    weights = [k for k in soup.tensors if not k.endswith(STATISTICS)]
    assert weights and all(torch.allclose(soup.tensors[k], (a.tensors[k] + b.tensors[k]) / 2, atol=1e-6)
                           for k in weights)
    assert not torch.allclose(a.tensors[weights[0]], b.tensors[weights[0]])  # the runs did differ
    mean = "generator.encoder.net.3.running_mean"
    assert not torch.allclose(soup.tensors[mean], (a.tensors[mean] + b.tensors[mean]) / 2)  # measured, not averaged
    assert not any(k.startswith(("optim.", "discriminator.")) for k in soup.tensors)
    assert soup.config == a.config and soup.step == max(a.step, b.step)
    ModelInpainter(out, torch.device("cpu"))  # every evaluator takes it
    kind = dict(describe(out))["kind"]
    assert str(two_runs[0]) in kind and str(two_runs[1]) in kind
    exported = export_checkpoint(out, tmp_path / "soup-export.safetensors", "inpainter")
    assert json.loads(exported["averaged_from"]) == [str(p) for p in two_runs]  # an export keeps where it came from
    assert "git_commit" in json.loads(exported["training_run"])  # the averaging's provenance, not a run.json's


def test_files_of_another_architecture_or_a_single_file_are_refused(two_runs: list[Path], tmp_path: Path) -> None:
    wider = train(tiny_config(train={"max_steps": 1}, model={"bottleneck": 96}), tmp_path / "wide",
                  progress=False).checkpoint
    with pytest.raises(SslCeError, match="only files of one architecture can be averaged") as error:
        average_files([two_runs[0], wider], tmp_path / "soup.safetensors", device="cpu")
    assert str(wider) in str(error.value)
    with pytest.raises(SslCeError, match="at least two"):
        average_files(two_runs[:1], tmp_path / "soup.safetensors", device="cpu")
    assert not (tmp_path / "soup.safetensors").exists()


def test_the_command_line_writes_the_average(two_runs: list[Path], tmp_path: Path) -> None:
    out = tmp_path / "soup.safetensors"
    result = ssl_ce("average", *map(str, two_runs), "--out", str(out), "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert "the mean of 2 generators" in result.stdout and out.is_file()
    missing = ssl_ce("average", str(two_runs[0]), str(tmp_path / "nope.safetensors"), "--out", str(out))
    assert missing.returncode != 0 and "Traceback" not in missing.stderr
    assert "nope.safetensors" in missing.stderr
