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
from pathlib import Path

import pandas as pd

from ssl_ce.config import load_config, parse_overrides
from ssl_ce.results import markdown_table
from ssl_ce.study import Scored, Scores, command_line, psnr, run_dir_name, test_section, train_or_resume, write_table

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
    runs = Path(args.runs)
    scores = Scores(runs / "evaluations", {"mask": "center", "progress": False})
    common = {"train.seed": args.seed, **({"data.root": args.data_root} if args.data_root else {}),
              **parse_overrides(args.sets)}

    def val(name: str, stage: str, checkpoint: Path, flip: bool = False) -> Scored:
        rows = scores("inpainting", checkpoint, split="val", classical=False, flip_average=flip, results_dir=runs)
        return Scored(name, stage, checkpoint, rows[0], flip)

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
    print(f"chosen on val: {chosen.describe()}, {psnr(chosen):.2f} dB", flush=True)

    test_rows = scores("inpainting", chosen.checkpoint, split="test", classical=True,
                       flip_average=chosen.flip_average, results_dir=Path(args.results)) if args.score_test else []
    command = command_line("benchmarks/inpainter_selection.py", parser, args, always=("config", "recipe_epochs",
                           "average_epochs", "seed"), leave_out=("runs", "results", "score_test"))
    table = pd.DataFrame({"stage": [s.stage for s in scored],
                          "mirror-averaged": ["yes" if s.flip_average else "no" for s in scored],
                          "val PSNR dB": [f"{psnr(s):.2f}" for s in scored],
                          "val L2 %": [f"{float(s.row['l2_pct']):.3f}" for s in scored]},
                         index=pd.Index([s.name for s in scored], name="recipe"))
    write_table(Path(args.results) / f"inpainter_selection_{scored[0].row['eval_data']}", [  # export reads its rows
        *(s.as_row() for s in scored), *({"candidate": chosen.name, "stage": "test, scored once", **row}
                                          for row in test_rows)], [
        "# The centre inpainter's recipe, chosen on val", "",
        f"The config `{args.config}` with one change per recipe, {args.recipe_epochs} epochs each (seed "
        f"{args.seed}); the best continued {args.average_epochs} epochs at a constant rate with weight "
        f"averaging. Every number in this table is on the {scored[0].row['images']} validation images (centre "
        "holes, hole pixels, [0, 1]).", "", f"    {command}", "", markdown_table(table), "",
        f"**Chosen on val:** {chosen.describe()} ({psnr(chosen):.2f} dB, `{chosen.checkpoint}`).", "",
        *test_section(test_rows, command, ", the same holes")])


if __name__ == "__main__":
    main()
