from pathlib import Path

import pytest
import torch
from torch import nn

import ssl_ce.training.loop as training
from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.errors import Interrupted
from ssl_ce.info import describe
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import train
from ssl_ce.training.averaging import AVERAGED_NAME, WeightAverage, measure_batch_norm
from ssl_ce.training.schedule import average_due

from .conftest import tiny_config


def test_the_average_is_the_mean_of_the_updates_and_survives_a_checkpoint() -> None:
    layer = nn.Linear(2, 1)
    average = WeightAverage()
    for value in (1.0, 2.0, 6.0):
        nn.init.constant_(layer.weight, value)
        average.update(layer)
    assert average.count == 3
    assert torch.equal(average.averaged(layer).weight, torch.full((1, 2), 3.0))
    assert torch.equal(layer.weight, torch.full((1, 2), 6.0))  # the trained module is left alone
    saved = {f"extra.{k}": v for k, v in average.extras().items()}
    restored = WeightAverage.from_checkpoint(saved, torch.device("cpu"))
    assert restored.count == 3 and torch.equal(restored.averaged(layer).weight, torch.full((1, 2), 3.0))
    assert WeightAverage().extras() == {} and WeightAverage.from_checkpoint({}, torch.device("cpu")).count == 0


def test_batch_norm_statistics_are_the_plain_mean_over_the_batches() -> None:
    norm = nn.BatchNorm1d(1, momentum=0.1)
    norm.running_mean.fill_(100.0)
    batches = [torch.tensor([[0.0], [2.0]]), torch.tensor([[4.0], [6.0]])]  # batch means 1 and 5
    measure_batch_norm(norm, batches, norm)
    assert norm.running_mean.item() == pytest.approx(3.0)  # not the momentum-weighted 100 -> 1 -> 5 blend
    assert norm.running_var.item() == pytest.approx(2.0)  # each batch's unbiased variance is 2
    assert norm.momentum == 0.1 and not norm.training


def test_the_last_epoch_ends_and_the_last_step_join_the_average() -> None:
    assert [s for s in range(1, 16) if average_due(s, 5, 15, 2)] == [10, 15]
    assert [s for s in range(1, 16) if average_due(s, 5, 15, 9)] == [5, 10, 15]
    assert [s for s in range(1, 13) if average_due(s, 5, 12, 2)] == [5, 10, 12]  # max_steps mid-epoch
    assert not any(average_due(s, 5, 15, 0) for s in range(1, 16))


def test_averaging_one_epoch_keeps_the_last_weights_with_batch_norms_measured_again(tmp_path: Path) -> None:
    result = train(tiny_config(train={"average_epochs": 1}), tmp_path / "run", progress=False)
    assert result.averaged == tmp_path / "run" / AVERAGED_NAME
    last = load_checkpoint(result.checkpoint)
    averaged = load_checkpoint(result.averaged)
    assert averaged.step == last.step and averaged.config == last.config
    assert not any(k.startswith("optim.") for k in averaged.tensors)
    params = [k for k in averaged.tensors if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
    assert all(torch.equal(averaged.tensors[k], last.tensors[k]) for k in params)
    assert not torch.equal(averaged.tensors["generator.encoder.net.3.running_mean"],
                           last.tensors["generator.encoder.net.3.running_mean"])
    inpainter = ModelInpainter(result.averaged, torch.device("cpu"))  # evaluators take it like a checkpoint
    assert inpainter.step == last.step
    assert "weight average" in dict(describe(result.averaged))["kind"]  # `ssl-ce info` does not call it resumable
    assert "optimiser" in dict(describe(result.checkpoint))["kind"]


def test_no_averaged_file_unless_asked(tmp_path: Path) -> None:
    result = train(tiny_config(), tmp_path / "run", progress=False)
    assert result.averaged is None and not (tmp_path / "run" / AVERAGED_NAME).exists()
    assert not any(k.startswith("extra.average") for k in load_checkpoint(result.checkpoint).tensors)


def test_an_interrupted_run_resumes_to_the_same_average(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = tiny_config(train={"epochs": 3, "average_epochs": 2, "checkpoint_every": 1000})  # 5 steps an epoch
    full = train(cfg, tmp_path / "full", progress=False)

    real_step, calls = training.train_step, []

    def interrupted_after_12_steps(*args, **kwargs):
        if len(calls) == 12:  # after the epoch-2 end (step 10) joined the average, before the last one
            raise KeyboardInterrupt
        calls.append(1)
        return real_step(*args, **kwargs)

    monkeypatch.setattr(training, "train_step", interrupted_after_12_steps)
    with pytest.raises(Interrupted):
        train(cfg, tmp_path / "split", progress=False)
    saved = load_checkpoint(tmp_path / "split" / "checkpoint.safetensors")
    assert saved.step == 12 and int(saved.tensors["extra.average_count"]) == 1
    monkeypatch.setattr(training, "train_step", real_step)
    resumed = train(cfg, tmp_path / "split", resume=True, progress=False)

    a, b = load_checkpoint(full.averaged), load_checkpoint(resumed.averaged)
    assert a.tensors.keys() == b.tensors.keys()
    for key in a.tensors:
        assert torch.allclose(a.tensors[key].float(), b.tensors[key].float(), atol=1e-6), key
    last = load_checkpoint(full.checkpoint)
    weight = "generator.encoder.net.0.weight"
    assert not torch.allclose(a.tensors[weight], last.tensors[weight])  # two epoch ends, not the last alone
