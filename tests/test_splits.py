"""Guards of the protocol: three disjoint splits for every data source, and every evaluator scores val unless
told otherwise (test is scored once, by the report's recipe)."""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ssl_ce.config import DataConfig
from ssl_ce.data import build_dataset
from ssl_ce.data.folder import split_files
from ssl_ce.data.photos import split_region
from ssl_ce.data.splits import SPLITS, carve_val
from ssl_ce.errors import SslCeError
from ssl_ce.registries import EVALUATORS

from .conftest import SHARED_DATA, write_images

CIFAR10_VAL_SHA1 = "701905a9a770665b27ff425ba0fc8e98851f1a93"  # the 5,000 val indices of the real training labels
SYNTHETIC_VAL_SHA1 = "ed04f59defc039742fe3d03eaad7061ccb536845"  # ... of labels 0..9 repeating, same algorithm


def _sha1(indices: torch.Tensor) -> str:
    return hashlib.sha1(indices.numpy().astype("int64").tobytes()).hexdigest()


def test_no_evaluator_scores_test_by_default() -> None:
    for name, evaluator in EVALUATORS.items():
        defaults = {f.name: f.default for f in dataclasses.fields(evaluator.options)}
        assert defaults.get("split", "val") != "test", name
        split = next((p for p in evaluator.params if p.name == "split"), None)
        assert split is None or split.default == "val", name


def test_the_val_carve_out_is_stratified_disjoint_and_pinned() -> None:
    labels = torch.arange(50_000) % 10
    val, train = carve_val(labels, "val"), carve_val(labels, "train")
    assert len(val) == 5_000 and torch.bincount(labels[val]).tolist() == [500] * 10
    assert not set(val.tolist()) & set(train.tolist()) and len(val) + len(train) == 50_000
    assert _sha1(val) == SYNTHETIC_VAL_SHA1  # a change of the carve-out changes the benchmark: it must be seen


@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").is_dir(), reason="needs ../shared/data/cifar-10")
def test_cifar10_has_45000_train_5000_val_and_10000_test_images_none_shared() -> None:
    from ssl_ce.data.cifar10 import find_cifar10, read_cifar10

    _, labels, _ = read_cifar10(find_cifar10(SHARED_DATA), "train")
    val = carve_val(labels, "val")
    assert _sha1(val) == CIFAR10_VAL_SHA1
    assert not set(val.tolist()) & set(carve_val(labels, "train").tolist())
    cfg = DataConfig(source="cifar10", root=str(SHARED_DATA))
    sizes = {split: len(build_dataset(cfg, split, 32)) for split in SPLITS}
    assert sizes == {"train": 45_000, "val": 5_000, "test": 10_000}


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(1, 9), min_size=1, max_size=3), st.booleans(), st.booleans())
def test_no_folder_file_lands_in_two_splits(class_sizes: list[int], split_dirs: bool, val_dir: bool) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for c, n in enumerate(class_sizes):
            if split_dirs:
                write_images(root / "train" / f"c{c}", n, (8, 8))
                write_images(root / "test" / f"c{c}", 1, (8, 8), seed=9)
                if val_dir:
                    write_images(root / "val" / f"c{c}", 1, (8, 8), seed=7)
            else:
                write_images(root / f"c{c}", n, (8, 8))
        files = {split: {p.resolve() for p in split_files(root, split)[1]} for split in SPLITS}
        assert not files["train"] & files["val"] and not files["train"] & files["test"]
        assert not files["val"] & files["test"]
        assert files["test"] and (files["train"] or sum(class_sizes) == 1)  # one file can only be test


def test_a_folder_too_small_for_three_splits_says_so(tmp_path: Path) -> None:
    write_images(tmp_path / "two", 2, (8, 8))
    cfg = DataConfig(source="folder", root=str(tmp_path / "two"))
    assert len(build_dataset(cfg, "test", 8)) == 1 and len(build_dataset(cfg, "train", 8)) == 1
    with pytest.raises(SslCeError, match="too few images for disjoint train, val and test"):
        build_dataset(cfg, "val", 8)


def test_a_val_folder_is_the_val_split(tmp_path: Path) -> None:
    for split, n in (("train", 6), ("val", 3), ("test", 2)):
        write_images(tmp_path / split / "a", n, (8, 8))
    cfg = DataConfig(source="folder", root=str(tmp_path))
    assert {s: len(build_dataset(cfg, s, 8)) for s in SPLITS} == {"train": 6, "val": 3, "test": 2}


@pytest.mark.parametrize("shape", [(512, 512, 3), (300, 451, 3), (1000, 872, 3), (640, 427, 3)])
def test_photo_regions_tile_the_photograph_without_overlap(shape: tuple[int, int, int]) -> None:
    regions = [split_region(shape, split) for split in SPLITS]
    longer = 1 if shape[1] >= shape[0] else 0
    spans = sorted((r[longer], r[longer] + r[longer + 2]) for r in regions)  # (start, stop) along the longer side
    assert spans[0][0] == 0 and spans[-1][1] == shape[longer]
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # adjacent, never overlapping
    largest_crop = min(min(split_region(shape, s)[2:]) for s in ("val", "test"))
    assert all(min(r[2:]) >= largest_crop for r in regions)  # every region fits the largest crop


@pytest.mark.skipif(not (SHARED_DATA / "roads").is_dir(), reason="needs ../shared/data/roads")
def test_roads_val_is_carved_from_train_and_test_is_untouched() -> None:
    root = SHARED_DATA / "roads"
    files = {split: {p.resolve() for p in split_files(root, split)[1]} for split in SPLITS}
    assert len(files["test"]) == 1126 and len(files["train"]) + len(files["val"]) == 4151
    assert 400 <= len(files["val"]) <= 430 and not files["train"] & files["val"]


def test_every_built_in_evaluators_cli_options_are_its_options_fields_with_their_defaults() -> None:
    """Options are declared once (ssl_ce.evaluators.common.option): the CLI is built from the dataclass."""
    for name in ("classification", "nn-retrieval", "inpainting"):
        evaluator = EVALUATORS.get(name)
        fields = {f.name: f.default for f in dataclasses.fields(evaluator.options)}
        assert {p.name: p.default for p in evaluator.params} == fields, name
        assert all(p.help for p in evaluator.params), name
