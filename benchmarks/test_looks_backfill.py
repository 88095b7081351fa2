"""The test looks made before the ledger existed, read from the history: every version of every committed
results CSV, each evaluator call (rows of one file sharing a date stamp) with a test split counted once.

    python benchmarks/test_looks_backfill.py   # appends to results/test_looks.csv, source "history: ..."

Run once; looks already in the ledger (same date and source) are not added again, and a look found in two
files (a table renamed) is counted once. The checkpoints
of those runs are gone, so their SHA-256 is left empty unless the file is still in weights/.
"""

from __future__ import annotations

import io
import json
import subprocess
from pathlib import Path

import pandas as pd

from ssl_ce.evaluators.test_looks import COLUMNS, file_sha256, headline, ledger_path
from ssl_ce.results import append_rows

REPO = Path(__file__).resolve().parent.parent


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=True).stdout


def historical_looks() -> list[dict[str, object]]:
    looks: dict[tuple[str, str], dict[str, object]] = {}
    files = sorted({line for line in git("log", "--all", "--name-only", "--pretty=format:", "--", "results").split()
                    if line.endswith(".csv") and "test_looks" not in line})
    for name in files:
        for commit in git("log", "--all", "--pretty=format:%H", "--", name).split():
            try:
                table = pd.read_csv(io.StringIO(git("show", f"{commit}:{name}")), dtype=str)
            except (subprocess.CalledProcessError, pd.errors.ParserError, pd.errors.EmptyDataError):
                continue
            if "split" not in table or "date" not in table:
                continue
            for date, rows in table[table["split"] == "test"].groupby("date"):
                first = rows.iloc[0]
                checkpoint = str(first.get("checkpoint", ""))
                local = REPO / "weights" / Path(checkpoint).name
                looks.setdefault((date, checkpoint), {  # a renamed copy of a table holds the same look
                    "date": date, "git_commit": first.get("git_commit", ""), "evaluator": Path(name).stem,
                    "checkpoint": checkpoint,
                    "checkpoint_sha256": file_sha256(local) if "weights/" in checkpoint and local.is_file() else "",
                    "options": json.dumps({"split": "test"}), "rows": len(rows),
                    "headline": headline(rows.fillna("").to_dict("records")), "source": f"history: {name}"})
    return sorted(looks.values(), key=lambda look: str(look["date"]))


def main() -> None:
    path = ledger_path()
    known = set()
    if path.exists():
        known = {(r["date"], r["source"]) for r in pd.read_csv(path, dtype=str).to_dict("records")}
    new = [look for look in historical_looks() if (look["date"], look["source"]) not in known]
    append_rows(path, COLUMNS, new)
    print(f"appended {len(new)} historical test look(s) to {path}")


if __name__ == "__main__":
    main()
