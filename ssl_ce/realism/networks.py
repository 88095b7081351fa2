"""The feature networks realism is measured in, each found offline or refused with a one-line fix.

- `mnv1` (the default): MobileNet-v1 1.0/224, ImageNet, 8-bit, 1024-d embeddings (Apache-2.0; google-coral
  test_data), run by the TensorFlow Lite runtime (`ai-edge-litert`). Its numbers are not on Inception's scale,
  so every column says `mnv1`. The file is found at `--realism-model`, `$SSL_CE_MNV1`, `../shared/models/` or
  `~/.cache/ssl-ce/`, and checked by size and SHA-256 before use.
- `inception`: the standard FID/KID Inception-v3 through torch-fidelity, for users who have its weights (it
  fetches them on first use with internet); offline without them it is an error that says how to get them.

We call the reference runtime rather than porting the quantised graph to PyTorch: its embeddings are by
definition the reference ones, and the runtime is a 22 MB wheel.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from ssl_ce.errors import SslCeError

MNV1_FILE = "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite"
MNV1_BYTES = 3_251_736
MNV1_SHA256 = "f409ef4f73fcbb9667841965623c5c8524aac33d41b9bf5f3667161fb4a76319"
MNV1_URL = ("https://github.com/google-coral/test_data/raw/104342d/"  # where users get it; never fetched here
            "mobilenet_v1_1.0_224_quant_embedding_extractor.tflite")
INCEPTION_FILE = "weights-inception-2015-12-05-6726825d.pth"
INPUT_SIDE = 224  # both networks' input side; the images are resized to it (antialiased bilinear)


@dataclass
class FeatureNet:
    """`embed(images)` -> (n, d) float features of (H, W, 3) uint8 images of any size."""

    name: str  # goes into column names: kid_x1e3_<name>_hole
    embed_one: Callable[[np.ndarray], np.ndarray]  # one (224, 224, 3) uint8 image -> (d,)

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        return np.stack([self.embed_one(resized(image)) for image in images]).astype(np.float64)


def resized(image: np.ndarray) -> np.ndarray:
    """(224, 224, 3) uint8, antialiased, whatever the input's size."""
    if image.shape[:2] == (INPUT_SIDE, INPUT_SIDE):
        return image
    x = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)[None].float()
    x = F.interpolate(x, size=(INPUT_SIDE, INPUT_SIDE), mode="bilinear", antialias=True, align_corners=False)
    return x[0].permute(1, 2, 0).round().clamp(0, 255).byte().numpy()


def mnv1_candidates(explicit: str | None) -> list[Path]:
    """Where the MobileNet file is looked for, in order."""
    if explicit:
        return [Path(explicit)]
    places = [os.environ.get("SSL_CE_MNV1"), f"../shared/models/{MNV1_FILE}",
              str(Path.home() / ".cache" / "ssl-ce" / MNV1_FILE)]
    return [Path(p) for p in places if p]


def checked_mnv1_file(explicit: str | None) -> Path:
    """The first MobileNet file found, after its size and SHA-256 are checked."""
    found = next((p for p in mnv1_candidates(explicit) if p.is_file()), None)
    if found is None:
        raise SslCeError(f"no realism network: put {MNV1_FILE} (from {MNV1_URL}) in ~/.cache/ssl-ce/ or pass "
                         "--realism-model FILE (or --realism none)")
    data = found.read_bytes()
    if len(data) != MNV1_BYTES or hashlib.sha256(data).hexdigest() != MNV1_SHA256:
        raise SslCeError(f"{found} is not the expected {MNV1_FILE} ({len(data):,} bytes, SHA-256 differs); "
                         f"download it again from {MNV1_URL}")
    return found


def mobilenet_v1(explicit: str | None = None, threads: int | None = None) -> FeatureNet:
    """The runtime uses as many threads as torch (`threads` overrides): on 2 cores that halves the realism
    columns' time (28 -> 14 ms an image on an AVX2 EPYC), and its 8-bit arithmetic gives the same embeddings
    on any thread count (tested)."""
    path = checked_mnv1_file(explicit)
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        raise SslCeError("the realism network needs the TensorFlow Lite runtime: pip install ai-edge-litert "
                         "(or --realism none)") from None
    interpreter = Interpreter(model_path=str(path), num_threads=threads or torch.get_num_threads())
    interpreter.allocate_tensors()
    given, out = interpreter.get_input_details()[0], interpreter.get_output_details()[0]
    scale, zero = out["quantization"]

    def embed_one(image: np.ndarray) -> np.ndarray:
        interpreter.set_tensor(given["index"], image[None])
        interpreter.invoke()
        return (interpreter.get_tensor(out["index"]).reshape(-1).astype(np.float64) - zero) * scale

    return FeatureNet("mnv1", embed_one)


def inception(explicit: str | None = None) -> FeatureNet:
    """torch-fidelity's Inception-v3 (pool3, 2048-d), from `explicit` or torch's hub cache, never downloaded."""
    path = Path(explicit) if explicit else Path(torch.hub.get_dir()) / "checkpoints" / INCEPTION_FILE
    try:
        from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
    except ImportError:
        raise SslCeError("--realism inception needs torch-fidelity: pip install torch-fidelity") from None
    if not path.is_file():
        raise SslCeError(f"--realism inception needs the Inception weights at {path}: run any torch-fidelity "
                         "metric once with internet (it caches them there), or pass --realism-model FILE")
    net = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=str(path))
    net.eval()

    def embed_one(image: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            (features,) = net(torch.from_numpy(image).permute(2, 0, 1)[None])
        return features[0].double().numpy()

    return FeatureNet("inception", embed_one)


NETWORKS: dict[str, Callable[[str | None], FeatureNet]] = {"mnv1": mobilenet_v1, "inception": inception}
