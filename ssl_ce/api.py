"""The three-line Python API: `load_encoder` and `load_inpainter` on a checkpoint or an `ssl-ce export` file.

    from ssl_ce import load_encoder, load_inpainter
    enc = load_encoder("weights/ce-cifar10-small32.safetensors")   # nn.Module, eval mode
    features = enc(images)                                          # (B, enc.num_features)

Images are what users have at hand: a float tensor in [0, 1] shaped (3, H, W) or (B, 3, H, W), a uint8
tensor, or a numpy array H x W x 3 (uint8, or float in [0, 1]). The networks' own [-1, 1] scaling and input
size are applied inside, so nobody has to know them.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ssl_ce.errors import SslCeError
from ssl_ce.inpaint import fill_holes
from ssl_ce.pretrained import ModelInpainter, load_trained_encoder

Image = np.ndarray | torch.Tensor


def _as_batch(images: Image) -> torch.Tensor:
    """Float (B, 3, H, W) in [0, 1] from any of the accepted image forms."""
    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4) or images.shape[-1] != 3:
            raise SslCeError(f"a numpy image must be H x W x 3 (or B x H x W x 3), got shape {images.shape}")
        x = torch.from_numpy(np.ascontiguousarray(images)).movedim(-1, -3)
    elif isinstance(images, torch.Tensor):
        x = images
    else:
        raise SslCeError(f"images must be a numpy array or a torch tensor, got {type(images).__name__}")
    if x.ndim == 3:
        x = x[None]
    if x.ndim != 4 or x.shape[1] != 3:
        raise SslCeError(f"images must be (3, H, W) or (B, 3, H, W) RGB, got shape {tuple(images.shape)}")
    return x.float() / 255 if x.dtype == torch.uint8 else x.float()


class Encoder(nn.Module):
    """A frozen feature extractor: images in, one feature vector per image out."""

    def __init__(self, encoder: nn.Module, input_size: int, metadata: dict[str, str]) -> None:
        super().__init__()
        self.encoder = encoder.eval()
        self.input_size = input_size
        self.num_features: int = encoder.num_features
        self.metadata = metadata  # method, model, data, step, ... as recorded in the file

    @torch.no_grad()
    def forward(self, images: Image) -> torch.Tensor:
        """(B, num_features) features; images of another size are resized (antialiased) to the input size."""
        x = _as_batch(images).to(next(self.encoder.parameters()).device)
        if x.shape[-2:] != (self.input_size, self.input_size):
            x = F.interpolate(x, size=(self.input_size, self.input_size), mode="bilinear", antialias=True,
                              align_corners=False)
        return self.encoder.features(x * 2 - 1)


def load_encoder(path: str | Path) -> Encoder:
    """The encoder of a checkpoint or export, strictly loaded, in eval mode."""
    loaded = load_trained_encoder(path)
    return Encoder(loaded.encoder, loaded.input_size, loaded.checkpoint.metadata).eval()


class Inpainter:
    """A context encoder as an inpainter for images of any size: `inp(image, mask)` -> the filled image, each
    hole filled in a window cut so that the model sees the hole it was trained on (ssl_ce.inpaint, the code of
    `ssl-ce inpaint` and the evaluator). `geometry.describe()` says which hole that is."""

    def __init__(self, model: ModelInpainter) -> None:
        self.model = model
        self.input_size = model.size
        self.geometry = model.geometry

    def __call__(self, image: Image, mask: np.ndarray | torch.Tensor) -> Image:
        """Fills the pixels where `mask` is True (H x W, or B x H x W); the rest is returned unchanged.

        Returns the input's type, layout and value range. Inside, images go through 8 bits, as photos do.
        """
        batch = _as_batch(image)
        holes = torch.as_tensor(np.asarray(mask) if isinstance(mask, np.ndarray) else mask).bool().cpu()
        if holes.ndim == 2:
            holes = holes[None].expand(len(batch), -1, -1)
        if holes.shape != (len(batch), *batch.shape[-2:]):
            raise SslCeError(f"mask shape {tuple(holes.shape)} does not match the image's {tuple(batch.shape[-2:])}")
        uint8 = [(b.clamp(0, 1) * 255).round().byte().permute(1, 2, 0).cpu().numpy() for b in batch]
        notes: list[str] = []
        filled = [fill_holes(self.model, image, hole.numpy(), notes) for image, hole in zip(uint8, holes, strict=True)]
        if notes:
            warnings.warn(f"{len(notes)} hole(s) do not suit {self.model.name}: {notes[0]}", stacklevel=2)
        out = torch.from_numpy(np.stack(filled)).permute(0, 3, 1, 2).float() / 255
        result = torch.where(holes[:, None], out, batch.cpu())
        return _like(result, image)


def _like(result: torch.Tensor, original: Image) -> Image:
    """`result` ((B, 3, H, W) float in [0, 1]) in the form `original` came in."""
    if isinstance(original, np.ndarray):
        array = result.movedim(1, -1).numpy()
        array = array[0] if original.ndim == 3 else array
        return (array * 255).round().astype(np.uint8) if original.dtype == np.uint8 else array.astype(original.dtype)
    tensor = result if original.ndim == 4 else result[0]
    tensor = (tensor * 255).round().byte() if original.dtype == torch.uint8 else tensor.to(original.dtype)
    return tensor.to(original.device)


def load_inpainter(path: str | Path, device: str = "cpu", flip_average: bool = False) -> Inpainter:
    """The generator of a checkpoint or inpainter export, strictly loaded, in eval mode. `flip_average`
    averages each fill with the fill of the mirrored image (better L2 and PSNR for twice the compute)."""
    return Inpainter(ModelInpainter(Path(path), torch.device(device), flip_average=flip_average))
