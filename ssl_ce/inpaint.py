"""Filling holes in real photographs of any size with a trained inpainter: the one code path behind
`ssl-ce inpaint` (a folder in, a folder out) and the Python API's `load_inpainter`.

Each connected hole is filled in its own window: a square twice the side of the hole's bounding box, centred on
it, reflect-padded where it leaves the photograph, and resized to the model's input. The hole then sits where
the model was trained to fill (a centre model predicts the window's central half, which holds the hole) at the
scale it was trained on (a hole about a quarter of the window's area), whatever the hole's size or place; a big
hole is filled at a coarser resolution, never refused. The fill is resized back and pasted into the hole's own
pixels: every pixel outside the hole keeps its value.
"""

from __future__ import annotations

import dataclasses
import io
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from scipy import ndimage
from tqdm import tqdm

from ssl_ce.checkpoint import atomic_write_bytes
from ssl_ce.data.folder import list_images
from ssl_ce.data.images import IMAGE_EXTENSIONS, load_image_any_size
from ssl_ce.data.masks import hole_at_image_size, hole_at_size, make_masks
from ssl_ce.errors import SslCeError
from ssl_ce.plots import save_image_table
from ssl_ce.pretrained import ModelInpainter

GRID_IMAGES = 8


def hole_windows(hole: np.ndarray) -> Iterator[tuple[np.ndarray, tuple[int, int, int]]]:
    """(one connected hole's pixels, its window (top, left, side)) for every connected hole, largest first."""
    labels, count = ndimage.label(hole)
    boxes = ndimage.find_objects(labels)
    sizes = ndimage.sum_labels(hole, labels, range(1, count + 1)) if count else np.zeros(0)
    for i in np.argsort(-sizes, kind="stable"):  # one full-size mask at a time: a photo may have many holes
        rows, cols = boxes[i]
        side = 2 * max(rows.stop - rows.start, cols.stop - cols.start)
        centre_y, centre_x = (rows.start + rows.stop) // 2, (cols.start + cols.stop) // 2
        yield labels == i + 1, (int(centre_y - side // 2), int(centre_x - side // 2), int(side))


def _window(image: np.ndarray, top: int, left: int, side: int) -> np.ndarray:
    """The square window of `image` at (top, left), mirrored at the borders where it leaves the image."""
    h, w = image.shape[:2]
    pad = max(0, -top, -left, top + side - h, left + side - w)
    if pad:
        image = np.pad(image, ((pad, pad), (pad, pad), *([(0, 0)] * (image.ndim - 2))), mode="symmetric")
    return image[top + pad : top + pad + side, left + pad : left + pad + side]


def fill_holes(model: ModelInpainter, image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    """`image` (H, W, 3 uint8) with the pixels where `hole` is True filled by `model`; all others unchanged."""
    if hole.shape != image.shape[:2]:
        raise SslCeError(f"mask shape {hole.shape} does not match the image's {image.shape[:2]}")
    filled = image.copy()
    for part, (top, left, side) in hole_windows(hole):
        window = _window(filled, top, left, side)
        window_hole = _window(part, top, left, side)
        (window_filled,) = model([window], [hole_at_size(window_hole, model.size)], [window_hole])
        rows, cols = np.nonzero(part)
        filled[rows, cols] = window_filled[rows - top, cols - left]
    return filled


@dataclass(frozen=True)
class FolderResult:
    written: list[Path]
    skipped: int


def _mask_for(image: Path, images: Path, masks: Path) -> Path:
    """The mask file of `image`: its path relative to `images`, under `masks`, with any image extension."""
    relative = image.relative_to(images)
    for candidate in [masks / relative, *(masks / relative.with_suffix(ext) for ext in sorted(IMAGE_EXTENSIONS))]:
        if candidate.is_file():
            return candidate
    raise SslCeError(f"no mask for {image.name} in {masks} (expected {relative.stem} with an image extension)")


def _read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
    """White (> 127) = hole; resized (nearest) to its image's size when the sizes differ."""
    try:
        mask = Image.open(path).convert("L")
    except (OSError, ValueError) as exc:
        raise SslCeError(f"cannot read mask {path}: {exc}") from None
    if mask.size != (shape[1], shape[0]):
        mask = mask.resize((shape[1], shape[0]), Image.NEAREST)
    return np.asarray(mask) > 127


def inpaint_folder(model: ModelInpainter, images: Path, out: Path, masks: Path | None = None,
                   mask: str | None = None, grid: Path | None = None, seed: int = 0,
                   progress: bool = True) -> FolderResult:
    """Fills every image of `images` (holes from the matching file in `masks`, or drawn `mask` holes) and writes
    `<out>/<name>.png`, lossless so that the pixels outside the hole are exactly the input's. Every mask is
    found before anything is written, each output is written atomically, and unreadable images are skipped."""
    if (masks is None) == (mask is None):
        raise SslCeError("give either --masks DIR or --mask TYPE")
    paths = list_images(images) if images.is_dir() else []
    if not paths:
        raise SslCeError(f"no images found under {images}")
    mask_files = {p: _mask_for(p, images, masks) for p in paths} if masks is not None else {}
    if mask is not None:  # file j gets hole j, whether or not the files before it could be read
        drawn = make_masks(dataclasses.replace(model.config.mask, type=mask), len(paths), model.size,
                           torch.Generator().manual_seed(seed)).hole[:, 0]
    written, skipped, shown = [], 0, {"input": [], "filled": [], "original": []}
    for j, path in enumerate(tqdm(paths, desc="inpaint", unit="img", disable=not progress)):
        try:  # one image in memory at a time, so a folder of any length fits
            image = load_image_any_size(path)
        except SslCeError:
            skipped += 1
            continue
        if mask is not None:
            hole = hole_at_image_size(drawn[j], image.shape[:2])
        else:
            hole = _read_mask(mask_files[path], image.shape[:2])
        filled = fill_holes(model, image, hole)
        target = out / path.relative_to(images).with_suffix(".png")
        buffer = io.BytesIO()
        Image.fromarray(filled).save(buffer, format="PNG")
        atomic_write_bytes(target, buffer.getvalue())
        written.append(target)
        if len(shown["input"]) < GRID_IMAGES:
            holed = image.copy()
            holed[hole] = 128
            shown["input"].append(holed)
            shown["filled"].append(filled)
            shown["original"].append(image)
    if skipped:
        warnings.warn(f"skipped {skipped} unreadable image(s) of {len(paths)} in {images}", stacklevel=2)
    if grid is not None and written:
        save_image_table(shown, grid, f"{model.name}: {images}")
    return FolderResult(written, skipped)

