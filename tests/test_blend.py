"""Poisson blending (ssl_ce.blend): the fill keeps its gradients and loses its offset from the known pixels."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from ssl_ce.blend import poisson_blend
from ssl_ce.errors import SslCeError
from ssl_ce.pretrained import ModelInpainter
from ssl_ce.training import train

from .conftest import tiny_config

RNG = np.random.default_rng(0)
IMAGE = RNG.random((48, 40, 3))
HOLE = np.zeros((48, 40), bool)
HOLE[10:30, 8:25] = True


def test_a_fill_off_by_a_constant_is_brought_back_to_the_known_pixels() -> None:
    blended = poisson_blend(IMAGE + 0.3, IMAGE, HOLE)
    assert np.abs(blended - IMAGE)[HOLE].max() < 1e-4


def test_a_fill_with_nothing_in_it_becomes_the_harmonic_interpolation_of_the_edge() -> None:
    rows, cols = np.mgrid[:48, :40]
    ramp = np.stack([rows / 48, cols / 40, (rows + cols) / 88], axis=-1)  # linear: harmonic, so met exactly
    assert np.abs(poisson_blend(np.zeros_like(ramp), ramp, HOLE) - ramp)[HOLE].max() < 1e-4


def test_pixels_outside_the_hole_and_a_fill_s_own_detail_are_kept() -> None:
    detail = 0.1 * np.sin(np.arange(40) / 2)[None, :, None]
    fill = IMAGE + detail
    blended = poisson_blend(fill, IMAGE, HOLE)
    assert np.array_equal(blended[~HOLE], fill[~HOLE])
    inner = np.zeros_like(HOLE)
    inner[15:25, 12:21] = True  # away from the edge the shift is smooth, so the detail's ups and downs remain
    assert np.corrcoef(np.diff(blended[inner].reshape(10, 9, 3), axis=1).ravel(),
                       np.diff(fill[inner].reshape(10, 9, 3), axis=1).ravel())[0, 1] > 0.9


def test_a_hole_touching_no_known_pixel_is_left_as_filled() -> None:
    whole = np.ones((12, 12), bool)
    assert np.allclose(poisson_blend(IMAGE[:12, :12], np.zeros((12, 12, 3)), whole), IMAGE[:12, :12])


@pytest.fixture(scope="module")
def free_form_checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cfg = tiny_config(mask={"type": "freeform"}, train={"max_steps": 2})
    return train(cfg, tmp_path_factory.mktemp("blend") / "run", progress=False).checkpoint


def test_a_free_form_model_fills_the_same_hole_with_and_without_blending_and_only_the_hole(
        free_form_checkpoint: Path) -> None:
    window = (RNG.random((64, 64, 3)) * 255).astype(np.uint8)
    hole = np.zeros((64, 64), bool)
    hole[20:40, 10:30] = True
    small = np.asarray(torch.nn.functional.interpolate(torch.from_numpy(hole)[None, None].float(), size=(32, 32))
                       [0, 0] > 0.5)
    fills = {}
    for blend in ("none", "poisson"):
        model = ModelInpainter(free_form_checkpoint, torch.device("cpu"), blend=blend)
        assert model.blend == blend
        fills[blend] = model.fill(window, small, hole)
        assert np.array_equal(fills[blend][~hole], window[~hole])
    assert not np.array_equal(fills["none"][hole], fills["poisson"][hole])


def test_an_unknown_blend_is_refused_in_one_line(free_form_checkpoint: Path) -> None:
    with pytest.raises(SslCeError, match="unknown blend 'soft'; one of none, poisson"):
        ModelInpainter(free_form_checkpoint, torch.device("cpu"), blend="soft")
