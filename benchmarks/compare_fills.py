"""Inpainters side by side on the same photos and holes, as a first look shows them: each model fills through
`ssl-ce inpaint`'s own path (`inpaint_folder`, so the grid shows what a user gets), OpenCV Telea for reference.
Each photo is cropped to a square around its hole, twice the hole's extent, so the fills can be seen.

    python benchmarks/compare_fills.py --images examples/photos --masks examples/masks --masks examples/masks-large \\
        --checkpoint weights/inpainter-freeform-cats-128-l2.safetensors \\
        --checkpoint weights/inpainter-freeform-cats-128.safetensors --out examples/first-look-cats.png
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
import torch

from ssl_ce.checkpoint import run_labels
from ssl_ce.data.folder import list_images
from ssl_ce.data.images import load_image_any_size
from ssl_ce.inpaint import inpaint_folder, mask_for, read_mask
from ssl_ce.inpainters import CLASSICAL
from ssl_ce.plots import save_image_table
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.realism.measure import crop, hole_square

REFERENCE = "opencv telea"


def compare(checkpoints: list[Path], images: Path, mask_sets: list[Path], out: Path) -> None:
    """One row per photo and mask set: the input with its hole, Telea, each model, the original."""
    photos = list_images(images)
    originals = [load_image_any_size(p) for p in photos]
    # each model loaded once, in a column of its own: two studies' joint-cosine runs are told apart by their folders
    models = {label: ModelInpainter(c, torch.device("cpu")) for label, c in zip(run_labels(checkpoints), checkpoints,
                                                                                strict=True)}
    columns: dict[str, list[np.ndarray]] = {}
    squares = []
    with tempfile.TemporaryDirectory() as tmp:
        for masks in mask_sets:
            holes = [read_mask(mask_for(p, images, masks), o.shape[:2]) for p, o in zip(photos, originals, strict=True)]
            squares += [hole_square(hole, growth=2.0) for hole in holes]
            rows = {"input (hole grey)": [np.where(h[..., None], np.uint8(128), o)
                                          for o, h in zip(originals, holes, strict=True)],
                    REFERENCE: [CLASSICAL[REFERENCE](o, h) for o, h in zip(originals, holes, strict=True)]}
            for name, model in models.items():
                written = inpaint_folder(model, images, Path(tmp) / masks.name / name, masks=masks,
                                         progress=False).written
                rows[name] = [load_image_any_size(p) for p in written]
            rows["original"] = originals
            for name, shown in rows.items():
                columns.setdefault(name, []).extend(shown)
    cropped = {name: [crop(image, square) for image, square in zip(shown, squares, strict=True)]
               for name, shown in columns.items()}
    sets = ", ".join(masks.name for masks in mask_sets)
    save_image_table(cropped, out, f"{images.name}: holes of {sets}\n(cropped around each hole)")
    print(f"wrote {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=Path, required=True, help="A folder of photos of any size.")
    parser.add_argument("--masks", type=Path, action="append", required=True,
                        help="A folder of one mask per photo, by name (white = hole); each one given adds a row per "
                             "photo.")
    parser.add_argument("--checkpoint", type=Path, action="append", required=True,
                        help="An inpainter (export or checkpoint); give it once per model, in column order.")
    parser.add_argument("--out", type=Path, required=True, help="The PNG to write.")
    args = parser.parse_args()
    compare(args.checkpoint, args.images, args.masks, args.out)


if __name__ == "__main__":
    main()
