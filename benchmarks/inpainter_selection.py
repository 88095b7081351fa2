"""The CIFAR-10 centre inpainter's recipe, chosen on the validation split, then scored once on test.

Every earlier choice behind the published CIFAR-10 inpainter (pixel shift, ring weight, log L2, averaging, flip
averaging) was read off test images; this re-makes the choice with nothing but val numbers (issue 24):

1. Recipes: each candidate below is configs/cifar10-inpainter.yaml with one change, trained `--recipe-epochs`
   on the 45,000 training images (cosine schedule over its own epochs), and scored on all 5,000 val images.
2. Averaging: the best recipe continues `--average-epochs` at a constant rate from its last weights, averaging
   the generator over every one of those epochs (the stochastic weight averaging of ssl_ce.training.averaging).
3. The model: among stage 1's winner, stage 2's last and stage 2's averaged weights, each in one pass and with
   mirror averaging at test time, the highest val PSNR is the published model.

With `--score-test` the chosen model is then scored once on all 10,000 test images against every classical
inpainter; that row is kept (runs/.../evaluations/), so running it again reads the same numbers back. Writes
results/inpainter_selection_<data>.csv (every val row, and the test rows once scored, which `ssl-ce export`
records in the exported file) and .md (the choice and, once scored, the test rows).

    python benchmarks/inpainter_selection.py --data-root ../shared/data [--score-test]

Runs are kept in --runs DIR: a finished one is reused and an unfinished one resumed, so it continues across
sessions. About 67 s per epoch on the 2-core Intel Xeon (45,000 images of 32x32, ~670 img/s), so the defaults
(6 recipes x 10 epochs, then 20 averaged) take about 1.5 h: a short screen, stated as such beside its numbers.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ssl_ce.config import load_config, parse_overrides
from ssl_ce.evaluators.records import evaluate_once
from ssl_ce.report import run_dir_name, train_or_resume
from ssl_ce.results import markdown_table

REPO = Path(__file__).resolve().parent.parent
BASE = "cifar10-inpainter"
# name -> the one change to configs/cifar10-inpainter.yaml; each is a choice the old recipe made on test images
RECIPES: dict[str, dict] = {
    "as shipped: L2, 4-px shift, ring weight 1": {},
    "no shift": {"data.shift": 0},
    "2-px shift": {"data.shift": 2},
    "ring weight 10 (the paper's)": {"mask.overlap_weight": 10.0},
    "joint loss (the paper's adversarial weight 0.001)": {"method.adv_weight": 0.001},
    "log-L2 loss": {"method.rec_loss": "log-l2"},
}


@dataclass
class Scored:
    """One model scored on val: its name, the stage it comes from, the file, its options and its val row."""

    name: str
    stage: str
    checkpoint: Path
    flip_average: bool
    row: dict


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="The folder holding cifar-10-batches-py.")
    parser.add_argument("--config", default=BASE, help="The recipe every candidate changes one thing of.")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="A config value for every run, e.g. --set train.max_steps=20 for a quick look.")
    parser.add_argument("--recipe-epochs", type=int, default=10)
    parser.add_argument("--average-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runs", default=str(REPO / "runs" / "inpainter_selection"))
    parser.add_argument("--results", default=str(REPO / "results"))
    parser.add_argument("--score-test", action="store_true",
                        help="Score the chosen model once on the test split (after the choice is made on val).")
    args = parser.parse_args()
    runs, records = Path(args.runs), Path(args.runs) / "evaluations"
    common = {"train.seed": args.seed, **({"data.root": args.data_root} if args.data_root else {}),
              **parse_overrides(args.sets)}

    def val(name: str, stage: str, checkpoint: Path, flip: bool = False) -> Scored:
        rows, _ = evaluate_once(records, "inpainting", checkpoint, mask="center", split="val", classical=False,
                                flip_average=flip, results_dir=runs, progress=False)
        return Scored(name, stage, checkpoint, flip, rows[0])

    recipes = []
    for name, change in RECIPES.items():
        cfg = load_config(args.config, {**common, **change, "train.epochs": args.recipe_epochs})
        result = train_or_resume(cfg, runs / f"recipe-{run_dir_name(name)}", progress=False)
        recipes.append(val(name, "1: recipe", result.checkpoint))
        print(f"{name:52s} val PSNR {psnr(recipes[-1]):.2f} dB", flush=True)
    best = max(recipes, key=psnr)

    cfg = load_config(args.config, {**common, **RECIPES[best.name], "train.epochs": args.average_epochs,
                             "optim.lr_schedule": "constant", "train.average_epochs": args.average_epochs,
                             "train.init_from": str(best.checkpoint)})
    result = train_or_resume(cfg, runs / f"average-{run_dir_name(best.name)}", progress=False)
    finals = [val(best.name, "1: recipe", best.checkpoint, flip=True)]
    for stage, checkpoint in (("2: last weights", result.checkpoint), ("2: averaged", result.averaged)):
        finals += [val(best.name, stage, checkpoint, flip) for flip in (False, True)]
    chosen = max([best, *finals], key=psnr)
    scored = [*recipes, *finals]
    print(f"chosen on val: {describe(chosen)}, {psnr(chosen):.2f} dB", flush=True)

    test_rows = []
    if args.score_test:
        test_rows, _ = evaluate_once(records, "inpainting", chosen.checkpoint, mask="center", split="test",
                                     classical=True, flip_average=chosen.flip_average,
                                     results_dir=Path(args.results), progress=False)
    write_tables(Path(args.results), scored, chosen, test_rows, args)


def psnr(scored: Scored) -> float:
    return float(scored.row["psnr_db"])


def describe(scored: Scored) -> str:
    return f"{scored.name}, stage {scored.stage}" + (", mirror-averaged" if scored.flip_average else "")


def write_tables(results: Path, scored: list[Scored], chosen: Scored, test_rows: list[dict],
                 args: argparse.Namespace) -> None:
    """Every val row, and the test rows when scored, to CSV; the choice (and the test rows) to Markdown."""
    results.mkdir(parents=True, exist_ok=True)
    stem = results / f"inpainter_selection_{scored[0].row['eval_data']}"
    tested = [{"candidate": chosen.name, "stage": "test, scored once", **row} for row in test_rows]
    pd.DataFrame([*({"candidate": s.name, "stage": s.stage, **s.row} for s in scored), *tested]).to_csv(
        stem.with_suffix(".csv"), index=False)  # ssl-ce export records the chosen file's rows from here
    table = pd.DataFrame({"stage": [s.stage for s in scored],
                          "mirror-averaged": ["yes" if s.flip_average else "no" for s in scored],
                          "val PSNR dB": [f"{psnr(s):.2f}" for s in scored],
                          "val L2 %": [f"{float(s.row['l2_pct']):.3f}" for s in scored]},
                         index=[s.name for s in scored])
    table.index.name = "recipe"
    command = " ".join(["python benchmarks/inpainter_selection.py",
                        *([f"--data-root {args.data_root}"] if args.data_root else []), f"--config {args.config}",
                        f"--recipe-epochs {args.recipe_epochs} --average-epochs {args.average_epochs}",
                        f"--seed {args.seed}", *(f"--set {item}" for item in args.sets)])
    lines = ["# The centre inpainter's recipe, chosen on val", "",
             f"The config `{args.config}` with one change per recipe, {args.recipe_epochs} epochs each (seed "
             f"{args.seed}); the best continued {args.average_epochs} epochs at a constant rate with weight "
             f"averaging. Every number in this table is on the {scored[0].row['images']} validation images (centre "
             "holes, hole pixels, [0, 1]).", "", f"    {command}", "", markdown_table(table), "",
             f"**Chosen on val:** {describe(chosen)} ({psnr(chosen):.2f} dB, `{chosen.checkpoint}`).", ""]
    if test_rows:
        test = pd.DataFrame(test_rows).set_index("inpainter")[["l1_pct", "l2_pct", "psnr_db", "ssim"]]
        lines += ["## Test, scored once", "", f"All {test_rows[0]['images']} test images, the same holes for every "
                  f"inpainter:", "", f"    {command} --score-test", "", markdown_table(test), ""]
    stem.with_suffix(".md").write_text("\n".join(lines))
    print(f"wrote {stem}.csv and {stem}.md")


if __name__ == "__main__":
    main()
