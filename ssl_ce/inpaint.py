"""Filling holes in real photographs of any size with a trained inpainter: the one code path behind
`ssl-ce inpaint` (a folder in, a folder out), the Python API's `load_inpainter` and `ssl-ce eval inpainting`.

Each connected hole is filled in its own window around it, reflect-padded where it leaves the photograph and
resized to the model's input; the window's size and place and the pixels dropped from the model's input come
from the model's `HoleGeometry` (ssl_ce.hole_geometry), so the hole reaches the model as the hole it was trained on,
whatever its size or place; a big hole is filled at a coarser resolution, never refused. Every hole pixel not yet
filled is hidden from the model, so one hole's content never leaks into another's fill. The fill is resized back
and pasted into the hole's own pixels: every pixel outside the hole keeps its value.
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
from ssl_ce.hole_geometry import HoleGeometry
from ssl_ce.plots import save_image_table
from ssl_ce.pretrained import ModelInpainter

GRID_IMAGES = 8


def hole_windows(hole: np.ndarray, geometry: HoleGeometry
                 ) -> Iterator[tuple[np.ndarray, tuple[int, int, int]]]:
    """(one connected hole's pixels, its window (top, left, side)) for every connected hole, largest first."""
    labels, count = ndimage.label(hole)
    boxes = ndimage.find_objects(labels)
    sizes = ndimage.sum_labels(hole, labels, range(1, count + 1)) if count else np.zeros(0)
    for i in np.argsort(-sizes, kind="stable"):  # one full-size mask at a time: a photo may have many holes
        rows, cols = boxes[i]
        part = labels == i + 1
        yield part, _window_of(part, rows, cols, geometry)


def _window_of(part: np.ndarray, rows: slice, cols: slice, geometry: HoleGeometry) -> tuple[int, int, int]:
    """The window centred on a hole's bounding box. For a fixed-hole model, the smallest side at which the hole,
    at the model's size, lies inside the trained hole: dropping one pixel more than the trained hole costs the
    published road model 2.7 dB (val, 227-px photos), so rounding is searched away, not accepted."""
    side = geometry.window_side(max(rows.stop - rows.start, cols.stop - cols.start), part.shape)

    def centred(grown: int) -> tuple[int, int, int]:
        return (rows.start + rows.stop - grown) // 2, (cols.start + cols.stop - grown) // 2, grown

    if not geometry.fixed:  # any hole fits a varying-hole model: nothing to search
        top, left, _ = centred(side)
        if geometry.cut == "photo":  # kept inside the photo along each side it fits in: no mirrored context
            top = min(max(top, 0), part.shape[0] - side) if side <= part.shape[0] else top
            left = min(max(left, 0), part.shape[1] - side) if side <= part.shape[1] else left
        return top, left, side
    for grown in range(side, side + max(8, side // 16)):
        top, left, _ = centred(grown)
        if geometry.fits(hole_at_size(square_window(part, top, left, grown, mirror=False), geometry.size)):
            return centred(grown)
    return centred(side)


def square_window(image: np.ndarray, top: int, left: int, side: int, mirror: bool = True) -> np.ndarray:
    """The square window of `image` at (top, left), mirrored at the borders where it leaves the image (zero
    there with `mirror=False`: a hole's mask has no pixels outside the photo)."""
    h, w = image.shape[:2]
    pad = max(0, -top, -left, top + side - h, left + side - w)
    if pad:
        image = np.pad(image, ((pad, pad), (pad, pad), *([(0, 0)] * (image.ndim - 2))),
                       mode="symmetric" if mirror else "constant")
    return image[top + pad : top + pad + side, left + pad : left + pad + side]


def _context_window(filled: np.ndarray, remaining: np.ndarray, top: int, left: int, side: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """The window the model sees, and its unfilled hole pixels inside the photo. Where the window leaves the
    photo it shows the mirrored photo; a mirrored copy of a hole there takes the window's context mean colour,
    so no hole content (the truth, in an evaluation) leaks in and no more than the hole itself is dropped."""
    window = square_window(filled, top, left, side).copy()
    unfilled = square_window(remaining, top, left, side, mirror=False)
    mirrored = square_window(remaining, top, left, side) & ~unfilled
    if mirrored.any():
        known = ~(unfilled | mirrored)
        window[mirrored] = window[known].mean(axis=0).round().astype(np.uint8) if known.any() else 128
    return window, unfilled


def fill_holes(model: ModelInpainter, image: np.ndarray, hole: np.ndarray, notes: list[str] | None = None
               ) -> np.ndarray:
    """`image` (H, W, 3 uint8) with the pixels where `hole` is True filled by `model`; all others unchanged.
    `notes` (when given) gets one line for each hole that does not suit the model's geometry."""
    if hole.shape != image.shape[:2]:
        raise SslCeError(f"mask shape {hole.shape} does not match the image's {image.shape[:2]}")
    filled, remaining = image.copy(), hole.copy()
    for part, (top, left, side) in hole_windows(hole, model.geometry):
        window, unfilled = _context_window(filled, remaining, top, left, side)
        own = square_window(part, top, left, side, mirror=False)
        if notes is not None and (why := model.geometry.mismatch(hole_at_size(own, model.size))):
            notes.append(why)
        hidden = model.geometry.input_hole(hole_at_size(unfilled, model.size))
        window_filled = model.fill(window, hidden, own)
        rows, cols = np.nonzero(part)
        filled[rows, cols] = window_filled[rows - top, cols - left]
        remaining &= ~part
    return filled


def fill_all(model: ModelInpainter, images: list[np.ndarray], holes: list[np.ndarray]
             ) -> tuple[list[np.ndarray], list[str]]:
    """Each image filled by `fill_holes`, and one line for each image that holds a hole not suiting the model."""
    filled, unsuited = [], []
    for image, hole in zip(images, holes, strict=True):
        notes: list[str] = []
        filled.append(fill_holes(model, image, hole, notes))
        unsuited.extend(notes[:1])
    return filled, unsuited


@dataclass(frozen=True)
class FolderResult:
    written: list[Path]
    skipped: int
    unsuited: list[str]  # one line per image holding a hole that does not suit the model's geometry


def mask_for(image: Path, images: Path, masks: Path) -> Path:
    """The mask file of `image`: its path relative to `images`, under `masks`, with any image extension."""
    relative = image.relative_to(images)
    for candidate in [masks / relative, *(masks / relative.with_suffix(ext) for ext in sorted(IMAGE_EXTENSIONS))]:
        if candidate.is_file():
            return candidate
    raise SslCeError(f"no mask for {image.name} in {masks} (expected {relative.stem} with an image extension)")


def read_mask(path: Path, shape: tuple[int, int]) -> np.ndarray:
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
    mask_files = {p: mask_for(p, images, masks) for p in paths} if masks is not None else {}
    if mask is not None:  # file j gets hole j, whether or not the files before it could be read
        drawn = make_masks(dataclasses.replace(model.config.mask, type=mask), len(paths), model.size,
                           torch.Generator().manual_seed(seed)).hole[:, 0]
    written, skipped, unsuited, shown = [], 0, [], {"input": [], "filled": [], "original": []}
    for j, path in enumerate(tqdm(paths, desc="inpaint", unit="img", disable=not progress)):
        try:  # one image in memory at a time, so a folder of any length fits
            image = load_image_any_size(path)
        except SslCeError:
            skipped += 1
            continue
        if mask is not None:
            hole = hole_at_image_size(drawn[j], image.shape[:2])
        else:
            hole = read_mask(mask_files[path], image.shape[:2])
        notes: list[str] = []
        filled = fill_holes(model, image, hole, notes)
        unsuited.extend(f"{path.name}: {note}" for note in notes[:1])
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
    return FolderResult(written, skipped, unsuited)

