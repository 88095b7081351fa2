"""The 128-px road-photo centre inpainter: trained in two stages, chosen on val, then scored once on test.

Issue 25 asks whether a context encoder trained at the paper's scale on real photos (configs/roads-128.yaml,
the paper-128 net) fills holes better than the published 32-px CIFAR-10 inpainter simply applied to them. The
recipe (all on the 3,735 training photos; val is the 416 photos the folder rules carve out of train/):

1. L2 only at a constant rate for `--base-epochs` (the paper's Table 1 reports the L2 model beside the joint one).
   Every stage shifts its training photos randomly by up to `--shift` px (reflected edges): chosen on val, where
   the stage-1 model went from 17.74 dB without shifts to 18.65 dB with 16 px, because without them the net
   memorises the 3,735 photos (its training loss kept falling while its online k-NN accuracy on val did not).
2. From those weights, `--finish-epochs` more on a cosine rate, averaging the generator over the last half of
   them, twice: L2 only, and the paper's joint loss (adversarial weight 0.001, a fresh discriminator).
3. Every stage's last and averaged weights are scored on val in one pass (the target is one pass); the highest
   val PSNR is the published model, and the best joint-loss one is its sharper companion in the pictures.

The bottleneck is 1000-d, not the paper's 4000: the paper's generator is 142 MB in fp16, over the repository's
50 MB per file; this one is 42 MB. `--bottleneck 4000` trains the paper-size model the same way, to report it.
With `--score-test` the chosen model, the joint companion and the published 32-px file are scored once on
the 1,126 test photos at their own 160 px against every classical inpainter;
the rows are kept (runs/.../evaluations/), so running it again reads the same numbers back. Writes
results/roads_inpainter.csv (every val row, and the test rows once scored, which `ssl-ce export` records in
the exported file), .md, and the runs' loss curves, val PSNR over epochs and fills over epochs under
results/roads_inpainter/
(roads_inpainter_freeform.* and results/roads_inpainter_freeform/ with `--mask freeform`).

    python benchmarks/roads_inpainter.py --data-root ../shared/data/roads [--score-test]

The same recipe trains the cat inpainters of issue 44 (configs/cats-128.yaml; their tables are cats_inpainter_*):

    python benchmarks/roads_inpainter.py --data-root ../shared/data/cats --config cats-128 --mask freeform \
        --shift 8 --name cats_inpainter --photos cat-photo --runs runs/cats_inpainter

A published file whose stage-1 run is gone can be finished again: `--base-from FILE --finishes joint` trains
only the joint-loss finish, from that file's generator (the free-form road model's joint companion, issue 41):

    python benchmarks/roads_inpainter.py --data-root ../shared/data/roads --mask freeform --finish-epochs 16 \
        --base-from weights/inpainter-freeform-roads-128.safetensors --finishes joint --joint-by kid \
        --name roads_inpainter_joint --runs runs/roads_inpainter_joint

Runs are kept in --runs DIR: a finished one is reused and an unfinished one resumed. About 50 s per L2 epoch
and 85 s per joint epoch on the 2-core Intel Xeon (AVX-512 BF16), so the defaults take about 2 h.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ssl_ce.config import load_config, parse_overrides
from ssl_ce.results import markdown_table
from ssl_ce.study import (
    REFERENCE,
    Scored,
    Scores,
    command_line,
    keep_pictures,
    psnr,
    realism_cells,
    test_section,
    train_or_resume,
    write_table,
)

REPO = Path(__file__).resolve().parent.parent
BASE = "roads-128"
PUBLISHED_32PX = REPO / "weights" / "inpainter-center-cifar10-small32.safetensors"
BASE_EPOCHS = 91  # stage 1's default; with --base-from there is no stage 1
L2, JOINT = {"method.adv_weight": 0.0}, {"method.adv_weight": 0.001}  # the config's rec weight stays 0.999


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", help="The road photos (train/ and test/).")
    parser.add_argument("--config", default=BASE, help="The config every stage trains with.")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="A config value for every run, e.g. --set train.max_steps=20 for a quick look.")
    parser.add_argument("--base-epochs", type=int, help=f"Stage 1's epochs [default: {BASE_EPOCHS}].")
    parser.add_argument("--finish-epochs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--bottleneck", type=int, default=1000,
                        help="The generator's bottleneck width: 1000 fits the 50 MB file, 4000 is the paper's.")
    parser.add_argument("--shift", type=int, default=16,
                        help="Random training shifts of up to this many px (data.shift), in every stage.")
    parser.add_argument("--mask", default="center",
                        help="The holes every stage trains on and val scores (freeform: the free-form model).")
    parser.add_argument("--name", default="roads_inpainter",
                        help="The tables' and pictures' stem under --results (cats_inpainter for the cat photos).")
    parser.add_argument("--photos", default="road-photo", help="What the photos are, for the table's title.")
    parser.add_argument("--joint-by", choices=("psnr", "kid"), default="psnr",
                        help="How the joint-loss companion is picked among its stages on val: the highest PSNR, "
                             "or the lowest hole KID (the realism the adversarial loss is for).")
    parser.add_argument("--base-from", metavar="FILE",
                        help="Skip stage 1: the finishes start from this file's generator (a published model whose "
                             "stage-1 run is gone); the file is scored on val as the stage-1 row.")
    parser.add_argument("--finishes", nargs="+", choices=("L2", "joint"), default=["L2", "joint"],
                        help="The stage-2 finishes to train [default: both].")
    parser.add_argument("--runs", default=str(REPO / "runs" / "roads_inpainter"))
    parser.add_argument("--results", default=str(REPO / "results"))
    parser.add_argument("--score-test", action="store_true",
                        help="Score the chosen model once on the test split (after the choice is made on val).")
    args = parser.parse_args()
    if args.base_from and args.base_epochs is not None:
        parser.error("--base-epochs trains stage 1, which --base-from skips")
    if not args.base_from and args.base_epochs is None:
        args.base_epochs = BASE_EPOCHS
    runs, results = Path(args.runs), Path(args.results)
    scores = Scores(runs / "evaluations", {"mask": args.mask, "progress": False})
    common = {"model.bottleneck": args.bottleneck, "train.seed": args.seed, "data.shift": args.shift,
              "mask.type": args.mask,
              **({"data.root": args.data_root} if args.data_root else {}), **parse_overrides(args.sets)}

    images = str(load_config(args.config, common).data.root)  # filled at their own size, as a user's would be

    def val(name: str, stage: str, checkpoint: Path) -> Scored:
        rows = scores("inpainting", checkpoint, images=images, split="val", classical=False, results_dir=runs)
        return Scored(name, stage, checkpoint, rows[0])

    if args.base_from:
        base_file, base_runs = Path(args.base_from).resolve(), []
        candidates = [val("L2", "1: the given file", base_file)]
    else:
        base_cfg = load_config(args.config, {**common, **L2, "train.epochs": args.base_epochs})
        base = train_or_resume(base_cfg, runs / "l2-constant", progress=False)
        base_file, base_runs = base.checkpoint, [base.out_dir]
        candidates = [val("L2", "1: constant rate", base_file)]
    finishes = {}
    for name, loss in (("L2", L2), ("joint", JOINT)):
        if name not in args.finishes:
            continue
        cfg = load_config(args.config, {**common, **loss, "train.epochs": args.finish_epochs,
                                        "optim.lr_schedule": "cosine", "train.average_epochs": averaged_epochs(args),
                                        "train.init_from": str(base_file)})
        finishes[name] = train_or_resume(cfg, runs / f"{name.lower()}-cosine", progress=False)
        for stage, checkpoint in (("2: last weights", finishes[name].checkpoint),
                                  ("2: averaged", finishes[name].averaged)):
            candidates.append(val(name, stage, checkpoint))
            print(f"{candidates[-1].describe():32s} val PSNR {psnr(candidates[-1]):.2f} dB", flush=True)
    reference = val("published 32-px CIFAR-10 inpainter", REFERENCE, PUBLISHED_32PX)
    chosen = max(candidates, key=psnr)
    joints = [c for c in candidates if c.name == "joint"]
    joint = None  # no joint finish trained (--finishes L2): no companion
    if joints:
        joint = max(joints, key=psnr) if args.joint_by == "psnr" else min(joints, key=Scored.hole_kid)
    print(f"chosen on val: {chosen.describe()}, {psnr(chosen):.2f} dB; the 32-px file {psnr(reference):.2f}",
          flush=True)

    test_rows = scores("inpainting", chosen.checkpoint, images=images, split="test", classical=True,
                       also=tuple(str(f) for f in (joint and joint.checkpoint, PUBLISHED_32PX)
                                  if f and f != chosen.checkpoint),
                       results_dir=results / stem_name(args)) if args.score_test else []
    keep_pictures([*base_runs, *(finish.out_dir for finish in finishes.values())], results / stem_name(args))
    write_tables(results, [*candidates, reference], chosen, joint, test_rows, args,
                 command_line("benchmarks/roads_inpainter.py", parser, args, always=(
                     "config", "base_epochs", "finish_epochs", "seed", "shift", "bottleneck"),  # None: left out
                     leave_out=("runs", "results", "score_test")))


def stem_name(args: argparse.Namespace) -> str:
    """results/<name> for the centre model, <name>_<mask> for the others (roads_inpainter by default)."""
    return args.name + ("" if args.mask == "center" else f"_{args.mask.replace('-', '_')}")


def stage_one(args: argparse.Namespace) -> str:
    """Where the finishes start, for the table's text."""
    if args.base_from:
        return f"the finishes start from the generator of `{args.base_from}` (no stage 1 trained here)"
    return f"L2 at a constant rate for {args.base_epochs} epochs"


def finish_names(args: argparse.Namespace) -> list[str]:
    return [{"L2": "L2", "joint": "the joint loss"}[name] for name in args.finishes]


def companion(joint: Scored | None, args: argparse.Namespace) -> str:
    """The sentence naming the joint-loss companion, where a joint finish was trained."""
    if joint is None:
        return ""
    how = "highest val PSNR" if args.joint_by == "psnr" else "lowest val hole KID"
    return (f" The joint-loss companion in the pictures ({how} of its stages): {joint.describe()} "
            f"({psnr(joint):.2f} dB).")


def averaged_epochs(args: argparse.Namespace) -> int:
    return max(1, args.finish_epochs // 2)


def write_tables(results: Path, scored: list[Scored], chosen: Scored, joint: Scored | None, test_rows: list[dict],
                 args: argparse.Namespace, command: str) -> None:
    """Every val row, and the test rows when scored, to CSV; the choice (and the test rows) to Markdown."""
    names = {str(s.checkpoint): s.name for s in scored}  # the classical inpainters' rows name no checkpoint
    tested = [{"candidate": names.get(str(row.get("checkpoint")), ""), "stage": "test, scored once", **row}
              for row in test_rows]
    table = pd.DataFrame({"stage": [s.stage for s in scored],
                          "val PSNR dB": [f"{psnr(s):.2f}" for s in scored],
                          "val SSIM": [f"{float(s.row['ssim']):.3f}" for s in scored],
                          "val L2 %": [f"{float(s.row['l2_pct']):.3f}" for s in scored],
                          **{f"val {label}": values for label, values in realism_cells([s.row for s in scored]
                                                                                          ).items()},
                          "file": [f"`{s.checkpoint}`" for s in scored]},
                         index=pd.Index([s.name for s in scored], name="loss"))
    write_table(results / stem_name(args), [*(s.as_row() for s in scored), *tested], [  # export reads its rows
        f"# The 128-px {args.photos} {args.mask} inpainter, chosen on val", "",
        f"`{args.config}` with a {args.bottleneck}-d bottleneck and random training shifts of up to "
        f"{args.shift} px: {stage_one(args)}, then {args.finish_epochs} epochs on a cosine rate (generator "
        f"averaged over the last {averaged_epochs(args)}) with {' and with '.join(finish_names(args))}. Every "
        "number in this table is on the "
        f"{scored[0].row['images']} val images at their own size, {args.mask} holes, one pass (hole pixels, "
        "[0, 1]).", "",
        f"    {command}", "", markdown_table(table), "",
        f"**Chosen on val:** {chosen.describe()} ({psnr(chosen):.2f} dB).{companion(joint, args)}", "",
        *test_section(test_rows, command, f" at their own size, one pass, the same {args.mask} holes")])


if __name__ == "__main__":
    main()
