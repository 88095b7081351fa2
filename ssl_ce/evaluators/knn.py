"""Nearest-neighbour search on FAISS and the k-NN protocols on top of it, as pure functions of features.

Features are L2-normalised float32, so inner product = cosine similarity. `flat` is exact (a matrix
multiplication); `ivf` (IVF-Flat, nlist/nprobe), `hnsw` and `pca` are approximate. `pca` searches exactly in a
PCA-reduced space and re-ranks `k_factor * k` candidates with the full vectors; it searches by L2 distance,
because PCA centres the data and inner products of centred projections rank neighbours wrongly, while for unit
vectors L2 ranks exactly like cosine (|a - b|^2 = 2 - 2 cos) and survives the centring.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import faiss
import numpy as np
import torch

K, TEMPERATURE = 20, 0.07  # DINO's weighted k-NN protocol: the evaluator's defaults and the training monitor's

INDEX_KINDS = ("flat", "ivf", "hnsw", "pca")


@dataclass(frozen=True)
class IndexSettings:
    nlist: int | None = None  # ivf: clusters (default about 4 * sqrt(n))
    nprobe: int = 16  # ivf: clusters visited per query
    hnsw_m: int = 32  # hnsw: links per node
    ef_search: int = 128  # hnsw: candidate list at query time
    ef_construction: int = 80
    pca_dim: int = 128  # pca: dimensions of the coarse search
    k_factor: int = 4  # pca: candidates re-ranked exactly, per neighbour asked for


def normalise(features: torch.Tensor | np.ndarray) -> np.ndarray:
    """Rows scaled to unit L2 norm, float32, C-contiguous (what FAISS expects)."""
    x = np.ascontiguousarray(np.asarray(features, dtype=np.float32))
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return np.ascontiguousarray(x / np.maximum(norms, 1e-12))


def build_index(gallery: np.ndarray, kind: str = "flat", settings: IndexSettings | None = None) -> faiss.Index:
    """An inner-product index over `gallery` (already normalised)."""
    settings = settings or IndexSettings()
    n, dim = gallery.shape
    if kind == "flat":
        index = faiss.IndexFlatIP(dim)
    elif kind == "ivf":
        nlist = settings.nlist or max(1, min(n // 39, int(4 * math.sqrt(n))))
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT)
        index.train(gallery)
        index.nprobe = min(settings.nprobe, nlist)
    elif kind == "hnsw":
        index = faiss.IndexHNSWFlat(dim, settings.hnsw_m, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = settings.ef_construction
        index.hnsw.efSearch = settings.ef_search
    elif kind == "pca":
        coarse = faiss.index_factory(dim, f"PCA{min(settings.pca_dim, dim)},Flat", faiss.METRIC_L2)
        coarse.train(gallery)
        index = faiss.IndexRefineFlat(coarse)
        index.k_factor = settings.k_factor
    else:
        raise ValueError(f"index kind must be one of {INDEX_KINDS}, got {kind!r}")
    index.add(gallery)
    return index


def search(index: faiss.Index, queries: np.ndarray, k: int, batch: int = 4096) -> tuple[np.ndarray, np.ndarray]:
    """(cosine similarities, indices), each (n_queries, k), best first; queries searched in batches."""
    sims, ids = [], []
    for start in range(0, len(queries), batch):
        s, i = index.search(queries[start : start + batch], k)
        sims.append(s)
        ids.append(i)
    sims_all = np.concatenate(sims)
    if index.metric_type == faiss.METRIC_L2:  # unit vectors: squared L2 distance = 2 - 2 cos
        sims_all = 1 - sims_all / 2
    return sims_all, np.concatenate(ids)


def weighted_knn_predict(sims: np.ndarray, ids: np.ndarray, gallery_labels: np.ndarray, num_classes: int,
                         temperature: float = TEMPERATURE) -> np.ndarray:
    """DINO's weighted vote: each neighbour adds exp(similarity / T) to its class; returns class scores."""
    weights = np.exp(sims.astype(np.float64) / temperature)
    votes = np.zeros((len(sims), num_classes))
    np.add.at(votes, (np.repeat(np.arange(len(sims)), sims.shape[1]), gallery_labels[ids].ravel()), weights.ravel())
    return votes


def precision_at_k(ids: np.ndarray, gallery_labels: np.ndarray, query_labels: np.ndarray) -> float:
    """Mean fraction of each query's k neighbours that share its class."""
    return float((gallery_labels[ids] == query_labels[:, None]).mean())


def recall_at_k(approx_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean fraction of the exact k nearest neighbours that the approximate search also returned."""
    k = exact_ids.shape[1]
    hits = [len(set(a.tolist()) & set(e.tolist())) for a, e in zip(approx_ids, exact_ids, strict=True)]
    return float(np.mean(hits) / k)
