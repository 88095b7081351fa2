from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from ssl_ce.evaluators import nn_retrieval
from ssl_ce.evaluators.inpaint_metrics import PSNR_CAP_DB
from ssl_ce.evaluators.knn import (
    IndexSettings,
    build_index,
    normalise,
    precision_at_k,
    recall_at_k,
    search,
    weighted_knn_predict,
)
from ssl_ce.evaluators.nn_retrieval import COLUMNS, NN_RETRIEVAL, centre_errors
from ssl_ce.training import train

from .conftest import tiny_config


def _random(n: int, dim: int, seed: int) -> np.ndarray:
    return normalise(np.random.default_rng(seed).standard_normal((n, dim)))


def test_exact_search_matches_numpy_brute_force() -> None:
    gallery, queries = _random(500, 48, 0), _random(40, 48, 1)
    sims, ids = search(build_index(gallery, "flat"), queries, k=7, batch=16)
    reference = np.argsort(-(queries @ gallery.T), axis=1)[:, :7]
    assert np.array_equal(ids, reference)
    assert np.allclose(sims, np.take_along_axis(queries @ gallery.T, reference, axis=1), atol=1e-5)


@pytest.mark.parametrize("kind", ["ivf", "hnsw", "pca"])
def test_approximate_indexes_find_most_exact_neighbours(kind: str) -> None:
    centres = _random(20, 32, 2)
    rng = np.random.default_rng(3)
    gallery = normalise(centres[rng.integers(0, 20, 3000)] + 0.1 * rng.standard_normal((3000, 32)))
    queries = normalise(centres[rng.integers(0, 20, 100)] + 0.1 * rng.standard_normal((100, 32)))
    _, exact = search(build_index(gallery, "flat"), queries, 10)
    _, approx = search(build_index(gallery, kind), queries, 10)
    assert recall_at_k(approx, exact) > 0.8
    assert recall_at_k(exact, exact) == 1.0


def test_pca_index_returns_cosine_similarities_like_exact_search() -> None:
    """The pca index searches by L2 internally; what it returns must still be cosine, best first."""
    gallery, queries = _random(2000, 64, 4), _random(50, 64, 5)
    exact_sims, exact = search(build_index(gallery, "flat"), queries, 5)
    sims, ids = search(build_index(gallery, "pca", IndexSettings(pca_dim=64)), queries, 5)
    assert np.array_equal(ids, exact)
    assert np.allclose(sims, exact_sims, atol=1e-4)


def test_knn_is_perfect_on_gallery_items_and_at_chance_on_shuffled_labels() -> None:
    gallery = _random(1000, 64, 4)
    labels = np.random.default_rng(5).integers(0, 10, 1000)
    sims, ids = search(build_index(gallery), gallery, 20)
    votes = weighted_knn_predict(sims, ids, labels, 10)
    assert (votes.argmax(1) == labels).mean() == 1.0  # the item itself (similarity 1) outweighs the rest
    queries = _random(2000, 64, 6)
    sims, ids = search(build_index(gallery), queries, 20)
    query_labels = np.random.default_rng(7).integers(0, 10, 2000)
    accuracy = (weighted_knn_predict(sims, ids, labels, 10).argmax(1) == query_labels).mean()
    assert abs(accuracy - 0.1) < 0.03  # 4.5 standard errors at n = 2000
    assert abs(precision_at_k(ids, labels, query_labels) - 0.1) < 0.03


def test_centre_errors_by_hand() -> None:
    a = torch.zeros(2, 3, 4, 4, dtype=torch.uint8)
    assert centre_errors(a, a) == (0.0, 0.0, PSNR_CAP_DB)
    b = torch.full((2, 3, 4, 4), 255, dtype=torch.uint8)
    l1, l2, psnr = centre_errors(a, b)
    assert (l1, l2, psnr) == (100.0, 100.0, 0.0)


def test_context_mode_masks_queries_and_gallery_identically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    result = train(tiny_config(method={"name": "random"}), tmp_path / "run", progress=False)
    holes = []
    real = nn_retrieval.cached_features

    def spy(*args, **kwargs):
        holes.append(args[-1] if len(args) > 7 else kwargs.get("hole"))
        return real(*args, **kwargs)

    monkeypatch.setattr(nn_retrieval, "cached_features", spy)
    rows = NN_RETRIEVAL(result.checkpoint, mode="context", k=5, results_dir=str(tmp_path / "res"),
                            progress=False)
    assert len(holes) == 2 and holes[0] is not None and torch.equal(holes[0], holes[1])
    assert holes[0].sum() > 0
    assert [r["features"] for r in rows] == ["encoder", "hog", "pixels"]
    assert all(set(r) == set(COLUMNS) for r in rows)
    assert all(0 < r["centre_psnr_db"] <= PSNR_CAP_DB for r in rows)
    assert Path(rows[0]["grid_png"]).is_file()


def test_knn_mode_end_to_end_with_an_approximate_index(tmp_path: Path) -> None:
    result = train(tiny_config(method={"name": "random"}), tmp_path / "run", progress=False)
    (row,) = NN_RETRIEVAL(result.checkpoint, index="hnsw", k=5, results_dir=str(tmp_path), progress=False)
    assert 0 <= row["top1_pct"] <= 100 and 0 < row["recall_at_k"] <= 1
    assert row["queries"] == 10  # one test crop per photograph
    frame = pd.DataFrame([row], columns=COLUMNS)
    assert frame.loc[0, "features"] == "encoder"
