"""Loading trained networks from a checkpoint or an export, strictly: a mismatch is an error, never a partial
load. These are the internal loaders the evaluators use; `ssl_ce.api` wraps them for users."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssl_ce.blend import BLENDS, poisson_blend
from ssl_ce.checkpoint import Checkpoint, load_checkpoint, load_module
from ssl_ce.config import Config
from ssl_ce.data.batches import to_model_input, to_uint8
from ssl_ce.data.masks import Region
from ssl_ce.errors import SslCeError
from ssl_ce.hole_geometry import DEFAULT_CUT, HoleGeometry
from ssl_ce.inpainters import mean_fill
from ssl_ce.methods import method_spec, output_region
from ssl_ce.models import build_model, input_size


@dataclass
class LoadedEncoder:
    encoder: nn.Module  # eval mode; .features(x), .num_features, .feature_layers()
    input_size: int
    checkpoint: Checkpoint


def load_trained_encoder(path: str | Path) -> LoadedEncoder:
    """The encoder saved under `generator.encoder.*` (the same key for every method), in eval mode."""
    return encoder_from(load_checkpoint(path, prefixes=("generator",)), path)


def encoder_from(ckpt: Checkpoint, path: str | Path) -> LoadedEncoder:
    """The encoder of an already-read checkpoint (callers that also need its other tensors read it once)."""
    size = input_size(ckpt.config.model)
    generator, _ = build_model(ckpt.config.model, output_region(ckpt.config, size).size)
    load_module(generator.encoder, ckpt.module_state("generator.encoder"), f"encoder in {path}")
    return LoadedEncoder(generator.encoder.eval(), size, ckpt)


class ModelInpainter:
    """A checkpoint's generator as an inpainter for images of any size."""

    def __init__(self, checkpoint: Path, device: torch.device, ckpt: Checkpoint | None = None,
                 flip_average: bool = False, cut: str = DEFAULT_CUT, blend: str | None = None) -> None:
        """`ckpt`: the file's contents when the caller has already read them. `flip_average`: also fill the
        mirrored image and average the two fills (test-time augmentation; twice the compute). `cut`: how a
        varying-hole model's windows are cut (ssl_ce.hole_geometry.CUTS). `blend`: how its fill meets the known
        pixels (ssl_ce.blend.BLENDS; None: the geometry's default)."""
        self.path = checkpoint
        ckpt = ckpt or load_checkpoint(checkpoint, prefixes=("generator",))
        if ckpt.part == "encoder":
            raise SslCeError(f"{checkpoint} is an encoder-only export; export the inpainter with "
                             "`ssl-ce export CHECKPOINT --part inpainter`")
        self.config: Config = ckpt.config
        self.step = ckpt.step
        self.size = input_size(self.config.model)
        self.region: Region = output_region(self.config, self.size)
        self.geometry = HoleGeometry.of(self.config, cut)
        self.blend = self.geometry.default_blend if blend is None else blend
        if self.blend not in BLENDS:
            raise SslCeError(f"unknown blend {self.blend!r}; one of {', '.join(BLENDS)}")
        if not method_spec(self.config).inpaints:
            raise SslCeError(f"{checkpoint} is a {self.config.method.name} classifier, not an inpainter")
        generator, _ = build_model(self.config.model, self.region.size)
        load_module(generator, ckpt.module_state("generator"), f"generator in {checkpoint}")
        self.generator = generator.eval().to(device)
        self.device = device
        self.name = method_spec(self.config).label(self.config)
        self.flip_average = flip_average
        if flip_average:
            self.name += " + flip average"

    def predict(self, context: torch.Tensor) -> torch.Tensor:
        """The generator's fill of its region; with `flip_average`, the mean of the fills of the image and
        of its mirror image (mirrored back). Regions are centred, so the mirror predicts the same pixels."""
        pred = self.generator(context)
        if self.flip_average:
            pred = (pred + self.generator(context.flip(-1)).flip(-1)) / 2
        return pred

    @torch.no_grad()
    def fill(self, window: np.ndarray, hidden_small: np.ndarray, hole: np.ndarray) -> np.ndarray:
        """`window` (H, W, 3 uint8) with `hole` filled, the model seeing it at its input size with the pixels
        of `hidden_small` (its own size) dropped: the hole's window as cut by `ssl_ce.inpaint.fill_holes`."""
        h, w = window.shape[:2]
        x = torch.from_numpy(window).permute(2, 0, 1)[None].float()
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", antialias=True, align_corners=False)
        x = to_model_input(x, self.device)
        hs = torch.from_numpy(hidden_small)[None, None].float().to(self.device)
        pred = self.predict(x * (1 - hs))
        canvas = torch.from_numpy(mean_fill(window, hole)).permute(2, 0, 1)[None].float()
        canvas = to_model_input(F.interpolate(canvas, size=(self.size, self.size), mode="bilinear",
                                              antialias=True, align_corners=False), self.device)
        canvas = self.region.paste(canvas, pred.float())  # mean colour outside its region
        if self.blend == "poisson":  # at the model's size, where the fill was made: a small, fast system
            shifted = poisson_blend(canvas[0].permute(1, 2, 0).cpu().numpy(), x[0].permute(1, 2, 0).cpu().numpy(),
                                    hidden_small.astype(bool))
            canvas = torch.from_numpy(shifted).float().permute(2, 0, 1)[None].to(self.device)
        full = F.interpolate(canvas, size=(h, w), mode="bilinear", align_corners=False)
        full = to_uint8(full[0]).permute(1, 2, 0).cpu().numpy()
        filled = window.copy()
        filled[hole] = full[hole]
        return filled
