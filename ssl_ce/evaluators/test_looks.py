"""The test-look ledger: every evaluation of a test split appends one row to `results/test_looks.csv`, so how
many times a published number's test split was looked at is a count, not a memory.

Every evaluator call passes through `Evaluator.__call__`, which calls `record_test_look` whenever the split is
test; the CLI, `ssl-ce report`, the benchmarks and Python callers are all covered. `$SSL_CE_TEST_LEDGER` moves
the ledger (the test suite points it at a temporary file, so its own test scorings stay out of the project's).
"""

from __future__ import annotations

import hashlib
import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ssl_ce.provenance import git_commit
from ssl_ce.results import append_rows

LEDGER_ENV = "SSL_CE_TEST_LEDGER"
DEFAULT_LEDGER = Path("results") / "test_looks.csv"
COLUMNS = ["date", "git_commit", "evaluator", "checkpoint", "checkpoint_sha256", "options", "rows", "headline",
           "source"]
HEADLINE_KEYS = ("psnr_db", "ssim", "kid_mnv1_hole", "top1_pct", "centre_psnr_db")  # what a row reports first


def ledger_path() -> Path:
    return Path(os.environ.get(LEDGER_ENV) or DEFAULT_LEDGER)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def headline(rows: list[dict[str, Any]]) -> str:
    """'name: key=value ...' for each row, with the keys of HEADLINE_KEYS it has."""
    parts = []
    for row in rows:
        name = row.get("inpainter") or row.get("method") or ""
        values = " ".join(f"{k}={row[k]}" for k in HEADLINE_KEYS if row.get(k) not in (None, ""))
        parts.append(f"{name}: {values}")
    return "; ".join(parts)


def record_test_look(evaluator: str, checkpoint: Path, options: dict[str, Any], rows: list[dict[str, Any]],
                     source: str = "evaluator") -> None:
    """Appends the ledger row of one test-split evaluation."""
    shown = {k: v for k, v in options.items() if k != "progress"}
    append_rows(ledger_path(), COLUMNS, [{
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), "git_commit": git_commit(),
        "evaluator": evaluator, "checkpoint": str(checkpoint), "checkpoint_sha256": file_sha256(checkpoint),
        "options": json.dumps(shown, sort_keys=True, default=str), "rows": len(rows), "headline": headline(rows),
        "source": source}])
