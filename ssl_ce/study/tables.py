"""A study's tables: mean ± std over seeds, margins with their intervals, targets with verdicts, and the files
(CSV of every row, Markdown for people). Targets are passed in, never read from globals."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ssl_ce.evaluators.inpaint_realism import AUTO_HOLE_KID, AUTO_IMAGE_KID
from ssl_ce.evaluators.knn import K as KNN_K
from ssl_ce.results import markdown_table
from ssl_ce.stats import margin, summarise, verdict

TARGETS_HEADER = ["A target is met when the whole 95 % interval of its margin clears it, missed when the interval "
                  "lies below it, and not established when the interval straddles it.", "",
                  "| target | margin (mean, 95 % interval) | verdict |", "|---|---|---|"]


def feature_table(classification: list[dict], knn: list[dict]) -> pd.DataFrame:
    """The encoder evaluations' rows (tagged with `name`) as one row per (encoder, seed), one column per
    protocol: top-1 %."""
    frame = pd.DataFrame(classification)
    frame["protocol"] = [f"{p} ({'all labels' if str(n) == 'all' else f'{n} labels/class'})"
                         for p, n in zip(frame.protocol, frame.labels_per_class, strict=True)]
    table = frame.pivot_table(index=["name", "pretrain_seed"], columns="protocol", values="top1_pct", sort=False)
    table[f"k-NN (k={KNN_K})"] = pd.DataFrame(knn).set_index(["name", "pretrain_seed"])["top1_pct"].astype(float)
    return table


def mean_std_table(per_seed: pd.DataFrame, paper: dict[str, float] | None = None) -> pd.DataFrame:
    """Mean ± std over seeds of every column of a (name, seed)-indexed table, one row per name."""
    names = list(dict.fromkeys(per_seed.index.get_level_values(0)))
    table = pd.DataFrame({column: [str(summarise(per_seed.loc[name, column].dropna().tolist())) for name in names]
                          for column in per_seed.columns}, index=names)
    if paper is not None:
        table["paper: VOC 2007 cls. mAP"] = [f"{paper[n]:.1f}" if n in paper else "" for n in names]
    table.index.name = "encoder"
    return table


def margins_table(per_seed: pd.DataFrame, ours: str, baselines: Sequence[str]) -> pd.DataFrame:
    """`ours` minus each baseline in every column: the difference of means and its 95 % interval."""
    table = pd.DataFrame({column: [str(margin(per_seed.loc[ours, column].tolist(), per_seed.loc[b, column].tolist()))
                                   for b in baselines] for column in per_seed.columns},
                         index=[f"minus {b}" for b in baselines])
    table.index.name = ours
    return table


def target_rows(per_seed: pd.DataFrame, ours: str, baselines: Sequence[str], column: str, target: float,
                what: str) -> list[str]:
    """Table rows (under TARGETS_HEADER): `ours` >= each baseline + `target` in `column`, with the margin over
    the pretraining seeds and its verdict."""
    rows = []
    for baseline in baselines:
        m = margin(per_seed.loc[ours, column].tolist(), per_seed.loc[baseline, column].tolist())
        rows.append(f"| {ours} >= {baseline} + {target:g} {what} | {m} | {verdict(m, target)} |")
    return rows


def realism_cells(rows: list[dict]) -> dict[str, list[str]]:
    """The rows' realism as table columns by label: KID (hole square and whole image, x1e3) and the
    high-frequency and periodic-peak ratios, where the rows were measured (ssl_ce.realism.measure.realism_columns
    names the CSV's; rows scored before the peak ratio existed show it empty)."""
    names = {"KID hole x1e3": AUTO_HOLE_KID, "KID image x1e3": AUTO_IMAGE_KID, "HF ratio": "hf_ratio",
             "peak ratio": "peak_ratio"}
    measured = any(row.get(names["KID hole x1e3"], "") not in ("", None) for row in rows)
    return {label: [cell(row.get(key, "")) for row in rows] for label, key in names.items()} if measured else {}


def cell(value: Any) -> str:
    """A table cell: empty for a value never measured (missing, None, or NaN read back from a CSV)."""
    return "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)


def test_section(test_rows: list[dict], command: str, holes: str) -> list[str]:
    """The Markdown of a study's one test scoring: every inpainter's row and the command that made it."""
    if not test_rows:
        return []
    test = pd.DataFrame(test_rows).set_index("inpainter")[["l1_pct", "l2_pct", "psnr_db", "ssim"]]
    for label, values in realism_cells(test_rows).items():
        test[label] = values
    return ["## Test, scored once", "", f"All {test_rows[0]['images']} test images{holes} for every inpainter:", "",
            f"    {command} --score-test", "", markdown_table(test), ""]


def write_table(stem: Path, rows: list[dict[str, Any]], markdown: list[str]) -> None:
    """`stem`.csv (every row, for `ssl-ce export` and the ledger's history) and `stem`.md."""
    stem.parent.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows).to_csv(stem.with_suffix(".csv"), index=False)
    stem.with_suffix(".md").write_text("\n".join(markdown))
    print(f"wrote {stem}.csv and {stem}.md")
