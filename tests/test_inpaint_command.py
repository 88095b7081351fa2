"""`ssl-ce inpaint`: a folder of photos of any size and format in, the filled folder out, every pixel outside
the holes unchanged; the Python API fills through the same code."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ssl_ce import load_inpainter
from ssl_ce.cli import cli
from ssl_ce.data.images import load_image_any_size
from ssl_ce.inpaint import fill_holes, hole_windows
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import train

from .conftest import tiny_config

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


def test_each_hole_gets_a_window_twice_its_size_centred_on_it() -> None:
    hole = np.zeros((50, 80), dtype=bool)
    hole[5:15, 60:70] = True  # near a corner: the window leaves the image and is mirrored there
    hole[30:34, 10:12] = True
    windows = [window for _, window in hole_windows(hole)]
    assert windows == [(0, 55, 20), (28, 7, 8)]  # (top, left, side), the larger hole first


def test_the_python_api_fills_through_the_same_code(centre_model: Path) -> None:
    image = np.random.default_rng(1).integers(0, 256, (40, 52, 3), dtype=np.uint8)
    hole = np.zeros((40, 52), dtype=bool)
    hole[30:38, 3:15] = True
    api = load_inpainter(centre_model)(image, hole)
    direct = fill_holes(ModelInpainter(centre_model, __import__("torch").device("cpu")), image, hole)
    assert np.array_equal(api, direct) and np.array_equal(api[~hole], image[~hole])
