
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

from ssl_ce.data.splits import stratified_split
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators import features as features_module
from ssl_ce.evaluators.classification import CLASSIFICATION, COLUMNS, labelled_subset
from ssl_ce.evaluators.linear_probe import linear_probe
from ssl_ce.results import append_rows
from ssl_ce.training import train

from .conftest import tiny_config


def _clusters(n: int, seed: int, classes: int = 10, dim: int = 32, noise: float = 1.5):
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(classes, dim, generator=torch.Generator().manual_seed(99)) * 1.5
    y = torch.randint(0, classes, (n,), generator=g)
    return centres[y] + noise * torch.randn(n, dim, generator=g), y


def test_linear_probe_separates_easy_classes_and_is_at_chance_on_shuffled_labels() -> None:
    x, y = _clusters(1500, 0)
    xt, yt = _clusters(600, 1)
    easy = linear_probe(x, y, xt, yt, 10)
    assert easy.top1 > 0.9 and easy.top5 >= easy.top1
    shuffled = y[torch.randperm(len(y), generator=torch.Generator().manual_seed(2))]
    chance = linear_probe(x, shuffled, xt, yt, 10)
    assert abs(chance.top1 - 0.1) < 0.05  # 4 standard errors at n = 600


def test_regularisation_is_chosen_without_looking_at_the_test_labels() -> None:
    x, y = _clusters(800, 0, noise=3.0)
    xt, yt = _clusters(300, 1, noise=3.0)
    a = linear_probe(x, y, xt, yt, 10)
    b = linear_probe(x, y, xt, yt[torch.randperm(len(yt))], 10)
    assert a.weight_decay == b.weight_decay and a.val_top1 == b.val_top1


def test_stratified_split_holds_out_every_class() -> None:
    labels = torch.tensor([0] * 10 + [1] * 5 + [2] * 2)
    keep, held = stratified_split(labels, 0.2, seed=0)
    assert set(labels[held].tolist()) == {0, 1, 2}
    assert len(set(keep.tolist()) & set(held.tolist())) == 0 and len(keep) + len(held) == len(labels)


def test_labels_per_class_picks_n_of_each() -> None:
    labels = torch.tensor([0] * 20 + [1] * 20 + [-1] * 5)
    idx = labelled_subset(labels, 7, seed=0)
    assert torch.bincount(labels[idx]).tolist() == [7, 7]
    with pytest.raises(SslCeError, match="only 20"):
        labelled_subset(labels, 21, seed=0)


def _colour_folder(root: Path) -> Path:
    """Two easy classes: reddish and bluish noisy images, with train/val/test sub-folders."""
    rng = np.random.default_rng(0)
    for split, count in (("train", 16), ("val", 8), ("test", 8)):
        for cls, channel in (("red", 0), ("blue", 2)):
            folder = root / split / cls
            folder.mkdir(parents=True)
            for i in range(count):
                array = rng.integers(0, 120, (36, 36, 3), dtype=np.uint8)
                array[..., channel] += 120
                Image.fromarray(array).save(folder / f"{i}.png")
    return root


def test_classification_end_to_end_on_a_random_encoder(tmp_path: Path) -> None:
    data = _colour_folder(tmp_path / "colours")
    cfg = tiny_config(method={"name": "random"}, data={"source": "folder", "root": str(data)})
    result = train(cfg, tmp_path / "run", progress=False)
    rows = CLASSIFICATION(result.checkpoint, finetune_epochs=2, progress=False)
    assert [r["protocol"] for r in rows] == ["linear", "finetune"]
    assert all(set(r) == set(COLUMNS) for r in rows)
    linear = rows[0]
    assert linear["top1_pct"] >= 90 and linear["top5_pct"] == "" and linear["eval_data"] == "folder"
    assert rows[1]["top1_pct"] >= 50 and {r["split"] for r in rows} == {"val"}
    assert {r["pretrain_seed"] for r in rows} == {cfg.train.seed}
    (tested,) = CLASSIFICATION(result.checkpoint, protocol="linear", split="test", progress=False)
    assert tested["split"] == "test" and tested["top1_pct"] >= 90
    early = CLASSIFICATION(result.checkpoint, protocol="linear", layer="conv1", progress=False)[0]
    assert early["layer"] == "conv1" and "features=" in early["hyperparameters"]
    with pytest.raises(SslCeError, match="unknown layer"):
        CLASSIFICATION(result.checkpoint, protocol="linear", layer="conv9", progress=False)


def test_features_are_cached_beside_the_checkpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = train(tiny_config(method={"name": "random"}), tmp_path / "run", progress=False)
    first = CLASSIFICATION(result.checkpoint, protocol="linear", progress=False)
    assert list((tmp_path / "run" / "features").glob("*.safetensors"))

    def fail(*args, **kwargs):
        raise AssertionError("features were recomputed")

    monkeypatch.setattr(features_module, "extract", fail)
    again = CLASSIFICATION(result.checkpoint, protocol="linear", progress=False)
    assert again[0]["top1_pct"] == first[0]["top1_pct"]


def test_csv_schema_is_stable_and_pandas_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "classification.csv"
    row = dict.fromkeys(COLUMNS, "x")
    append_rows(path, COLUMNS, [row])
    append_rows(path, COLUMNS, [row, row])
    frame = pd.read_csv(path)
    assert list(frame.columns) == COLUMNS and len(frame) == 3
    with pytest.raises(ValueError, match="differ"):
        append_rows(path, COLUMNS, [{"method": "x"}])
    other = tmp_path / "other.csv"
    other.write_text("a,b\n1,2\n")
    with pytest.raises(SslCeError, match="other columns"):
        append_rows(other, COLUMNS, [row])
