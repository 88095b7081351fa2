"""Issue 44, part 2: which change makes the cat inpainter's joint-loss fills clean? One change at a time, on val.

Every candidate is the published joint finish (configs/cats-128.yaml, adversarial weight 0.001, a fresh
discriminator, `--epochs` on a cosine rate, the generator averaged over the last half) with one change, and
all start from the same weights: the published L2 twin (weights/inpainter-freeform-cats-128-l2.safetensors).
Each is scored on the 804 val cats with free-form holes through the evaluator (PSNR, hole KID with
MobileNet-v1, the high-frequency ratio), last and averaged weights, beside the two published files. Nothing
here reads the test split.

    python benchmarks/cats_candidates.py --data-root ../shared/data/cats

Runs are kept in --runs DIR (a finished one reused, an unfinished one resumed); about 2 min per epoch on the
2-core Intel Xeon (AMX). Every candidate but "fp32" trains in bf16 as the published finish did: on a CPU without
native bf16 (AVX2 only) that is emulated and far too slow, so there the fp32 candidate runs, and the others with
`--set train.precision=fp32` (one change each to the fp32 candidate; results/cats_candidates_fp32.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ssl_ce.config import parse_overrides
from ssl_ce.results import markdown_table
from ssl_ce.study import (
    RUN_PICTURES,
    Scored,
    Scores,
    Study,
    command_line,
    keep_pictures,
    psnr,
    realism_cells,
    write_table,
)

REPO = Path(__file__).resolve().parent.parent
L2_TWIN = REPO / "weights" / "inpainter-freeform-cats-128-l2.safetensors"
PUBLISHED_JOINT = REPO / "weights" / "inpainter-freeform-cats-128.safetensors"
# name -> the one change to the published joint finish
CANDIDATES: dict[str, dict] = {
    "as published": {},
    "spectral-norm D": {"model.d_norm": "spectral"},
    "adversarial weight 0.01": {"method.adv_weight": 0.01, "method.rec_weight": 0.99},
    "adversarial weight 0.03": {"method.adv_weight": 0.03, "method.rec_weight": 0.97},
    "D rate 2e-3 (= G's)": {"optim.lr_d": 2.0e-3},
    "fp32 (not bf16)": {"train.precision": "fp32"},
}
# The published finish trained in bf16 (native on its CPU); pinned, so that `auto` on a CPU without native bf16
# cannot turn "as published" into the fp32 candidate unannounced.
PUBLISHED_PRECISION = "bf16"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data" / "cats"))
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", nargs="+", choices=list(CANDIDATES), default=list(CANDIDATES),
                        help="Train and score only these candidates [default: all].")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="A config value for every run, e.g. --set train.max_steps=2 for a quick look.")
    parser.add_argument("--name", default="cats_candidates", help="The tables' stem under --results.")
    parser.add_argument("--runs", default=str(REPO / "runs" / "cats_candidates"))
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    averaged = max(1, args.epochs // 2)  # the generator is averaged over the last half, as in the recipe
    study = Study("cats-128", {name: CANDIDATES[name] for name in args.only}, Path(args.runs), {
        "data.root": args.data_root, "train.epochs": args.epochs, "optim.lr_schedule": "cosine",
        "train.average_epochs": averaged, "train.init_from": str(L2_TWIN), "train.precision": PUBLISHED_PRECISION,
        **parse_overrides(args.sets)}, tuple(args.seeds))
    scores = Scores(study.folder / "evaluations", {"images": args.data_root, "mask": "freeform", "split": "val",
                                                  "classical": False, "results_dir": study.folder, "progress": False})

    def val(name: str, stage: str, checkpoint: Path, seed: int | str = "") -> Scored:
        scored = Scored(name, stage, checkpoint, {"recipe_seed": seed, **scores("inpainting", checkpoint)[0]})
        print(f"{name:28s} {seed!s:2s} {stage:14s} PSNR {psnr(scored):.2f} dB  hole KID {scored.hole_kid():.0f}",
              flush=True)
        return scored

    scored = [val("published L2 twin", "file", L2_TWIN), val("published joint", "file", PUBLISHED_JOINT)]
    for name, seed in study.pairs():
        run = study.train(name, seed)
        scored += [val(name, "last weights", run.checkpoint, seed), val(name, "averaged", run.averaged, seed)]
        # the last epoch's grid: the same val cats and holes in every run, to compare the fills by eye
        last_grid = max(run.out_dir.glob("samples/epoch_*.png")).relative_to(run.out_dir)
        keep_pictures([run.out_dir], Path(args.results) / args.name, (*RUN_PICTURES, str(last_grid)))
    command = command_line("benchmarks/cats_candidates.py", parser, args, always=("data_root", "epochs", "seeds"),
                           leave_out=("runs", "results"))
    table = pd.DataFrame({"seed": [s.row["recipe_seed"] for s in scored], "stage": [s.stage for s in scored],
                          "val PSNR dB": [f"{psnr(s):.2f}" for s in scored],
                          **{f"val {label}": values for label, values in realism_cells([s.row for s in scored]
                                                                                          ).items()}},
                         index=pd.Index([s.name for s in scored], name="candidate"))
    write_table(Path(args.results) / args.name, [s.as_row() for s in scored], [
        "# The cat inpainter's joint finish, one change at a time, on val", "",
        f"Each candidate: the published joint finish ({args.epochs} epochs of the joint loss on a cosine rate, a "
        f"fresh discriminator, the generator averaged over the last {averaged}) from the "
        f"published L2 twin's weights, with one change. The {scored[0].row['images']} val cats at 128 px, "
        "free-form holes, one pass; KID on the hole square with MobileNet-v1 (x1e3), and the high-frequency "
        "energy ratio of the fills to the real photos (1 is real, 0 is flat).", "",
        f"    {command}", "", markdown_table(table), ""])


if __name__ == "__main__":
    main()
