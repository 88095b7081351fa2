"""`ssl-ce report`: where the suite's test numbers are made, by one fixed recipe, written up as REPORT.md.

Pretrains the context encoder (random-region holes, the paper's feature setting, and centre holes), its L2-only
twin, an autoencoder, a denoising autoencoder and random init with one budget and several pretraining seeds;
scores every encoder on the test split once with the three built-in evaluators; and states each headline
comparison as mean ± std over the seeds with the 95 % interval of its margin, against the suite's targets (a
margin whose interval straddles its target is "not established"). Every choice in the recipe is fixed here,
so nothing is chosen by looking at test numbers. A run directory that already holds a finished run is reused,
an unfinished one resumed, so an interrupted report continues where it stopped.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from ssl_ce import __version__
from ssl_ce.config import shipped_config
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.common import results_path
from ssl_ce.evaluators.inpaint_realism import AUTO_HOLE_KID as REALISM_KID
from ssl_ce.evaluators.records import encoder_evaluations
from ssl_ce.plots import plot_mask_matrix
from ssl_ce.provenance import git_commit
from ssl_ce.registries import EVALUATORS, MASKS, METHODS
from ssl_ce.results import append_rows, markdown_table
from ssl_ce.stats import margin, margin_over, summarise, verdict
from ssl_ce.study import (
    TARGETS_HEADER,
    Scores,
    Study,
    feature_table,
    margins_table,
    mean_std_table,
    run_dir_name,
    target_rows,
)

L2_ONLY_CE = "context encoder, L2 only (centre)"  # its twin without the adversary: the realism comparison
# name in the tables -> config overrides
RUNS: dict[str, dict[str, Any]] = {
    "context encoder (centre)": {"method.name": "context-encoder", "mask.type": "center"},
    "context encoder (random region)": {"method.name": "context-encoder", "mask.type": "random-region"},
    L2_ONLY_CE: {"method.name": "context-encoder", "mask.type": "center", "method.adv_weight": 0.0},
    "autoencoder": {"method.name": "autoencoder"},
    "denoising autoencoder": {"method.name": "denoising"},
    "rotation": {"method.name": "rotation"},
    "random init": {"method.name": "random"},
}

# Pathak et al. 2016: Table 2 (PASCAL VOC 2007 classification, AlexNet, mAP %) and Table 1 (Paris StreetView)
FEATURE_CE = "context encoder (random region)"  # the paper's feature results used random-region holes
INPAINTING_CE = "context encoder (centre)"  # ... and its inpainting results centre holes
BASELINES = ("autoencoder", "denoising autoencoder", "random init")
FEATURE_TARGET = 3.0  # points of linear-probe top-1 over every baseline (issue 4)
INPAINTING_TARGET = 2.0  # dB of PSNR over the best classical inpainter, centre holes (issue 6)
# ... and the later pretext tasks on that protocol: rotation (Gidaris et al. 2018) 73.0, jigsaw 67.6, colourisation 65.9
PAPER_CLASSIFICATION = {FEATURE_CE: 56.5, "autoencoder": 53.8, "random init": 53.3, "rotation": 73.0,
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
    inpainting_images: int | None  # test images inpainted (None: the whole test split)
    context_queries: int | None  # nn-retrieval context mode: number of test queries (None: all)
    seeds: tuple[int, ...] = (0, 1, 2)  # pretraining seeds of every run
    needs_data_root: bool = False
    realism_images: int | None = None  # inpainted test images the realism columns are measured on (None: all)
    overrides: dict[str, Any] = field(default_factory=dict)


def default_out(budget_name: str) -> Path:
    """Where a budget's REPORT.md goes unless --out says otherwise: the standard one is committed."""
    return Path("results" if budget_name == "standard" else f"runs/report-{budget_name}")


BUDGETS = {
    # for trying it: 5-12 minutes on 2 CPU cores, 3 seeds of small runs on the built-in photos
    "quick": Budget(config="quick.yaml", epochs=2, linear_labels=(None,), finetune_labels=None, finetune_epochs=1,
                    inpainting_images=100, context_queries=None, overrides={"data.crops_per_photo": 64}),
    # the committed results/REPORT.md: CIFAR-10 (45,000 training images), every test image inpainted
    "standard": Budget(config="cifar10.yaml", epochs=2, linear_labels=(None, 100), finetune_labels=1000,
                       finetune_epochs=5, inpainting_images=None, context_queries=2000, needs_data_root=True,
                       realism_images=2000),  # KID on all 10,000: 5 min an inpainter on 2 AVX2 cores, 1.5 h
}


def run_report(budget_name: str, out: Path, runs: Path, data_root: str | None, device: str = "auto",
               progress: bool = True, log: Callable[[str], None] = print) -> Path:
    """Runs everything and returns the path of the REPORT.md it wrote (tables and pictures beside it)."""
    budget = BUDGETS[budget_name]
    if budget.needs_data_root and data_root is None:
        raise SslCeError(f"--budget {budget_name} trains on CIFAR-10: give --data-root (the folder holding "
                         "cifar-10-batches-py)")
    tables = out / f"report-{budget_name}"
    for csv in tables.glob("*.csv"):  # a report's tables describe one run of it, never an accumulation
        csv.unlink()
    extra = {"data.root": data_root} if data_root else {}
    study = Study(shipped_config(budget.config), RUNS, runs, seeds=budget.seeds,
                  common={**extra, "train.epochs": budget.epochs, "train.device": device, **budget.overrides})
    trained = study.train_all(progress, log)
    checkpoints = {pair: result.checkpoint for pair, result in trained.items()}
    train_rows = [{"name": name, "seed": seed, "steps": result.step, "seconds": result.train_seconds,
                   "loss_curve": result.out_dir / "loss_curve.png"} for (name, seed), result in trained.items()]
    scores = Scores(runs / "evaluations", {"results_dir": tables, "progress": progress, "device": device,
                                           "split": "test"})

    def evaluate(evaluator_name: str, checkpoint: Path, name: str, **options: Any) -> list[dict[str, Any]]:
        """The evaluator's rows on test, appended to the report's table and tagged with the run's name (each
        row already carries its pretraining seed). Rows already made for these files and options are read back
        from `runs`, so an interrupted report neither repeats nor re-scores an evaluation."""
        evaluator = EVALUATORS.get(evaluator_name)
        rows = scores(evaluator_name, checkpoint, **options)
        append_rows(results_path(tables, evaluator), evaluator.columns, rows)
        return [{"name": name, **row} for row in rows]

    rows = ReportRows(train_rows, [], [], [], [], [])
    first = budget.seeds[0]
    for (name, seed), ckpt in checkpoints.items():
        log(f"evaluate {name}, seed {seed}")
        for evaluator, options in encoder_evaluations(budget.linear_labels, budget.finetune_labels,
                                                      budget.finetune_epochs):
            made = evaluate(evaluator, ckpt, name, **options)
            (rows.knn if evaluator == "nn-retrieval" else rows.classification).extend(made)
        if seed == first and name in (INPAINTING_CE, "autoencoder", "random init"):
            rows.context.extend(evaluate("nn-retrieval", ckpt, name, mode="context",
                                         queries=budget.context_queries))
    log("inpainting: every model and every classical inpainter on the same centre holes, each seed")
    for seed in budget.seeds:
        trained = [str(checkpoints[n, seed]) for n in RUNS if n not in ("random init", INPAINTING_CE)
                   and METHODS.get(RUNS[n]["method.name"]).inpaints]
        rows.inpainting.extend(evaluate("inpainting", checkpoints[INPAINTING_CE, seed], INPAINTING_CE,
                                        mask="center", limit=budget.inpainting_images, also=tuple(trained),
                                        classical=seed == first, realism_images=budget.realism_images))
    log("mask matrix: centre and random-region models on every hole type (first seed)")
    for mask in MASKS.names():
        rows.mask_matrix.extend(evaluate("inpainting", checkpoints[INPAINTING_CE, first], INPAINTING_CE,
                                         mask=mask, limit=budget.inpainting_images,
                                         also=(str(checkpoints[FEATURE_CE, first]),),
                                         realism="none"))  # its table is PSNR alone: KID there cost hours
    # the compute the report took, summed over every process that worked on it (runs and evaluations resume)
    minutes = (sum(row["seconds"] or 0.0 for row in train_rows) + scores.seconds) / 60
    return write_report(ReportRun(budget_name, budget, out, tables, minutes, data_root), rows)


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
    out, tables, budget = run.out, run.tables, run.budget
    curves = tables / "loss_curves"
    curves.mkdir(parents=True, exist_ok=True)
    for row in rows.train:
        if row["loss_curve"].exists():
            shutil.copyfile(row["loss_curve"], curves / f"{run_dir_name(row['name'])}-seed{row['seed']}.png")
    command = f"ssl-ce report --budget {run.budget_name}" + (f" --data-root {run.data_root}" if run.data_root else "")
    if out.resolve() != default_out(run.budget_name).resolve():  # the command that writes this very file
        command += f" --out {_rel(out, Path.cwd())}"
    seeds = ", ".join(map(str, budget.seeds))
    lines = [f"# ssl-ce report ({run.budget_name} budget)", "",
             f"Made by `{command}` in {run.minutes:.0f} min; ssl-ce {__version__}, commit "
             f"{git_commit() or 'unknown'}. Pretraining: configs/{budget.config}, {budget.epochs} epochs per method "
             f"and pretraining seeds {seeds}, the same data, encoder, decoder and budget for every method. Every "
             "number is on the test split, scored once by this fixed recipe; every choice behind it was made on "
             f"the validation split. Mean ± std over the {len(budget.seeds)} seeds; margins give the 95 % interval "
             f"(Welch's t). Tables: `{_rel(tables, out)}/`.", ""]
    features = feature_table(rows.classification, rows.knn)
    lines += _targets(features, rows.inpainting)
    lines += ["## Features (Table 2 analogue): top-1 % on the test split", "",
              "Linear probe on frozen bottleneck features (L2 strength chosen on a split of the training images), "
              "fine-tuning end to end, and DINO's weighted k-NN. The last column is the paper's PASCAL VOC 2007 "
              "classification with AlexNet (random-region holes for the context encoder; rotation from Gidaris et "
              "al. 2018, where jigsaw reached 67.6 and colourisation 65.9), for reference only: another dataset, "
              "network and scale.", "",
              markdown_table(mean_std_table(features, paper=PAPER_CLASSIFICATION)), ""]
    lines += ["### Margins of the context encoder (random region) over each baseline, points", "",
              markdown_table(margins_table(features, FEATURE_CE, BASELINES)), ""]
    lines += _context_section(rows.context, out)
    lines += _inpainting_section(rows.inpainting, out)
    lines += _mask_matrix_section(rows.mask_matrix, tables, out)
    lines += ["## Training", "", "| run | seed | steps | minutes | loss curve |", "|---|---|---|---|---|"]
    for row in rows.train:
        curve = curves / f"{run_dir_name(row['name'])}-seed{row['seed']}.png"
        link = f"[png]({_rel(curve, out)})" if curve.exists() else "not trained"
        minutes = "unknown" if row["seconds"] is None else f"{row['seconds'] / 60:.1f}"
        lines.append(f"| {row['name']} | {row['seed']} | {row['steps']} | {minutes} | {link} |")
    lines.append("")
    report = out / "REPORT.md"
    report.write_text("\n".join(lines))
    return report


LINEAR = "linear (all labels)"


def _targets(features: pd.DataFrame, inpainting: list[dict]) -> list[str]:
    """The headline: each target, the margin that decides it and its interval, and the verdict."""
    lines = ["## Against the targets", "", *TARGETS_HEADER]
    for ce in (FEATURE_CE, INPAINTING_CE):
        lines += target_rows(features, ce, BASELINES, LINEAR, FEATURE_TARGET, "points, linear probe")
    psnr, classical = _inpainting_values(inpainting, "psnr_db")
    best = max(classical, key=classical.get)
    m = margin_over(psnr[INPAINTING_CE], classical[best])
    lines.append(f"| {INPAINTING_CE} >= {best} + {INPAINTING_TARGET:g} dB PSNR, centre holes | {m} | "
                 f"{verdict(m, INPAINTING_TARGET)} |")
    kid, _ = _inpainting_values(inpainting, REALISM_KID)
    if len(kid.get(INPAINTING_CE, [])) > 1 and len(kid.get(L2_ONLY_CE, [])) > 1:  # the paper's claim for its loss
        m = margin(kid[L2_ONLY_CE], kid[INPAINTING_CE])
        lines.append(f"| {INPAINTING_CE} nearer real photos than {L2_ONLY_CE}: its hole KID (x1e3) lower, centre "
                     f"holes | {m} | {verdict(m, 0.0)} |")
    return [*lines, ""]


def _inpainting_values(inpainting: list[dict], column: str) -> tuple[dict[str, list[float]], dict[str, float]]:
    """A column per seed of each trained inpainter (by run name) and of each classical one (deterministic);
    rows without a number there (realism not measured) are left out."""
    models: dict[str, list[float]] = {}
    classical: dict[str, float] = {}
    for row in inpainting:
        value = pd.to_numeric(row.get(column, ""), errors="coerce")
        if pd.isna(value):
            continue
        if row["method"]:
            models.setdefault(_run_name(row), []).append(float(value))
        elif row["inpainter"].startswith("nn-inpainting"):
            continue  # a retrieval baseline, not a classical inpainter
        else:
            classical[row["inpainter"]] = float(value)
    return models, classical


def _run_name(row: dict) -> str:
    """The report's name of the run behind an inpainting row (its checkpoint's run directory)."""
    run = Path(row["checkpoint"]).parent.name.rsplit("-seed", 1)[0]
    return next(name for name in RUNS if run_dir_name(name) == run)


def _context_section(context: list[dict], out: Path) -> list[str]:
    if not context:
        return []
    ctx = pd.DataFrame(context)
    ctx = ctx.assign(features=[f"{n}: encoder" if f == "encoder" else f for n, f in zip(ctx.name, ctx.features,
                                                                                          strict=True)])
    ctx = ctx.drop_duplicates("features").set_index("features")[["centre_l1_pct", "centre_l2_pct",
                                                                   "centre_psnr_db"]].astype(float)
    ctx.columns = ["mean L1 %", "mean L2 %", "PSNR dB"]
    lines = ["## NN-inpainting: the nearest neighbour's centre fills the hole (first seed)", "",
             "Neighbours found on features of the images with their centre dropped. Paper (Paris StreetView): "
             "context-encoder features 15.10 % / 4.30 % / 14.70 dB, HOG 19.92 % / 6.92 % / 12.79 dB.", "",
             markdown_table(ctx), ""]
    grid = next((r["grid_png"] for r in context if r["grid_png"]), "")
    return [*lines, f"![retrieval grid]({_rel(grid, out)})", ""] if grid else lines


def _inpainting_section(inpainting: list[dict], out: Path) -> list[str]:
    frame = pd.DataFrame(inpainting)
    frame["who"] = [_run_name(r) if r["method"] else r["inpainter"] for r in inpainting]
    metrics = {"l1_pct": "mean L1 %", "l2_pct": "mean L2 %", "psnr_db": "PSNR dB", "ssim": "SSIM"}
    realism = {REALISM_KID: "KID hole x1e3", "hf_ratio": "HF ratio"}  # where the realism network was found
    measured = REALISM_KID in frame and pd.to_numeric(frame[REALISM_KID], errors="coerce").notna().any()
    metrics.update(realism if measured else {})
    table = pd.DataFrame({label: [_mean_std(frame[frame.who == who][column]) for who in dict.fromkeys(frame.who)]
                          for column, label in metrics.items()}, index=list(dict.fromkeys(frame.who)))
    for name, (l1, l2, psnr) in PAPER_INPAINTING.items():
        table.loc[f"paper, Paris StreetView: {name}"] = [f"{l1:.2f}", f"{l2:.2f}", f"{psnr:.2f}",
                                                          *[""] * (len(metrics) - 3)]
    table.index.name = "inpainter"
    first = inpainting[0]
    return ["## Inpainting (Table 1 analogue): centre hole, test images", "",
            f"Every inpainter gets the same holes on {first['images']} test images; metrics over the hole pixels, "
            "images in [0, 1]; networks as mean ± std over the seeds (the classical inpainters are deterministic). "
            "The paper's rows are on Paris StreetView at 128x128."
            + (" KID compares the hole squares with real photos in MobileNet-v1 features (x1e3; 0 is as real as "
               "real photos) and the HF ratio the fills' fine detail with the photos' (1 is as sharp): the realism "
               "the adversarial loss is for, which PSNR does not see"
               + (f" ({first['realism_note']})." if first.get("realism_note") else ".") if measured else ""), "",
            markdown_table(table), "", f"![inpainting grid]({_rel(first['grid_png'], out)})", ""]


def _mean_std(column: pd.Series) -> str:
    """Mean ± std of a column's numbers; empty where it has none (a row the realism network did not measure)."""
    values = pd.to_numeric(column, errors="coerce").dropna().tolist()
    return str(summarise(values)) if values else ""


def _mask_matrix_section(matrix_rows: list[dict], tables: Path, out: Path) -> list[str]:
    mm = pd.DataFrame(matrix_rows)
    models = mm[mm.method != ""]
    matrix = models.pivot_table(index="trained_mask", columns="eval_mask", values="psnr_db", sort=False)
    matrix = matrix.reindex(columns=MASKS.names())
    matrix.loc["best classical"] = mm[mm.method == ""].groupby("eval_mask")["psnr_db"].max().reindex(MASKS.names())
    png = tables / "mask_matrix.png"
    plot_mask_matrix(matrix, png, "Inpainting PSNR (dB) over the hole")
    matrix.index.name = "trained on \\ tested on"
    return ["## Mask generalisation: PSNR dB, trained mask x test mask (first seed)", "", markdown_table(matrix), "",
            f"![mask matrix]({_rel(png, out)})", ""]
