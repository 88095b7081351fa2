"""What the online k-NN monitor (`train.knn_every`) costs: its share of the training loop's wall time in every
shipped config that turns it on. The issue's budget is at most 5 %.

For each such config whose data are here, trains each `--methods` for exactly `knn_every` steps, so that the
run ends on one measurement. The share is that measurement's seconds over the wall time of all the steps, which
includes it. Start-up (decoding the data) is left out of the denominator, so the share is if anything
overstated. The default method is rotation: its step is the cheapest of all the methods (the encoder alone), so
its share is the largest the monitor takes. Writes results/knn_monitor_overhead.csv and .md, naming the CPU or
GPU, the commit and torch.

    python benchmarks/knn_monitor_overhead.py [--configs quick cifar10 ...] [--methods rotation context-encoder]
                                              [--cifar10-root ../shared/data] [--device auto]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import pandas as pd

from ssl_ce.config import Config, load_config, shipped_config_names
from ssl_ce.data.cifar10 import find_cifar10
from ssl_ce.errors import SslCeError
from ssl_ce.provenance import environment, machine_line
from ssl_ce.results import markdown_table
from ssl_ce.runtime import resolve_device
from ssl_ce.study import command_line
from ssl_ce.training.knn_monitor import monitor_seconds
from ssl_ce.training.loop import train

REPO = Path(__file__).resolve().parent.parent
BUDGET_PCT = 5.0


def monitored_configs() -> list[str]:
    """The shipped configs whose runs measure k-NN as they train."""
    return [name for name in shipped_config_names() if load_config(name).train.knn_every > 0]


def data_present(source: str, root: str | None) -> bool:
    """Whether a data source's files are on this machine (the built-in photos always are)."""
    if source == "cifar10":
        try:
            find_cifar10(root)  # the loader's own look-up, so "present" means what training will find
        except SslCeError:
            return False
        return True
    return source != "folder" or (root is not None and Path(root).is_dir())


def measure(cfg: Config, work: Path) -> dict:
    """One run of `knn_every` steps: the monitor's seconds and its share of the steps' wall time."""
    result = train(cfg, work, progress=False)
    loop_s = result.step * cfg.train.batch_size / result.images_per_second
    knn_s = monitor_seconds(work)
    if knn_s is None:  # the data had no labels and the run said so
        raise SystemExit(f"{cfg.data.source}: the k-NN monitor did not run")
    return {"steps": result.step, "loop_s": round(loop_s, 3), "knn_s": round(knn_s, 3),
            "share_pct": round(100 * knn_s / loop_s, 2)}


def main() -> None:
    configs = monitored_configs()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", choices=configs, default=configs,
                        help="Shipped configs to measure [default: every one with the monitor on].")
    parser.add_argument("--methods", nargs="+", default=["rotation"],
                        help="Methods to train [default: rotation, the cheapest step].")
    parser.add_argument("--cifar10-root", default=str(REPO.parent / "shared" / "data"),
                        help="The folder holding cifar-10-batches-py, for the CIFAR-10 configs.")
    parser.add_argument("--device", default="auto")
    parser.add_argument("--results", default=str(REPO / "results"))
    args = parser.parse_args()
    rows, skipped = [], []
    for name in args.configs:
        shipped = load_config(name)
        root = args.cifar10_root if shipped.data.source == "cifar10" else shipped.data.root
        if root is not None and not Path(root).is_absolute():
            root = str(REPO / root)  # the shipped configs' paths are from the repository root
        if not data_present(shipped.data.source, root):
            skipped.append(name)
            continue
        for method in args.methods:
            cfg = load_config(name, {"method.name": method, "data.root": root, "train.device": args.device,
                                     "train.max_steps": shipped.train.knn_every})
            with tempfile.TemporaryDirectory() as work:
                row = {"config": name, "method": method, "knn_every": cfg.train.knn_every, **measure(cfg, Path(work))}
            rows.append(row)
            print(f"{name:18s} {method:16s} monitor {row['knn_s']:.1f} s of {row['loop_s']:.1f} s: "
                  f"{row['share_pct']:.2f} %", flush=True)
    machine = machine_line(environment(resolve_device(args.device)))
    table = pd.DataFrame(rows, columns=["config", "method", "knn_every", "steps", "loop_s", "knn_s", "share_pct"])
    table["within_budget"] = table["share_pct"] <= BUDGET_PCT
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    table.assign(machine=machine).to_csv(results / "knn_monitor_overhead.csv", index=False)
    command = command_line("benchmarks/knn_monitor_overhead.py", parser, args, always=("configs", "methods"),
                           leave_out=("results",))
    missing = f"\n\nNot measured, data absent: {', '.join(skipped)}." if skipped else ""
    (results / "knn_monitor_overhead.md").write_text(
        f"# Online k-NN monitor: share of training wall time (budget {BUDGET_PCT:g} %)\n\n"
        f"Each run trains `knn_every` steps and ends on one measurement; share = its seconds / the steps' wall "
        f"time. {machine}.\n\n    {command}\n\n{markdown_table(table.set_index('config'))}{missing}\n")
    print(f"wrote {results / 'knn_monitor_overhead.csv'} and .md")


if __name__ == "__main__":
    main()
