"""Evaluations that are made once: an evaluator's rows and wall time kept on disk, so a long comparison that is
interrupted neither repeats work nor scores the test split a second time when it continues."""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ssl_ce.checkpoint import atomic_write_bytes
from ssl_ce.registries import EVALUATORS


def encoder_evaluations(linear_labels: tuple[int | None, ...], finetune_labels: int | None,
                        finetune_epochs: int) -> list[tuple[str, dict[str, Any]]]:
    """(evaluator, options) for every score an encoder gets in a comparison: a linear probe per label budget
    (None: all labels), fine-tuning, and weighted k-NN. The report and benchmarks/feature_quality.py judge
    encoders by this one list, so their tables mean the same thing."""
    return [*(("classification", {"protocol": "linear", "labels_per_class": labels}) for labels in linear_labels),
            ("classification", {"protocol": "finetune", "labels_per_class": finetune_labels,
                                "finetune_epochs": finetune_epochs}),
            ("nn-retrieval", {"mode": "knn"})]


def evaluate_once(records: Path, evaluator_name: str, checkpoint: Path, **options: Any) -> tuple[list[dict], float]:
    """The evaluator's rows for `checkpoint` and `options`, and the seconds they took: computed and kept under
    `records` the first time, read back from there afterwards."""
    record = EvaluationRecord.for_call(records, evaluator_name, checkpoint, options)
    if not record.done():
        start = time.perf_counter()
        rows = EVALUATORS.get(evaluator_name)(checkpoint, **options)
        record.save(rows, time.perf_counter() - start)
    return record.load()


@dataclass(frozen=True)
class EvaluationRecord:
    """One evaluation's rows and wall time in a JSON file. Its name is a hash of the
    evaluator, its options and the identity (path, size, modification time) of every checkpoint it reads, so
    a retrained run is evaluated again while a finished evaluation is never repeated on the test split.

    Where the pictures go (`results_dir`) is not part of the name: it does not change a number, and a table
    re-made into another folder must not score the split again (the picture stays where the first scoring put
    it). Records written before that rule carried `results_dir` in their hash; `legacy` is that older name, read
    when the current one is absent, so no earlier test score is made a second time."""

    path: Path
    legacy: Path | None = None

    @classmethod
    def for_call(cls, records: Path, evaluator: str, checkpoint: Path, options: dict[str, Any]) -> EvaluationRecord:
        files = [Path(checkpoint), *map(Path, options.get("also", ()))]
        checkpoints = [f"{f.resolve()}:{f.stat().st_size}:{f.stat().st_mtime_ns}" for f in files]

        def named(ignored: set[str]) -> Path:
            shown = {k: v for k, v in options.items() if k not in ignored}
            identity = [evaluator, json.dumps(shown, sort_keys=True, default=str), *checkpoints]
            digest = hashlib.sha1("\n".join(identity).encode()).hexdigest()[:16]
            return records / f"{evaluator}-{Path(checkpoint).parent.name}-{digest}.json"

        # progress bars and the pictures' folder do not change numbers
        path = named({"progress", "results_dir"})
        return cls(path, named({"progress"}) if "results_dir" in options else None)

    def _found(self) -> Path:
        """The file holding this evaluation: the current name, else the pre-`results_dir`-rule one."""
        return self.legacy if not self.path.exists() and self.legacy and self.legacy.exists() else self.path

    def done(self) -> bool:
        return self._found().exists()

    def save(self, rows: list[dict[str, Any]], seconds: float) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps({"seconds": seconds, "rows": rows}, default=_plain)
        atomic_write_bytes(self.path, text.encode())

    def load(self) -> tuple[list[dict[str, Any]], float]:
        record = json.loads(self._found().read_text())
        return record["rows"], record["seconds"]


def _plain(value: Any) -> Any:
    """JSON for what evaluators put in rows besides str/int/float: numpy scalars and paths."""
    return value.item() if hasattr(value, "item") else str(value)
