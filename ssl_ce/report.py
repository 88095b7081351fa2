"""`ssl-ce report`: the whole comparison in one command, at a chosen budget, written up as REPORT.md.

Pretrains the context encoder (centre and random-region holes), its L2-only twin, an autoencoder, a denoising
autoencoder and random init with one budget; evaluates every encoder with the three built-in evaluators; and
writes the tables (the paper's Table 1 and Table 2 analogues beside its published numbers) and the plots.
A run directory that already holds a finished run is reused, an unfinished one resumed, so an interrupted
report continues where it stopped.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ssl_ce import __version__
from ssl_ce.checkpoint import CHECKPOINT_NAME
from ssl_ce.config import Config, load_config, shipped_config
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import results_path
from ssl_ce.plots import plot_mask_matrix
from ssl_ce.provenance import git_commit
from ssl_ce.registries import EVALUATORS, MASKS
from ssl_ce.results import append_rows, markdown_table
from ssl_ce.training import TrainResult, train

# name in the tables -> config overrides; the first is the reference context encoder
RUNS: dict[str, dict[str, Any]] = {
    "context encoder (centre)": {"method.name": "context-encoder", "mask.type": "center"},
    "context encoder (random region)": {"method.name": "context-encoder", "mask.type": "random-region"},
    "context encoder, L2 only (centre)": {"method.name": "context-encoder", "mask.type": "center",
                                          "method.adv_weight": 0.0},
    "autoencoder": {"method.name": "autoencoder"},
    "denoising autoencoder": {"method.name": "denoising"},
    "random init": {"method.name": "random"},
}

# Pathak et al. 2016: Table 2 (PASCAL VOC 2007 classification, AlexNet, mAP %) and Table 1 (Paris StreetView)
PAPER_CLASSIFICATION = {"context encoder (centre)": 56.5, "autoencoder": 53.8, "random init": 53.3,
                        "ImageNet supervised": 78.2}
PAPER_INPAINTING = {"context encoder (joint loss)": (9.37, 1.96, 18.58),
                    "NN-inpainting (context-encoder features)": (15.10, 4.30, 14.70),
                    "NN-inpainting (HOG)": (19.92, 6.92, 12.79)}


@dataclass(frozen=True)
class Budget:
    """How much of everything a report does; `quick` is for trying it, `standard` for committed results."""

    config: str
    epochs: int
    linear_labels: tuple[int | None, ...]  # linear probe on all labels (None) and on N per class
    finetune_labels: int | None  # fine-tune with N labels per class (None: all)
    finetune_epochs: int
    inpainting_images: int
    context_queries: int | None  # nn-retrieval context mode: number of test queries (None: all)
    needs_data_root: bool = False
    overrides: dict[str, Any] = field(default_factory=dict)


BUDGETS = {
    "quick": Budget(config="quick.yaml", epochs=5, linear_labels=(None,), finetune_labels=None, finetune_epochs=2,
                    inpainting_images=200, context_queries=None),
    "standard": Budget(config="cifar10.yaml", epochs=3, linear_labels=(None, 100), finetune_labels=1000,
                       finetune_epochs=5, inpainting_images=1000, context_queries=2000, needs_data_root=True),
}


def run_dir_name(name: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in name).strip("-").replace("--", "-")


def train_or_resume(cfg: Config, run: Path, progress: bool = True) -> TrainResult:
    """Trains into `run`, or continues the run already there: an interrupted comparison picks up where it
    stopped, and a finished run is kept as it is."""
    return train(cfg, run, resume=(run / CHECKPOINT_NAME).exists(), progress=progress)


def run_report(budget_name: str, out: Path, runs: Path, data_root: str | None, device: str = "auto",
               progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Runs everything and returns the path of the REPORT.md it wrote (tables and pictures beside it)."""
    budget = BUDGETS[budget_name]
    if budget.needs_data_root and data_root is None:
        raise SslCeError(f"--budget {budget_name} trains on CIFAR-10: give --data-root (the folder holding "
                         "cifar-10-batches-py)")
    started = time.perf_counter()
    tables = out / f"report-{budget_name}"
    for csv in tables.glob("*.csv"):  # a report's tables describe one run of it, never an accumulation
        csv.unlink()
    checkpoints, train_rows = {}, []
    for name, overrides in RUNS.items():
        extra = {"data.root": data_root} if data_root else {}
        cfg = load_config(shipped_config(budget.config), {**overrides, **extra, "train.epochs": budget.epochs,
                                                    "train.device": device, **budget.overrides})
        run = runs / run_dir_name(name)
        start = time.perf_counter()
        log(f"pretrain {name} -> {run}")
        result = train_or_resume(cfg, run, progress)
        checkpoints[name] = result.checkpoint
        train_rows.append({"name": name, "steps": result.step, "minutes": (time.perf_counter() - start) / 60,
                           "loss_curve": run / "loss_curve.png"})

    def evaluate(name: str, checkpoint: Path, **options: Any) -> list[dict[str, Any]]:
        evaluator = EVALUATORS.get(name)
        rows = evaluator(checkpoint, results_dir=tables, progress=progress, device=device, **options)
        append_rows(results_path(tables, evaluator), evaluator.columns, rows)
        return rows

    classification, knn, context = [], [], []
    for name, ckpt in checkpoints.items():
        log(f"evaluate {name}")
        for labels in budget.linear_labels:
            for row in evaluate("classification", ckpt, protocol="linear", labels_per_class=labels):
                classification.append({"name": name, **row})
        for row in evaluate("classification", ckpt, protocol="finetune", labels_per_class=budget.finetune_labels,
                            finetune_epochs=budget.finetune_epochs):
            classification.append({"name": name, **row})
        knn += [{"name": name, **r} for r in evaluate("nn-retrieval", ckpt, mode="knn")]
        if name in ("context encoder (centre)", "autoencoder", "random init"):
            context += [{"name": name, **r} for r in evaluate("nn-retrieval", ckpt, mode="context",
                                                               queries=budget.context_queries)]
    log("inpainting: every model and every classical inpainter on the same centre holes")
    reference = checkpoints["context encoder (centre)"]
    trained = [str(c) for n, c in checkpoints.items() if n != "random init" and c != reference]
    inpainting = evaluate("inpainting", reference, mask="center", limit=budget.inpainting_images,
                          also=tuple(trained))
    log("mask matrix: centre and random-region models on every hole type")
    matrix_rows = []
    for mask in MASKS.names():
        matrix_rows += evaluate("inpainting", checkpoints["context encoder (centre)"], mask=mask,
                                limit=budget.inpainting_images,
                                also=(str(checkpoints["context encoder (random region)"]),))
    minutes = (time.perf_counter() - started) / 60
    made = ReportRun(budget_name, budget, out, tables, minutes, data_root)
    return write_report(made, ReportRows(train_rows, classification, knn, context, inpainting, matrix_rows))


def _rel(path: Path | str, base: Path) -> str:
    path = Path(path).resolve()
    try:
        return str(path.relative_to(base.resolve()))
    except ValueError:
        return str(path)


@dataclass(frozen=True)
class ReportRun:
    """How a report was made: its budget, where it went, how long it took, what data it read."""

    budget_name: str
    budget: Budget
    out: Path
    tables: Path
    minutes: float
    data_root: str | None


@dataclass(frozen=True)
class ReportRows:
    """What a report shows: the training runs and the evaluators' rows, each table's rows named by run."""

    train: list[dict]
    classification: list[dict]
    knn: list[dict]
    context: list[dict]
    inpainting: list[dict]
    mask_matrix: list[dict]


def write_report(run: ReportRun, rows: ReportRows) -> Path:
    """REPORT.md from the evaluators' rows; loss curves are copied beside it so the report is self-contained."""
    budget_name, budget, out, tables, data_root = run.budget_name, run.budget, run.out, run.tables, run.data_root
    train_rows, classification, knn, context = rows.train, rows.classification, rows.knn, rows.context
    inpainting, matrix_rows, minutes = rows.inpainting, rows.mask_matrix, run.minutes
    curves = tables / "loss_curves"
    curves.mkdir(parents=True, exist_ok=True)
    for row in train_rows:
        if row["loss_curve"].exists():
            shutil.copyfile(row["loss_curve"], curves / f"{run_dir_name(row['name'])}.png")
    command = f"ssl-ce report --budget {budget_name}" + (f" --data-root {data_root}" if data_root else "")
    lines = [f"# ssl-ce report ({budget_name} budget)", "",
             f"Made by `{command}` in {minutes:.0f} min; ssl-ce {__version__}, commit {git_commit() or 'unknown'}. "
             f"Pretraining: configs/{budget.config}, {budget.epochs} epochs per method, the same data, encoder, "
             f"decoder and budget for every method. Tables: `{_rel(tables, out)}/`.", ""]

    frame = pd.DataFrame(classification)
    frame["protocol"] = [f"{p} ({'all labels' if str(n) == 'all' else f'{n} labels/class'})"
                         for p, n in zip(frame.protocol, frame.labels_per_class, strict=True)]
    table = frame.pivot_table(index="name", columns="protocol", values="top1_pct", sort=False)
    table["k-NN (k=20)"] = pd.DataFrame(knn).set_index("name")["top1_pct"].astype(float)
    table["paper: VOC 2007 cls. mAP"] = [PAPER_CLASSIFICATION.get(n, float("nan")) for n in table.index]
    table.index.name = "encoder"
    lines += ["## Features (Table 2 analogue): top-1 % on the test split", "",
              "Linear probe on frozen bottleneck features (L2 strength chosen on a validation split), fine-tuning "
              "end to end, and DINO's weighted k-NN. The last column is the paper's PASCAL VOC 2007 "
              "classification with AlexNet, for reference only: another dataset, network and scale.", "",
              markdown_table(table), ""]

    if context:
        ctx = pd.DataFrame(context)
        ctx = ctx.assign(features=[f"{n}: encoder" if f == "encoder" else f for n, f in zip(ctx.name, ctx.features,
                                                                                              strict=True)])
        ctx = ctx.drop_duplicates("features").set_index("features")[["centre_l1_pct", "centre_l2_pct",
                                                                       "centre_psnr_db"]].astype(float)
        ctx.columns = ["mean L1 %", "mean L2 %", "PSNR dB"]
        lines += ["## NN-inpainting: the nearest neighbour's centre fills the hole", "",
                  "Neighbours found on features of the images with their centre dropped. Paper (Paris StreetView): "
                  "context-encoder features 15.10 % / 4.30 % / 14.70 dB, HOG 19.92 % / 6.92 % / 12.79 dB.", "",
                  markdown_table(ctx), ""]
        grid = next((r["grid_png"] for r in context if r["grid_png"]), "")
        if grid:
            lines += [f"![retrieval grid]({_rel(grid, out)})", ""]

    inp = pd.DataFrame(inpainting).set_index("inpainter")[["l1_pct", "l2_pct", "psnr_db", "ssim"]]
    inp.columns = ["mean L1 %", "mean L2 %", "PSNR dB", "SSIM"]
    for name, (l1, l2, psnr) in PAPER_INPAINTING.items():
        inp.loc[f"paper, Paris StreetView: {name}"] = [l1, l2, psnr, float("nan")]
    lines += ["## Inpainting (Table 1 analogue): centre hole, held-out images", "",
              f"Every inpainter gets the same holes on {inpainting[0]['images']} test images; metrics over the "
              "hole pixels, images in [0, 1]. The paper's rows are on Paris StreetView at 128x128.", "",
              markdown_table(inp), "", f"![inpainting grid]({_rel(inpainting[0]['grid_png'], out)})", ""]

    mm = pd.DataFrame(matrix_rows)
    models = mm[mm.method != ""]
    matrix = models.pivot_table(index="trained_mask", columns="eval_mask", values="psnr_db", sort=False)
    matrix = matrix.reindex(columns=MASKS.names())
    matrix.loc["best classical"] = mm[mm.method == ""].groupby("eval_mask")["psnr_db"].max().reindex(MASKS.names())
    png = tables / "mask_matrix.png"
    plot_mask_matrix(matrix, png, "Inpainting PSNR (dB) over the hole")
    matrix.index.name = "trained on \\ tested on"
    lines += ["## Mask generalisation: PSNR dB, trained mask x test mask", "", markdown_table(matrix), "",
              f"![mask matrix]({_rel(png, out)})", ""]

    lines += ["## Training", "", "| run | steps | minutes | loss curve |", "|---|---|---|---|"]
    for row in train_rows:
        curve = curves / f"{run_dir_name(row['name'])}.png"
        link = f"[png]({_rel(curve, out)})" if curve.exists() else "not trained"
        lines.append(f"| {row['name']} | {row['steps']} | {row['minutes']:.1f} | {link} |")
    lines.append("")
    report = out / "REPORT.md"
    report.write_text("\n".join(lines))
    return report
