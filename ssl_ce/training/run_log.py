"""What a run writes as it goes: metrics.csv, run.json, TensorBoard, the progress bar, the loss health checks,
and the epoch-end pictures (sample grid, loss curves)."""

from __future__ import annotations

import contextlib
import csv
import json
import time
import warnings
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ssl_ce.checkpoint import CHECKPOINT_NAME
from ssl_ce.config import Config
from ssl_ce.data.batches import Batch, to_uint8
from ssl_ce.errors import SslCeError
from ssl_ce.evaluators.inpaint_metrics import mean_scores
from ssl_ce.methods import Method, method_spec
from ssl_ce.plots import plot_loss_curves, save_image_table, save_inpainting_grid
from ssl_ce.realism.distances import kid
from ssl_ce.realism.measure import KID_SCALE, Reference, crop
from ssl_ce.realism.sharpness import periodic_peak_ratio, sharpness_ratios
from ssl_ce.training.health import CollapseMonitor, check_finite

LOG_EVERY = 10  # steps between host syncs for logging (losses are kept on device in between)


def tensorboard_writer(out: Path):
    """A SummaryWriter on <run>/tensorboard; TensorBoard is optional, so its absence is a one-line error."""
    try:
        from torch.utils.tensorboard import SummaryWriter
    except ImportError:
        raise SslCeError("--tensorboard needs the tensorboard package: pip install tensorboard "
                         "(or pip install 'ssl-ce[tensorboard]')") from None
    return SummaryWriter(str(out / "tensorboard"))


class MetricsLog:
    """metrics.csv, one row per step; on resume, rows after the checkpoint's step are dropped."""

    def __init__(self, path: Path, resume_step: int) -> None:
        self.path = path
        self.columns: list[str] | None = None
        if resume_step and path.exists():
            with path.open() as f:
                rows = [r for r in csv.DictReader(f) if int(r["step"]) <= resume_step]
            if rows:
                self.columns = list(rows[0].keys())
                with path.open("w", newline="") as f:
                    writer = csv.DictWriter(f, self.columns)
                    writer.writeheader()
                    writer.writerows(rows)
        elif path.exists():
            path.unlink()

    def write(self, rows: list[dict[str, float]]) -> None:
        if not rows:
            return
        new = self.columns is None
        if new:
            self.columns = list(rows[0].keys())
        elif added := [k for k in rows[0] if k not in self.columns]:  # a resumed run measures more columns now
            with self.path.open() as f:
                kept = list(csv.DictReader(f))
            self.columns += added
            with self.path.open("w", newline="") as f:
                writer = csv.DictWriter(f, self.columns)
                writer.writeheader()
                writer.writerows(kept)
        with self.path.open("a", newline="") as f:
            writer = csv.DictWriter(f, self.columns)
            if new:
                writer.writeheader()
            writer.writerows(rows)


def write_run_info(path: Path, info: dict, resume: bool) -> None:
    """run.json for this stretch of training; on resume the earlier stretches' records are kept under
    `earlier_segments`, so a run continued on another machine or commit still says where its start came from."""
    if resume and path.exists():
        earlier = json.loads(path.read_text())
        info = {**info, "earlier_segments": [*earlier.pop("earlier_segments", []), earlier]}
    path.write_text(json.dumps(info, indent=2))


class StepLog:
    """Losses stay on the device for LOG_EVERY steps, then one host sync turns them into metrics.csv rows,
    TensorBoard scalars and the progress bar's numbers. Every rank checks them (a NaN stops all ranks alike);
    the main process alone writes."""

    def __init__(self, out: Path, cfg: Config, resume_step: int, total_steps: int, images_per_step: int,
                 steps_per_epoch: int, main: bool, progress: bool, measured: tuple[str, ...] = ()) -> None:
        """`measured`: columns filled only on the steps that measure them (the k-NN monitor's), empty elsewhere."""
        self.checkpoint_path = out / CHECKPOINT_NAME
        self.images_per_step, self.steps_per_epoch = images_per_step, steps_per_epoch
        self.metrics = MetricsLog(out / "metrics.csv", resume_step) if main else None
        self.board = tensorboard_writer(out) if main and cfg.train.tensorboard else None
        self.collapse = CollapseMonitor(cfg.train)
        self.main = main
        self.bar = tqdm(total=total_steps, initial=resume_step, disable=not (progress and main), unit="step",
                        dynamic_ncols=True, mininterval=1.0)
        self.measured = measured
        self.pending: list[tuple[int, dict[str, torch.Tensor], dict[str, float]]] = []
        self.last: dict[str, float] = {}
        self.window_start = time.perf_counter()

    def add(self, step: int, losses: dict[str, torch.Tensor], measured: dict[str, float] | None = None) -> None:
        self.pending.append((step, losses, measured or {}))
        self.bar.update(1)
        if len(self.pending) >= LOG_EVERY:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        names = list(self.pending[0][1])
        values = torch.stack([torch.stack([losses[n].detach().float() for n in names])
                              for _, losses, _ in self.pending]).cpu().tolist()
        rate = len(self.pending) * self.images_per_step / max(time.perf_counter() - self.window_start, 1e-9)
        rows = []
        for (step, _, measured), vals in zip(self.pending, values, strict=True):
            row = {"step": step, "epoch": round(step / self.steps_per_epoch, 4), **dict(zip(names, vals, strict=True)),
                   **{name: measured.get(name, "") for name in self.measured}}
            check_finite(row, step, self.checkpoint_path)
            collapsed, message = self.collapse.update(row)
            if message and self.main:
                warnings.warn(message, stacklevel=1)
            rows.append({**row, "d_collapsed": int(collapsed), "img_per_s": round(rate, 1)})
        self.last.update(dict(zip(names, values[-1], strict=True)))
        if self.metrics is not None:
            self.metrics.write(rows)
        if self.board is not None:
            for row in rows:
                for key, value in row.items():
                    if key not in ("step", "epoch") and value != "":
                        self.board.add_scalar(key, value, row["step"])
            self.board.flush()
        shown = {k: f"{v:.4f}" for k, v in self.last.items() if k in ("rec", "adv", "d_total")}
        self.last.update({k: v for _, _, measured in self.pending for k, v in measured.items()})
        self.bar.set_postfix({"img/s": f"{rate:.0f}", **shown})
        self.pending.clear()
        self.window_start = time.perf_counter()

    def close(self) -> None:
        self.flush()
        self.bar.close()
        if self.board is not None:
            self.board.close()


class EpochPictures:
    """At a marked epoch end: the validation-image sample grid (samples/epoch_NNN.png, and TensorBoard) drawn by the
    unwrapped nets, an inpainter's val PSNR on a fixed set of validation images and holes (val_curve.csv: the
    papers' "error against epochs" on held-out images, which the training losses are not), and the loss curves
    (loss_curve.png) redrawn from metrics.csv and val_curve.csv."""

    def __init__(self, out: Path, cfg: Config, method: Method, grid_batch: Batch,
                 autocast: contextlib.AbstractContextManager, steps_per_epoch: int, board=None,
                 curve_batch: Batch | None = None, resume_step: int = 0,
                 curve_reference: Reference | None = None) -> None:
        self.out, self.cfg, self.method, self.grid_batch = out, cfg, method, grid_batch
        self.autocast, self.steps_per_epoch, self.board = autocast, steps_per_epoch, board
        self.curve_batch, self.curve_reference = curve_batch, curve_reference
        self.curve = MetricsLog(out / VAL_CURVE, resume_step)
        (out / "samples").mkdir(parents=True, exist_ok=True)

    def _fills(self, batch: Batch) -> tuple[torch.Tensor, torch.Tensor] | None:
        """(masked input, fill) of `batch` by the generator in eval mode; None for a method that does not fill."""
        generator = self.method.generator
        generator.eval()
        with torch.no_grad(), self.autocast:
            shown = self.method.sample(batch, self.method.predict(batch))
        generator.train()
        return shown

    def __call__(self, epoch: int, step: int) -> None:
        shown = self._fills(self.grid_batch)
        if shown is not None and self.curve_batch is not None:
            self.curve.write([{"step": step, "epoch": epoch, **self._curve_scores()}])
        if shown is not None:
            png = self.out / "samples" / f"epoch_{epoch:03d}.png"
            what = method_spec(self.cfg).label(self.cfg)
            save_inpainting_grid(*shown, self.grid_batch.images, png,
                                 f"{self.cfg.model.name}, {what}, epoch {epoch} (step {step}), validation images")
            self._over_epochs(epoch, *shown)
            if self.board is not None:
                from PIL import Image

                self.board.add_image("samples", np.asarray(Image.open(png).convert("RGB")), step, dataformats="HWC")
        plot_loss_curves(self.out / "metrics.csv", self.out / "loss_curve.png", self.steps_per_epoch,
                         self.out / VAL_CURVE)

    def _curve_scores(self) -> dict[str, float]:
        """The val curve's columns: PSNR, the high-frequency ratio over the holes (weight-free: a blur is far
        below 1, a checkerboard above) and the periodic-peak ratio (a grid coming up as training goes on), and
        the hole KID where a reference of real train photos was given."""
        originals = list(_uint8(self.curve_batch.images))
        holes = list(self.curve_batch.masks.hole[:, 0].bool().cpu().numpy())
        filled = list(_uint8(self._fills(self.curve_batch)[1]))
        scores = {"val_psnr_db": round(mean_scores(originals, filled, holes).psnr_db, 3),
                  "val_hf_ratio": round(sharpness_ratios(originals, filled, holes)[0], 4),
                  "val_peak_ratio": round(periodic_peak_ratio(originals, filled, holes), 2)}
        if self.curve_reference is not None:
            reference = self.curve_reference
            crops = [crop(f, square) for f, square in zip(filled, reference.squares, strict=True)]
            value = kid(reference.net.embed(crops), reference.hole)
            scores[f"val_kid_{reference.net.name}_hole"] = round(value.mean * KID_SCALE, 2)
        return {**scores, "images": len(holes)}

    def _over_epochs(self, epoch: int, masked: torch.Tensor, filled: torch.Tensor) -> None:
        """samples/over_epochs.png: the same validation images filled at epochs 1, 2, 5, 10, 20, 50, ... and the
        latest, side by side (the paper's code shows training this way). The fills of those epochs are kept in
        samples/fills/ (a few hundred kB each) so the figure can be redrawn as the run goes on."""
        fills = self.out / "samples" / "fills"
        fills.mkdir(exist_ok=True)
        for old in fills.glob("latest_*.npy"):
            old.unlink()
        name = f"epoch_{epoch:03d}.npy" if shown_at(epoch) else f"latest_{epoch:03d}.npy"
        np.save(fills / name, _uint8(filled[:OVER_EPOCHS_IMAGES]))
        kept = sorted(fills.glob("*.npy"), key=lambda f: int(f.stem.rsplit("_", 1)[1]))
        columns = {"input": list(_uint8(masked[:OVER_EPOCHS_IMAGES]))}
        columns.update({f"epoch {int(f.stem.rsplit('_', 1)[1])}": list(np.load(f)) for f in kept})
        columns["original"] = list(_uint8(self.grid_batch.images[:OVER_EPOCHS_IMAGES]))
        save_image_table(columns, self.out / "samples" / "over_epochs.png",
                         f"{self.cfg.model.name}, {method_spec(self.cfg).label(self.cfg)}: validation images over "
                         "training")


OVER_EPOCHS_IMAGES = 6
VAL_CURVE = "val_curve.csv"
VAL_CURVE_IMAGES = 64  # validation images (fixed holes) scored at every epoch end: about a second at 128 px
CURVE_KID_REALS = 256  # train photos (the first of the split) the val curve's KID compares the fills with


def shown_at(epoch: int) -> bool:
    """Epochs 1, 2, 5, 10, 20, 50, 100, ...: a log-spaced record of training."""
    while epoch >= 10 and epoch % 10 == 0:
        epoch //= 10
    return epoch in (1, 2, 5)


def _uint8(images: torch.Tensor) -> np.ndarray:
    """[-1, 1] (B, 3, H, W) -> uint8 (B, H, W, 3)."""
    return to_uint8(images).permute(0, 2, 3, 1).cpu().numpy()
