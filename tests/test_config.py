from pathlib import Path

import pytest

from ssl_ce.config import Config, config_from_dict, load_config
from ssl_ce.errors import SslCeError

from .conftest import REPO


@pytest.mark.parametrize("path", sorted((REPO / "configs").glob("*.yaml")), ids=lambda p: p.name)
def test_every_shipped_config_loads_and_round_trips(path: Path) -> None:
    cfg = load_config(path)
    assert config_from_dict(cfg.to_dict()) == cfg


def test_defaults_equal_the_quick_config() -> None:
    assert load_config(REPO / "configs" / "quick.yaml") == Config()


@pytest.mark.parametrize("raw, key", [
    ({"train": {"lerning_rate": 1}}, "'train.lerning_rate'"),
    ({"trian": {}}, "'trian'"),
    ({"train": {"epochs": "many"}}, "train.epochs"),
    ({"train": {"epochs": True}}, "train.epochs"),
    ({"optim": {"lr_g": -1e-3}}, "optim.lr_g"),
    ({"mask": {"type": "circle"}}, "mask.type"),
    ({"mask": {"overlap": 40}}, "mask.overlap"),
    ({"mask": {"overlap_weight": -1}}, "mask.overlap_weight"),
    ({"mask": {"region_coverage": [0.3, 0.2]}}, "mask.region_coverage"),
    ({"data": {"source": "folder"}}, "data.root"),
    ({"data": {"shift": -1}}, "data.shift"),
    ({"method": {"name": "autoencoder", "rec_loss": "log-l2"}}, "method.rec_loss"),
    ({"method": {"rec_loss": "l1"}}, "method.rec_loss"),
    ({"model": {"name": "alexnet-227", "width_mult": 2.0}}, "model.width_mult"),
    ({"model": {"name": "alexnet-227", "upsample": "resize-conv"}}, "model.upsample"),
    ({"model": {"name": "alexnet-227", "d_norm": "spectral"}}, "model.d_norm"),
    ({"model": {"upsample": "bilinear"}}, "model.upsample"),
])
def test_bad_values_are_refused_naming_the_key(raw: dict, key: str) -> None:
    with pytest.raises(SslCeError, match=key.replace(".", r"\.").replace("'", "'?")):
        config_from_dict(raw)


def test_overrides_apply_dotted_keys_and_parse_float_strings(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("optim:\n  lr_g: 2e-4\n")  # YAML 1.1 reads this as a string
    cfg = load_config(path, {"train.epochs": 3, "method.adv_weight": 0})
    assert cfg.optim.lr_g == pytest.approx(2e-4)
    assert cfg.train.epochs == 3 and cfg.method.adv_weight == 0.0


def test_missing_and_malformed_files_are_user_errors(tmp_path: Path) -> None:
    with pytest.raises(SslCeError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("train: [1, 2\n")
    with pytest.raises(SslCeError, match="not valid YAML"):
        load_config(bad)
