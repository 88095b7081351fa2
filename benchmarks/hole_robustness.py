"""The robustness table (issue 41): PSNR and SSIM of each inpainter in every cell of hole size (2-50 % of the
photo) x shape (square, box, strokes, random region) x place (centre, edge, corner), the same holes for all
(ssl_ce.data.hole_cells), models filling through `ssl_ce.inpaint.fill_all` as `ssl-ce inpaint` does.

Realism (issue 43), as `ssl-ce eval inpainting` measures it: the sharpness ratios in every cell, and the hole
square's KID (MobileNet-v1, against real photos of the train split at the same size) for each hole size over
its 12 shape x place cells, since a cell's few photos are too few for a KID; each model's KID margin over the
most realistic classical inpainter of that size comes with its interval over KID subsets. `--realism none`
leaves them out; without the network's file they are left out with a note.

    python benchmarks/hole_robustness.py --data-root ../shared/data/roads --split val \
        --checkpoint weights/inpainter-center-roads-128.safetensors [--checkpoint FREEFORM] [--photo-px 227] \
        [--cuts photo hole] [--blends none poisson]

`--cuts` and `--blends` fill with each varying-hole model once per window cut (ssl_ce.hole_geometry.CUTS) and
blend (ssl_ce.blend.BLENDS), the rows named for them: how the free-form model's windows are cut and its fills
blended is chosen here, on val.

Writes <results>/hole_robustness[_<px>px]_<split>.{csv,md,png}. Choose on val; score test once.
"""

from __future__ import annotations

import argparse
import itertools
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from PIL import Image

from ssl_ce.blend import BLENDS
from ssl_ce.data.folder import split_files
from ssl_ce.data.hole_cells import PLACES, SHAPES, all_cells, cell_hole
from ssl_ce.data.images import load_image_any_size
from ssl_ce.evaluators.common import sample_indices
from ssl_ce.evaluators.inpaint_metrics import mean_scores
from ssl_ce.evaluators.inpaint_realism import feature_net
from ssl_ce.evaluators.test_looks import record_test_look
from ssl_ce.hole_geometry import CUTS, DEFAULT_CUT, DEFAULT_FREE_BLEND
from ssl_ce.inpaint import fill_all
from ssl_ce.inpainters import CLASSICAL
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.provenance import git_commit
from ssl_ce.realism.distances import kid
from ssl_ce.realism.measure import KID_SCALE, REFERENCE_IMAGES, Reference, crop, hole_square, kid_margin
from ssl_ce.realism.networks import FeatureNet
from ssl_ce.realism.sharpness import periodic_peak_ratio, sharpness_ratios
from ssl_ce.results import markdown_table
from ssl_ce.study import command_line

REPO = Path(__file__).resolve().parent.parent


def photos(root: Path, split: str, limit: int, photo_px: int) -> list[np.ndarray]:
    """`limit` photos of the split (a fixed random choice), resized (Lanczos) to `photo_px` when it is set."""
    files = split_files(root, split)[1]
    images = [load_image_any_size(files[i]) for i in sample_indices(len(files), limit, seed=0)]
    if photo_px:
        images = [np.asarray(Image.fromarray(im).resize((photo_px, photo_px), Image.LANCZOS)) for im in images]
    return images


def inpainters(checkpoints: list[str], cuts: list[str], blends: list[str]) -> list[ModelInpainter]:
    """Each checkpoint once; a varying-hole model once per (cut, blend), named for them when several are asked."""
    models = []
    for path in checkpoints:
        model = ModelInpainter(Path(path), torch.device("cpu"), cut=cuts[0], blend=blends[0])
        if model.geometry.fixed or len(cuts) * len(blends) == 1:
            models.append(model)
            continue
        for cut, blend in itertools.product(cuts, blends):
            model = ModelInpainter(Path(path), torch.device("cpu"), cut=cut, blend=blend)
            model.name += "".join([f", {cut} cut" if len(cuts) > 1 else "", f", {blend} blend" if len(blends) > 1
                                   else ""])
            models.append(model)
    return models


def score_cells(models: list[ModelInpainter], classical: list[str], images: list[np.ndarray],
                net: FeatureNet | None = None) -> tuple[pd.DataFrame, dict]:
    """Every cell's row for every inpainter, and (with `net`) the hole squares' features of its fills and the
    holes, pooled by hole size: {size: (holes, {inpainter: features})}."""
    rows, pooled = [], {}
    for cell in all_cells():
        holes = [cell_hole(im.shape[:2], cell, i) for i, im in enumerate(images)]
        fills: dict[str, tuple[list[np.ndarray], int]] = {}
        for model in models:
            filled, unsuited = fill_all(model, images, holes)
            fills[model.name] = (filled, len(unsuited))
        for name in classical:
            fills[name] = ([CLASSICAL[name](im, h) for im, h in zip(images, holes, strict=True)], 0)
        size_holes, features = pooled.setdefault(cell.size, ([], {}))
        size_holes += holes
        for name, (filled, unsuited) in fills.items():
            scores = mean_scores(images, filled, holes)
            hf, grad = sharpness_ratios(images, filled, holes)
            rows.append({"inpainter": name, "shape": cell.shape, "place": cell.place, "size": cell.size,
                         "coverage": float(np.mean([h.mean() for h in holes])), "images": len(images),
                         "psnr_db": scores.psnr_db, "ssim": scores.ssim, "hf_ratio": hf, "grad_ratio": grad,
                         "peak_ratio": periodic_peak_ratio(images, filled, holes),
                         "unsuited_images": unsuited})
            if net is not None:
                features.setdefault(name, []).append(
                    net.embed([crop(f, hole_square(h)) for f, h in zip(filled, holes, strict=True)]))
    return pd.DataFrame(rows), pooled


def kid_by_size(net: FeatureNet, reals: list[np.ndarray], pooled: dict, classical: list[str]) -> pd.DataFrame:
    """Each inpainter's hole KID (x1e3) per hole size over that size's cells, and each model's margin over the
    classical inpainter of lowest KID there (paired subsets; above 0: the model is nearer the real photos)."""
    rows = []
    for size, (holes, features) in pooled.items():
        reference = Reference.of(net, reals, holes)
        kids = {name: kid(np.concatenate(parts), reference.hole) for name, parts in features.items()}
        best = min((n for n in kids if n in classical), key=lambda n: kids[n].mean, default=None)
        for name, value in kids.items():
            rows.append({"inpainter": name, "size": size, "images": len(holes),
                         "kid_hole": value.mean * KID_SCALE, "kid_hole_std": value.std * KID_SCALE,
                         "best_classical": best or "",
                         "margin_vs_best_classical": str(kid_margin(kids[best], value))
                         if best and name not in classical else ""})
    return pd.DataFrame(rows)


def plot(table: pd.DataFrame, png: Path, title: str) -> None:
    fig, axes = plt.subplots(1, len(SHAPES), figsize=(4 * len(SHAPES), 3.4), sharey=True)
    for ax, shape in zip(axes, SHAPES, strict=True):
        part = table[table["shape"] == shape].groupby(["inpainter", "size"])["psnr_db"].mean().unstack(0)
        for name in part.columns:
            ax.plot(100 * part.index, part[name], marker="o", label=name)
        ax.set_title(f"{shape} (mean over {', '.join(PLACES)})", fontsize=9)
        ax.set_xlabel("hole, % of the photo")
    axes[0].set_ylabel("PSNR in the hole, dB")
    axes[-1].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(png, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", required=True)
    parser.add_argument("--split", default="val", choices=["val", "test"])
    parser.add_argument("--checkpoint", action="append", required=True, help="An inpainter; repeatable.")
    parser.add_argument("--classical", nargs="*", default=list(CLASSICAL), choices=list(CLASSICAL))
    parser.add_argument("--limit", type=int, default=100, help="Photos of the split (a fixed random choice).")
    parser.add_argument("--photo-px", type=int, default=0, help="Resize the photos to this square size first.")
    parser.add_argument("--cuts", nargs="+", default=[DEFAULT_CUT], choices=CUTS,
                        help="The window cuts a varying-hole model fills with (one set of rows each).")
    parser.add_argument("--blends", nargs="+", default=[DEFAULT_FREE_BLEND], choices=BLENDS,
                        help="How a varying-hole model's fill meets the known pixels (one set of rows each).")
    parser.add_argument("--realism", default="auto", choices=["auto", "none"],
                        help="Hole KID (MobileNet-v1) per hole size and the sharpness ratios per cell; auto: where "
                        "the network's file is found.")
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    models = inpainters(args.checkpoint, args.cuts, args.blends)
    images = photos(Path(args.data_root), args.split, args.limit, args.photo_px)
    net, why_not = feature_net("auto", None) if args.realism == "auto" else (None, "--realism none")
    table, pooled = score_cells(models, args.classical, images, net)
    kids = (kid_by_size(net, photos(Path(args.data_root), "train", REFERENCE_IMAGES, args.photo_px), pooled,
                        args.classical) if net is not None else None)
    size_part = f"_{args.photo_px}px" if args.photo_px else ""
    stem = Path(args.results) / f"hole_robustness{size_part}_{args.split}"
    table.to_csv(stem.with_suffix(".csv"), index=False)
    if kids is not None:
        kids.round(3).to_csv(f"{stem}_kid.csv", index=False)
    if args.split == "test":  # scored here, not through an evaluator: the ledger row is written here
        means = table.groupby("inpainter")[["psnr_db", "ssim"]].mean().round(2).reset_index()
        for path in args.checkpoint:
            record_test_look("hole-robustness", Path(path), {"split": "test", "limit": args.limit,
                                                             "photo_px": args.photo_px},
                             means.to_dict("records"), source="benchmarks/hole_robustness.py")
    command = command_line("benchmarks/hole_robustness.py", parser, args,
                           always=("data_root", "split", "checkpoint", "limit"), leave_out=("results",))
    psnr = table.pivot_table(index=["inpainter", "shape", "place"], columns="size", values="psnr_db")
    psnr.columns = [f"{100 * c:g} %" for c in psnr.columns]
    best_classical = table[table["inpainter"].isin(args.classical)].groupby(["shape", "place", "size"])["psnr_db"].max()
    margins = []
    for model in models:
        mine = table[table["inpainter"] == model.name].set_index(["shape", "place", "size"])["psnr_db"]
        margin = (mine - best_classical).unstack("size")
        margin.columns = [f"{100 * c:g} %" for c in margin.columns]
        margins.append(f"### {model.name} minus the best classical inpainter of each cell (dB)\n\n"
                       f"{markdown_table(margin)}\n")
    plot(table, stem.with_suffix(".png"), f"{len(images)} {args.split} photos" +
         (f" at {args.photo_px} px" if args.photo_px else ""))
    stem.with_suffix(".md").write_text(
        f"# Hole robustness ({args.split}, {len(images)} photos)\n\nMade by\n\n    {command}\n\nat {git_commit()}. "
        "PSNR in the hole (dB), one hole per photo per cell, the same holes for every inpainter.\n\n"
        f"{markdown_table(psnr)}\n\n" + "\n".join(margins) + "\n" + realism_section(table, kids, why_not))
    print(f"wrote {stem}.csv, .md and .png")


def realism_section(table: pd.DataFrame, kids: pd.DataFrame | None, why_not: str) -> str:
    """The high-frequency and periodic-peak ratios per hole size (means over its cells) and, where measured, the
    hole KID."""
    def by_size(column: str) -> pd.DataFrame:
        means = table.groupby(["inpainter", "size"])[column].mean().unstack("size")
        means.columns = [f"{100 * c:g} %" for c in means.columns]
        return means
    text = ("### High-frequency energy ratio of the fill to the truth, by hole size (mean over its cells; 1 is as "
            f"sharp as the photos, 0 flat)\n\n{markdown_table(by_size('hf_ratio').round(3))}\n\n"
            "### Periodic-peak ratio of the fill's error, by hole size (mean over its cells of "
            f"{table.images.iloc[0]} fills; a grid or checkerboard: far above the classical inpainters' floor)"
            f"\n\n{markdown_table(by_size('peak_ratio').round(2))}\n")
    if kids is None:
        return text + f"\nHole KID not measured: {why_not.removeprefix('realism not measured: ')}.\n"
    kid_cells = kids.assign(cell=[f"{k:.0f} ± {s:.0f}" for k, s in zip(kids.kid_hole, kids.kid_hole_std,
                                                                          strict=True)])
    kid_table = kid_cells.pivot(index="inpainter", columns="size", values="cell")
    kid_table.columns = [f"{100 * c:g} %" for c in kid_table.columns]
    text += (f"\n### Hole KID (MobileNet-v1, x1e3, ± its spread over subsets) by hole size, over the "
             f"{kids.images.iloc[0]} fills of its shape x place cells\n\n{markdown_table(kid_table)}\n")
    compared = kids[kids.margin_vs_best_classical != ""]
    if compared.empty:  # no classical inpainter to compare with
        return text
    margins = compared.pivot(index="inpainter", columns="size", values="margin_vs_best_classical")
    margins.columns = [f"{100 * c:g} %" for c in margins.columns]
    return (text + "\n### KID of the most realistic classical inpainter of each size minus the model's (x1e3, 95 % "
            f"interval over KID subsets; above 0: the model is more realistic)\n\n{markdown_table(margins)}\n")


if __name__ == "__main__":
    main()
