"""`ssl-ce eval nn-retrieval`: FAISS nearest neighbours of frozen features.

- `knn`: DINO's weighted k-NN classification (cosine similarity, k = 20, T = 0.07) and precision@k.
- `context`: queries and gallery encoded with their centre dropped (the pretraining centre mask); the
  nearest neighbour's true centre fills the query's hole, scored against the query's true centre (the
  paper's NN-inpainting), beside the same retrieval on HOG features and on raw pixels.
Approximate indexes (ivf, hnsw, pca) also report recall@k against exact search.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import numpy as np
import torch
from skimage.feature import hog

from ssl_ce.checkpoint import run_label
from ssl_ce.config import DataConfig, MaskConfig
from ssl_ce.data import build_dataset
from ssl_ce.data.datasets import ImageDataset, all_images
from ssl_ce.data.masks import make_masks
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import (
    DataOptions,
    Evaluator,
    device_option,
    eval_data_config,
    feature_key,
    option,
    pretraining_columns,
    register,
    sample_indices,
    seed_option,
    split_option,
)
from ssl_ce.evaluators.features import cached_features
from ssl_ce.evaluators.inpaint_metrics import PSNR_CAP_DB
from ssl_ce.evaluators.knn import (
    INDEX_KINDS,
    TEMPERATURE,
    IndexSettings,
    K,
    build_index,
    normalise,
    precision_at_k,
    recall_at_k,
    search,
    weighted_knn_predict,
)
from ssl_ce.evaluators.linear_probe import topk_accuracy
from ssl_ce.plots import save_retrieval_grid
from ssl_ce.pretrained import LoadedEncoder, load_trained_encoder
from ssl_ce.provenance import row_stamp
from ssl_ce.runtime import resolve_device

COLUMNS = ["method", "checkpoint", "model", "mask", "pretrain_data", "pretrain_steps", "pretrain_seed", "eval_data",
           "split", "mode",
           "features", "index", "k", "gallery", "queries", "top1_pct", "precision_at_k_pct", "centre_l1_pct",
           "centre_l2_pct", "centre_psnr_db", "recall_at_k", "queries_per_s", "hyperparameters", "grid_png", "seed",
           "wall_time_s", "ssl_ce_version", "git_commit", "date"]
GRID_NEIGHBOURS = 8


def hog_features(images: torch.Tensor) -> np.ndarray:
    """HOG (9 orientations, 4x4 cells over the image, 2x2 blocks) of uint8 (N, 3, H, W) images."""
    cell = max(2, images.shape[-1] // 4)
    return np.stack([hog(img.permute(1, 2, 0).numpy(), pixels_per_cell=(cell, cell), cells_per_block=(2, 2),
                         channel_axis=-1) for img in images]).astype(np.float32)


def centre_errors(query_centres: torch.Tensor, fill_centres: torch.Tensor) -> tuple[float, float, float]:
    """Mean L1 (%), mean L2 (%), mean PSNR (dB, per image then averaged, capped) of [0, 1] images."""
    diff = query_centres.float() / 255 - fill_centres.float() / 255
    mse = diff.pow(2).flatten(1).mean(1)
    psnr = (10 * torch.log10(1 / mse.clamp(min=1e-12))).clamp(max=PSNR_CAP_DB)
    return 100 * diff.abs().mean().item(), 100 * mse.mean().item(), psnr.mean().item()


def timed_search(gallery: np.ndarray, queries: np.ndarray, kind: str, k: int,
                 settings: IndexSettings) -> tuple[np.ndarray, np.ndarray, float]:
    index = build_index(gallery, kind, settings)
    start = time.perf_counter()
    sims, ids = search(index, queries, k)
    return sims, ids, len(queries) / max(time.perf_counter() - start, 1e-9)


@dataclass(frozen=True)
class RetrievalOptions(DataOptions):
    mode: str = option("knn", "knn: weighted k-NN accuracy and precision@k; context: NN-inpainting of the centre.",
                       type=click.Choice(["knn", "context"]))
    index: str = option("flat", "flat is exact; ivf, hnsw and pca (PCA search + exact re-ranking) are approximate "
                        "(recall@k reported).", type=click.Choice(list(INDEX_KINDS)))
    k: int = option(K, "Neighbours per query.", names=["-k"])
    temperature: float = option(TEMPERATURE, "k-NN vote temperature.")
    queries: int | None = option(None, "Use N random images of the split as queries [default: all].", type=int)
    nlist: int | None = option(None, "ivf: clusters [default: about 4 sqrt(gallery)].", type=int)
    nprobe: int = option(16, "ivf: clusters searched.")
    pca_dim: int = option(128, "pca: dimensions of the coarse search.")
    split: str = split_option()  # the queries' split; the gallery is the train split
    seed: int = seed_option()
    device: str = device_option()

    def hyperparameters(self) -> str:
        """Every setting that shaped the numbers, as the row's hyperparameters column: the vote temperature
        (knn), and the approximate index's own settings when one is used."""
        settings = {"temperature": self.temperature} if self.mode == "knn" else {}
        if self.index == "ivf":
            settings.update(nlist=self.nlist or "auto", nprobe=self.nprobe)
        if self.index == "pca":
            settings["pca_dim"] = self.pca_dim
        return ";".join(f"{k}={v:g}" if isinstance(v, float) else f"{k}={v}" for k, v in settings.items())


def run_nn_retrieval(checkpoint: Path, options: RetrievalOptions, results_dir: str = "results",
                     progress: bool = True) -> list[dict[str, Any]]:
    """Neighbours of the scored split's images among the train split's, in each feature space of the mode's
    protocol (`knn_protocol`: the encoder's; `context_protocol`: the encoder's, HOG's and the pixels' of the
    holed images), one row per space."""
    start = time.perf_counter()
    data = RetrievalData.load(checkpoint, options, progress)
    protocol = context_protocol if options.mode == "context" else knn_protocol
    spaces, judge = protocol(data, options)
    cfg = data.loaded.checkpoint.config
    base = {**pretraining_columns(cfg, data.loaded.checkpoint.step), "checkpoint": str(checkpoint),
            "eval_data": data.data_cfg.source, "split": options.split, "mode": options.mode, "index": options.index,
            "k": options.k, "gallery": len(data.gallery_set), "queries": len(data.query_idx),
            "hyperparameters": options.hyperparameters(), "seed": options.seed}
    settings = IndexSettings(nlist=options.nlist, nprobe=options.nprobe, pca_dim=options.pca_dim)
    grid_png = Path(results_dir) / "nn_retrieval" / (f"{run_label(checkpoint)}-{options.mode}-{options.index}-"
                                                     f"{options.split}.png")
    rows = []
    for name, (gallery, queries_x) in spaces.items():
        sims, ids, qps = timed_search(gallery, queries_x, options.index, options.k, settings)
        row = {**base, "features": name, "top1_pct": "", "precision_at_k_pct": "", "centre_l1_pct": "",
               "centre_l2_pct": "", "centre_psnr_db": "", "recall_at_k": "", "queries_per_s": round(qps, 1),
               "grid_png": "", **judge(sims, ids)}
        if options.index != "flat":
            _, exact_ids, _ = timed_search(gallery, queries_x, "flat", options.k, settings)
            row["recall_at_k"] = round(recall_at_k(ids, exact_ids), 4)
        if name == "encoder":
            _grid(data.gallery_set, data.query_set, data.query_idx, ids, data.hole, grid_png,
                  f"{cfg.method.name} ({cfg.mask.type}), {options.mode} retrieval on {data.data_cfg.source} "
                  f"{options.split}: query, then its nearest neighbours")
            row["grid_png"] = str(grid_png)
        rows.append(row)
    wall = round(time.perf_counter() - start, 1)
    stamp = row_stamp()
    return [{**row, "wall_time_s": wall, **stamp} for row in rows]


Spaces = dict[str, tuple[torch.Tensor, torch.Tensor]]  # name -> (gallery, queries), unit-normalised
Judge = Callable[[np.ndarray, np.ndarray], dict[str, Any]]  # (similarities, neighbour ids) -> the row's scores


@dataclass(frozen=True)
class RetrievalData:
    """What both protocols search: the encoder, the train split as gallery, the scored split's queries, and
    the centre hole whose context the context protocol compares (None for k-NN)."""

    checkpoint: Path
    loaded: LoadedEncoder
    data_cfg: DataConfig
    gallery_set: ImageDataset
    query_set: ImageDataset
    query_idx: np.ndarray
    hole: torch.Tensor | None
    region: Any  # the centre's region (ssl_ce.data.masks), for cropping the fills; None for k-NN
    device: torch.device
    progress: bool

    @classmethod
    def load(cls, checkpoint: Path, options: RetrievalOptions, progress: bool) -> RetrievalData:
        loaded = load_trained_encoder(checkpoint)
        data_cfg = eval_data_config(loaded.checkpoint.config.data, options.dataset, options.data_root)
        size = loaded.input_size
        gallery_set = build_dataset(data_cfg, "train", size)
        query_set = build_dataset(data_cfg, options.split, size)
        if options.k < 1 or options.k > len(gallery_set):
            raise SslCeError(f"-k must be between 1 and the gallery size ({len(gallery_set)})")
        hole = region = None
        if options.mode == "context":
            cfg = loaded.checkpoint.config
            centre = MaskConfig(type="center", overlap=cfg.mask.overlap, overlap_weight=cfg.mask.overlap_weight)
            masks = make_masks(centre, 1, size, torch.Generator())
            hole, region = masks.hole, masks.region
        return cls(checkpoint, loaded, data_cfg, gallery_set, query_set,
                   sample_indices(len(query_set), options.queries, options.seed), hole, region,
                   resolve_device(options.device), progress)

    def encoder_space(self, split: str) -> tuple[torch.Tensor, torch.Tensor]:
        """The encoder's features of the gallery and the queries (of the holed images for the context mode)."""
        size = self.loaded.input_size

        def features(dataset: ImageDataset, which: str) -> torch.Tensor:
            key = feature_key(self.data_cfg, size, which)
            return cached_features(self.checkpoint, self.loaded.encoder, dataset, key, None, self.device,
                                   self.progress, self.hole)

        return normalise(features(self.gallery_set, "train")), normalise(features(self.query_set, split)
                                                                          [self.query_idx])


def knn_protocol(data: RetrievalData, options: RetrievalOptions) -> tuple[Spaces, Judge]:
    """DINO's weighted k-NN vote and precision@k in the encoder's features (scores left empty without labels)."""
    spaces = {"encoder": data.encoder_space(options.split)}
    gallery_labels = data.gallery_set.labels.numpy()
    query_labels = data.query_set.labels[data.query_idx].numpy()
    classes = len(data.gallery_set.class_names)

    def judge(sims: np.ndarray, ids: np.ndarray) -> dict[str, Any]:
        if gallery_labels.min() < 0 or classes < 2:
            return {}
        votes = weighted_knn_predict(sims, ids, gallery_labels, classes, options.temperature)
        return {"top1_pct": round(100 * topk_accuracy(torch.from_numpy(votes), torch.from_numpy(query_labels), 1), 2),
                "precision_at_k_pct": round(100 * precision_at_k(ids, gallery_labels, query_labels), 2)}

    return spaces, judge


def context_protocol(data: RetrievalData, options: RetrievalOptions) -> tuple[Spaces, Judge]:
    """The paper's NN-inpainting: the nearest holed image's centre fills the query's, in the encoder's, HOG's
    and the raw pixels' space; scored by the centre's L1, L2 and PSNR."""
    gallery_images, query_images = all_images(data.gallery_set), all_images(data.query_set, data.query_idx)
    keep = (1 - data.hole).to(torch.uint8)
    holed_gallery, holed_queries = gallery_images * keep, query_images * keep
    spaces = {"encoder": data.encoder_space(options.split),
              "hog": (normalise(hog_features(holed_gallery)), normalise(hog_features(holed_queries))),
              "pixels": (normalise(holed_gallery.flatten(1).float() - 127.5),
                         normalise(holed_queries.flatten(1).float() - 127.5))}

    def judge(sims: np.ndarray, ids: np.ndarray) -> dict[str, Any]:
        l1, l2, psnr = centre_errors(data.region.crop(query_images), data.region.crop(gallery_images[ids[:, 0]]))
        return {"centre_l1_pct": round(l1, 2), "centre_l2_pct": round(l2, 3), "centre_psnr_db": round(psnr, 2)}

    return spaces, judge


def _grid(gallery: ImageDataset, queries: ImageDataset, query_idx: np.ndarray, ids: np.ndarray,
          hole: torch.Tensor | None, png: Path, title: str) -> None:
    rows = min(8, len(query_idx))
    shown = min(GRID_NEIGHBOURS, ids.shape[1])
    query_images = queries.batch(query_idx[:rows].tolist())[0]
    if hole is not None:
        query_images = (query_images * (1 - hole).to(torch.uint8) + (hole * 128).to(torch.uint8))
    neighbours = gallery.batch(ids[:rows, :shown].ravel().tolist())[0]
    png.parent.mkdir(parents=True, exist_ok=True)
    save_retrieval_grid(query_images, neighbours.reshape(rows, shown, *neighbours.shape[1:]), png, title)


NN_RETRIEVAL = register(Evaluator(
    name="nn-retrieval",
    help="FAISS nearest neighbours: weighted k-NN accuracy, or NN-inpainting of the centre (context mode).",
    csv_name="nn_retrieval.csv",
    columns=COLUMNS,
    run=run_nn_retrieval,
    options=RetrievalOptions,
))
