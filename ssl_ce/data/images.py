"""Decoding any common image file into an RGB uint8 tensor of the model's input size."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
from PIL import Image

from ssl_ce.errors import SslCeError

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp", ".ppm", ".pgm", ".pbm"}


def to_rgb(image: Image.Image) -> Image.Image:
    """Grayscale, palette, 16-bit, CMYK and alpha images become 8-bit RGB (alpha composited on white)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        array = np.asarray(image, dtype=np.float64)
        peak = 65535.0 if array.max() > 255 else 255.0
        image = Image.fromarray(np.clip(array / peak * 255.0 + 0.5, 0, 255).astype(np.uint8))
    elif image.mode == "F":
        array = np.asarray(image, dtype=np.float64)
        image = Image.fromarray(np.clip(array * (255.0 if array.max() <= 1.0 else 1.0), 0, 255).astype(np.uint8))
    if image.mode == "P":
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    return image.convert("RGB")


def fit_square(image: Image.Image, size: int) -> Image.Image:
    """Resizes the shorter side to `size` (area filter when shrinking), then crops the centre square."""
    w, h = image.size
    scale = size / min(w, h)
    nw, nh = max(size, round(w * scale)), max(size, round(h * scale))
    image = image.resize((nw, nh), Image.Resampling.BICUBIC, reducing_gap=None if scale >= 1 else 2.0)
    left, top = (nw - size) // 2, (nh - size) // 2
    return image.crop((left, top, left + size, top + size))


def to_tensor(image: Image.Image) -> torch.Tensor:
    """RGB PIL image -> (3, H, W) uint8."""
    return torch.from_numpy(np.asarray(image, dtype=np.uint8).copy()).permute(2, 0, 1).contiguous()


def decode_rgb(path: str | Path) -> Image.Image:
    """Fully decodes `path` into an 8-bit RGB image; any file PIL cannot decode (unknown format, truncated,
    corrupt, or malformed in ways that make PIL raise something else) raises SslCeError naming the file."""
    try:
        with Image.open(path) as image:
            image.load()
            return to_rgb(image)
    except Exception as exc:  # noqa: BLE001 (malformed files make PIL raise many types)
        raise SslCeError(f"cannot read image {path}: {exc or type(exc).__name__}") from None


def load_image(path: str | Path, size: int) -> torch.Tensor:
    """Reads `path` as a (3, size, size) uint8 tensor (smaller images are upscaled)."""
    return to_tensor(fit_square(decode_rgb(path), size))


def load_image_any_size(path: str | Path) -> np.ndarray:
    """Reads `path` at its own size as an (H, W, 3) uint8 RGB array."""
    return np.asarray(decode_rgb(path), dtype=np.uint8).copy()
