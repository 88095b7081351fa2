import pickle
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from ssl_ce.config import DataConfig
from ssl_ce.data import build_dataset
from ssl_ce.data.batches import place_training_images, random_flip, random_shift
from ssl_ce.data.datasets import FileImages, TensorImages
from ssl_ce.data.images import load_image
from ssl_ce.data.photos import PHOTOS, load_photo, split_region
from ssl_ce.data.splits import carve_val
from ssl_ce.errors import SslCeError

from .conftest import SHARED_DATA, write_images


def _boxes_overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    (at, al, ah, aw), (bt, bl, bh, bw) = a, b
    return at < bt + bh and bt < at + ah and al < bl + bw and bl < al + aw


@pytest.mark.parametrize("name", PHOTOS)
def test_photo_train_val_and_test_regions_are_disjoint(name: str) -> None:
    shape = load_photo(name).shape
    regions = [split_region(shape, split) for split in ("train", "val", "test")]
    assert not any(_boxes_overlap(a, b) for i, a in enumerate(regions) for b in regions[i + 1:])
    assert sum(r[2] * r[3] for r in regions) == shape[0] * shape[1]
    build_dataset(DataConfig(crops_per_photo=4), "val", 32)  # every region holds the crops


def test_photos_dataset_labels_and_pixels() -> None:
    cfg = DataConfig(crops_per_photo=8)
    train, test = build_dataset(cfg, "train", 32), build_dataset(cfg, "test", 32)
    assert len(train) == 8 * len(PHOTOS) and len(test) == 2 * len(PHOTOS)
    assert torch.bincount(train.labels).tolist() == [8] * len(PHOTOS)
    images, labels = train.batch([0, 9, 17])
    assert images.shape == (3, 3, 32, 32) and images.dtype == torch.uint8
    assert labels.tolist() == [0, 1, 2]
    assert images.float().std() > 10  # real photographs, not blank crops
    assert train.class_names == PHOTOS


def test_folder_with_class_subfolders_gives_labels(image_folder: Path) -> None:
    cfg = DataConfig(source="folder", root=str(image_folder))
    train, val, test = (build_dataset(cfg, split, 32) for split in ("train", "val", "test"))
    assert train.class_names == ["cats", "dogs"] == val.class_names
    assert len(train) + len(val) + len(test) == 24 and len(test) == 2 and len(val) == 2
    images, labels = train.batch(list(range(len(train))))
    assert images.shape == (len(train), 3, 32, 32) and set(labels.tolist()) == {0, 1}


def test_folder_split_dirs_and_unlabelled_images(tmp_path: Path) -> None:
    write_images(tmp_path / "train", 5)
    write_images(tmp_path / "test", 3)
    cfg = DataConfig(source="folder", root=str(tmp_path))
    train, val, test = (build_dataset(cfg, split, 16) for split in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (4, 1, 3)  # val carved out of train/
    assert (train.labels == -1).all() and train.class_names == []


def test_folder_errors_are_one_line_user_errors(tmp_path: Path) -> None:
    with pytest.raises(SslCeError, match="not found"):
        build_dataset(DataConfig(source="folder", root=str(tmp_path / "missing")), "train", 32)
    (tmp_path / "empty").mkdir()
    with pytest.raises(SslCeError, match="no images under"):
        build_dataset(DataConfig(source="folder", root=str(tmp_path / "empty")), "train", 32)


def test_corrupt_files_are_skipped_with_a_warning(tmp_path: Path) -> None:
    write_images(tmp_path, 12)
    (tmp_path / "broken.png").write_bytes(b"not an image at all")
    with pytest.warns(UserWarning, match="skipped 1 unreadable"):
        data = build_dataset(DataConfig(source="folder", root=str(tmp_path)), "train", 16)
    assert len(data) == 10  # 13 files: the 10th held out for test, a tenth of the rest for val, the broken skipped


def test_truncated_images_are_skipped_or_refused_with_strict(tmp_path: Path) -> None:
    paths = write_images(tmp_path, 12, size=(40, 40))
    whole = paths[0].read_bytes()
    paths[0].write_bytes(whole[: len(whole) // 2])  # the header parses, the pixels do not
    with pytest.warns(UserWarning, match="skipped 1 unreadable image"):
        data = build_dataset(DataConfig(source="folder", root=str(tmp_path)), "train", 16)
    assert len(data) == 9  # 12 files: the 10th held out for test, one for val, the truncated one skipped
    with pytest.raises(SslCeError, match=f"cannot read image {paths[0]}.*drop --strict"):
        build_dataset(DataConfig(source="folder", root=str(tmp_path), strict=True), "train", 16)


def test_a_folder_of_only_broken_files_is_refused(tmp_path: Path) -> None:
    for i in range(3):
        (tmp_path / f"{i}.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    for split in ("train", "val", "test"):
        with pytest.raises(SslCeError, match=r"no readable images under .*: all 1 files failed to decode"):
            build_dataset(DataConfig(source="folder", root=str(tmp_path)), split, 16)


def test_small_images_are_upscaled_with_a_warning(tmp_path: Path) -> None:
    write_images(tmp_path, 3, size=(12, 9))
    with pytest.warns(UserWarning, match="smaller than the model input"):
        data = build_dataset(DataConfig(source="folder", root=str(tmp_path)), "train", 32)
    assert data[0][0].shape == (3, 32, 32)


def test_large_folders_are_decoded_on_demand(tmp_path: Path) -> None:
    write_images(tmp_path, 12, size=(40, 40))
    lazy = build_dataset(DataConfig(source="folder", root=str(tmp_path), in_memory_max_images=5), "train", 16)
    eager = build_dataset(DataConfig(source="folder", root=str(tmp_path)), "train", 16)
    assert type(lazy).__name__ == "FileImages" and type(eager).__name__ == "TensorImages"
    assert torch.equal(lazy.batch([0, 3])[0], eager.batch([0, 3])[0])


@pytest.mark.parametrize("mode, suffix", [("L", ".png"), ("RGBA", ".png"), ("P", ".png"), ("CMYK", ".jpg"),
                                          ("LA", ".png"), ("RGB", ".bmp"), ("RGB", ".webp")])
def test_every_image_mode_becomes_rgb(tmp_path: Path, mode: str, suffix: str) -> None:
    (path,) = write_images(tmp_path, 1, size=(50, 20), mode=mode, suffix=suffix)
    image = load_image(path, 24)
    assert image.shape == (3, 24, 24) and image.dtype == torch.uint8


def test_sixteen_bit_grey_is_scaled_not_clipped(tmp_path: Path) -> None:
    array = np.full((20, 20), 65535, dtype=np.uint16)
    array[:, :10] = 32768
    path = tmp_path / "deep.png"
    Image.fromarray(array).save(path)
    image = load_image(path, 20)
    assert image[:, :, -1].float().mean() == 255 and 126 <= image[:, :, 0].float().mean() <= 129


def test_transparent_pixels_become_white(tmp_path: Path) -> None:
    path = tmp_path / "clear.png"
    Image.new("RGBA", (8, 8), (10, 20, 30, 0)).save(path)
    assert (load_image(path, 8) == 255).all()


def _fake_cifar(root: Path, per_batch: int = 6) -> Path:
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        entry = {b"data": rng.integers(0, 256, (per_batch, 3072), dtype=np.uint8),
                 b"labels": [int(v) for v in rng.integers(0, 10, per_batch)]}
        (folder / name).write_bytes(pickle.dumps(entry))
    (folder / "batches.meta").write_bytes(pickle.dumps({b"label_names": [f"c{i}".encode() for i in range(10)]}))
    return folder


def test_cifar10_reads_the_pickles_channel_major(tmp_path: Path) -> None:
    folder = _fake_cifar(tmp_path)
    train = build_dataset(DataConfig(source="cifar10", root=str(tmp_path)), "train", 32)
    val = build_dataset(DataConfig(source="cifar10", root=str(tmp_path)), "val", 32)
    test = build_dataset(DataConfig(source="cifar10", root=str(folder)), "test", 32)
    assert (len(train) + len(val), len(test)) == (30, 6) and len(val) >= 1
    raw = pickle.loads((folder / "data_batch_1").read_bytes())
    labels = [v for i in range(1, 6) for v in pickle.loads((folder / f"data_batch_{i}").read_bytes())[b"labels"]]
    first = int(carve_val(torch.tensor(labels), "train")[0])  # the first image train keeps
    assert first < 6  # in data_batch_1
    image, label = train[0]
    assert torch.equal(image[0].flatten(), torch.from_numpy(raw[b"data"][first, :1024]))  # red plane first
    assert label == raw[b"labels"][first]
    assert build_dataset(DataConfig(source="cifar10", root=str(tmp_path)), "train", 64)[0][0].shape == (3, 64, 64)


def test_cifar10_missing_or_corrupt_says_how_to_fix(tmp_path: Path) -> None:
    with pytest.raises(SslCeError, match="--download"):
        build_dataset(DataConfig(source="cifar10", root=str(tmp_path)), "train", 32)
    folder = _fake_cifar(tmp_path)
    (folder / "data_batch_3").write_bytes(b"garbage")
    with pytest.raises(SslCeError, match="data_batch_3"):
        build_dataset(DataConfig(source="cifar10", root=str(tmp_path)), "train", 32)


@pytest.mark.skipif(not (SHARED_DATA / "cifar-10-batches-py").is_dir(), reason="../shared/data is not present")
def test_shared_cifar10_copy_loads_despite_its_md5() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        train = build_dataset(DataConfig(source="cifar10", root=str(SHARED_DATA)), "train", 32)
    test = build_dataset(DataConfig(source="cifar10", root=str(SHARED_DATA)), "test", 32)
    assert (len(train), len(test)) == (45_000, 10_000)  # 5,000 of the training images are val
    assert torch.bincount(train.labels).tolist() == [4500] * 10
    assert train.class_names[0] == "airplane"


def test_training_images_move_to_a_cuda_device_only_when_held_in_memory_and_small(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    photos = build_dataset(DataConfig(source="photos"), "train", 32)
    moved = []
    monkeypatch.setattr(type(photos), "on_device", lambda self, device: moved.append(device) or self)
    gpu = torch.device("cuda", 0)
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (4 * photos.nbytes(), 10**12))
    assert place_training_images(photos, gpu, allowed=True) is photos and moved == [gpu]  # a quarter fits
    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (4 * photos.nbytes() - 1, 10**12))
    place_training_images(photos, gpu, allowed=True)
    place_training_images(photos, gpu, allowed=False)
    place_training_images(photos, torch.device("cpu"), allowed=True)
    assert moved == [gpu]  # too big, turned off, or no GPU: the images stay where they are
    files = FileImages(write_images(tmp_path, 3), torch.zeros(3), ["x"], 32)
    assert files.nbytes() is None and place_training_images(files, gpu, allowed=True) is files  # decoded on demand


def test_flips_shifts_and_masks_follow_the_images_device() -> None:
    """The random draws stay on the host; everything built from them lives where the images do (here the
    meta device, which checks placement without a GPU)."""
    images = torch.zeros(4, 3, 16, 16, dtype=torch.uint8, device="meta")
    rng = torch.Generator().manual_seed(0)
    shifted = random_shift(random_flip(images, rng), 2, rng)
    assert shifted.device.type == "meta" and shifted.shape == images.shape and shifted.dtype == torch.uint8
    dataset = TensorImages(torch.zeros(5, 3, 8, 8, dtype=torch.uint8), torch.arange(5), ["x"], 8)
    on_meta = dataset.on_device(torch.device("meta"))
    batch, labels = on_meta.batch([0, 2])
    assert on_meta.device.type == "meta" and batch.device.type == "meta" and labels.shape == (2,)
