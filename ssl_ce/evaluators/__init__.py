"""Evaluators, looked up by name: the built-in ones, plus any that an installed package declares in the
`ssl_ce.evaluators` entry-point group (each entry point names an `Evaluator` object)."""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import click

from ssl_ce.registry import Registry

ENTRY_POINT_GROUP = "ssl_ce.evaluators"


@dataclass(frozen=True)
class Evaluator:
    """Takes a checkpoint and options, returns rows for `results/<csv_name>` (columns in `columns`)."""

    name: str
    help: str
    csv_name: str
    columns: list[str]
    run: Callable[..., list[dict[str, Any]]]  # run(checkpoint, results_dir=..., progress=..., **options) -> rows
    params: list[click.Parameter] = field(default_factory=list)


EVALUATORS: Registry[Evaluator] = Registry("evaluator")


def _register_builtins() -> None:
    from ssl_ce.evaluators.classification import CLASSIFICATION
    from ssl_ce.evaluators.inpainting import INPAINTING
    from ssl_ce.evaluators.nn_retrieval import NN_RETRIEVAL

    for evaluator in (CLASSIFICATION, NN_RETRIEVAL, INPAINTING):
        EVALUATORS.register(evaluator.name)(evaluator)


@functools.cache
def load_plugins() -> None:
    """Registers third-party evaluators from installed packages' entry points (once per process)."""
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        try:
            evaluator = entry.load()
        except Exception as exc:  # noqa: BLE001 (a broken plug-in must not break the built-ins)
            warnings.warn(f"evaluator plug-in {entry.name!r} failed to load: {exc}", stacklevel=2)
            continue
        if not isinstance(evaluator, Evaluator) or evaluator.name in EVALUATORS:
            warnings.warn(f"evaluator plug-in {entry.name!r} is not a new ssl_ce Evaluator; ignored", stacklevel=2)
            continue
        EVALUATORS.register(evaluator.name)(evaluator)


def data_options() -> list[click.Parameter]:
    """--dataset and --data-root, shared by the evaluators that read a dataset."""
    return [
        click.Option(["--dataset"], type=click.Choice(["photos", "cifar10", "folder"]),
                     help="Evaluation data [default: the checkpoint's pretraining data]."),
        click.Option(["--data-root"], type=click.Path(), help="cifar10: folder holding cifar-10-batches-py; "
                     "folder: an image folder (class sub-folders give labels)."),
    ]


def run_options() -> list[click.Parameter]:
    """--seed and --device, shared by every evaluator."""
    return [click.Option(["--seed"], type=int, default=0, show_default=True),
            click.Option(["--device"], default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")]


def results_path(results_dir: str | Path, evaluator: Evaluator) -> Path:
    return Path(results_dir) / evaluator.csv_name


_register_builtins()
