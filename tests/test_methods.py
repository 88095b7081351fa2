from pathlib import Path

import pandas as pd
import pytest
import torch

from ssl_ce import load_encoder
from ssl_ce.checkpoint import load_checkpoint
from ssl_ce.config import DataConfig
from ssl_ce.errors import SslCeError
from ssl_ce.export import export_checkpoint
from ssl_ce.methods import METHODS
from ssl_ce.models import build_model
from ssl_ce.pretrained import load_trained_encoder
from ssl_ce.training import train

from .conftest import tiny_config


@pytest.mark.parametrize("method", METHODS.names())
def test_every_method_trains_and_leaves_a_loadable_encoder(method: str, tmp_path: Path) -> None:
    result = train(tiny_config(method={"name": method}, train={"max_steps": 4}), tmp_path / "run", progress=False)
    loaded = load_trained_encoder(result.checkpoint)
    assert loaded.checkpoint.config.method.name == method
    features = loaded.encoder.features(torch.zeros(2, 3, 32, 32))
    assert features.shape == (2, 64)
    export_checkpoint(result.checkpoint, tmp_path / "encoder.safetensors", "encoder", results_dir=tmp_path)
    images = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    assert torch.equal(load_encoder(tmp_path / "encoder.safetensors")(images), load_encoder(result.checkpoint)(images))
    if method == "random":
        assert result.step == 0 and not (tmp_path / "run" / "metrics.csv").exists()
    else:
        metrics = pd.read_csv(tmp_path / "run" / "metrics.csv")
        assert len(metrics) == 4 and metrics["g_total"].notna().all()


def test_random_init_saves_the_seeded_initial_weights(tmp_path: Path) -> None:
    cfg = tiny_config(method={"name": "random"})
    train(cfg, tmp_path / "run", progress=False)
    torch.manual_seed(cfg.train.seed)
    generator, _ = build_model(cfg.model, 16)
    saved = load_checkpoint(tmp_path / "run" / "checkpoint.safetensors").module_state("generator")
    assert all(torch.equal(v, saved[k]) for k, v in generator.state_dict().items())


def test_reconstruction_baselines_predict_the_whole_image(tmp_path: Path) -> None:
    for method in ("autoencoder", "denoising"):
        train(tiny_config(method={"name": method}, train={"max_steps": 2}), tmp_path / method, progress=False)
        ckpt = load_checkpoint(tmp_path / method / "checkpoint.safetensors")
        assert ckpt.tensors["generator.decoder.net.0.weight"].shape[0] == 64  # bottleneck into the decoder
        assert "discriminator.net.0.weight" not in ckpt.tensors  # no adversary
        generator, _ = build_model(ckpt.config.model, 32)  # full 32x32 output
        generator.load_state_dict(ckpt.module_state("generator"))


def test_denoising_corrupts_with_noise_and_dropout() -> None:
    from ssl_ce.data.batches import Batch
    from ssl_ce.data.masks import make_masks
    from ssl_ce.methods import build_method

    cfg = tiny_config(method={"name": "denoising", "noise_std": 0.0, "pixel_dropout": 0.5})
    generator, _ = build_model(cfg.model, 32)
    method = build_method(generator, None, cfg)
    images = torch.full((4, 3, 32, 32), 0.5)
    masks = make_masks(cfg.mask, 4, 32, torch.Generator())
    global_rng = torch.get_rng_state()
    corrupted = method.corrupt(Batch(images, masks, torch.zeros(4), torch.Generator().manual_seed(3)))
    dropped = (corrupted == 0).float().mean().item()
    assert 0.4 < dropped < 0.6 and set(corrupted.unique().tolist()) == {0.0, 0.5}
    again = method.corrupt(Batch(images, masks, torch.zeros(4), torch.Generator().manual_seed(3)))
    other = method.corrupt(Batch(images, masks, torch.zeros(4), torch.Generator().manual_seed(4)))
    assert torch.equal(corrupted, again) and not torch.equal(corrupted, other)  # the step's RNG decides
    assert torch.equal(torch.get_rng_state(), global_rng)  # the global RNG is left alone


def test_supervised_needs_labels(tmp_path: Path, image_folder: Path) -> None:
    unlabelled = tmp_path / "flat"
    unlabelled.mkdir()
    for i, path in enumerate(sorted(image_folder.rglob("*.png"))):
        path.rename(unlabelled / f"{i}.png")
    cfg = tiny_config(method={"name": "supervised"}, data={"source": "folder", "root": str(unlabelled)})
    assert DataConfig(source="folder", root=str(unlabelled)).root
    with pytest.raises(SslCeError, match="labelled dataset"):
        train(cfg, tmp_path / "run", progress=False)
