"""What the evaluators share: the `Evaluator` record, the options every one of them takes, and the evaluation
data a checkpoint is judged on."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import click
import numpy as np

from ssl_ce.config import DataConfig
from ssl_ce.registries import DATASETS, EVALUATORS
from ssl_ce.registry import Registry


@dataclass(frozen=True)
class NoOptions:
    """The options of an evaluator that takes none beyond the checkpoint."""


@dataclass(frozen=True)
class Evaluator:
    """Takes a checkpoint and options, returns rows for `results/<csv_name>` (columns in `columns`).

    `run(checkpoint, options, results_dir, progress)` gets `options` as an instance of the `options` dataclass,
    built from the CLI's `params` (one click option per field) or from keyword arguments: `evaluator(path, k=5)`.
    Without `params`, they are built from the dataclass's fields (`option`), so each is declared once.
    """

    name: str
    help: str
    csv_name: str
    columns: list[str]
    run: Callable[[Path, Any, str, bool], list[dict[str, Any]]]
    options: type = NoOptions
    params: list[click.Parameter] | None = None

    def __post_init__(self) -> None:
        if self.params is None:
            object.__setattr__(self, "params", cli_options(self.options))

    def __call__(self, checkpoint: str | Path, results_dir: str | Path = "results", progress: bool = True,
                 **options: Any) -> list[dict[str, Any]]:
        """The rows; a test-split evaluation is also written to the test-look ledger (ssl_ce.evaluators.test_looks)."""
        from ssl_ce.evaluators.test_looks import record_test_look

        parsed = self.options(**options)
        rows = self.run(Path(checkpoint), parsed, str(results_dir), progress)
        if getattr(parsed, "split", None) == "test":
            record_test_look(self.name, Path(checkpoint), options, rows)
        return rows


def sample_indices(count: int, n: int | None, seed: int) -> np.ndarray:
    """`n` of `count` indices drawn from `seed`, sorted (all of them when `n` is None or not smaller): the
    images an evaluation scores or compares with, the same for every call with the same seed."""
    if n is None or n >= count:
        return np.arange(count)
    return np.sort(np.random.default_rng(seed).choice(count, n, replace=False))


def register(evaluator: Evaluator) -> Evaluator:
    """Adds a built-in evaluator to the table under its own name."""
    return EVALUATORS.register(evaluator.name)(evaluator)


def result_tables() -> list[str]:
    """The CSV tables that evaluators write (plug-ins included), in registration order."""
    return list(dict.fromkeys(evaluator.csv_name for _, evaluator in EVALUATORS.items()))


def results_path(results_dir: str | Path, evaluator: Evaluator) -> Path:
    return Path(results_dir) / evaluator.csv_name


class RegistryChoice(click.Choice):
    """A click choice read from a registry when first needed (help, validation), so building the CLI loads no
    component and `ssl-ce --help` does not import torch."""

    def __init__(self, registry: Registry[Any]) -> None:
        self.registry = registry
        super().__init__([], case_sensitive=True)

    @property
    def choices(self) -> Sequence[str]:  # type: ignore[override]
        return self.registry.names()

    @choices.setter
    def choices(self, value: Sequence[str]) -> None:
        pass  # click's __init__ stores the (empty) list; the registry is the source

    def __iter__(self) -> Iterator[str]:
        return iter(self.choices)


def option(default: Any = None, help: str | None = None, **click_settings: Any) -> Any:
    """One evaluator option declared once, as a field of its options dataclass: the default serves the Python
    call and the CLI's `--field-name`; the help and click's settings (type, names, is_flag, multiple) the CLI."""
    return field(default=default, metadata={"help": help, "click": click_settings})


def cli_options(options: type) -> list[click.Parameter]:
    """One click option per field of an options dataclass, bound to the field's name, with its default."""
    params = []
    for f in fields(options):
        settings = dict(f.metadata.get("click", {}))
        names = settings.pop("names", [f"--{f.name.replace('_', '-')}"])
        shown = f.default is not None and f.default is not False and f.default != ()  # 0 is a default to show
        params.append(click.Option([f.name, *names], default=f.default, help=f.metadata.get("help"),
                                   show_default=shown, **settings))
    return params


@dataclass(frozen=True)
class DataOptions:
    """--dataset and --data-root, for the evaluators that read a dataset."""

    dataset: str | None = option(None, "Evaluation data [default: the checkpoint's pretraining data].",
                                 type=RegistryChoice(DATASETS))
    data_root: str | None = option(None, "cifar10: folder holding cifar-10-batches-py; folder: an image folder "
                                   "(class sub-folders give labels).", type=click.Path())


SCORED_SPLITS = ("val", "test")  # what an evaluator scores; train images are what the probes and galleries use


def split_option(choices: Sequence[str] = SCORED_SPLITS, extra_help: str = "") -> Any:
    """The `split` field, default val: every choice is made on val; test is scored once, for the reports."""
    return option("val", "The split scored: val for every choice (recipes, checkpoints, settings), test once, for "
                  f"the reported numbers{extra_help}.", type=click.Choice(list(choices)))


def seed_option() -> Any:
    return option(0, "The evaluation's own randomness (subsets, probes).")


def device_option() -> Any:
    return option("auto", "auto, cpu, cuda or cuda:N.")


def feature_key(data: DataConfig, size: int, split: str) -> str:
    """Names cached features by what they were computed on: source, where its files live, input size, split."""
    root = str(Path(data.root).resolve()) if data.root else ""
    return f"{data.source}-{hashlib.sha1(root.encode()).hexdigest()[:8]}-{size}-{split}"


def pretraining_columns(config: Any, step: int) -> dict[str, Any]:
    """What every row says about the pretraining behind the scored encoder."""
    return {"method": config.method.name, "model": config.model.name, "mask": config.mask.type,
            "pretrain_data": config.data.source, "pretrain_steps": step, "pretrain_seed": config.train.seed}


def eval_data_config(pretrain: DataConfig, dataset: str | None, data_root: str | None) -> DataConfig:
    """The evaluation data: `--dataset/--data-root`, defaulting to what the checkpoint was pretrained on (with
    its source's own settings when the source is the same)."""
    source = dataset or pretrain.source
    if source == pretrain.source:
        same = {f.name: getattr(pretrain, f.name) for f in fields(pretrain) if f.name in DATASETS.get(source).options}
        return DataConfig(**{**same, "source": source, "root": data_root or pretrain.root}).validated()
    return DataConfig(source=source, root=data_root).validated()
