"""YAML -> frozen dataclasses. Unknown keys, wrong types and out-of-range values are refused by name.

The dataclass defaults are the quick configuration (`configs/quick.yaml`), so `ssl-ce pretrain` with no
config trains something sensible offline.
"""

from __future__ import annotations

import dataclasses
import importlib.resources
import types
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from ssl_ce.errors import SslCeError
from ssl_ce.registries import ALL, DATASETS, METHODS, MODELS  # the tables only: components load on look-up

WHERE_THE_DATA_IS = {"root", "download"}  # set for a source that ignores them, the user would train on other data


@dataclass(frozen=True)
class DataConfig:
    source: str = "photos"  # a registered data source (ssl_ce.registries.DATASETS)
    root: str | None = None  # cifar10: folder holding cifar-10-batches-py; folder: the image folder
    download: bool = False  # cifar10 only: fetch the archive when it is missing (needs a network)
    num_workers: int = 0  # decoding workers for `folder`; in-memory sources never need any
    crops_per_photo: int = 192  # photos: training crops per photograph (a quarter as many for test)
    strict: bool = False  # folder: stop at the first unreadable image instead of skipping it with a warning
    in_memory_max_images: int = 50_000  # folder: decode once into memory up to this many images
    shift: int = 0  # training only: random translation by up to this many pixels each way (reflected edges)

    def validate(self) -> None:
        _check(self.num_workers >= 0, "data.num_workers", "must be >= 0")
        _check(self.crops_per_photo >= 1, "data.crops_per_photo", "must be >= 1")
        _check(self.in_memory_max_images >= 0, "data.in_memory_max_images", "must be >= 0")
        _check(self.shift >= 0, "data.shift", "must be >= 0")
        _check(self.source in DATASETS, "data.source", f"must be one of {', '.join(DATASETS.names())}, got "
               f"{self.source!r}")
        source = DATASETS.get(self.source)
        defaults = DataConfig()
        for key in sorted(source_options() - source.options):  # no option silently ignored
            if getattr(self, key) == getattr(defaults, key):
                continue
            message = f"is not used by data.source {self.source!r}"
            _check(key not in WHERE_THE_DATA_IS, f"data.{key}", f"{message}; drop it or choose a source that reads it")
            warnings.warn(f"config: data.{key} {message} and is ignored", stacklevel=2)
        for key in sorted(source.required):
            _check(getattr(self, key) is not None, f"data.{key}",
                   f"is required for data.source {self.source!r} (pass --data-{key} DIR)")

    def validated(self) -> DataConfig:
        self.validate()
        return self


@dataclass(frozen=True)
class MaskConfig:
    type: str = "center"  # a registered mask (ssl_ce.registries.MASKS)
    overlap: int = 4  # centre: width in pixels, at 128x128, of the visible ring the net also predicts
    # centre: loss weight of the visible ring's pixels relative to the hole's (the paper's 10, for seamless fills;
    # 1 weighs them as hole pixels, 0 leaves the loss to the hole alone, which is what Table 1's metrics score)
    overlap_weight: float = 10.0
    max_blocks: int = 4  # random-block: up to this many rectangles
    max_coverage: float = 0.25  # random-block: the rectangles cover at most this fraction
    region_coverage: tuple[float, float] = (0.2, 0.3)  # random-region: accepted hole fraction
    region_scale: float = 0.06  # random-region: noise-field resolution relative to the image (paper: 0.06)
    freeform_coverage: tuple[float, float] = (0.05, 0.5)  # freeform: each hole's share of the image, drawn uniformly

    def validate(self) -> None:
        _check(self.overlap >= 0, "mask.overlap", "must be >= 0")
        _check(self.overlap < 32, "mask.overlap", "must be < 32 (the hole is 64x64 at 128x128)")
        _check(self.overlap_weight >= 0.0, "mask.overlap_weight", "must be >= 0")
        _check(self.max_blocks >= 1, "mask.max_blocks", "must be >= 1")
        _check(0.0 < self.max_coverage <= 0.9, "mask.max_coverage", "must be in (0, 0.9]")
        lo, hi = self.region_coverage
        _check(0.0 < lo < hi < 1.0, "mask.region_coverage", "must be [low, high] with 0 < low < high < 1")
        _check(0.0 < self.region_scale <= 0.5, "mask.region_scale", "must be in (0, 0.5]")
        lo, hi = self.freeform_coverage
        _check(0.0 < lo < hi <= 0.8, "mask.freeform_coverage", "must be [low, high] with 0 < low < high <= 0.8")


@dataclass(frozen=True)
class ModelConfig:
    name: str = "small-32"  # a registered model (ssl_ce.registries.MODELS)
    bottleneck: int | None = None  # DCGAN-style nets: width of the bottleneck (None: the model's own)
    width_mult: float = 1.0  # DCGAN-style nets: scales the generator's conv widths (capacity for long runs)
    # DCGAN-style nets: how the decoder doubles its size: the paper's 4x4 stride-2 transposed convolution, or
    # the two usual cures for its checkerboard: nearest-neighbour resize then a 3x3 convolution, or a 3x3
    # convolution to 4x the channels then a pixel shuffle (sub-pixel convolution, ICNR-initialised)
    upsample: Literal["transposed", "resize-conv", "pixel-shuffle"] = "transposed"
    # DCGAN-style nets: the discriminator's normalisation: batch norm (the paper's), or spectral norm on every
    # convolution and no batch norm (Miyato et al. 2018), which bounds D's Lipschitz constant against blotches
    d_norm: Literal["batch", "spectral"] = "batch"
    channel_wise_fc: bool = True  # alexnet-227: channel-wise FC (False: a full FC layer, as the paper avoids)
    pool_free: bool = False  # alexnet-227: strided convolutions instead of max-pooling
    dropout: float = 0.5  # alexnet-227: dropout after the channel-wise FC

    def validate(self) -> None:
        _check(self.bottleneck is None or self.bottleneck >= 1, "model.bottleneck", "must be >= 1")
        _check(0.0 <= self.dropout < 1.0, "model.dropout", "must be in [0, 1)")
        _check(self.width_mult > 0, "model.width_mult", "must be > 0")


@dataclass(frozen=True)
class MethodConfig:
    name: str = "context-encoder"  # a registered method (ssl_ce.registries.METHODS)
    rec_weight: float = 0.999  # context-encoder: lambda_rec of the joint loss
    adv_weight: float = 0.001  # context-encoder: lambda_adv; 0 gives the L2-only context encoder
    # context-encoder: l2 (the paper's masked L2) or log-l2 (mean per-image log of it: targets mean PSNR)
    rec_loss: Literal["l2", "log-l2"] = "l2"
    noise_std: float = 0.2  # denoising: Gaussian noise std on the [-1, 1] scale
    pixel_dropout: float = 0.2  # denoising: probability that a pixel is dropped to the mean

    def validate(self) -> None:
        _check(self.rec_weight >= 0, "method.rec_weight", "must be >= 0")
        _check(self.adv_weight >= 0, "method.adv_weight", "must be >= 0")
        _check(self.rec_weight + self.adv_weight > 0, "method.rec_weight", "and adv_weight cannot both be 0")
        _check(self.noise_std >= 0, "method.noise_std", "must be >= 0")
        _check(0 <= self.pixel_dropout < 1, "method.pixel_dropout", "must be in [0, 1)")


@dataclass(frozen=True)
class OptimConfig:
    lr_g: float = 2e-3  # the paper's code: generator 10x the discriminator's rate
    lr_d: float = 2e-4
    beta1: float = 0.5
    beta2: float = 0.999
    # constant: the paper's; cosine: both rates decay to 0 over the run's steps (a function of the step, so a
    # resumed run follows the same curve as long as its epochs / max_steps are unchanged)
    lr_schedule: Literal["constant", "cosine"] = "constant"

    def validate(self) -> None:
        _check(self.lr_g > 0, "optim.lr_g", "must be > 0")
        _check(self.lr_d > 0, "optim.lr_d", "must be > 0")
        _check(0 <= self.beta1 < 1, "optim.beta1", "must be in [0, 1)")
        _check(0 <= self.beta2 < 1, "optim.beta2", "must be in [0, 1)")


@dataclass(frozen=True)
class TrainConfig:
    epochs: int = 15
    max_steps: int | None = None  # stop earlier than `epochs` when set
    batch_size: int = 64
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # auto: bf16 where native
    channels_last: bool = True
    fused_adam: bool = True  # one fused kernel per optimiser step (CPU and CUDA)
    # in-memory training images (CIFAR-10, photos, folders) live on a CUDA device as uint8 when they fit in a
    # quarter of its free memory: flips, shifts and resizes run there, no host copy per step (no effect on a CPU)
    data_on_device: bool = True
    compile: bool = False  # torch.compile the networks (see benchmarks/throughput.py for when it pays)
    seed: int = 0
    device: str = "auto"  # auto: CUDA when present, else CPU
    init_from: str | None = None  # fine-tune from this checkpoint or export, fresh optimisers (ssl_ce.warm_start)
    checkpoint_every: int = 100  # steps; a checkpoint is also written at each epoch end and at the end
    # epochs between the epoch-end checkpoint, sample grid and loss plot (always after the last): raise it when an
    # epoch takes seconds (small models on a GPU), where writing these would otherwise take longer than training
    epoch_end_every: int = 1
    # stochastic weight averaging: also write <run>/averaged.safetensors, the mean of the generator's weights at
    # the last this-many epoch ends, batch norms measured again (ssl_ce.weight_average); 0 = off
    average_epochs: int = 0
    # steps between online k-NN measurements of the encoder (val queries, train gallery: training.knn_monitor), written
    # to metrics.csv as knn_top1 and drawn beside the losses; 0 = off (it turns itself off for unlabelled data)
    knn_every: int = 225
    grid_images: int = 8  # images in the per-epoch inpainting grid
    # also the hole KID (MobileNet-v1, x1e3) of an inpainter's val-curve fills at every epoch end, against
    # CURVE_KID_REALS train photos: realism over epochs beside val PSNR (needs the realism network's file)
    curve_kid: bool = False
    tensorboard: bool = False  # also log losses, img/s and the grids to <run>/tensorboard (pip install tensorboard)
    deterministic: bool = False  # torch.use_deterministic_algorithms (slower; bit-identical CPU reruns)
    collapse_steps: int = 200  # flag discriminator collapse after this many consecutive collapsed steps
    collapse_d_loss: float = 0.01  # ... a step is collapsed when D loss is below this
    collapse_adv_loss: float = 7.0  # ... and the generator's adversarial loss above this

    def validate(self) -> None:
        _check(self.epochs >= 1, "train.epochs", "must be >= 1")
        _check(self.max_steps is None or self.max_steps >= 1, "train.max_steps", "must be >= 1")
        _check(self.batch_size >= 1, "train.batch_size", "must be >= 1")
        _check(self.checkpoint_every >= 1, "train.checkpoint_every", "must be >= 1")
        _check(self.epoch_end_every >= 1, "train.epoch_end_every", "must be >= 1")
        _check(self.average_epochs >= 0, "train.average_epochs", "must be >= 0 (0 = no weight averaging)")
        _check(self.grid_images >= 1, "train.grid_images", "must be >= 1")
        _check(self.knn_every >= 0, "train.knn_every", "must be >= 0 (0 = no k-NN monitor)")
        _check(self.collapse_steps >= 1, "train.collapse_steps", "must be >= 1")
        _check(self.device == "auto" or self.device.split(":")[0] in {"cpu", "cuda"}, "train.device",
               "must be auto, cpu, cuda or cuda:N")


@dataclass(frozen=True)
class Config:
    data: DataConfig = field(default_factory=DataConfig)
    mask: MaskConfig = field(default_factory=MaskConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)

    def validate(self) -> Config:
        for section in dataclasses.fields(self):
            getattr(self, section.name).validate()
        check_components(self)
        return self

    def to_dict(self) -> dict[str, Any]:
        return _plain(dataclasses.asdict(self))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False)


# What a resume may change: how long to train, where the data and logs are, what is drawn and how often; none
# of these changes a step's numbers. Anything else changed on --resume (or a study's reuse of a run) is refused.
RESUMABLE_CHANGES = ("train.epochs", "train.max_steps", "train.device", "train.tensorboard", "train.checkpoint_every",
                     "train.epoch_end_every", "train.grid_images", "train.knn_every", "train.data_on_device",
                     "train.curve_kid",
                     "train.compile", "data.root", "data.strict", "data.download")


def flat_items(raw: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{"train.epochs": 15, ...} from a nested config dict."""
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict):
            out.update(flat_items(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def recipe_changes(trained: Config, asked: Config) -> list[str]:
    """'key: trained -> asked' for every config value that differs, except RESUMABLE_CHANGES."""
    old, new = flat_items(trained.to_dict()), flat_items(asked.to_dict())
    return [f"{key}: {old.get(key)!r} -> {new.get(key)!r}" for key in sorted(set(old) | set(new))
            if key not in RESUMABLE_CHANGES and old.get(key) != new.get(key)]


def _plain(value: Any) -> Any:
    """Tuples become lists so the YAML dump stays plain and loadable with safe_load."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return value


def _check(ok: bool, key: str, message: str) -> None:
    if not ok:
        raise SslCeError(f"config: {key} {message}")


def check_components(cfg: Config) -> None:
    """Every component name is registered, and the components accept the settings around them: a method
    supports the loss asked of it, a model takes the DCGAN-style options (a data source's own checks are
    DataConfig's)."""
    for key, registry in ALL.items():
        section, _, field_name = key.partition(".")
        name = getattr(getattr(cfg, section), field_name)
        _check(name in registry, key, f"must be one of {', '.join(registry.names())}, got {name!r}")
    method = METHODS.get(cfg.method.name)
    _check(cfg.method.rec_loss in method.rec_losses, "method.rec_loss",
           f"{cfg.method.rec_loss!r} is not a loss of method {cfg.method.name!r} ({', '.join(method.rec_losses)})")
    dcgan = [name for name, model in MODELS.items() if model.dcgan]
    for key, default in (("width_mult", 1.0), ("upsample", "transposed"), ("d_norm", "batch")):
        _check(getattr(cfg.model, key) == default or cfg.model.name in dcgan, f"model.{key}",
               f"does not apply to model {cfg.model.name!r} (only to {', '.join(dcgan)})")


def source_options() -> set[str]:
    """The data.* keys that some source reads and others ignore."""
    return set().union(*(source.options for _, source in DATASETS.items()))


def shipped_config(name: str) -> Path:
    """A config that ships inside the package (ssl_ce/configs/NAME.yaml), so an installed ssl-ce finds its own
    recipes wherever it runs."""
    path = Path(str(importlib.resources.files("ssl_ce") / "configs" / name))
    return path.with_suffix(".yaml") if not path.suffix else path


def shipped_config_names() -> list[str]:
    return sorted(p.stem for p in Path(str(importlib.resources.files("ssl_ce") / "configs")).glob("*.yaml"))


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Reads a YAML config (a file, or the name of a shipped one such as `quick`; the defaults when None),
    applies dotted `section.key` overrides, validates."""
    raw: dict[str, Any] = {}
    if path is not None:
        path = Path(path)
        if not path.is_file() and shipped_config(str(path)).is_file() and path.parent == Path():
            path = shipped_config(str(path))
        if not path.is_file():
            raise SslCeError(f"config file not found: {path} (shipped configs: {', '.join(shipped_config_names())})")
        try:
            raw = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as exc:
            raise SslCeError(f"config {path} is not valid YAML: {str(exc).splitlines()[0]}") from None
        if not isinstance(raw, dict):
            raise SslCeError(f"config {path} must be a mapping of sections (data, mask, model, ...)")
    return config_from_dict(apply_overrides(raw, overrides or {}))


def parse_overrides(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """`--set section.key=value` items as overrides, each value read as YAML (so 0 is a number, null is None)."""
    overrides = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep:
            raise SslCeError(f"--set {item!r} must look like section.key=value")
        overrides[key.strip()] = yaml.safe_load(value)
    return overrides


def apply_overrides(raw: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    """Sets each dotted `section.key` override in the raw config mapping (in place) and returns it."""
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if not key:
            raise SslCeError(f"override {dotted!r} must look like section.key=value")
        sub = raw.setdefault(section, {})
        if not isinstance(sub, dict):
            raise SslCeError(f"config: {section} must be a mapping")
        sub[key] = value
    return raw


def config_from_dict(raw: dict[str, Any]) -> Config:
    return _build(Config, raw, "").validate()


def _build(cls: type, raw: Any, prefix: str) -> Any:
    if not isinstance(raw, dict):
        raise SslCeError(f"config: {prefix.rstrip('.') or 'top level'} must be a mapping")
    hints = typing.get_type_hints(cls)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(raw) - names)
    if unknown:
        raise SslCeError(f"config: unknown key '{prefix}{unknown[0]}'; valid keys here: {', '.join(sorted(names))}")
    values = {}
    for name, value in raw.items():
        hint = hints[name]
        if dataclasses.is_dataclass(hint):
            values[name] = _build(hint, value, f"{prefix}{name}.")
        else:
            values[name] = _coerce(value, hint, f"{prefix}{name}")
    return cls(**values)


def _coerce(value: Any, hint: Any, key: str) -> Any:
    """Checks a YAML value against a type hint; ints are accepted where floats are expected."""
    origin = typing.get_origin(hint)
    args = typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (inner,) = [a for a in args if a is not type(None)]
        return _coerce(value, inner, key)
    if origin is Literal:
        if value not in args:
            raise SslCeError(f"config: {key} must be one of {', '.join(map(str, args))}, got {value!r}")
        return value
    if origin is tuple:
        if not isinstance(value, list | tuple) or len(value) != len(args):
            raise SslCeError(f"config: {key} must be a list of {len(args)} values, got {value!r}")
        return tuple(_coerce(v, a, f"{key}[{i}]") for i, (v, a) in enumerate(zip(value, args, strict=True)))
    if hint is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if hint is float and isinstance(value, str):
        try:  # PyYAML reads "2e-4" (no dot) as a string
            return float(value)
        except ValueError:
            pass
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint in (bool, str) and isinstance(value, hint):
        return value
    raise SslCeError(f"config: {key} must be {getattr(hint, '__name__', hint)}, got {value!r}")
