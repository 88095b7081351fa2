"""Are context-encoder features better than what other objectives learn? One command, the same budget for all.

Pretrains every method on one dataset with one config and budget: the context encoder (random-region holes,
the paper's feature setting, and centre holes), the autoencoder, the denoising autoencoder, rotation
prediction, random init and, as the upper bound, supervised training; then scores each encoder with the linear
probe (all labels and 100 per class), fine-tuning and the weighted k-NN, and states mean ± std over the
pretraining seeds and the margins' 95 % intervals. Writes results/features_<dataset>.csv and .md.

    python benchmarks/feature_quality.py --dataset cifar10 --data-root ../shared/data --epochs 3
    python benchmarks/feature_quality.py --dataset roads --data-root ../shared/data/roads --epochs 10

`--split val` (the default) is for choosing the budget and recipe; the committed table is made once with
`--split test` after that. Runs are kept in --runs DIR; a run that already reached its budget is reused and an
unfinished one resumed, and every evaluation's rows are kept (runs/.../evaluations/), so the benchmark continues
across sessions without repeating work or scoring test twice.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from ssl_ce.config import parse_overrides
from ssl_ce.evaluators.records import encoder_evaluations
from ssl_ce.provenance import environment, machine_line
from ssl_ce.report import BASELINES as TARGET_BASELINES
from ssl_ce.report import FEATURE_TARGET, LINEAR
from ssl_ce.results import markdown_table
from ssl_ce.runtime import resolve_device
from ssl_ce.study import (
    TARGETS_HEADER,
    Scores,
    Study,
    command_line,
    feature_table,
    margins_table,
    mean_std_table,
    target_rows,
    write_table,
)
from ssl_ce.training.knn_monitor import monitor_seconds

REPO = Path(__file__).resolve().parent.parent
DATASETS = {"cifar10": "cifar10", "roads": "roads-128"}  # --dataset -> the shipped config it trains with
FINETUNE_LABELS = {"cifar10": 1000, "roads": None}  # None: every training label
METHODS = {
    "context encoder (random region)": {"method.name": "context-encoder", "mask.type": "random-region"},
    "context encoder (centre)": {"method.name": "context-encoder", "mask.type": "center"},
    "autoencoder": {"method.name": "autoencoder"},
    "denoising autoencoder": {"method.name": "denoising"},
    "rotation": {"method.name": "rotation"},
    "random init": {"method.name": "random"},
    "supervised": {"method.name": "supervised"},
}
BASELINES = (*TARGET_BASELINES, "rotation")  # margins also against rotation, the stronger pretext task


def score(scores: Scores, checkpoint: Path, tag: dict, args: argparse.Namespace) -> list[dict]:
    """Linear probe (all labels, few per class), fine-tuning and k-NN rows of one encoder."""
    rows = []
    for evaluator, options in encoder_evaluations((None, args.few_labels), args.finetune_labels,
                                                  args.finetune_epochs):
        # nn-retrieval draws a picture: under --results, not the repository's results/
        pictures = {"results_dir": args.results} if evaluator == "nn-retrieval" else {}
        rows += scores(evaluator, checkpoint, tag, **options, **pictures)
    return rows


def knn_monitor_share(run: Path, pretrain_s: float) -> float:
    """% of a run's training wall time that its online k-NN monitor took (the issue's budget: at most 5 %); NaN
    for runs logged before the monitor timed itself, and for random init, which does not train."""
    seconds = monitor_seconds(run)
    return float("nan") if seconds is None or not pretrain_s > 0 else round(100 * seconds / pretrain_s, 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=list(DATASETS), default="cifar10")
    parser.add_argument("--config", default=None,
                        help="The config every method trains with [default: cifar10 or roads-128, by --dataset].")
    parser.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                        help="A config value for every run, e.g. --set model.bottleneck=1000.")
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", choices=list(METHODS), default=list(METHODS),
                        help="Methods to run [default: all].")
    parser.add_argument("--one-seed", nargs="+", choices=list(METHODS), default=[], metavar="METHOD",
                        help="Methods run with the first of --seeds only: references beside the compared ones "
                             "[default: none].")
    parser.add_argument("--few-labels", type=int, default=100,
                        help="Labels per class of the second linear probe, the few-label one [default: 100].")
    parser.add_argument("--finetune-epochs", type=int, default=5)
    parser.add_argument("--finetune-labels", type=int, default=None,
                        help="Labels per class for fine-tuning [default: 1000 on cifar10, all on roads, whose "
                             "smallest class has 908 training photos].")
    parser.add_argument("--split", choices=["val", "test"], default="val",
                        help="The split scored (test only once the recipe is fixed on val).")
    parser.add_argument("--runs", default=None, help="Run directories [default: runs/features_<dataset>].")
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    command = command_line("benchmarks/feature_quality.py", parser, args,
                           always=("dataset", "data_root", "epochs", "seeds", "split"), leave_out=("runs", "results"))
    args.finetune_labels = args.finetune_labels or FINETUNE_LABELS[args.dataset]
    if not set(args.one_seed) <= set(args.methods):
        parser.error(f"--one-seed: {', '.join(sorted(set(args.one_seed) - set(args.methods)))} not in --methods")
    config = args.config or DATASETS[args.dataset]
    study = Study(config, {name: METHODS[name] for name in args.methods},
                  Path(args.runs or REPO / "runs" / f"features_{args.dataset}"),
                  {"data.root": args.data_root, "train.epochs": args.epochs, **parse_overrides(args.sets)},
                  tuple(args.seeds), tuple(args.one_seed))
    scores = Scores(study.folder / "evaluations", {"split": args.split, "progress": False})
    rows, timing = [], []
    for name, seed in study.pairs():
        result, tag = study.train(name, seed), {"name": name, "pretrain_seed": seed}
        before = scores.seconds
        rows += score(scores, result.checkpoint, tag, args)
        pretrain_s = result.train_seconds or float("nan")
        timing.append({**tag, "pretrain_s": round(pretrain_s, 1), "eval_s": round(scores.seconds - before, 1),
                       "knn_monitor_pct": knn_monitor_share(result.out_dir, pretrain_s)})
        print(f"{name:32s} seed {seed}: pretrain {pretrain_s / 60:.1f} min", flush=True)
    classification = [row for row in rows if "protocol" in row]
    per_seed = feature_table(classification, [row for row in rows if row.get("features") == "encoder"])
    total_min = sum(t["pretrain_s"] + t["eval_s"] for t in timing) / 60  # over every session that worked on it
    ours = [n for n in ("context encoder (random region)", "context encoder (centre)") if n in args.methods]
    baselines = tuple(b for b in BASELINES if b in args.methods)
    margins = "".join(f"\n\n### {n} minus each baseline (95 % interval)\n\n"
                      f"{markdown_table(margins_table(per_seed, n, baselines))}" for n in ours if baselines)
    judged = tuple(b for b in TARGET_BASELINES if b in args.methods)  # the target's baselines (not rotation)
    targets = "\n".join(["\n\n## Against the target", "", *TARGETS_HEADER,
                          *(row for n in ours for row in target_rows(per_seed, n, judged, LINEAR, FEATURE_TARGET,
                                                                     "points, linear probe"))]) \
        if ours and judged else ""
    one_seed = f" ({args.seeds[0]} alone for {', '.join(args.one_seed)})" if args.one_seed else ""
    finetune_labels = f"{args.finetune_labels} labels per class" if args.finetune_labels else "every training label"
    device = resolve_device(study.config_of(*next(study.pairs())).train.device)
    write_table(Path(args.results) / f"features_{args.dataset}", rows, [
        f"# Feature quality on {args.dataset} (top-1 %, {args.split} split)\n\n"
        f"Budget: configs/{config}.yaml, {args.epochs} pretraining epochs per method, pretraining "
        f"seeds {', '.join(map(str, args.seeds))}{one_seed}; linear probe on frozen encoder features, fine-tuning "
        f"{args.finetune_epochs} epochs with {finetune_labels}, weighted k-NN (k = 20). Mean ± std over the "
        f"seeds. Whole run: {total_min:.0f} min of compute (pretraining and evaluation, summed over the sessions "
        f"that made them). Table made on {machine_line(environment(device))}."
        f"\n\n    {command}\n\n"
        f"{markdown_table(mean_std_table(per_seed))}{targets}{margins}\n\n"
        f"## Time per run (s)\n\n{markdown_table(pd.DataFrame(timing).set_index('name'))}\n"])
    print(f"total {total_min:.1f} min")


if __name__ == "__main__":
    main()
