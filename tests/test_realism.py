"""Realism measures: KID and FID in a feature network's space, sharpness ratios, the network's file checks and
the evaluator's columns. The MobileNet tests run only where ../shared/models and its runtime are present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import ndimage

from ssl_ce.errors import SslCeError
from ssl_ce.evaluators import inpaint_realism
from ssl_ce.evaluators.common import sample_indices
from ssl_ce.evaluators.inpainting import INPAINTING
from ssl_ce.realism import networks
from ssl_ce.realism.distances import fid, kid
from ssl_ce.realism.measure import KID_SCALE, Reference, kid_margin, measure, realism_columns
from ssl_ce.realism.networks import MNV1_FILE, FeatureNet
from ssl_ce.realism.sharpness import periodic_peak_ratio, sharpness_ratios
from ssl_ce.training import train

from .conftest import colour_net, tiny_config

SHARED_MODEL = Path(__file__).resolve().parents[2] / "shared" / "models" / MNV1_FILE


def _features(n: int, shift: float = 0.0, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(shift, 1.0, (n, 16))


def test_kid_of_two_real_samples_is_near_zero_and_a_shifted_one_is_far() -> None:
    real, other = _features(300, seed=1), _features(300, seed=2)
    same = kid(other, real)
    assert abs(same.mean) < 3 * same.std + 1e-3
    far = kid(_features(300, shift=0.5, seed=3), real)
    assert far.mean > 10 * max(same.std, abs(same.mean))


def test_kid_is_order_invariant_and_repeatable() -> None:
    fake, real = _features(120, shift=0.2, seed=4), _features(150, seed=5)
    a = kid(fake, real)
    shuffled = kid(fake[np.random.default_rng(0).permutation(120)], real[::-1])
    assert shuffled.mean == pytest.approx(a.mean, rel=1e-9, abs=1e-12)
    again = kid(fake, real)
    assert again.mean == a.mean and np.array_equal(again.per_subset, a.per_subset)


def test_fid_needs_more_images_than_features() -> None:
    assert fid(_features(20), _features(20)) is None
    assert fid(_features(100, seed=1), _features(100, seed=2)) < fid(_features(100, 1.0, 3), _features(100, seed=2))


def _photo(seed: int, size: int = 64) -> np.ndarray:
    """A photo-like image: smooth shapes plus fine texture."""
    rng = np.random.default_rng(seed)
    base = ndimage.gaussian_filter(rng.normal(128, 60, (size, size, 3)), (4, 4, 0))
    return np.clip(base + rng.normal(0, 12, base.shape), 0, 255).astype(np.uint8)


def _centre_hole(size: int = 64) -> np.ndarray:
    hole = np.zeros((size, size), bool)
    hole[size // 4 : 3 * size // 4, size // 4 : 3 * size // 4] = True
    return hole


def _blurred(image: np.ndarray, hole: np.ndarray) -> np.ndarray:
    out = image.copy()
    out[hole] = ndimage.gaussian_filter(image.astype(float), (3, 3, 0))[hole].round().astype(np.uint8)
    return out


def _checkerboard(image: np.ndarray, hole: np.ndarray, amplitude: int = 10) -> np.ndarray:
    board = ((np.indices(hole.shape).sum(0) // 2) % 2 * 2 - 1) * amplitude
    blurred = _blurred(image, hole).astype(int)
    blurred[hole] += board[hole][:, None]
    return np.clip(blurred, 0, 255).astype(np.uint8)


def test_sharpness_ratios_put_blur_below_one_and_a_checkerboard_above() -> None:
    photos, holes = [_photo(i) for i in range(6)], [_centre_hole()] * 6
    assert sharpness_ratios(photos, photos, holes) == (1.0, 1.0)
    hf_blur, grad_blur = sharpness_ratios(photos, [_blurred(p, h) for p, h in zip(photos, holes, strict=True)], holes)
    hf_check, _ = sharpness_ratios(photos, [_checkerboard(p, h, 40) for p, h in zip(photos, holes, strict=True)], holes)
    assert hf_blur < 0.3 and grad_blur < 0.7 and hf_check > 1.0


def test_a_missing_or_damaged_network_file_is_a_one_line_error_naming_the_fix(tmp_path: Path,
                                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSL_CE_MNV1", str(tmp_path / "absent.tflite"))
    monkeypatch.setattr(networks.Path, "home", lambda: tmp_path)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SslCeError, match="no realism network: put") as missing:
        networks.mobilenet_v1()
    assert "\n" not in str(missing.value) and "--realism-model" in str(missing.value)
    damaged = tmp_path / "damaged.tflite"
    damaged.write_bytes(b"\0" * 1000)
    with pytest.raises(SslCeError, match="SHA-256 differs"):
        networks.mobilenet_v1(str(damaged))


def test_inception_offline_is_a_one_line_error(tmp_path: Path) -> None:
    with pytest.raises(SslCeError, match="--realism inception needs") as error:
        networks.inception(str(tmp_path / "none.pth"))
    assert "\n" not in str(error.value)


def _mnv1_or_skip() -> FeatureNet:
    if not SHARED_MODEL.is_file():
        pytest.skip(f"{SHARED_MODEL} is absent")
    pytest.importorskip("ai_edge_litert")
    return networks.mobilenet_v1(str(SHARED_MODEL))


def test_the_network_embeds_the_same_on_one_thread_as_on_two() -> None:
    _mnv1_or_skip()
    photos = [_photo(i, 96) for i in range(4)]
    one, two = (networks.mobilenet_v1(str(SHARED_MODEL), threads=n).embed(photos) for n in (1, 2))
    assert np.array_equal(one, two)
    assert not np.array_equal(one[0], one[1])  # the photos differ, so equal embeddings mean something


def _road_photos_or_skip(count: int) -> list[np.ndarray]:
    from ssl_ce.data.folder import list_images
    from ssl_ce.data.images import load_image_any_size

    root = SHARED_MODEL.parents[1] / "data" / "roads" / "train"
    if not root.is_dir():
        pytest.skip(f"{root} is absent")
    return [load_image_any_size(p) for p in list_images(root)[:count]]


@pytest.mark.parametrize("net", ["stand-in", "mnv1"])
def test_real_fills_score_near_zero_and_blur_and_checkerboard_clearly_worse(net: str) -> None:
    if net == "mnv1":
        feature_net, photos = _mnv1_or_skip(), _road_photos_or_skip(160)
    else:
        feature_net, photos = colour_net(), [_photo(i, 96) for i in range(160)]
    holes = [_centre_hole(p.shape[0]) for p in photos[:60]]
    reference = Reference.of(feature_net, photos[60:], holes)
    scored = photos[:60]
    truth = measure(reference, scored, scored, holes)
    blur = measure(reference, scored, [_blurred(p, h) for p, h in zip(scored, holes, strict=True)], holes)
    board = measure(reference, scored, [_checkerboard(p, h) for p, h in zip(scored, holes, strict=True)], holes)
    assert abs(truth.hole.mean) < 3 * truth.hole.std + 1e-4
    for worse in (blur, board):
        assert kid_margin(worse.hole, truth.hole).low > 0  # the whole interval says: further from real photos
    assert blur.hf_ratio < 0.5 < 1.0 < board.hf_ratio
    assert board.peak_ratio > 3 * blur.peak_ratio  # the grid has a period, the blur's error none
    again = measure(reference, scored, scored, holes)
    assert again.hole.mean == truth.hole.mean  # the same inputs give the same numbers


@pytest.fixture(scope="module")
def centre_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train(tiny_config(train={"max_steps": 2}), tmp_path_factory.mktemp("realism") / "run",
                 progress=False).checkpoint


def test_the_evaluator_fills_every_realism_column_for_every_inpainter(centre_model: Path, tmp_path: Path,
                                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(networks.NETWORKS, "mnv1", lambda _file: colour_net())
    rows = INPAINTING(centre_model, limit=8, realism="mnv1", results_dir=str(tmp_path), progress=False)
    assert all(set(realism_columns()) <= set(r) for r in rows)
    assert all(isinstance(r["kid_mnv1_hole"], float) and isinstance(r["hf_ratio"], float) for r in rows)
    assert rows[0]["kid_mnv1_hole_margin"] == "" and all("[" in r["kid_mnv1_hole_margin"] for r in rows[1:])
    assert all(r["kid_inception_hole"] == "" for r in rows)  # only the network that ran fills its columns
    assert "FID not computed" in rows[0]["realism_note"]
    assert rows[0]["kid_mnv1_hole"] * KID_SCALE != 0


def test_realism_on_a_sample_of_the_images_is_the_realism_of_that_sample_for_every_inpainter(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(networks.NETWORKS, "mnv1", lambda _file: colour_net())
    photos = [_photo(i, 96) for i in range(24)]
    holes = [_centre_hole(96)] * 24
    filled = {"truth": photos, "blur": [_blurred(p, h) for p, h in zip(photos, holes, strict=True)]}
    reals = lambda n: [_photo(100 + i, 96) for i in range(n)]  # noqa: E731
    sampled = inpaint_realism.realism_values("mnv1", None, reals, photos, holes, filled, seed=3, limit=10)
    kept = sample_indices(24, 10, 3)
    direct = inpaint_realism.realism_values("mnv1", None, reals, [photos[i] for i in kept], [holes[i] for i in kept],
                                            {k: [v[i] for i in kept] for k, v in filled.items()}, seed=3)
    whole = inpaint_realism.realism_values("mnv1", None, reals, photos, holes, filled, seed=3)
    for name in filled:
        assert sampled[name]["realism_note"].startswith("realism on 10 of the 24 images")
        assert {k: v for k, v in sampled[name].items() if k != "realism_note"} == \
            {k: v for k, v in direct[name].items() if k != "realism_note"}  # the same images for every inpainter
    assert [sampled["blur"][c] for c in ("kid_mnv1_hole_std", "kid_mnv1_image", "hf_ratio")] != \
        [whole["blur"][c] for c in ("kid_mnv1_hole_std", "kid_mnv1_image", "hf_ratio")]  # a sample, not all
    with pytest.raises(SslCeError, match="--realism-images 1: KID needs at least 2"):
        inpaint_realism.realism_values("mnv1", None, reals, photos, holes, filled, seed=3, limit=1)


def test_without_the_network_the_columns_stay_empty_with_a_note_never_zero(centre_model: Path, tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(networks, "mnv1_candidates", lambda _explicit: [tmp_path / "absent.tflite"])
    with pytest.warns(UserWarning, match="realism columns left empty"):
        rows = INPAINTING(centre_model, limit=4, results_dir=str(tmp_path), progress=False)
    assert all(r[c] == "" for r in rows for c in realism_columns() if c != "realism_note")
    assert all(r["realism_note"].startswith("realism not measured: no realism network") for r in rows)
    with pytest.raises(SslCeError, match="no realism network"):
        INPAINTING(centre_model, limit=4, realism="mnv1", results_dir=str(tmp_path), progress=False)
    off = INPAINTING(centre_model, limit=4, realism="none", results_dir=str(tmp_path), progress=False)
    assert all(r["kid_mnv1_hole"] == "" and "--realism none" in r["realism_note"] for r in off)
    assert inpaint_realism.REALISM_CHOICES[0] == "auto"


def test_the_peak_ratio_sees_a_grid_that_blur_and_texture_do_not_have() -> None:
    photos = [_photo(i, 128) for i in range(32)]
    holes = [_centre_hole(128)] * 32
    blurred = [_blurred(p, h) for p, h in zip(photos, holes, strict=True)]
    noisy = [np.clip(b.astype(int) + np.random.default_rng(i).normal(0, 10, b.shape) * h[..., None], 0, 255
                     ).astype(np.uint8) for i, (b, h) in enumerate(zip(blurred, holes, strict=True))]
    gridded = [_checkerboard(p, h, 10) for p, h in zip(photos, holes, strict=True)]
    floor = periodic_peak_ratio(photos, blurred, holes)
    assert periodic_peak_ratio(photos, photos, holes) == 0.0  # no error, no peak
    assert 1.0 < floor < 4.0 and periodic_peak_ratio(photos, noisy, holes) < 4.0  # texture without a period
    assert periodic_peak_ratio(photos, gridded, holes) > 3 * floor
    order = np.random.default_rng(0).permutation(32)
    shuffled = periodic_peak_ratio(*([x[i] for i in order] for x in (photos, gridded, holes)))
    assert shuffled == pytest.approx(periodic_peak_ratio(photos, gridded, holes), rel=1e-9)
    odd = [_photo(99, 96)]  # one photo of another size: left out, not mixed into the spectrum
    assert periodic_peak_ratio(photos + odd, gridded + odd, [*holes, _centre_hole(96)]) == pytest.approx(
        periodic_peak_ratio(photos, gridded, holes), rel=1e-9)
