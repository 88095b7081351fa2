"""A new mask, method and evaluator join ssl-ce without editing any of its files: the mask and the method are
registered from this module, the evaluator from an installed package's entry point, and all three are used
through the real CLI and a config file. The evaluator's rows then show in `ssl-ce info` of what it scored."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import yaml
from click.testing import CliRunner

from ssl_ce.cli import cli
from ssl_ce.data.batches import Batch
from ssl_ce.data.masks import MaskBatch, MaskSpec, whole_image
from ssl_ce.methods.base import MethodSpec
from ssl_ce.methods.reconstruction import Autoencoder
from ssl_ce.registries import EVALUATORS, MASKS, METHODS

PLUGIN = '''
from dataclasses import dataclass

import click

from ssl_ce.evaluators import Evaluator
from ssl_ce.pretrained import load_trained_encoder


@dataclass(frozen=True)
class NormOptions:
    batch: int = 4


def run(checkpoint, options, results_dir, progress):
    loaded = load_trained_encoder(checkpoint)
    images = torch.zeros(options.batch, 3, loaded.input_size, loaded.input_size)
    norm = loaded.encoder.features(images).norm(dim=1).mean().item()
    return [{"method": loaded.checkpoint.config.method.name, "checkpoint": str(checkpoint),
             "batch": options.batch, "mean_feature_norm": round(norm, 4)}]


import torch  # noqa: E402

FEATURE_NORM = Evaluator(name="feature-norm", help="Mean feature norm of blank images (a toy plug-in).",
                         csv_name="feature_norm.csv", columns=["method", "checkpoint", "batch", "mean_feature_norm"],
                         run=run, options=NormOptions,
                         params=[click.Option(["--batch"], type=int, default=4, show_default=True)])
'''


def stripe_mask(batch: int, size: int, cfg, rng: torch.Generator) -> MaskBatch:
    """A horizontal band through the middle third of the image."""
    hole = torch.zeros(batch, 1, size, size)
    hole[..., size // 3 : 2 * size // 3, :] = 1
    return MaskBatch(hole, hole.clone(), whole_image(size))


class Colourise(Autoencoder):
    """Paints the colours back into a grey image (a pretext task in its own right)."""

    def corrupt(self, batch: Batch) -> torch.Tensor:
        return batch.masks.apply(batch.images.mean(1, keepdim=True).expand_as(batch.images))


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The mask and method registered here, the evaluator installed as a package with an entry point."""
    site = tmp_path / "site"
    (site / "toy_norm_plugin.py").parent.mkdir(parents=True)
    (site / "toy_norm_plugin.py").write_text(PLUGIN)
    info = site / "toy_norm_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-norm-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[ssl_ce.evaluators]\nfeature-norm = toy_norm_plugin:FEATURE_NORM\n")
    monkeypatch.syspath_prepend(str(site))
    MASKS.register("stripe")(MaskSpec(stripe_mask))
    METHODS.register("colourise")(MethodSpec(build=Colourise, predicts="image", label=lambda cfg: "colourise"))
    EVALUATORS.reload_plugins()
    yield
    MASKS.unregister("stripe")
    METHODS.unregister("colourise")
    EVALUATORS.unregister("feature-norm")


def test_a_new_mask_method_and_evaluator_work_through_the_cli_and_config(plugins: None, tmp_path: Path) -> None:
    config = tmp_path / "toy.yaml"
    config.write_text(yaml.safe_dump({
        "data": {"source": "photos", "crops_per_photo": 2}, "mask": {"type": "stripe"},
        "model": {"name": "small-32", "bottleneck": 16}, "method": {"name": "colourise"},
        "train": {"batch_size": 4, "precision": "fp32", "grid_images": 2}}))
    runner = CliRunner()
    run = tmp_path / "run"
    done = runner.invoke(cli, ["pretrain", "--config", str(config), "--out", str(run), "--max-steps", "2",
                               "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "trained 2 steps" in done.output
    assert (run / "samples" / "epoch_001.png").is_file()  # the method's fills drawn like any other's

    help_text = runner.invoke(cli, ["pretrain", "--help"]).output
    assert "stripe" in help_text and "colourise" in help_text  # the CLI's choices come from the registries
    done = runner.invoke(cli, ["pretrain", "--mask", "stripe", "--method", "colourise", "--out", str(tmp_path / "b"),
                               "--max-steps", "1", "--no-progress", "--set", "data.crops_per_photo=2",
                               "--set", "model.bottleneck=16", "--batch-size", "4"])
    assert done.exit_code == 0, done.output

    results = tmp_path / "results"
    checkpoint = run / "checkpoint.safetensors"
    assert "feature-norm" in runner.invoke(cli, ["eval", "--help"]).output
    done = runner.invoke(cli, ["eval", "feature-norm", "--checkpoint", str(checkpoint), "--batch", "3",
                               "--results", str(results)])
    assert done.exit_code == 0, done.output
    assert (results / "feature_norm.csv").read_text().count("colourise") == 1

    shown = runner.invoke(cli, ["info", str(checkpoint), "--results", str(results)])
    assert shown.exit_code == 0, shown.output
    assert "evaluation: feature_norm" in shown.output and "batch=3" in shown.output
    assert "colourise" in shown.output


def test_an_unregistered_name_is_refused_with_the_registered_ones(tmp_path: Path) -> None:
    from ssl_ce.config import config_from_dict
    from ssl_ce.errors import SslCeError

    with pytest.raises(SslCeError, match=r"mask.type must be one of center, random-block, random-region"):
        config_from_dict({"mask": {"type": "stripe"}})
    done = CliRunner().invoke(cli, ["pretrain", "--method", "colourise", "--out", str(tmp_path / "x")])
    assert done.exit_code == 2 and "colourise" in done.output



def test_a_built_in_module_that_fails_to_import_fails_every_look_up_not_only_the_first(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from ssl_ce.registry import Registry

    (tmp_path / "broken_builtin.py").write_text("import ssl_ce_no_such_dependency\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    table: Registry[object] = Registry("widget", builtins=["broken_builtin"])
    for _ in range(2):  # before, the second look-up read the half-loaded table: "unknown widget"
        with pytest.raises(ModuleNotFoundError, match="ssl_ce_no_such_dependency"):
            table.get("anything")
