"""The `ssl-ce` command line. Errors a user can cause print one line and exit with code 2.

Only click, PyYAML and the config schema load to build it: each command imports what it runs, and the
component choices are read from the registries when shown or checked, so `ssl-ce --help` does not load torch.
"""

from __future__ import annotations

import json
import sys
import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from ssl_ce import __version__
from ssl_ce.config import Config, apply_overrides, config_from_dict, load_config, parse_overrides, shipped_config_names
from ssl_ce.errors import Interrupted, SslCeError
from ssl_ce.evaluators.common import RegistryChoice
from ssl_ce.registries import DATASETS, EVALUATORS, MASKS, METHODS, MODELS


def resolve_pretrain_config(config: str | None, out: Path, resume: bool, overrides: dict[str, Any]) -> Config:
    """The config file, or on --resume without one the config stored in the run's checkpoint; then overrides."""
    from ssl_ce.checkpoint import CHECKPOINT_NAME, read_metadata

    if resume and config is None and (out / CHECKPOINT_NAME).exists():
        raw = json.loads(read_metadata(out / CHECKPOINT_NAME)["config"])
        return config_from_dict(apply_overrides(raw, overrides))
    return load_config(config, overrides)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 110})
@click.version_option(__version__, prog_name="ssl-ce")
def cli() -> None:
    """ssl-ce: Context Encoders (Pathak et al., CVPR 2016) and baselines for self-supervised features."""


@cli.command()
@click.option("--config", "config", type=click.Path(dir_okay=False), help="YAML config: a file, or the name of "
              f"one that ships with ssl-ce ({', '.join(shipped_config_names())}); defaults to the quick photos config.")
@click.option("--out", type=click.Path(file_okay=False), help="Run directory [default: runs/<config>-<time>].")
@click.option("--resume", is_flag=True, help="Continue the run in --out from its last checkpoint.")
@click.option("--data", "source", type=RegistryChoice(DATASETS), help="Data source.")
@click.option("--data-root", type=click.Path(), help="cifar10: folder holding cifar-10-batches-py; folder: images.")
@click.option("--download", is_flag=True, default=None, help="cifar10: download when missing (needs a network).")
@click.option("--strict", is_flag=True, default=None,
              help="folder: stop at the first unreadable image instead of skipping it with a warning.")
@click.option("--model", type=RegistryChoice(MODELS), help="Architecture.")
@click.option("--mask", type=RegistryChoice(MASKS), help="Hole type.")
@click.option("--method", type=RegistryChoice(METHODS), help="Pretraining method (or a baseline).")
@click.option("--epochs", type=int, help="Epochs to train.")
@click.option("--max-steps", type=int, help="Stop after this many steps (overrides --epochs when smaller).")
@click.option("--batch-size", type=int, help="Images per step (per process under torchrun).")
@click.option("--precision", type=click.Choice(["auto", "fp32", "bf16", "fp16"]),
              help="Autocast precision; auto (the default): bf16 where the device runs it natively, else fp32.")
@click.option("--device", help="auto, cpu, cuda or cuda:N.")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--init-from", type=click.Path(dir_okay=False),
              help="Fine-tune: start from this checkpoint's (or export's) weights with fresh optimisers.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Any config value, e.g. --set method.adv_weight=0 (repeatable).")
@click.option("--tensorboard", is_flag=True, default=None,
              help="Also log to <out>/tensorboard (needs the tensorboard package).")
@click.option("--no-progress", is_flag=True, help="No progress bar (logs still go to metrics.csv).")
def pretrain(config: str | None, out: str | None, resume: bool, sets: tuple[str, ...], no_progress: bool,
             **options: Any) -> None:
    """Train a context encoder; leaves checkpoint, config, metrics.csv and plots in the run directory."""
    from ssl_ce.training import train

    keys = {"source": "data.source", "data_root": "data.root", "download": "data.download", "strict": "data.strict",
            "model": "model.name", "mask": "mask.type", "method": "method.name", "epochs": "train.epochs",
            "max_steps": "train.max_steps", "batch_size": "train.batch_size", "precision": "train.precision",
            "device": "train.device", "seed": "train.seed", "init_from": "train.init_from",
            "tensorboard": "train.tensorboard"}
    overrides = {keys[name]: value for name, value in options.items() if value is not None}
    overrides.update(parse_overrides(sets))
    if out is None:
        if resume:
            raise SslCeError("--resume needs --out DIR, the run directory to continue")
        stem = Path(config).stem if config else "quick"
        out = f"runs/{stem}-{datetime.now():%Y%m%d-%H%M%S}"
    cfg = resolve_pretrain_config(config, Path(out), resume, overrides)
    result = train(cfg, out, resume=resume, progress=not no_progress)
    if not result.main_process:
        return
    losses = ", ".join(f"{k} {v:.4f}" for k, v in result.last_losses.items())
    click.echo(f"trained {result.step} steps ({result.images_per_second:.0f} img/s); {losses}")
    click.echo(f"run directory: {result.out_dir}  checkpoint: {result.checkpoint}")
    if result.averaged is not None:
        click.echo(f"weight-averaged generator (train.average_epochs): {result.averaged}")


class EvalGroup(click.Group):
    """`ssl-ce eval NAME`: one sub-command per registered evaluator, plug-ins included."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return EVALUATORS.names()

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return eval_command(EVALUATORS.get(cmd_name)) if cmd_name in EVALUATORS else None


def eval_command(evaluator: Any) -> click.Command:
    """Wraps an Evaluator: common options, then its own; rows are appended to results/<csv> and printed."""
    from ssl_ce.evaluators.common import results_path
    from ssl_ce.results import append_rows

    def callback(checkpoint: str, results: str, no_progress: bool, **options: Any) -> None:
        rows = evaluator(checkpoint, results_dir=results, progress=not no_progress, **options)
        path = results_path(results, evaluator)
        append_rows(path, evaluator.columns, rows)
        for row in rows:
            click.echo(", ".join(f"{k}={v}" for k, v in row.items() if k not in ("git_commit", "ssl_ce_version")))
        click.echo(f"appended {len(rows)} row(s) to {path}")
        if options.get("split") == "test":
            from ssl_ce.evaluators.test_looks import ledger_path

            click.echo(f"a test-split scoring: recorded in the test-look ledger {ledger_path()}")

    params = [click.Option(["--checkpoint"], required=True, type=click.Path(dir_okay=False),
                           help="A checkpoint.safetensors written by `ssl-ce pretrain`."),
              *evaluator.params,
              click.Option(["--results"], default="results", show_default=True, type=click.Path(file_okay=False),
                           help=f"Folder of the CSV tables (this one appends to {evaluator.csv_name})."),
              click.Option(["--no-progress"], is_flag=True, help="No progress bars.")]
    return click.Command(evaluator.name, callback=callback, params=params, help=evaluator.help,
                         context_settings={"help_option_names": ["-h", "--help"]})


@cli.group(cls=EvalGroup, name="eval")
def eval_group() -> None:
    """Judge a checkpoint's encoder; each evaluator appends rows to a CSV table under results/."""


@cli.command()
@click.option("--checkpoint", required=True, type=click.Path(dir_okay=False),
              help="A checkpoint or an inpainter export (e.g. weights/inpainter-center-*.safetensors).")
@click.option("--images", required=True, type=click.Path(file_okay=False),
              help="A folder of images of any size and common format (searched recursively).")
@click.option("--masks", type=click.Path(file_okay=False),
              help="A folder of masks matched by file name (white = hole; resized to their image if needed).")
@click.option("--mask", type=RegistryChoice(MASKS), help="Draw holes of this type instead of reading --masks.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Where the filled images go, as lossless PNG under their own names.")
@click.option("--grid", type=click.Path(dir_okay=False), help="Also write a PNG: input, fill, original.")
@click.option("--flip-average", is_flag=True, help="Average each fill with the fill of the mirrored window.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the holes --mask draws.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def inpaint(checkpoint: str, images: str, masks: str | None, mask: str | None, out: str, grid: str | None,
            flip_average: bool, seed: int, device: str, no_progress: bool) -> None:
    """Fill the holes of a folder of photos: each hole is filled in a window around it, cut so that the model
    sees the hole it was trained on, pasted back at full resolution, every pixel outside the holes unchanged."""
    from ssl_ce.inpaint import inpaint_folder
    from ssl_ce.pretrained import ModelInpainter
    from ssl_ce.runtime import resolve_device

    model = ModelInpainter(Path(checkpoint), resolve_device(device), flip_average=flip_average)
    result = inpaint_folder(model, Path(images), Path(out), Path(masks) if masks else None, mask,
                            Path(grid) if grid else None, seed, progress=not no_progress)
    skipped = f"; skipped {result.skipped} unreadable image(s)" if result.skipped else ""
    if result.unsuited:
        click.echo(f"note: {len(result.unsuited)} image(s) have a hole that does not suit {model.name} "
                   f"(first: {result.unsuited[0]})", err=True)
    click.echo(f"wrote {len(result.written)} filled image(s) to {out}{skipped}" + (f"; grid: {grid}" if grid else ""))


@cli.command()
@click.option("--checkpoint", required=True, type=click.Path(dir_okay=False),
              help="An inpainter (checkpoint or export), e.g. weights/inpainter-center-roads-128.safetensors.")
@click.option("--also", multiple=True, type=click.Path(dir_okay=False), help="More inpainters beside it; repeatable.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind; anything but 127.0.0.1 exposes the demo to the network (a warning says so).")
@click.option("--port", default=8080, show_default=True, type=int, help="Port (0: any free one).")
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the default browser.")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
def demo(checkpoint: str, also: tuple[str, ...], host: str, port: int, open_browser: bool, device: str) -> None:
    """Serve a local page: load a photo, paint a hole, see each model's fill (and Telea's) side by side; its
    API (POST /api/v1/inpaint, GET /api/v1/models) is documented in the README. Ctrl-C stops it."""
    import webbrowser

    from ssl_ce.checkpoint import run_label
    from ssl_ce.demo.server import DemoModels, DemoServer, offline_photos
    from ssl_ce.pretrained import ModelInpainter
    from ssl_ce.runtime import resolve_device

    torch_device = resolve_device(device)
    loaded = [ModelInpainter(Path(path), torch_device) for path in (checkpoint, *also)]
    names = [model.name for model in loaded]  # two runs of one method are told apart as the evaluator does
    models = {name if names.count(name) == 1 else f"{name} [{run_label(model.path)}]": model
              for name, model in zip(names, loaded, strict=True)}
    if host not in ("127.0.0.1", "localhost", "::1"):
        click.echo(f"warning: binding {host} lets other machines use this demo; it has no authentication", err=True)
    try:
        server = DemoServer(DemoModels(models, offline_photos()), host, port, verbose=True)
    except OSError as exc:
        raise SslCeError(f"cannot listen on {host}:{port}: {exc.strerror}; try --port 0") from None
    click.echo(f"ssl-ce demo: {len(models)} model(s) at {server.url}  (Ctrl-C stops it)")
    if open_browser:
        webbrowser.open(server.url)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        click.echo("stopped")
    finally:
        server.server_close()


@cli.command()
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The export file (.safetensors).")
@click.option("--part", type=click.Choice(["encoder", "inpainter"]), default="encoder", show_default=True,
              help="encoder: the feature extractor; inpainter: the whole generator (encoder and decoder).")
@click.option("--fp16", is_flag=True, help="Store the weights in half precision (half the size; loaded as fp32).")
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False),
              help="Results tables whose rows for this checkpoint are recorded in the export.")
def export(checkpoint: str, out: str, part: str, fp16: bool, results: str) -> None:
    """Write a standalone safetensors file of a checkpoint's encoder or inpainter, with its provenance."""
    from ssl_ce.export import export_checkpoint

    metadata = export_checkpoint(Path(checkpoint), Path(out), part, fp16, Path(results))
    evaluations = len(json.loads(metadata["evaluations"]))
    click.echo(f"wrote {out}: {metadata['model']} {part}, {int(metadata['parameters']):,} parameters, "
               f"{metadata['dtype']}, {evaluations} recorded evaluation(s)")


@cli.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="The averaged file (.safetensors).")
@click.option("--data-root", type=click.Path(),
              help="Where the first file's training data lives, if not where it was trained (its batch norms "
                   "are measured on 10,000 of those images).")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
def average(sources: tuple[str, ...], out: str, data_root: str | None, device: str) -> None:
    """Average the generator weights of SOURCES (runs of one lineage, e.g. continued from the same weights with
    other seeds or rates) into one model, a uniform model soup; evaluators and export take the result."""
    from ssl_ce.training.averaging import average_files

    path = average_files([Path(s) for s in sources], Path(out), data_root, device)
    click.echo(f"wrote {path}: the mean of {len(sources)} generators, batch norms measured again")


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--results", default="results", show_default=True, type=click.Path(file_okay=False),
              help="For training checkpoints: where to look for their evaluations.")
def info(file: str, results: str) -> None:
    """Say what a checkpoint or export is: architecture, parameters, method, data, steps, evaluations."""
    from ssl_ce.info import describe

    for field, value in describe(Path(file), Path(results)):
        click.echo(f"{field + ':':22s} {value}")


@cli.command()
@click.option("--budget", type=click.Choice(["quick", "standard"]), default="quick", show_default=True,
              help="quick: built-in photos, 5-12 minutes on 2 CPU cores; standard: CIFAR-10, hours on 2 CPU "
                   "cores (its REPORT.md is the one committed under results/). Both train 3 seeds of every method "
                   "and score the test split once.")
@click.option("--data-root", type=click.Path(), help="standard: folder holding cifar-10-batches-py.")
@click.option("--out", type=click.Path(file_okay=False),
              help="Where REPORT.md and its tables go [default: results/ for standard, runs/report-quick/ for quick].")
@click.option("--runs", type=click.Path(file_okay=False),
              help="Run directories; finished runs there are reused [default: runs/report-<budget>/].")
@click.option("--device", default="auto", show_default=True, help="auto, cpu, cuda or cuda:N.")
@click.option("--no-progress", is_flag=True, help="No progress bars.")
def report(budget: str, data_root: str | None, out: str | None, runs: str | None, device: str,
           no_progress: bool) -> None:
    """Pretrain every method with one budget, run every evaluator on each, and write REPORT.md."""
    from ssl_ce.report import default_out, run_report

    out_dir = Path(out) if out else default_out(budget)
    path = run_report(budget, out_dir, Path(runs or f"runs/report-{budget}"), data_root, device,
                      progress=not no_progress, log=lambda line: click.echo(line, err=True))
    click.echo(f"wrote {path}")


def _one_line_warning(message: Warning | str, category: type[Warning], *args: Any, **kwargs: Any) -> str:
    return f"warning: {message}\n"


def main() -> None:
    warnings.formatwarning = _one_line_warning
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.UsageError as exc:  # one line, like every other user error
        command = exc.ctx.command_path if exc.ctx else "ssl-ce"
        click.echo(f"error: {exc.format_message()} (see {command} --help)", err=True)
        sys.exit(2)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2)
    except Interrupted as exc:
        click.echo(str(exc), err=True)
        sys.exit(130)
    except SslCeError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
