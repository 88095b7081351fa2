"""Are context-encoder features better than what simpler objectives learn? One command, same budget for all.

Pretrains on CIFAR-10 (configs/cifar10.yaml: small-32, bf16, batch 128) for the same number of epochs:
context encoder (centre and random-region holes), autoencoder, denoising autoencoder, and random init;
then evaluates each encoder with the linear probe (all labels and 100 per class) and fine-tuning
(1000 labels per class). Writes results/feature_quality.csv and results/feature_quality.md.

    python benchmarks/feature_quality.py --data-root ../shared/data [--epochs 3]

Runs are kept in --runs DIR; a run that already reached its budget is not retrained (rerunning resumes).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import pandas as pd

from ssl_ce.config import load_config
from ssl_ce.evaluators.classification import CLASSIFICATION
from ssl_ce.report import run_dir_name, train_or_resume
from ssl_ce.results import markdown_table

REPO = Path(__file__).resolve().parent.parent
METHODS = {
    "context-encoder (centre)": {"method.name": "context-encoder", "mask.type": "center"},
    "context-encoder (random region)": {"method.name": "context-encoder", "mask.type": "random-region"},
    "autoencoder": {"method.name": "autoencoder"},
    "denoising": {"method.name": "denoising"},
    "random init": {"method.name": "random"},
}
PROTOCOLS = [("linear", None), ("linear", 100), ("finetune", 1000)]


def pretrain(name: str, overrides: dict, runs: Path, epochs: int, data_root: str) -> tuple[Path, float]:
    cfg = load_config(REPO / "configs" / "cifar10.yaml",
                      {**overrides, "data.root": data_root, "train.epochs": epochs})
    start = time.perf_counter()
    result = train_or_resume(cfg, runs / run_dir_name(name))
    return result.checkpoint, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-root", default=str(REPO.parent / "shared" / "data"))
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--finetune-epochs", type=int, default=5)
    parser.add_argument("--split", choices=["val", "test"], default="val",
                        help="The split scored (test only for reported numbers, once a recipe is fixed on val).")
    parser.add_argument("--runs", default=str(REPO / "runs" / "feature_quality"))
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    runs, results = Path(args.runs), Path(args.results)
    started = time.perf_counter()
    rows = []
    for name, overrides in METHODS.items():
        ckpt, pretrain_s = pretrain(name, overrides, runs, args.epochs, args.data_root)
        for protocol, per_class in PROTOCOLS:
            start = time.perf_counter()
            (row,) = CLASSIFICATION(ckpt, protocol=protocol, labels_per_class=per_class,
                                    finetune_epochs=args.finetune_epochs, split=args.split, progress=False)
            rows.append({"name": name, "pretrain_epochs": args.epochs, "pretrain_s": round(pretrain_s, 1),
                         "eval_s": round(time.perf_counter() - start, 1), **row})
            print(f"{name:32s} {protocol:8s} labels/class={row['labels_per_class']!s:5s} "
                  f"top1={row['top1_pct']:.2f}%", flush=True)
    frame = pd.DataFrame(rows)
    results.mkdir(parents=True, exist_ok=True)
    frame.to_csv(results / "feature_quality.csv", index=False)
    table = frame.pivot_table(index="name", columns=["protocol", "labels_per_class"], values="top1_pct",
                              sort=False)
    table.columns = [f"{p} ({n} labels/class)" for p, n in table.columns]
    total_min = (time.perf_counter() - started) / 60
    (results / "feature_quality.md").write_text(
        f"# Feature quality on CIFAR-10 (top-1 %, {args.split} split)\n\n"
        f"Budget: {args.epochs} pretraining epochs per method (small-32, batch 128, bf16), linear probe on "
        f"frozen bottleneck features, fine-tuning {args.finetune_epochs} epochs. Whole run: {total_min:.0f} min "
        f"on this machine.\n\n    python benchmarks/feature_quality.py --data-root ../shared/data "
        f"--epochs {args.epochs} --split {args.split}\n\n{markdown_table(table)}\n")
    print(table.to_string())
    print(f"total {total_min:.1f} min; wrote {results / 'feature_quality.csv'} and feature_quality.md")


if __name__ == "__main__":
    main()
