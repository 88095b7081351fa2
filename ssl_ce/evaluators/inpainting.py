"""`ssl-ce eval inpainting`: the paper's Table 1 protocol. The same holes (fixed seed) go to the checkpoint,
to classical inpainters and to NN-inpainting; scores are over the hole pixels of [0, 1] images.

Images of any size work: the holes are drawn at the first model's input size and stretched to each image's;
every model then fills them through `ssl_ce.inpaint.fill_holes`, the path of `ssl-ce inpaint` and the API, so the
same photo and hole give the same pixels everywhere, and each model sees the hole it was trained on at any photo
size (classical inpainters work at full resolution directly).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch

from ssl_ce.checkpoint import run_label
from ssl_ce.data import build_dataset
from ssl_ce.data.datasets import all_images
from ssl_ce.data.folder import decode_all, list_images, split_files
from ssl_ce.data.images import load_image_any_size
from ssl_ce.data.masks import make_holes
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import (
    DataOptions,
    Evaluator,
    RegistryChoice,
    device_option,
    eval_data_config,
    option,
    register,
    sample_indices,
    seed_option,
    split_option,
)
from ssl_ce.evaluators.inpaint_metrics import PSNR_CAP_DB, mean_scores
from ssl_ce.evaluators.inpaint_realism import REALISM_CHOICES, realism_values
from ssl_ce.evaluators.knn import build_index, normalise, search
from ssl_ce.evaluators.nn_retrieval import hog_features
from ssl_ce.inpaint import fill_all
from ssl_ce.inpainters import CLASSICAL
from ssl_ce.plots import save_image_table
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.provenance import row_stamp
from ssl_ce.realism.measure import realism_columns
from ssl_ce.registries import MASKS
from ssl_ce.runtime import resolve_device

COLUMNS = ["inpainter", "checkpoint", "method", "model", "trained_mask", "adv_weight", "pretrain_data",
           "pretrain_steps", "pretrain_seed", "eval_data", "split", "eval_mask", "images", "l1_pct", "l2_pct",
           "psnr_db", "ssim", *realism_columns(), "note", "grid_png", "seed", "wall_time_s", "ssl_ce_version",
           "git_commit", "date"]
GRID_ROWS = 6


@dataclass(frozen=True)
class InpaintingOptions(DataOptions):
    images: str | None = option(None, "A folder of images scored at their own size instead of a dataset; with "
                                "train/ (and test/) sub-folders, the files of --split by the folder rules.",
                                type=click.Path())
    mask: str = option("center", "Holes to fill (the same for every inpainter).", type=RegistryChoice(MASKS))
    limit: int | None = option(None, "Score N random images of the split, for a quick look [default: the whole "
                               "split].", type=int)
    also: tuple[str, ...] = option((), "More checkpoints in the same table (e.g. an adv_weight 0 model); "
                                   "repeatable.", multiple=True, type=click.Path(dir_okay=False))
    classical: bool = option(True, "Include the classical inpainters and NN-inpainting.",
                             names=["--classical/--no-classical"])
    flip_average: bool = option(False, "Average each network's fill with its fill of the mirrored image (2x "
                                "compute).", is_flag=True)
    split: str = split_option(("val", "test", "train"), "; train measures over-fitting (its gap to val)")
    seed: int = seed_option()
    device: str = device_option()
    realism: str = option("auto", "The network of the KID/FID columns (x10^3, against real train photos, on the "
                          "hole's square and the whole image): mnv1 = MobileNet-v1 ImageNet (offline; auto uses "
                          "it where its file is found), inception = the standard FID network (torch-fidelity, needs "
                          "its weights), none = PSNR and SSIM only.", type=click.Choice(REALISM_CHOICES))
    realism_images: int | None = option(None, "Measure the realism columns on N of the scored images, the same N "
                                        "for every inpainter: each image is two passes of the network (KID is "
                                        "unbiased at any N; its spread grows as N falls) [default: all].", type=int)
    realism_model: str | None = option(None, "The realism network's file [default: $SSL_CE_MNV1, "
                                       "../shared/models/, ~/.cache/ssl-ce/].", type=click.Path(dir_okay=False))


def folder_gallery(images: Path, originals: list[np.ndarray]) -> torch.Tensor | None:
    """The folder's training photos for NN-inpainting, at the scored photos' size when they all share one
    square size (HOG compares holed contexts position by position); None, and no NN-inpainting row, otherwise."""
    sizes = {o.shape[:2] for o in originals}
    if len(sizes) != 1 or len(set(size := sizes.pop())) != 1:
        return None
    return torch.stack(decode_all(split_files(images, "train")[1], size[0], strict=False)[1])


def nn_inpaint_hog(query: list[np.ndarray], gallery: torch.Tensor, hole: np.ndarray) -> list[np.ndarray]:
    """The paper's NN-inpainting: nearest gallery image by HOG of the holed context (FAISS, exact), whose
    pixels fill the hole. Needs one hole for all images (a `fixed` mask, such as the centre), and queries and
    gallery of one size."""
    keep = torch.from_numpy(~hole).to(torch.uint8)
    queries = torch.stack([torch.from_numpy(q).permute(2, 0, 1) for q in query])
    index = build_index(normalise(hog_features(gallery * keep)))
    _, ids = search(index, normalise(hog_features(queries * keep)), 1)
    filled = []
    for q, i in zip(query, ids[:, 0], strict=True):
        out = q.copy()
        out[hole] = gallery[i].permute(1, 2, 0).numpy()[hole]
        filled.append(out)
    return filled


def _folder_photos(files: list[Path], seed: int, n: int) -> list[np.ndarray]:
    return [load_image_any_size(files[i]) for i in sample_indices(len(files), n, seed)]


def _dataset_photos(dataset: Any, seed: int, n: int) -> list[np.ndarray]:
    return [img.permute(1, 2, 0).numpy() for img in all_images(dataset, sample_indices(len(dataset), n, seed))]


@dataclass
class ScoredPhotos:
    """What one input kind (a folder, a dataset) hands the protocol: the photos scored, the row's data name and
    split, and where the realism columns' real photos and NN-inpainting's gallery come from (None: not made)."""
    originals: list[np.ndarray]
    eval_data: str
    split: str
    train_photos: Callable[[int], list[np.ndarray]] | None = None
    gallery: torch.Tensor | None = None


def folder_photos(options: InpaintingOptions, realism: bool, nn_inpainting: bool) -> ScoredPhotos:
    """Photos at their own size; a folder laid out in splits gives the split's files and a train split."""
    images, split = Path(options.images), options.split
    with_splits = (images / "train").is_dir()
    if not with_splits and split != "val":
        raise SslCeError(f"--split {split} needs a dataset, or --images DIR with train/ (and test/) sub-folders; "
                         f"{images} has none")
    paths = split_files(images, split)[1] if with_splits else list_images(images) if images.is_dir() else []
    if not paths:
        raise SslCeError(f"no images found under {images}")
    originals = [load_image_any_size(p) for p in paths[:options.limit]]
    if not with_splits:
        return ScoredPhotos(originals, f"folder:{options.images}", "")
    train_files = split_files(images, "train")[1]
    return ScoredPhotos(originals, f"folder:{options.images}", split,
                        partial(_folder_photos, train_files, options.seed) if realism else None,
                        folder_gallery(images, originals) if nn_inpainting else None)


def dataset_photos(options: InpaintingOptions, main: ModelInpainter, realism: bool,
                   nn_inpainting: bool) -> ScoredPhotos:
    """A dataset's split at the first model's input size (a sample of --limit), its train split beside it."""
    data_cfg = eval_data_config(main.config.data, options.dataset, options.data_root)
    scored = build_dataset(data_cfg, options.split, main.size)
    idx = sample_indices(len(scored), options.limit, options.seed)
    originals = [img.permute(1, 2, 0).numpy() for img in all_images(scored, idx)]
    train_set = build_dataset(data_cfg, "train", main.size) if realism or nn_inpainting else None
    return ScoredPhotos(originals, data_cfg.source, options.split,
                        partial(_dataset_photos, train_set, options.seed) if realism else None,
                        all_images(train_set) if nn_inpainting else None)


def run_inpainting(checkpoint: Path, options: InpaintingOptions, results_dir: str = "results",
                   progress: bool = True) -> list[dict[str, Any]]:
    """`split="train"` scores a dataset's training images: the gap to the val split is the inpainter's
    over-fitting. NN-inpainting is left out there, as each query is in its gallery."""
    start = time.perf_counter()
    mask, seed = options.mask, options.seed
    torch_device = resolve_device(options.device)
    models = [ModelInpainter(Path(p), torch_device, flip_average=options.flip_average)
              for p in (str(checkpoint), *options.also)]
    names = [m.name for m in models]
    for model in models:  # two runs of the same method would share a row name and a grid column
        if names.count(model.name) > 1:
            model.name += f" [{run_label(model.path)}]"
    main = models[0]
    mask_cfg = dataclasses.replace(main.config.mask, type=mask)
    realism = options.realism != "none" and options.split != "train"  # real photos: train split, never the scored
    nn_inpainting = options.classical and MASKS.get(mask).fixed and options.split != "train"  # one hole for all
    photos = (folder_photos(options, realism, nn_inpainting) if options.images is not None
              else dataset_photos(options, main, realism, nn_inpainting))
    originals, gallery, split, eval_data = photos.originals, photos.gallery, photos.split, photos.eval_data
    _, holes = make_holes(mask_cfg, main.size, [o.shape[:2] for o in originals], seed)
    results: dict[str, tuple[list[np.ndarray], str, ModelInpainter | None]] = {}
    for model in models:  # every model fills the same full-size holes, each cut by its own geometry
        filled, unsuited = fill_all(model, originals, holes)
        note = (f"{len(unsuited)} of {len(originals)} images have a hole that does not suit it: {unsuited[0]}"
                if unsuited else "")
        if model.config.mask.type != mask:
            note = "; ".join(filter(None, [f"generalisation: trained with {model.config.mask.type} holes, "
                                           f"tested with {mask}", note]))
        results[model.name] = (filled, note, model)
    if options.classical:
        for name, inpaint in CLASSICAL.items():
            results[name] = ([inpaint(o, h) for o, h in zip(originals, holes, strict=True)], "", None)
        if gallery is not None:
            results["nn-inpainting (HOG)"] = (nn_inpaint_hog(originals, gallery, holes[0]),
                                              f"nearest of {len(gallery)} training images", None)
    suffix = f"-{split}" if split else ""
    grid_png = Path(results_dir) / "inpainting" / f"{run_label(checkpoint)}-{mask}{suffix}.png"
    _grid(originals, holes, results, grid_png, f"{eval_data}{' ' + split if split else ''}, {mask} holes")
    realism_rows = realism_values(options.realism, options.realism_model, photos.train_photos, originals, holes,
                                  {name: r[0] for name, r in results.items()}, seed, options.realism_images)
    stamp = row_stamp()
    rows = []
    for name, (filled, note, model) in results.items():
        scores = mean_scores(originals, filled, holes)
        cfg = (model or main).config
        rows.append({
            "inpainter": name, "checkpoint": str((model or main).path),
            "method": cfg.method.name if model else "", "model": cfg.model.name if model else "",
            "trained_mask": cfg.mask.type if model else "", "adv_weight": cfg.method.adv_weight if model else "",
            "pretrain_data": cfg.data.source if model else "", "pretrain_steps": model.step if model else "",
            "pretrain_seed": cfg.train.seed if model else "", "eval_data": eval_data, "split": split,
            "eval_mask": mask, "images": len(originals), "l1_pct": round(scores.l1_pct, 2),
            "l2_pct": round(scores.l2_pct, 3), "psnr_db": round(scores.psnr_db, 2), "ssim": round(scores.ssim, 4),
            **realism_rows[name],
            "note": note, "grid_png": str(grid_png), "seed": seed,
            "wall_time_s": round(time.perf_counter() - start, 1), **stamp})
    assert all(r["psnr_db"] <= PSNR_CAP_DB for r in rows)
    return rows


def _grid(originals: list[np.ndarray], holes: list[np.ndarray], results: dict, png: Path, title: str) -> None:
    rows = min(GRID_ROWS, len(originals))
    masked = []
    for o, h in zip(originals[:rows], holes[:rows], strict=True):
        m = o.copy()
        m[h] = 128
        masked.append(m)
    columns = {"input": masked, **{name: r[0][:rows] for name, r in results.items()}, "original": originals[:rows]}
    png.parent.mkdir(parents=True, exist_ok=True)
    save_image_table(columns, png, title)


INPAINTING = register(Evaluator(
    name="inpainting",
    help="Hole filling vs classical inpainters and NN-inpainting: L1, L2, PSNR, SSIM over the hole, and realism "
         "(KID in an ImageNet network's features, sharpness ratios).",
    csv_name="inpainting.csv",
    columns=COLUMNS,
    run=run_inpainting,
    options=InpaintingOptions,
))
