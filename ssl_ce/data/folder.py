"""Any directory of images, searched recursively; first-level sub-folders are classes when all images are
inside them. `train/`, `val/` and `test/` sub-folders give the splits; without `val/`, a stratified tenth of
the training files is carved out for val (ssl_ce.data.splits); without any, every 10th file (sorted by path;
the last one in a folder of fewer than 10) is held out for test and val is carved from the rest. No file is
ever in two splits."""

from __future__ import annotations

import warnings
from pathlib import Path

import torch
from PIL import Image
from tqdm import tqdm

from ssl_ce.config import DataConfig
from ssl_ce.data.datasets import FileImages, ImageDataset, TensorImages, data_source
from ssl_ce.data.images import IMAGE_EXTENSIONS, load_image
from ssl_ce.data.splits import carve_val
from ssl_ce.errors import SslCeError

HELD_OUT_EVERY = 10


def list_images(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in IMAGE_EXTENSIONS and p.is_file())


def _readable_headers(paths: list[Path]) -> list[Path]:
    """Drops files whose header PIL cannot parse (the lazy path for folders too big to decode up front)."""
    good = []
    for path in paths:
        try:
            with Image.open(path) as image:
                image.verify()
            good.append(path)
        except Exception:  # noqa: BLE001 (PIL raises many types for bad files; counted by the caller)
            continue
    return good


def decode_all(paths: list[Path], size: int, strict: bool) -> tuple[list[Path], list[torch.Tensor]]:
    """Decodes every image once, fitted to `size` (a decoded-image cache: training never touches the disk
    again). Unreadable files are skipped, or with `strict` refused naming the first one."""
    good, images = [], []
    for path in tqdm(paths, desc="decoding images", unit="img", disable=True if len(paths) < 1000 else None,
                     leave=False):  # None: only on a terminal, never into a log file
        try:
            images.append(load_image(path, size))
        except SslCeError as exc:
            if strict:
                raise SslCeError(f"{exc} (remove it, or drop --strict to skip unreadable images)") from None
            continue
        good.append(path)
    return good, images


def _count_small(paths: list[Path], size: int) -> int:
    small = 0
    for path in paths:
        with Image.open(path) as image:
            small += min(image.size) < size
    return small


def _class_folders(paths: list[Path], base: Path) -> list[str]:
    """Each file's class: its first-level sub-folder when every file is in one, else one class for all."""
    parts = [p.relative_to(base).parts for p in paths]
    nested = all(len(x) > 1 for x in parts)
    return [x[0] if nested else "" for x in parts]


def _carve(paths: list[Path], base: Path, split: str) -> list[Path]:
    """The train or val part of `paths`, a stratified carve-out by class folder."""
    names = _class_folders(paths, base)
    index = {name: i for i, name in enumerate(sorted(set(names)))}
    chosen = carve_val(torch.tensor([index[n] for n in names], dtype=torch.long), split) if paths else []
    return [paths[int(i)] for i in chosen]


def split_files(root: Path, split: str) -> tuple[Path, list[Path]]:
    """(the folder the split's class sub-folders are relative to, the split's files)."""
    if (root / "train").is_dir():
        if split == "test" and not (root / "test").is_dir():
            raise SslCeError(f"{root} has a train/ folder but no test/ folder")
        if split == "test" or (split == "val" and (root / "val").is_dir()):
            return root / split, list_images(root / split)
        files = list_images(root / "train")
        return root / "train", files if (root / "val").is_dir() else _carve(files, root / "train", split)
    files = list_images(root)
    test = files[HELD_OUT_EVERY - 1 :: HELD_OUT_EVERY] if len(files) >= HELD_OUT_EVERY else files[-1:]
    if split == "test":
        return root, test
    held_out = set(test)
    return root, _carve([p for p in files if p not in held_out], root, split)


@data_source("folder", options=("root", "strict", "in_memory_max_images"), required=("root",))
def folder(cfg: DataConfig, split: str, size: int) -> ImageDataset:
    """In memory (decoded once) up to `data.in_memory_max_images` images, decoded on demand above that."""
    root = Path(cfg.root or "")
    if not root.is_dir():
        raise SslCeError(f"image folder not found: {root} (pass --data-root DIR)")
    base, found = split_files(root, split)
    if not found:
        if list_images(root):
            raise SslCeError(f"{root} has too few images for disjoint train, val and test splits (the {split} split "
                             "is empty; val needs a class with 2+ training images, or a val/ folder)")
        raise SslCeError(f"no images under {base} (looked for {', '.join(sorted(IMAGE_EXTENSIONS))})")
    in_memory = len(found) <= cfg.in_memory_max_images
    if in_memory:
        paths, images = decode_all(found, size, cfg.strict)
    else:
        paths, images = _readable_headers(found), []
        if cfg.strict and len(paths) < len(found):
            bad = next(p for p in found if p not in set(paths))
            raise SslCeError(f"cannot read image {bad} (remove it, or drop --strict to skip unreadable images)")
    if not paths:
        raise SslCeError(f"no readable images under {base}: all {len(found)} files failed to decode")
    if len(paths) < len(found):
        warnings.warn(f"skipped {len(found) - len(paths)} unreadable image(s) out of {len(found)} in {base} "
                      "(use --strict to stop instead)", stacklevel=2)
    small = _count_small(paths, size)
    if small:
        warnings.warn(f"{small} image(s) in {base} are smaller than the model input ({size}x{size}) and were "
                      "upscaled", stacklevel=2)
    classes = sorted({p.relative_to(base).parts[0] for p in paths if len(p.relative_to(base).parts) > 1})
    if classes and all(len(p.relative_to(base).parts) > 1 for p in paths):
        index = {name: i for i, name in enumerate(classes)}
        labels = torch.tensor([index[p.relative_to(base).parts[0]] for p in paths])
    else:
        classes, labels = [], torch.full((len(paths),), -1)
    if in_memory:
        return TensorImages(torch.stack(images), labels, classes, size)
    return FileImages(paths, labels, classes, size)
