"""Mask generalisation: context encoders trained with each hole type, each tested on every hole type.

Trains (or takes, with --checkpoint MASK=PATH) a CIFAR-10 context encoder per mask type with
configs/cifar10.yaml and the same budget, evaluates each with `ssl-ce eval inpainting` on every mask type
(the same fixed holes for all), adds the best classical inpainter per test mask for reference, and writes
results/mask_matrix.csv and results/mask_matrix.png (a PSNR heat-map).

    python benchmarks/mask_matrix.py --data-root ../shared/data [--epochs 3] [--checkpoint center=PATH ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ssl_ce import registries
from ssl_ce.checkpoint import CHECKPOINT_NAME
from ssl_ce.config import load_config
from ssl_ce.evaluators.inpainting import INPAINTING
from ssl_ce.plots import plot_mask_matrix
from ssl_ce.training import train

REPO = Path(__file__).resolve().parent.parent
MASKS = registries.MASKS.names()


def checkpoint_for(mask: str, given: dict[str, str], runs: Path, epochs: int, data_root: str) -> Path:
    if mask in given:
        return Path(given[mask])
    out = runs / mask
    if not (out / CHECKPOINT_NAME).exists():
        cfg = load_config(REPO / "configs" / "cifar10.yaml",
                          {"mask.type": mask, "data.root": data_root, "train.epochs": epochs})
        train(cfg, out)
    return out / CHECKPOINT_NAME


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--limit", type=int, default=1000, help="test images per evaluation")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="MASK=PATH")
    parser.add_argument("--runs", default=str(REPO / "runs" / "mask_matrix"))
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    given = dict(item.split("=", 1) for item in args.checkpoint)
    results = Path(args.results)
    rows = []
    for train_mask in MASKS:
        ckpt = checkpoint_for(train_mask, given, Path(args.runs), args.epochs, args.data_root)
        for test_mask in MASKS:
            evaluated = INPAINTING(ckpt, mask=test_mask, limit=args.limit, classical=train_mask == MASKS[0],
                                       results_dir=str(results / "mask_matrix"), progress=False)
            for row in evaluated:
                is_model = row["method"] != ""
                rows.append({"trained_mask": train_mask if is_model else "classical: " + row["inpainter"],
                             "test_mask": test_mask, "checkpoint": row["checkpoint"] if is_model else "",
                             "pretrain_steps": row["pretrain_steps"], "images": row["images"],
                             "l1_pct": row["l1_pct"], "l2_pct": row["l2_pct"], "psnr_db": row["psnr_db"],
                             "ssim": row["ssim"], "note": row["note"], "git_commit": row["git_commit"]})
            print(f"trained {train_mask:14s} tested {test_mask:14s} PSNR {evaluated[0]['psnr_db']:.2f} dB", flush=True)
    frame = pd.DataFrame(rows)
    results.mkdir(parents=True, exist_ok=True)
    frame.to_csv(results / "mask_matrix.csv", index=False)
    models = frame[~frame.trained_mask.str.startswith("classical")]
    best = frame[frame.trained_mask.str.startswith("classical")].groupby("test_mask")["psnr_db"].max()
    matrix = models.pivot(index="trained_mask", columns="test_mask", values="psnr_db").loc[MASKS, MASKS]
    matrix.loc["best classical"] = best[MASKS]
    plot_mask_matrix(matrix, results / "mask_matrix.png", "Inpainting PSNR (dB) over the hole, CIFAR-10 test")
    print(matrix.round(2).to_string())


if __name__ == "__main__":
    main()
