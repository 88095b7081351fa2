import json
from pathlib import Path

import pytest
import torch

from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.errors import SslCeError
from ssl_ce.export import export_checkpoint
from ssl_ce.models import build_model
from ssl_ce.training import train
from ssl_ce.training.grow import grown_state

from .conftest import tiny_config

FROZEN = {"lr_g": 1e-12, "lr_d": 1e-12}  # so a few steps leave the initial weights where they were


def _trained(tmp_path: Path) -> Path:
    return train(tiny_config(train={"max_steps": 3}), tmp_path / "source", progress=False).checkpoint


def _weights(path: Path, prefix: str) -> dict[str, torch.Tensor]:
    state = load_checkpoint(path).module_state(prefix)
    return {k: v for k, v in state.items() if "running" not in k and "num_batches" not in k}


def _assert_same(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> None:
    assert a.keys() == b.keys()
    for key in a:
        torch.testing.assert_close(a[key], b[key], atol=1e-6, rtol=0, msg=key)


def test_fine_tuning_starts_from_the_checkpoint_weights_with_a_fresh_step_count(tmp_path: Path) -> None:
    source = _trained(tmp_path)
    cfg = tiny_config(optim=FROZEN, train={"max_steps": 2, "init_from": str(source)})
    result = train(cfg, tmp_path / "tuned", progress=False)
    assert result.step == 2  # a new schedule, not the source's step 3 continued
    for part in ("generator", "discriminator"):
        _assert_same(_weights(result.checkpoint, part), _weights(source, part))
    info = json.loads((tmp_path / "tuned" / "run.json").read_text())["initialised_from"]
    assert info["loaded"] == ["generator", "discriminator"] and info["fresh"] == [] and info["step"] == 3
    fresh = train(tiny_config(optim=FROZEN, train={"max_steps": 2}), tmp_path / "fresh", progress=False)
    with pytest.raises(AssertionError):  # the comparison above could fail: a fresh init differs
        _assert_same(_weights(fresh.checkpoint, "generator"), _weights(source, "generator"))


def test_a_supervised_run_takes_the_encoder_and_records_its_fresh_head(tmp_path: Path) -> None:
    source = _trained(tmp_path)
    cfg = tiny_config(method={"name": "supervised"}, optim=FROZEN, train={"max_steps": 2, "init_from": str(source)})
    result = train(cfg, tmp_path / "tuned", progress=False)
    _assert_same(_weights(result.checkpoint, "generator.encoder"), _weights(source, "generator.encoder"))
    info = json.loads((tmp_path / "tuned" / "run.json").read_text())["initialised_from"]
    assert info["loaded"] == ["generator.encoder"] and info["fresh"] == ["generator (all but the encoder)"]


@pytest.mark.parametrize("part", ["inpainter", "encoder"])
def test_exports_initialise_what_they_hold(tmp_path: Path, part: str) -> None:
    source = _trained(tmp_path)
    export = tmp_path / f"{part}.safetensors"
    export_checkpoint(source, export, part=part, results_dir=tmp_path / "results")
    cfg = tiny_config(method={"adv_weight": 0.0}, optim=FROZEN, train={"max_steps": 1, "init_from": str(export)})
    result = train(cfg, tmp_path / "tuned", progress=False)
    prefix = "generator" if part == "inpainter" else "generator.encoder"
    _assert_same(_weights(result.checkpoint, prefix), _weights(source, prefix))
    loaded = json.loads((tmp_path / "tuned" / "run.json").read_text())["initialised_from"]["loaded"]
    assert loaded == [prefix]


def test_another_architecture_or_a_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    source = _trained(tmp_path)
    wider = tiny_config(model={"bottleneck": 32}, train={"max_steps": 1, "init_from": str(source)})
    with pytest.raises(SslCeError, match=r"init_from.*wrong shape"):
        train(wider, tmp_path / "wider", progress=False)
    missing = tiny_config(train={"max_steps": 1, "init_from": str(tmp_path / "nope.safetensors")})
    with pytest.raises(SslCeError, match=r"train\.init_from: no such file"):
        train(missing, tmp_path / "missing", progress=False)


@pytest.mark.parametrize("wider", [{"bottleneck": 96}, {"width_mult": 1.5, "bottleneck": 96}])
def test_a_wider_generator_grown_from_a_narrower_one_computes_the_same(wider: dict) -> None:
    narrow_cfg = tiny_config()
    source, _ = build_model(narrow_cfg.model, 16)
    for p in source.parameters():  # trained-looking weights, so that zeroed reads matter
        p.data.normal_(0, 0.1)
    target, _ = build_model(tiny_config(model=wider).model, 16)
    state, grown = grown_state(target, source.state_dict())
    target.load_state_dict(state)
    assert any("encoder" in line for line in grown) and any("decoder" in line for line in grown)
    x = torch.randn(3, 3, 32, 32)
    torch.testing.assert_close(target.eval()(x), source.eval()(x))
    target.decoder.net[0].weight.data[64:].normal_()  # the new bottleneck units' zeroed reads kept it equal
    assert not torch.allclose(target(x), source(x))
    assert grown_state(source, target.state_dict()) is None  # shrinking is not growing


def test_fine_tuning_a_wider_model_grows_the_source_and_records_it(tmp_path: Path) -> None:
    source = _trained(tmp_path)
    cfg = tiny_config(model={"bottleneck": 96}, method={"adv_weight": 0.0}, optim=FROZEN,
                      train={"max_steps": 1, "init_from": str(source)})
    result = train(cfg, tmp_path / "wide", progress=False)
    info = json.loads((tmp_path / "wide" / "run.json").read_text())["initialised_from"]
    assert info["loaded"][0] == "generator" and any("(64, 256, 4, 4) -> (96, 256, 4, 4)" in g for g in info["grown"])
    old, new = _weights(source, "generator"), _weights(result.checkpoint, "generator")
    first_up = "decoder.net.0.weight"  # reads the bottleneck: the 32 new inputs start silent
    torch.testing.assert_close(new[first_up][:64], old[first_up], atol=1e-6, rtol=0)
    assert new[first_up][64:].abs().max() < 1e-6


def test_only_unit_counts_grow_never_a_kernel() -> None:
    small, big = torch.nn.Conv2d(3, 4, 3), torch.nn.Conv2d(3, 8, 5)
    assert grown_state(big, small.state_dict()) is None
    assert grown_state(torch.nn.Conv2d(3, 8, 3), small.state_dict()) is not None
