import pytest
import torch

from ssl_ce.config import MaskConfig
from ssl_ce.data.masks import make_masks, prediction_region, ring_width


def _draw(kind: str, size: int, batch: int = 64, seed: int = 0, **kw):
    return make_masks(MaskConfig(type=kind, **kw), batch, size, torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("size", [32, 128, 227])
def test_center_mask_is_the_centre_patch_minus_the_ring(size: int) -> None:
    masks = _draw("center", size, batch=2)
    region = prediction_region("center", size)
    ring = ring_width(MaskConfig(), size)
    assert region.size == size // 2 and ring == max(1, round(4 * size / 128))
    hole = masks.hole[0, 0]
    assert hole.shape == (size, size) and masks.weight.shape == (2, 1, region.size, region.size)
    assert hole.sum() == (region.size - 2 * ring) ** 2
    assert region.crop(hole)[ring:-ring, ring:-ring].all()
    assert hole.sum() == region.crop(hole).sum()  # nothing outside the centre patch is dropped
    weight = masks.weight[0, 0]
    assert torch.equal(weight[ring:-ring, ring:-ring], torch.ones_like(weight[ring:-ring, ring:-ring]))
    assert (weight[:ring] == 10).all() and (weight[:, -ring:] == 10).all()


def test_paper_centre_geometry_at_128() -> None:
    masks = _draw("center", 128, batch=1)
    hole = masks.hole[0, 0]
    rows = hole.any(dim=1).nonzero().flatten()
    assert (rows.min().item(), rows.max().item()) == (32 + 4, 95 - 4)  # 64x64 centre, 4 px ring


@pytest.mark.parametrize("size", [32, 128])
def test_random_block_covers_at_most_a_quarter(size: int) -> None:
    masks = _draw("random-block", size)
    coverage = masks.hole.mean(dim=(1, 2, 3))
    assert (coverage > 0).all() and (coverage <= 0.25 + 1e-6).all()
    assert coverage.std() > 0.01  # the blocks vary
    assert torch.equal(masks.weight, masks.hole)


@pytest.mark.parametrize("size", [32, 128])
def test_random_region_coverage_is_20_to_30_percent_and_fresh_per_image(size: int) -> None:
    masks = _draw("random-region", size)
    coverage = masks.hole.mean(dim=(1, 2, 3))
    assert (coverage > 0.2).all() and (coverage < 0.3).all()
    flat = masks.hole.flatten(1)
    assert len({tuple(row.tolist()) for row in flat}) == len(flat)
    assert masks.hole.shape == (64, 1, size, size)


def test_random_region_shapes_are_blobs_not_pixel_noise() -> None:
    hole = _draw("random-region", 128, batch=8).hole
    # Neighbouring pixels agree far more often than independent 25 % noise would (0.625).
    agree = (hole[..., 1:, :] == hole[..., :-1, :]).float().mean()
    assert agree > 0.9


@pytest.mark.parametrize("kind", ["center", "random-block", "random-region"])
def test_masks_are_binary_and_reproducible(kind: str) -> None:
    a, b = _draw(kind, 32, seed=3), _draw(kind, 32, seed=3)
    assert torch.equal(a.hole, b.hole)
    assert set(a.hole.unique().tolist()) <= {0.0, 1.0}


def test_apply_fills_the_hole_with_the_mean() -> None:
    masks = _draw("random-region", 32, batch=4)
    images = torch.rand(4, 3, 32, 32) * 2 - 1
    masked = masks.apply(images)
    hole = masks.hole.expand_as(images).bool()
    assert (masked[hole] == 0).all() and torch.equal(masked[~hole], images[~hole])


def test_freeform_holes_cover_the_range_in_every_kind() -> None:
    from ssl_ce.data.freeform import KINDS, freeform_hole

    cfg = MaskConfig(type="freeform")
    rng = torch.Generator().manual_seed(0)
    holes = [freeform_hole(128, cfg, rng) for _ in range(240)]
    lo, hi = cfg.freeform_coverage
    coverage = torch.tensor([h.mean() for h, _ in holes])
    assert (coverage <= hi).all() and (coverage >= lo).float().mean() > 0.95
    assert 0.2 < coverage.median() < 0.35  # drawn across the range, not piled at one end
    fill_of_box = {}
    for kind in KINDS:
        chosen = [h for h, k in holes if k == kind]
        assert len(chosen) > 50  # each kind about a third of the time
        fill_of_box[kind] = sum(h.sum() / ((h.any(1).sum()) * (h.any(0).sum())) for h in chosen) / len(chosen)
    assert fill_of_box["strokes"] < fill_of_box["boxes"]  # strokes are thin: they fill little of their box


def test_freeform_masks_are_drawn_again_from_their_seed_and_fill_the_whole_image_region() -> None:
    a, b, c = _draw("freeform", 64, batch=8), _draw("freeform", 64, batch=8), _draw("freeform", 64, batch=8, seed=1)
    assert torch.equal(a.hole, b.hole) and not torch.equal(a.hole, c.hole)
    assert a.region == prediction_region("freeform", 64) and a.region.size == 64
    assert torch.equal(a.weight, a.hole)  # the loss counts the hole pixels only


def test_robustness_cells_cover_their_share_in_their_place_and_repeat() -> None:
    import numpy as np

    from ssl_ce.data.hole_cells import SIZES, Cell, all_cells, cell_hole

    assert len(SIZES) >= 5 and min(SIZES) == 0.02 and max(SIZES) == 0.5
    for cell in all_cells():
        holes = [cell_hole((120, 170), cell, i) for i in range(4)]
        coverage = np.mean([h.mean() for h in holes])
        assert 0.7 * cell.size < coverage < 1.3 * cell.size, (cell, coverage)
        assert np.array_equal(holes[0], cell_hole((120, 170), cell, 0))  # drawn from (photo, cell) alone
    corner, edge, centre = (cell_hole((120, 170), Cell(0.05, "square", p), 0) for p in ("corner", "edge", "centre"))
    assert corner[0, 0] and edge[:, 0].any() and not edge[0].any()
    assert not (centre[0].any() or centre[:, 0].any() or centre[-1].any() or centre[:, -1].any())
    strokes = cell_hole((120, 170), Cell(0.1, "strokes", "centre"), 0)
    rows, cols = np.nonzero(strokes)
    assert strokes.sum() < 0.7 * (np.ptp(rows) + 1) * (np.ptp(cols) + 1)  # thin: they fill little of their box
