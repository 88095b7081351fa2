"""The runs of a study: each named run's config (its overrides on one base config) for each pretraining seed,
trained into its own folder, or resumed there, or reused when finished."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ssl_ce.checkpoint import CHECKPOINT_NAME
from ssl_ce.config import Config, load_config
from ssl_ce.training import TrainResult, train
from ssl_ce.training.run_log import VAL_CURVE

RUN_PICTURES = ("loss_curve.png", "samples/over_epochs.png", VAL_CURVE)  # the paper's "results over epochs"


def run_dir_name(name: str) -> str:
    """A run's name in the tables as a folder name."""
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")


def train_or_resume(cfg: Config, run: Path, progress: bool = True) -> TrainResult:
    """Trains into `run`, or continues the run already there: an interrupted study picks up where it stopped,
    a finished run is kept as it is, and a run of another recipe is refused (training's resume check)."""
    return train(cfg, run, resume=(run / CHECKPOINT_NAME).exists(), progress=progress)


def keep_pictures(runs: Iterable[Path], folder: Path, pictures: Iterable[str] = RUN_PICTURES) -> None:
    """Copies each run's pictures (and val curve) beside a study's tables as `<run>-<name>`; runs are not
    committed, these are. A run made before a picture existed simply has none."""
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        for picture in pictures:
            if (run / picture).exists():
                shutil.copyfile(run / picture, folder / f"{run.name}-{Path(picture).name}")


@dataclass(frozen=True)
class Study:
    """Named runs x pretraining seeds on one base config, in one folder (`folder/<name>-seed<seed>`)."""

    config: str | Path  # a shipped config's name or a YAML file
    runs: Mapping[str, Mapping[str, Any]]  # name in the tables -> its config overrides
    folder: Path
    common: Mapping[str, Any] = field(default_factory=dict)  # overrides of every run (data root, budget, --set)
    seeds: tuple[int, ...] = (0,)
    one_seed: tuple[str, ...] = ()  # runs trained with the first seed alone: references beside the compared ones

    def seeds_of(self, name: str) -> tuple[int, ...]:
        return self.seeds[:1] if name in self.one_seed else self.seeds

    def pairs(self) -> Iterator[tuple[str, int]]:
        """(name, seed) of every run, run by run in the order given."""
        return ((name, seed) for name in self.runs for seed in self.seeds_of(name))

    def config_of(self, name: str, seed: int, **more: Any) -> Config:
        return load_config(self.config, {**self.common, **self.runs[name], "train.seed": seed, **more})

    def run_dir(self, name: str, seed: int) -> Path:
        return self.folder / f"{run_dir_name(name)}-seed{seed}"

    def train(self, name: str, seed: int, progress: bool = False) -> TrainResult:
        return train_or_resume(self.config_of(name, seed), self.run_dir(name, seed), progress)

    def train_all(self, progress: bool = False,
                  log: Callable[[str], None] = print) -> dict[tuple[str, int], TrainResult]:
        """Every run, trained or resumed in turn."""
        results = {}
        for name, seed in self.pairs():
            log(f"pretrain {name}, seed {seed} -> {self.run_dir(name, seed)}")
            results[name, seed] = self.train(name, seed, progress)
        return results
