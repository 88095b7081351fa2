"""The realism columns of `ssl-ce eval inpainting` (ssl_ce.realism): which network, which real photos, and the
one-line note a row carries when they cannot be measured (the columns are then empty, never zero)."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import sample_indices
from ssl_ce.realism.distances import FID_MIN_PER_FEATURE
from ssl_ce.realism.measure import REFERENCE_IMAGES, Realism, Reference, measure, realism_columns, row_values
from ssl_ce.realism.networks import NETWORKS, FeatureNet

AUTO_NET = "mnv1"  # what --realism auto measures with, where its file and runtime are here (else a note)
AUTO_HOLE_KID, AUTO_IMAGE_KID = f"kid_{AUTO_NET}_hole", f"kid_{AUTO_NET}_image"  # its columns in the tables
REALISM_CHOICES = ("auto", *NETWORKS, "none")


def feature_net(choice: str, model_file: str | None) -> tuple[FeatureNet | None, str]:
    """The network for `choice` (not none), or None and why not. An explicit network that is missing is an
    error; `auto` only warns, so that the PSNR columns of a machine without the file still come out."""
    try:
        return NETWORKS[AUTO_NET if choice == "auto" else choice](model_file), ""
    except SslCeError as exc:
        if choice != "auto":
            raise
        warnings.warn(f"realism columns left empty: {exc}", stacklevel=3)
        return None, f"realism not measured: {exc}"


def realism_values(choice: str, model_file: str | None, train_photos: Callable[[int], list[np.ndarray]] | None,
                   originals: list[np.ndarray], holes: list[np.ndarray], filled: dict[str, list[np.ndarray]],
                   seed: int, limit: int | None = None) -> dict[str, dict[str, object]]:
    """Every inpainter's realism columns (its margins against the first inpainter of `filled`), on `limit` of
    the scored images where given: the same ones for every inpainter, so the margins stay paired."""
    if limit is not None and limit < 2:
        raise SslCeError(f"--realism-images {limit}: KID needs at least 2 images")
    empty = dict.fromkeys(realism_columns(), "")
    if choice == "none":
        return {name: {**empty, "realism_note": "realism not measured (--realism none)"} for name in filled}
    if train_photos is None:
        return {name: {**empty, "realism_note": "realism not measured: no train split of real photos to compare "
                       "with (the scored images never are)"} for name in filled}
    if len(originals) < 2:
        return {name: {**empty, "realism_note": "realism not measured: KID needs at least 2 scored images"}
                for name in filled}
    net, why = feature_net(choice, model_file)
    if net is None:
        return {name: {**empty, "realism_note": why} for name in filled}
    reals = train_photos(REFERENCE_IMAGES)
    if len(reals) < 2:
        return {name: {**empty, "realism_note": "realism not measured: fewer than 2 real train photos"}
                for name in filled}
    kept = sample_indices(len(originals), limit, seed)
    sampled = "" if len(kept) == len(originals) else f"realism on {len(kept)} of the {len(originals)} images"
    originals, holes = [originals[i] for i in kept], [holes[i] for i in kept]
    filled = {name: [images[i] for i in kept] for name, images in filled.items()}
    reference = Reference.of(net, reals, holes)
    measured: dict[str, Realism] = {name: measure(reference, originals, images, holes, seed)
                                    for name, images in filled.items()}
    first = next(iter(measured.values()))
    note = sampled
    if first.fid_image is None:
        note = "; ".join(filter(None, [sampled, f"FID not computed: {len(originals)} images, under "
                                       f"{FID_MIN_PER_FEATURE:g} per feature ({reference.image.shape[1]})"]))
    return {name: {**empty, **row_values(net.name, realism, None if realism is first else first),
                   "realism_note": note} for name, realism in measured.items()}
