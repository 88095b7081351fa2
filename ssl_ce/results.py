"""Appending rows to the CSV tables under results/, with a fixed column order per table."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pandas as pd

from ssl_ce.errors import SslCeError


def append_rows(path: Path, columns: list[str], rows: list[dict[str, Any]]) -> None:
    """Appends `rows` (exactly `columns`); writes the header for a new file, refuses a file of another schema."""
    for row in rows:
        if set(row) != set(columns):
            raise ValueError(f"row keys {sorted(row)} differ from the table's columns {columns}")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.stat().st_size > 0:
        with path.open(newline="") as f:
            header = next(csv.reader(f), [])
        if header != columns:
            raise SslCeError(f"{path} has other columns ({', '.join(header)}); move it aside or use --results DIR")
        new = False
    else:
        new = True
    with path.open("a", newline="") as f:
        writer = csv.DictWriter(f, columns)
        if new:
            writer.writeheader()
        writer.writerows(rows)


def markdown_table(frame: pd.DataFrame, digits: int = 2) -> str:
    """A GitHub markdown table of `frame` (index included), numbers to `digits` decimals."""

    def cell(value: Any) -> str:
        if isinstance(value, float):
            return "" if value != value else f"{value:.{digits}f}"  # NaN: an empty cell
        return str(value)

    header = [frame.index.name or "", *map(str, frame.columns)]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join([str(index), *map(cell, row)]) + " |" for index, row in zip(
        frame.index, frame.itertuples(index=False), strict=True)]
    return "\n".join(lines)
