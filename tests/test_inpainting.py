from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_ce.config import MaskConfig
from ssl_ce.data.folder import split_files
from ssl_ce.data.masks import make_holes
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators import inpainting
from ssl_ce.evaluators.inpaint_metrics import PSNR_CAP_DB, hole_scores, mean_scores
from ssl_ce.evaluators.inpainting import COLUMNS, INPAINTING
from ssl_ce.inpaint import fill_holes
from ssl_ce.inpainters import CLASSICAL
from ssl_ce.plots import column_title
from ssl_ce.training import train

from .conftest import tiny_config, write_images


def test_metrics_by_hand() -> None:
    original = np.zeros((8, 8, 3), np.uint8)
    filled = original.copy()
    hole = np.zeros((8, 8), bool)
    hole[2:4, 2:4] = True
    filled[2:4, 2:4] = 51  # 0.2 on the [0, 1] scale, only inside the hole
    filled[6, 6] = 255  # outside the hole: ignored
    l1, l2, psnr, _ = hole_scores(original, filled, hole)
    assert l1 == pytest.approx(0.2) and l2 == pytest.approx(0.04)
    assert psnr == pytest.approx(10 * np.log10(1 / 0.04))


def test_a_perfect_inpainter_scores_zero_error_and_capped_psnr() -> None:
    image = np.random.default_rng(0).integers(0, 256, (16, 16, 3), dtype=np.uint8)
    hole = np.zeros((16, 16), bool)
    hole[4:12, 4:12] = True
    scores = mean_scores([image], [image.copy()], [hole])
    assert scores.l2_pct == 0 and scores.l1_pct == 0 and scores.psnr_db == PSNR_CAP_DB
    assert scores.ssim == pytest.approx(1.0)


@pytest.mark.parametrize("name", list(CLASSICAL))
@pytest.mark.parametrize("dtype", ["uint8", "float"])
def test_classical_inpainters_fill_only_the_hole(name: str, dtype: str) -> None:
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)
    hole = np.zeros((20, 24), bool)
    hole[5:12, 6:15] = True
    given = image if dtype == "uint8" else image / 255.0
    filled = CLASSICAL[name](given, hole)
    assert filled.dtype == np.uint8 and filled.shape == image.shape
    assert np.array_equal(filled[~hole], image[~hole])
    assert not np.array_equal(filled[hole], image[hole])


def test_holes_are_reproducible_and_resized_to_each_image() -> None:
    cfg = MaskConfig(type="random-region")
    small_a, full_a = make_holes(cfg, 32, [(32, 32), (64, 96)], seed=3)
    small_b, _ = make_holes(cfg, 32, [(32, 32), (64, 96)], seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(small_a, small_b, strict=True))
    assert full_a[1].shape == (64, 96) and abs(full_a[1].mean() - small_a[1].mean()) < 0.02


@pytest.fixture(scope="module")
def centre_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inpaint") / "run"
    return train(tiny_config(train={"max_steps": 3}), out, progress=False).checkpoint


def test_every_inpainter_gets_the_same_holes(centre_model: Path, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    seen = []
    for name, fn in list(CLASSICAL.items()):
        monkeypatch.setitem(inpainting.CLASSICAL, name,
                            lambda image, hole, fn=fn: seen.append(hole.copy()) or fn(image, hole))
    real_fill = inpainting.fill_all

    def spy(model, images, holes):
        seen.extend(hole.copy() for hole in holes)
        return real_fill(model, images, holes)

    monkeypatch.setattr(inpainting, "fill_all", spy)
    rows = INPAINTING(centre_model, limit=4, results_dir=str(tmp_path), progress=False)
    per_inpainter = [seen[i : i + 4] for i in range(0, len(seen), 4)]
    assert len(per_inpainter) == 1 + len(CLASSICAL)
    assert all(np.array_equal(a, b) for group in per_inpainter[1:] for a, b in zip(per_inpainter[0], group,
                                                                                    strict=True))
    assert [r["inpainter"] for r in rows][1:] == [*CLASSICAL, "nn-inpainting (HOG)"]
    assert all(set(r) == set(COLUMNS) for r in rows) and Path(rows[0]["grid_png"]).is_file()


def test_arbitrary_size_photos_and_the_generalisation_note(centre_model: Path, tmp_path: Path) -> None:
    write_images(tmp_path / "mine", 2, size=(75, 40), suffix=".jpg")
    write_images(tmp_path / "mine", 1, size=(33, 90), suffix=".png", seed=5)
    rows = INPAINTING(centre_model, images=str(tmp_path / "mine"), mask="random-block",
                          results_dir=str(tmp_path / "res"), progress=False)
    model_row = rows[0]
    assert model_row["images"] == 3 and model_row["eval_data"].startswith("folder:")
    assert "generalisation: trained with center holes, tested with random-block" in model_row["note"]
    assert all(np.isfinite(r["psnr_db"]) for r in rows)
    assert "nn-inpainting (HOG)" not in [r["inpainter"] for r in rows]  # no gallery for a folder of photos


def test_a_folder_laid_out_in_splits_is_scored_on_the_split_asked_for(centre_model: Path, tmp_path: Path) -> None:
    for split, count in (("train", 10), ("test", 3)):
        for cls in ("a", "b"):
            write_images(tmp_path / "roads" / split / cls, count, size=(48, 40), seed=len(cls) + count)
    options = {"images": str(tmp_path / "roads"), "classical": False, "results_dir": str(tmp_path / "res"),
               "progress": False}
    val = INPAINTING(centre_model, split="val", **options)[0]
    test = INPAINTING(centre_model, split="test", **options)[0]
    _, val_files = split_files(tmp_path / "roads", "val")
    assert (val["split"], val["images"]) == ("val", len(val_files)) and 0 < len(val_files) < 20
    assert (test["split"], test["images"]) == ("test", 6)
    with pytest.raises(SslCeError, match="train/"):
        INPAINTING(centre_model, images=str(tmp_path / "roads" / "test"), split="test", progress=False)


def test_nn_inpainting_on_a_folder_in_splits_searches_its_training_photos(centre_model: Path, tmp_path: Path) -> None:
    (photo,) = write_images(tmp_path / "roads" / "test" / "a", 1, size=(40, 40))
    (tmp_path / "roads" / "train" / "a").mkdir(parents=True)
    for i in range(10):  # the test photo's twins: whichever the val carve-out leaves, one is the nearest
        (tmp_path / "roads" / "train" / "a" / f"twin_{i}.png").write_bytes(photo.read_bytes())
    write_images(tmp_path / "roads" / "train" / "b", 10, size=(40, 40), seed=3)
    rows = INPAINTING(centre_model, images=str(tmp_path / "roads"), split="test", results_dir=str(tmp_path / "res"),
                      progress=False)
    nn = next(r for r in rows if r["inpainter"] == "nn-inpainting (HOG)")
    assert nn["l2_pct"] == 0 and nn["psnr_db"] == PSNR_CAP_DB  # its twin's pixels fill the hole exactly
    assert nn["note"] == f"nearest of {len(split_files(tmp_path / 'roads', 'train')[1])} training images"


def test_model_fill_keeps_the_context_exactly(centre_model: Path) -> None:
    model = inpainting.ModelInpainter(centre_model, torch.device("cpu"))
    image = np.random.default_rng(2).integers(0, 256, (50, 70, 3), dtype=np.uint8)
    _, full = make_holes(MaskConfig(type="center"), 32, [(50, 70)], seed=0)
    filled = fill_holes(model, image, full[0])
    assert np.array_equal(filled[~full[0]], image[~full[0]]) and filled.shape == image.shape


def test_flip_average_is_the_mean_of_the_two_fills_and_mirrors_with_the_image(centre_model: Path) -> None:
    plain = inpainting.ModelInpainter(centre_model, torch.device("cpu"))
    averaged = inpainting.ModelInpainter(centre_model, torch.device("cpu"), flip_average=True)
    context = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        by_hand = (plain.generator(context) + plain.generator(context.flip(-1)).flip(-1)) / 2
        assert torch.allclose(averaged.predict(context), by_hand, atol=1e-6)
        assert not torch.allclose(plain.predict(context), by_hand, atol=1e-3)  # the mirror adds something
    image = np.random.default_rng(4).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    _, full = make_holes(MaskConfig(type="center"), 32, [(32, 32)], seed=0)
    filled = fill_holes(averaged, image, full[0])
    mirrored = fill_holes(averaged, image[:, ::-1].copy(), full[0])
    assert np.abs(filled[:, ::-1].astype(int) - mirrored.astype(int)).max() <= 1  # equal up to rounding
    assert averaged.name.endswith("+ flip average")


def test_two_runs_of_the_same_method_keep_their_own_rows(centre_model: Path, tmp_path: Path) -> None:
    other = tmp_path / "second-run" / "checkpoint.safetensors"
    other.parent.mkdir()
    other.write_bytes(centre_model.read_bytes())
    rows = INPAINTING(centre_model, also=(str(other),), limit=2, classical=False,
                          results_dir=str(tmp_path / "res"), progress=False)
    names = [r["inpainter"] for r in rows]
    assert names[0].endswith(f"[{centre_model.parent.name}]") and names[1].endswith("[second-run]")
    assert rows[0]["psnr_db"] == rows[1]["psnr_db"]  # the same weights fill the same holes alike


def test_the_train_split_scores_training_images_without_nn_inpainting(centre_model: Path, tmp_path: Path) -> None:
    test_rows = INPAINTING(centre_model, limit=2, results_dir=str(tmp_path), progress=False)
    train_rows = INPAINTING(centre_model, limit=2, split="train", results_dir=str(tmp_path), progress=False)
    assert train_rows[0]["eval_data"] == test_rows[0]["eval_data"]
    assert {r["split"] for r in test_rows} == {"val"} and {r["split"] for r in train_rows} == {"train"}
    assert "nn-inpainting (HOG)" in [r["inpainter"] for r in test_rows]
    assert "nn-inpainting (HOG)" not in [r["inpainter"] for r in train_rows]  # each query is in the gallery
    assert train_rows[0]["grid_png"].endswith("-center-train.png") and Path(train_rows[0]["grid_png"]).is_file()
    assert [r["psnr_db"] for r in train_rows] != [r["psnr_db"] for r in test_rows[:-1]]  # other images
    with pytest.raises(SslCeError, match="needs a dataset"):
        INPAINTING(centre_model, images=str(tmp_path), split="train", results_dir=str(tmp_path), progress=False)


def test_a_runs_checkpoint_and_a_file_beside_it_keep_their_own_rows_and_grid(centre_model: Path,
                                                                              tmp_path: Path) -> None:
    beside = centre_model.parent / "averaged.safetensors"  # what train.average_epochs writes
    beside.write_bytes(centre_model.read_bytes())
    try:
        rows = INPAINTING(beside, also=(str(centre_model),), limit=2, classical=False,
                              results_dir=str(tmp_path / "res"), progress=False)
    finally:
        beside.unlink()
    run = centre_model.parent.name
    assert [r["inpainter"].rsplit(" [", 1)[1] for r in rows] == [f"{run}-averaged]", f"{run}]"]
    assert Path(rows[0]["grid_png"]).name == f"{run}-averaged-center-val.png"


def test_models_of_other_input_sizes_fill_the_same_holes_at_their_own_scale(centre_model: Path,
                                                                           tmp_path: Path) -> None:
    """A 128-px model beside a 32-px one (how a 128-px inpainter is compared with the published 32-px file)."""
    cfg = tiny_config(model={"name": "paper-128", "bottleneck": 16}, train={"max_steps": 1})
    large = train(cfg, tmp_path / "paper128", progress=False).checkpoint
    rows = INPAINTING(large, also=(str(centre_model),), limit=2, classical=False, results_dir=str(tmp_path),
                      progress=False)
    assert [r["model"] for r in rows] == ["paper-128", "small-32"]
    assert all(0 < r["psnr_db"] < 100 and r["note"] == "" for r in rows)  # the centre hole suits both


def test_grid_column_titles_fit_their_tiles_and_keep_every_character() -> None:
    name = "context-encoder (center mask, adv 0) [weights-inpainter-center-cifar10-small32]"
    lines = column_title(name).split("\n")
    assert len(lines) > 3 and max(map(len, lines)) <= 26  # 26 characters of fontsize 6 fit a tile
    assert "".join(lines).replace(" ", "") == name.replace(" ", "")
