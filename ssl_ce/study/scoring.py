"""A study's scores: every evaluation made once per file and options (kept under the study's folder and read
back afterwards, so a rerun never scores a split again), its rows tagged with the run they judge."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ssl_ce.evaluators.inpaint_realism import AUTO_HOLE_KID
from ssl_ce.evaluators.records import evaluate_once

REFERENCE = "reference"  # the stage of a row scored beside the candidates (a published file), never one of them


@dataclass
class Scores:
    """Evaluates through `evaluate_once` with the study's `defaults` (split, device, pictures' folder ...)
    and adds up the seconds the evaluations took, over every session that made them."""

    records: Path
    defaults: Mapping[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def __call__(self, evaluator: str, checkpoint: Path, tag: Mapping[str, Any] | None = None,
                 **options: Any) -> list[dict[str, Any]]:
        rows, took = evaluate_once(self.records, evaluator, checkpoint, **{**self.defaults, **options})
        self.seconds += took
        return [{**(tag or {}), **row} for row in rows]


@dataclass(frozen=True)
class Scored:
    """One candidate inpainter scored on val: its name, the stage it comes from, the file, whether its fills
    were mirror-averaged, and its row."""

    name: str
    stage: str
    checkpoint: Path
    row: dict
    flip_average: bool = False

    def describe(self) -> str:
        return f"{self.name}, stage {self.stage}" + (", mirror-averaged" if self.flip_average else "")

    def hole_kid(self) -> float:
        """KID on the hole square (x1e3); a row without realism measures is never the most realistic."""
        value = self.row.get(AUTO_HOLE_KID, "")
        return float("inf") if value in ("", None) or pd.isna(value) else float(value)

    def as_row(self) -> dict[str, Any]:
        return {"candidate": self.name, "stage": self.stage, **self.row}


def psnr(scored: Scored) -> float:
    """The key candidates are chosen by."""
    return float(scored.row["psnr_db"])
