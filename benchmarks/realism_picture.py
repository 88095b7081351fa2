"""What PSNR and KID reward: the same centre holes of the road val photos filled by a blur of the truth, by the
truth plus a faint +-10 grey-level 2-px checkerboard, by OpenCV Telea and by the published road model, each
with its PSNR, hole-square KID (MobileNet-v1, x10^3, against 1,000 real train photos) and sharpness ratios.

    python benchmarks/realism_picture.py --data-root ../shared/data/roads

Writes results/realism_picture.png (six photos) and results/realism_picture.md (the val table).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from scipy import ndimage

from ssl_ce.data.folder import split_files
from ssl_ce.data.images import load_image_any_size
from ssl_ce.data.masks import make_holes
from ssl_ce.evaluators.common import sample_indices
from ssl_ce.evaluators.inpaint_metrics import mean_scores
from ssl_ce.inpaint import fill_holes
from ssl_ce.inpainters import CLASSICAL
from ssl_ce.plots import save_image_table
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.realism.measure import KID_SCALE, REFERENCE_IMAGES, Reference, measure
from ssl_ce.realism.networks import mobilenet_v1
from ssl_ce.results import markdown_table

REPO = Path(__file__).resolve().parent.parent
MODEL = REPO / "weights" / "inpainter-center-roads-128.safetensors"
SHOWN = 6


def blurred(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[hole] = ndimage.gaussian_filter(image.astype(float), (3, 3, 0))[hole].round().astype(np.uint8)
    return out


def checkerboard(image: np.ndarray, hole: np.ndarray, amplitude: int = 10) -> np.ndarray:
    board = ((np.indices(hole.shape).sum(0) // 2) % 2 * 2 - 1) * amplitude  # 2-px squares
    out = image.astype(int)
    out[hole] += board[hole][:, None]
    return np.clip(out, 0, 255).astype(np.uint8)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    root = Path(args.data_root)
    originals = [load_image_any_size(p) for p in split_files(root, "val")[1]]
    train_files = split_files(root, "train")[1]
    picked = sample_indices(len(train_files), REFERENCE_IMAGES, seed=0)  # the evaluator's reference photos
    model = ModelInpainter(MODEL, torch.device("cpu"))
    _, holes = make_holes(model.config.mask, model.size, [o.shape[:2] for o in originals], seed=0)
    reference = Reference.of(mobilenet_v1(), [load_image_any_size(train_files[i]) for i in picked], holes)
    fills = {"truth": originals,
             "blur (Gaussian, sigma 3)": [blurred(o, h) for o, h in zip(originals, holes, strict=True)],
             "checkerboard (+-10)": [checkerboard(o, h) for o, h in zip(originals, holes, strict=True)],
             "opencv telea": [CLASSICAL["opencv telea"](o, h) for o, h in zip(originals, holes, strict=True)],
             "road model (L2)": [fill_holes(model, o, h) for o, h in zip(originals, holes, strict=True)]}
    rows, titles = [], {}
    for name, filled in fills.items():
        realism = measure(reference, originals, filled, holes)
        psnr = mean_scores(originals, filled, holes).psnr_db
        rows.append({"fill": name, "PSNR dB": psnr, "KID x1e3 (hole)": realism.hole.mean * KID_SCALE,
                     "KID std": realism.hole.std * KID_SCALE, "KID x1e3 (image)": realism.image.mean * KID_SCALE,
                     "high-freq ratio": realism.hf_ratio, "gradient ratio": realism.grad_ratio})
        psnr_text = "" if name == "truth" else f"{psnr:.1f} dB, "
        titles[f"{name}: {psnr_text}KID {realism.hole.mean * KID_SCALE:.0f}"] = filled[:SHOWN]
    table = pd.DataFrame(rows).set_index("fill")
    results = Path(args.results)
    save_image_table(titles, results / "realism_picture.png",
                     f"the same holes, {len(originals)} road val photos: PSNR and KID (MobileNet-v1, x10^3)")
    (results / "realism_picture.md").write_text(
        f"# What PSNR and KID reward (road val, {len(originals)} photos, centre holes)\n\nMade by\n\n"
        f"    python benchmarks/realism_picture.py --data-root {args.data_root}\n\n{markdown_table(table)}\n")
    print(markdown_table(table))


if __name__ == "__main__":
    main()
