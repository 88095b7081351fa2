"""From dataset indices to the `Batch` a step trains on: the epoch's order, model-input scaling, the random flip
and shift, and the holes.

Randomness that shapes a step (data order, flips, shifts, masks, a method's own noise) is drawn from RNGs that
are pure functions of (seed, epoch) and (seed, step), so a resumed run sees exactly the batches and holes an
uninterrupted one would.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from ssl_ce.config import Config
from ssl_ce.data.datasets import ImageDataset
from ssl_ce.data.masks import MaskBatch, make_masks
from ssl_ce.errors import SslCeError
from ssl_ce.runtime import Dist


@dataclass
class Batch:
    images: torch.Tensor  # (B, 3, H, W) in [-1, 1]
    masks: MaskBatch
    labels: torch.Tensor  # (B,), -1 where unknown
    rng: torch.Generator | None = None  # this step's RNG, for a method's own noise (CPU)


def step_rng(seed: int, step: int) -> torch.Generator:
    """The RNG for one step's flips, shifts, masks and method noise, a pure function of (seed, step)."""
    return torch.Generator().manual_seed(seed * 1_000_003 + step)


def epoch_batches(n: int, batch: int, seed: int, epoch: int, ddp: Dist | None = None) -> list[list[int]]:
    """This rank's batches for one epoch: a seeded permutation, full batches only (BN needs > 1 sample)."""
    ddp = ddp or Dist()
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 7919 * epoch)).tolist()
    per_step = batch * ddp.world
    steps = n // per_step
    return [order[s * per_step + ddp.rank * batch : s * per_step + (ddp.rank + 1) * batch] for s in range(steps)]


DEVICE_MEMORY_SHARE = 0.25  # in-memory training images go to the GPU when they take at most this share of it


def place_training_images(dataset: ImageDataset, device: torch.device, allowed: bool) -> ImageDataset:
    """The training images on the CUDA device when they are held in memory and fit, so a step reads, flips,
    shifts and resizes them there with no copy from the host (train.data_on_device); otherwise as they are."""
    size = dataset.nbytes()
    if not allowed or device.type != "cuda" or size is None:
        return dataset
    free, _ = torch.cuda.mem_get_info(device)
    return dataset.on_device(device) if size <= DEVICE_MEMORY_SHARE * free else dataset


def _pass_through(batch: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    return batch  # datasets return whole batches (ImageDataset.batch)


def iterate(dataset: ImageDataset, batches: list[list[int]], workers: int, pin: bool) -> Iterator:
    """(images, labels) for each list of indices, decoded in `workers` DataLoader processes when > 0."""
    if workers == 0 or dataset.device.type != "cpu":  # images on a device are read there, not in workers
        return (dataset.batch(b) for b in batches)
    loader = torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=workers,
                                         collate_fn=_pass_through, pin_memory=pin)
    return iter(loader)


def to_model_input(images: torch.Tensor, device: torch.device, channels_last: bool = False) -> torch.Tensor:
    """uint8 (B,3,H,W) -> float in [-1, 1] on `device`, in the memory format asked for: an image permuted from
    (H, W, 3) arrives channels_last in all but name, and an NCHW net ran such an input 3.8x slower on CPU."""
    x = images.to(device, non_blocking=True).float().div_(127.5).sub_(1.0)
    return x.contiguous(memory_format=torch.channels_last if channels_last else torch.contiguous_format)


def to_uint8(images: torch.Tensor) -> torch.Tensor:
    """The inverse of `to_model_input`: a model's [-1, 1] output as uint8, rounded, on the same device."""
    return images.float().clamp(-1, 1).add(1).mul(127.5).round().to(torch.uint8)


def random_flip(images: torch.Tensor, rng: torch.Generator) -> torch.Tensor:
    """Each image mirrored left-right with probability 1/2. The draws come from `rng` on the host whatever
    device the images are on, so a batch is the same on every device."""
    flip = (torch.rand(len(images), generator=rng) < 0.5).to(images.device, non_blocking=True)
    return torch.where(flip[:, None, None, None], images.flip(-1), images)


def random_shift(images: torch.Tensor, shift: int, rng: torch.Generator) -> torch.Tensor:
    """Each image translated by up to `shift` pixels each way, edges reflected: new content under a fixed
    centre hole each epoch, which is what keeps a long run from memorising the training set's holes."""
    if shift == 0:
        return images
    b, _, h, w = images.shape
    if shift >= min(h, w):
        raise SslCeError(f"data.shift {shift} must be smaller than the {h}x{w} training images")
    padded = F.pad(images.float(), (shift, shift, shift, shift), mode="reflect").to(images.dtype)
    device = images.device
    dy, dx = (torch.randint(0, 2 * shift + 1, (b,), generator=rng).to(device, non_blocking=True) for _ in range(2))
    rows = (dy[:, None] + torch.arange(h, device=device))[:, :, None]  # (B, H, 1)
    cols = (dx[:, None] + torch.arange(w, device=device))[:, None, :]  # (B, 1, W)
    return padded[torch.arange(b, device=device)[:, None, None], :, rows, cols].permute(0, 3, 1, 2).contiguous()


def make_batch(images: torch.Tensor, labels: torch.Tensor, cfg: Config, rng: torch.Generator,
               device: torch.device, train: bool) -> Batch:
    """Random horizontal flip and shift (training only), then masks, all drawn from `rng`, which the batch
    carries on for the method's own noise."""
    if train:
        images = random_shift(random_flip(images, rng), cfg.data.shift, rng)
    masks = make_masks(cfg.mask, len(images), images.shape[-1], rng).to(device)
    return Batch(to_model_input(images, device, cfg.train.channels_last), masks, labels.to(device), rng)
