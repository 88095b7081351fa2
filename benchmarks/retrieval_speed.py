"""Nearest-neighbour search speed at CIFAR-10 scale: FAISS flat / IVF / HNSW against scikit-learn brute force.

50,000 x 1024-d gallery, 10,000 queries, k = 10, all L2-normalised (cosine similarity). Reports queries/s,
speed-up over scikit-learn, recall@10 against exact search (the approximate indexes: IVF-Flat, HNSW, and
PCA-reduced exact search with exact re-ranking of k_factor x k candidates), and for exact search its achieved FLOP rate
(2 x queries x gallery x dim per search) as a fraction of this machine's measured fp32 matmul rate. Every
search, scikit-learn's and FAISS's alike, is warmed up and then timed --repeats times (3), the fastest kept.

    python benchmarks/retrieval_speed.py [--features RUN/features/cifar10-32-train-bottleneck.safetensors
                                          --query-features RUN/features/cifar10-32-test-bottleneck.safetensors]

With --features (an ssl-ce feature cache, e.g. written by `ssl-ce eval classification`) the gallery is the
real training-split features and the queries the test-split ones; without, the vectors are synthetic:
100 Gaussian clusters with isotropic noise in all 1024 dimensions (a hard case for approximate search).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import faiss
import numpy as np
import pandas as pd
from safetensors.torch import load_file
from sklearn.neighbors import NearestNeighbors

from ssl_ce.evaluators.knn import IndexSettings, build_index, normalise, recall_at_k, search
from ssl_ce.timing import best_seconds, matmul_gflops

REPO = Path(__file__).resolve().parent.parent


def synthetic(n: int, dim: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((100, dim)).astype(np.float32)
    return centres[rng.integers(0, 100, n)] + 0.6 * rng.standard_normal((n, dim)).astype(np.float32)


def matmul_rate(queries: int, gallery: int, dim: int, repeats: int = 3) -> float:
    """The machine's fp32 matmul rate for the search's contraction: the better of the whole product at once
    (its 2 GB output is memory-bound) and a cache-sized 4096 x 1024 tile of it, best of `repeats` each."""
    return max(matmul_gflops(rows, dim, cols, repeats, warmup=1)
               for rows, cols in ((queries, gallery), (min(queries, 4096), min(gallery, 1024))))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--features", help="gallery: a safetensors file with a 'features' tensor (ssl-ce cache)")
    parser.add_argument("--query-features", help="queries: the same for the test split")
    parser.add_argument("--gallery", type=int, default=50_000)
    parser.add_argument("--queries", type=int, default=10_000)
    parser.add_argument("--dim", type=int, default=1024)
    parser.add_argument("-k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=3, help="each search is timed this often, fastest kept")
    parser.add_argument("--out", default=str(REPO / "results" / "retrieval_speed.csv"))
    args = parser.parse_args()
    if args.features:
        if not args.query_features:
            parser.error("--features needs --query-features (the test split's cache)")
        gallery = load_file(args.features)["features"].numpy()[: args.gallery]
        queries = load_file(args.query_features)["features"].numpy()[: args.queries]
        source = f"features: {args.features}"
    else:
        gallery, queries = synthetic(args.gallery, args.dim, 0), synthetic(args.queries, args.dim, 1)
        source = "synthetic: 100 Gaussian clusters"
    gallery, queries = normalise(gallery), normalise(queries)
    n, dim, q, k = len(gallery), gallery.shape[1], len(queries), args.k
    flops = 2 * q * n * dim
    peak = matmul_rate(q, n, dim, args.repeats)
    print(f"{n} x {dim} gallery, {q} queries, k={k}; {source}; {faiss.omp_get_max_threads()} threads; "
          f"fp32 matmul {peak:.1f} GFLOP/s")

    rows = []
    nn_model = NearestNeighbors(n_neighbors=k, algorithm="brute", metric="cosine", n_jobs=-1).fit(gallery)
    nn_model.kneighbors(queries[:256])  # warm-up, as for every FAISS index
    seconds = best_seconds(lambda: nn_model.kneighbors(queries), args.repeats)
    sklearn_qps = q / seconds
    rows.append({"method": "sklearn brute force (cosine)", "build_s": 0.0, "search_s": seconds})

    exact_index = build_index(gallery, "flat")
    search(exact_index, queries[:256], k)  # warm-up
    seconds = best_seconds(lambda: search(exact_index, queries, k), args.repeats)
    _, exact = search(exact_index, queries, k)
    rows.append({"method": "faiss flat (exact)", "build_s": 0.0, "search_s": seconds, "recall": 1.0,
                 "gflops": flops / seconds / 1e9})
    variants = [("ivf", IndexSettings(nprobe=p), f"faiss ivf nprobe={p}") for p in (4, 8, 16, 32)]
    variants += [("hnsw", IndexSettings(ef_search=e), f"faiss hnsw M=32 efSearch={e}") for e in (64, 128, 256)]
    variants += [("pca", IndexSettings(pca_dim=d, k_factor=f), f"faiss pca{d} + refine x{f}")
                 for d, f in ((32, 8), (64, 4), (64, 8), (128, 4))]
    built: dict[str, object] = {}
    for kind, settings, label in variants:
        start = time.perf_counter()
        key = f"{kind}{settings.pca_dim}" if kind == "pca" else kind
        if key not in built:
            built[key] = build_index(gallery, kind, settings)
        index = built[key]
        build_s = time.perf_counter() - start
        if kind == "ivf":
            index.nprobe = settings.nprobe
        elif kind == "hnsw":
            index.hnsw.efSearch = settings.ef_search
        else:
            index.k_factor = settings.k_factor
        search(index, queries[:256], k)  # warm-up
        seconds = best_seconds(lambda index=index: search(index, queries, k), args.repeats)
        _, ids = search(index, queries, k)
        rows.append({"method": label, "build_s": build_s, "search_s": seconds, "recall": recall_at_k(ids, exact)})
    frame = pd.DataFrame(rows)
    frame["queries_per_s"] = q / frame["search_s"]
    frame["speedup_vs_sklearn"] = frame["queries_per_s"] / sklearn_qps
    frame["fraction_of_matmul"] = frame.get("gflops", np.nan) / peak
    frame["matmul_gflops"] = peak
    for column, value in (("gallery", n), ("dim", dim), ("queries", q), ("k", k), ("data", source),
                          ("threads", faiss.omp_get_max_threads()), ("faiss", faiss.__version__)):
        frame[column] = value
    shown = ["method", "build_s", "queries_per_s", "speedup_vs_sklearn", "recall", "gflops", "fraction_of_matmul"]
    print(frame[shown].round(3).to_string(index=False))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(args.out, index=False)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
