"""`ssl-ce inpaint`: a folder of photos of any size and format in, the filled folder out, every pixel outside
the holes unchanged; the Python API fills through the same code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from PIL import Image

from ssl_ce import load_inpainter
from ssl_ce.cli import cli
from ssl_ce.data.folder import list_images
from ssl_ce.data.images import load_image_any_size
from ssl_ce.data.masks import hole_at_size, make_holes, whole_image
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators import inpainting
from ssl_ce.evaluators.inpaint_metrics import mean_scores
from ssl_ce.hole_geometry import HoleGeometry
from ssl_ce.inpaint import fill_holes, hole_windows, square_window
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import train

from .conftest import tiny_config, write_images

SIZES = {"a.png": (45, 31), "b.jpg": (60, 80), "c.png": (33, 33)}  # (width, height)


@pytest.fixture(scope="module")
def centre_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    run = tmp_path_factory.mktemp("inpaint") / "run"
    return train(tiny_config(train={"max_steps": 2}), run, progress=False).checkpoint


def _photos_and_masks(root: Path) -> tuple[Path, Path]:
    rng = np.random.default_rng(0)
    images, masks = root / "images", root / "masks"
    images.mkdir(parents=True)
    masks.mkdir()
    for name, (w, h) in SIZES.items():
        Image.fromarray(rng.integers(0, 256, (h, w, 3), dtype=np.uint8)).save(images / name)
        mask = np.zeros((h, w), dtype=np.uint8)
        mask[h // 5 : h // 2, w // 2 : w - 2] = 255  # off-centre, near the right border
        mask_image = Image.fromarray(mask)
        if name == "c.png":  # a mask of another size is resized to its image
            mask_image = mask_image.resize((2 * w, 2 * h), Image.NEAREST)
        mask_image.save(masks / f"{Path(name).stem}.png")
    return images, masks


def test_a_folder_of_odd_sizes_comes_back_the_same_sizes_changed_only_in_the_holes(centre_model: Path,
                                                                                   tmp_path: Path) -> None:
    images, masks = _photos_and_masks(tmp_path)
    out, grid = tmp_path / "out", tmp_path / "grid.png"
    done = CliRunner().invoke(cli, ["inpaint", "--checkpoint", str(centre_model), "--images", str(images),
                                    "--masks", str(masks), "--out", str(out), "--grid", str(grid), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "wrote 3 filled image(s)" in done.output and grid.is_file()
    for name, (w, h) in SIZES.items():
        original = load_image_any_size(images / name)
        filled = np.asarray(Image.open(out / f"{Path(name).stem}.png"))
        hole = np.asarray(Image.open(masks / f"{Path(name).stem}.png").resize((w, h), Image.NEAREST)) > 127
        assert filled.shape == (h, w, 3)
        assert np.array_equal(filled[~hole], original[~hole])  # lossless, untouched outside the hole
        assert not np.array_equal(filled[hole], original[hole])


def test_a_missing_mask_is_one_line_naming_the_file_and_nothing_is_written(centre_model: Path,
                                                                           tmp_path: Path) -> None:
    images, masks = _photos_and_masks(tmp_path)
    (masks / "b.png").unlink()
    out = tmp_path / "out"
    done = CliRunner().invoke(cli, ["inpaint", "--checkpoint", str(centre_model), "--images", str(images),
                                    "--masks", str(masks), "--out", str(out), "--no-progress"])
    assert done.exit_code != 0 and "no mask for b.jpg" in str(done.exception)
    assert not out.exists()


def test_drawn_holes_and_unreadable_images(centre_model: Path, tmp_path: Path) -> None:
    images, _ = _photos_and_masks(tmp_path)
    (images / "broken.png").write_bytes(b"not an image")
    out = tmp_path / "out"
    with pytest.warns(UserWarning, match="skipped 1 unreadable image"):
        done = CliRunner().invoke(cli, ["inpaint", "--checkpoint", str(centre_model), "--images", str(images),
                                        "--mask", "center", "--out", str(out), "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "skipped 1 unreadable" in done.output and sorted(p.name for p in out.iterdir()) == ["a.png", "b.png",
                                                                                              "c.png"]


def test_a_varying_hole_model_gets_a_window_twice_the_hole_centred_on_it() -> None:
    geometry = HoleGeometry("random-region", 32, whole_image(32), None, cut="hole")
    hole = np.zeros((50, 80), dtype=bool)
    hole[5:15, 60:70] = True  # near a corner: the window leaves the image and is mirrored there
    hole[30:34, 10:12] = True
    windows = [window for _, window in hole_windows(hole, geometry)]
    assert windows == [(0, 55, 20), (28, 7, 8)]  # (top, left, side), the larger hole first



def test_the_photo_cut_gives_a_varying_hole_model_the_photo_s_shorter_side_inside_the_photo() -> None:
    geometry = HoleGeometry("random-region", 32, whole_image(32), None, cut="photo")
    hole = np.zeros((50, 80), dtype=bool)
    hole[5:15, 60:70] = True  # near a corner: the window is moved inside the photo, not mirrored
    hole[30:34, 10:12] = True
    hole[0:50, 36:39] = True  # a stroke as long as the shorter side
    windows = [window for _, window in hole_windows(hole, geometry)]
    assert windows == [(0, 12, 50), (0, 30, 50), (0, 0, 50)]  # (top, left, side), the larger hole first
    with pytest.raises(SslCeError, match="unknown cut"):
        HoleGeometry("random-region", 32, whole_image(32), None, cut="tiles")


@settings(max_examples=60, deadline=None)
@given(top=st.integers(0, 150), left=st.integers(0, 150), height=st.integers(1, 120), width=st.integers(1, 120),
       image=st.integers(120, 300))
def test_a_centre_model_sees_any_box_hole_as_the_hole_it_was_trained_on(centre_model: Path, top: int, left: int,
                                                                       height: int, width: int, image: int) -> None:
    geometry = ModelInpainter(centre_model, torch.device("cpu")).geometry
    hole = np.zeros((image, image), dtype=bool)
    hole[top : top + height, left : left + width] = True
    assume(hole.any())
    ((part, (y, x, side)),) = hole_windows(hole, geometry)
    small = hole_at_size(square_window(part, y, x, side, mirror=False), geometry.size)
    spill = small & ~geometry.trained_hole  # only by rounding: at most a one-pixel line on each side
    assert spill.sum() <= 4 * geometry.trained_hole.any(axis=0).sum()
    rows, cols = np.nonzero(small)
    trained_rows = np.nonzero(geometry.trained_hole)[0]
    assert max(rows.max() - rows.min(), cols.max() - cols.min()) <= trained_rows.max() - trained_rows.min() + 1
    assert geometry.input_hole(small)[geometry.trained_hole].all()  # the trained hole is always dropped


def test_a_stroke_given_to_a_centre_model_is_filled_with_a_note(centre_model: Path, tmp_path: Path) -> None:
    images = tmp_path / "images"
    (photo,) = write_images(images, 1, size=(64, 64))
    stroke = np.zeros((64, 64), dtype=np.uint8)
    stroke[10:54, 30:32] = 255  # a thin vertical brush stroke
    (tmp_path / "masks").mkdir()
    Image.fromarray(stroke).save(tmp_path / "masks" / f"{photo.stem}.png")
    done = CliRunner().invoke(cli, ["inpaint", "--checkpoint", str(centre_model), "--images", str(images),
                                    "--masks", str(tmp_path / "masks"), "--out", str(tmp_path / "out"),
                                    "--no-progress"])
    assert done.exit_code == 0, done.output
    assert "1 image(s) have a hole that does not suit" in done.output and "free-form" in done.output
    with pytest.warns(UserWarning, match="do not suit"):
        load_inpainter(centre_model)(load_image_any_size(photo), stroke > 0)


def test_the_python_api_fills_through_the_same_code(centre_model: Path) -> None:
    image = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    hole = np.zeros((40, 52), dtype=bool)
    hole[30:38, 3:15] = True
    api = load_inpainter(centre_model)(image, hole)
    direct = fill_holes(ModelInpainter(centre_model, torch.device("cpu")), image, hole)
    assert np.array_equal(api, direct) and np.array_equal(api[~hole], image[~hole])


def test_api_cli_and_evaluator_give_the_same_pixels_at_any_photo_size(centre_model: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    images = tmp_path / "photos"
    for i, size in enumerate([(160, 160), (227, 227), (250, 250), (131, 97)]):
        write_images(images / f"s{i}", 1, size=size, seed=i)
    by_evaluator = []
    real_fill = inpainting.fill_all

    def spy(model: ModelInpainter, photos: list[np.ndarray], holes: list[np.ndarray]) -> tuple[list, list]:
        filled, unsuited = real_fill(model, photos, holes)
        by_evaluator.extend(filled)
        return filled, unsuited

    monkeypatch.setattr(inpainting, "fill_all", spy)
    (row,) = inpainting.INPAINTING(centre_model, images=str(images), classical=False, results_dir=str(tmp_path),
                                   progress=False)
    done = CliRunner().invoke(cli, ["inpaint", "--checkpoint", str(centre_model), "--images", str(images),
                                    "--mask", "center", "--out", str(tmp_path / "out"), "--no-progress"])
    assert done.exit_code == 0, done.output
    paths = list_images(images)
    originals = [load_image_any_size(p) for p in paths]
    by_cli = [load_image_any_size(tmp_path / "out" / p.relative_to(images).with_suffix(".png")) for p in paths]
    model = ModelInpainter(centre_model, torch.device("cpu"))
    _, holes = make_holes(model.config.mask, model.size, [o.shape[:2] for o in originals], seed=0)
    by_api = [load_inpainter(centre_model)(o, h) for o, h in zip(originals, holes, strict=True)]
    for evaluated, cli_out, api_out in zip(by_evaluator, by_cli, by_api, strict=True):
        assert np.array_equal(evaluated, cli_out) and np.array_equal(evaluated, api_out)
    assert mean_scores(originals, by_cli, holes).psnr_db == pytest.approx(row["psnr_db"], abs=0.005)


def test_one_hole_never_sees_the_content_of_another(centre_model: Path) -> None:
    model = ModelInpainter(centre_model, torch.device("cpu"))
    image = np.random.default_rng(3).integers(0, 256, (80, 80, 3), dtype=np.uint8)
    hole = np.zeros((80, 80), dtype=bool)
    hole[30:50, 30:50] = True  # the larger hole, filled first, its window covers the small one
    hole[52:56, 36:40] = True
    other = image.copy()
    other[52:56, 36:40] = 255 - other[52:56, 36:40]  # only the small hole's hidden content differs
    assert np.array_equal(fill_holes(model, image, hole), fill_holes(model, other, hole))
