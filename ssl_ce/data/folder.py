"""Any directory of images, searched recursively; first-level sub-folders are classes when all images are
inside them. `train/` and `test/` (or `val/`) sub-folders give the split, otherwise every 10th file
(sorted by path) is held out for test."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from PIL import Image

from ssl_ce.config import DataConfig
from ssl_ce.data.datasets import DATASETS, FileImages
from ssl_ce.data.images import IMAGE_EXTENSIONS
from ssl_ce.errors import SslCeError

HELD_OUT_EVERY = 10


def list_images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def _readable(paths: list[Path]) -> list[Path]:
    """Drops files whose header PIL cannot parse, with one warning naming how many."""
    good = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
            good.append(path)
        except Exception:  # noqa: BLE001 (PIL raises many types for bad files; counted below)
            continue
    if len(good) < len(paths):
        warnings.warn(f"skipped {len(paths) - len(good)} unreadable image(s) out of {len(paths)}", stacklevel=2)
    return good


def _split_files(root: Path, split: str) -> tuple[Path, list[Path]]:
    split_dirs = {"train": ["train"], "test": ["test", "val"]}[split]
    for name in split_dirs:
        if (root / name).is_dir() and (root / "train").is_dir():
            return root / name, list_images(root / name)
    paths = list_images(root)
    held_out = [p for i, p in enumerate(paths) if i % HELD_OUT_EVERY == HELD_OUT_EVERY - 1]
    if split == "test":
        return root, held_out or paths[:1]
    kept = set(held_out)
    return root, [p for p in paths if p not in kept]


@DATASETS.register("folder")
def folder(cfg: DataConfig, split: str, size: int) -> FileImages:
    root = Path(cfg.root or "")
    if not root.is_dir():
        raise SslCeError(f"image folder not found: {root} (pass --data-root DIR)")
    base, paths = _split_files(root, split)
    paths = _readable(paths)
    if not paths:
        raise SslCeError(f"no readable images under {base} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
    classes = sorted({p.relative_to(base).parts[0] for p in paths if len(p.relative_to(base).parts) > 1})
    if classes and all(len(p.relative_to(base).parts) > 1 for p in paths):
        index = {name: i for i, name in enumerate(classes)}
        labels = torch.tensor([index[p.relative_to(base).parts[0]] for p in paths])
    else:
        classes, labels = [], torch.full((len(paths),), -1)
    return FileImages(paths, labels, classes, size)
