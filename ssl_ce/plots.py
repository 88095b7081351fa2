"""Pictures a researcher looks at during a run: loss curves and inpainting grids."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from matplotlib.figure import Figure
from torchvision.utils import make_grid


def _figure(figsize: tuple[float, float], rows: int = 1, columns: int = 1, squeeze: bool = True):
    """A figure of its own, drawn by the Agg canvas: no pyplot, so no global backend or figure list to touch."""
    fig = Figure(figsize=figsize)
    return fig, fig.subplots(rows, columns, squeeze=squeeze)


CURVE_TITLES = {"val_psnr_db": "PSNR dB, hole", "val_hf_ratio": "HF ratio, hole (1 = real)",
                "val_peak_ratio": "periodic-peak ratio (a grid: high)",
                "val_kid_mnv1_hole": "hole KID x1e3 (MobileNet-v1)"}


def plot_loss_curves(metrics_csv: Path, png: Path, steps_per_epoch: int, val_curve_csv: Path | None = None) -> None:
    """One panel per loss against epochs (the paper's "error vs epochs"), raw and smoothed, and one per held-out
    measure of `val_curve_csv` (val PSNR, HF ratio, KID) at the epoch ends where it was measured."""
    frame = pd.read_csv(metrics_csv)
    losses = [c for c in frame.columns if c in ("rec", "adv", "d_total", "ce", "train_acc", "rot_acc", "knn_top1")]
    if frame.empty or not losses:
        return
    curve = pd.read_csv(val_curve_csv) if val_curve_csv is not None and val_curve_csv.exists() else None
    held_out = [c for c in (curve.columns if curve is not None else []) if c.startswith("val_")]
    epochs = frame["step"] / max(1, steps_per_epoch)
    window = max(1, len(frame) // 50)
    panels = len(losses) + len(held_out)
    fig, axes = _figure((3.2 * panels, 2.8), 1, panels, squeeze=False)
    for ax, column in zip(axes[0][len(losses):], held_out, strict=True):  # held-out measures at epoch ends
        shown = curve[column].notna()  # a run resumed after a measure was added has it from then on
        ax.plot(curve["step"][shown] / max(1, steps_per_epoch), curve[column][shown], marker="o", ms=2.5, lw=1.2)
        ax.set_title(f"val {CURVE_TITLES.get(column, column)}\n{int(curve['images'].iloc[-1])} images", fontsize=9)
        ax.set_xlabel("epoch")
    for ax, name in zip(axes[0], losses, strict=False):
        if name == "knn_top1":  # measured every train.knn_every steps: points, not a smoothed curve
            measured = frame[name].notna()
            ax.plot(epochs[measured], frame[name][measured], marker="o", lw=1.2)
            ax.set_title("k-NN top-1 % (val)")
            ax.set_xlabel("epoch")
            continue
        ax.plot(epochs, frame[name], alpha=0.3, lw=0.8)
        ax.plot(epochs, frame[name].rolling(window, min_periods=1).mean(), lw=1.5)
        ax.set_title(name)
        ax.set_xlabel("epoch")
        if name == "rec" and (frame[name] > 0).all():  # log-l2's rec is already a log, and negative
            ax.set_yscale("log")
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def save_inpainting_grid(masked: torch.Tensor, filled: torch.Tensor, original: torch.Tensor, png: Path,
                         title: str) -> None:
    """Rows: masked input / the network's fill / the original, images in [-1, 1]."""
    rows = torch.cat([masked, filled, original]).float().clamp(-1, 1).add(1).div(2).cpu()
    grid = make_grid(rows, nrow=len(masked), padding=2, pad_value=1.0)
    fig, ax = _figure((1.2 * len(masked) + 0.8, 4.2))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_yticks([grid.shape[1] * (i + 0.5) / 3 for i in range(3)], ["input", "filled", "original"])
    ax.set_xticks([])
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def save_retrieval_grid(queries: torch.Tensor, neighbours: torch.Tensor, png: Path, title: str) -> None:
    """One row per query: the query (as searched, hole included) then its neighbours, best first; uint8 images."""
    q, k = neighbours.shape[:2]
    tiles = torch.cat([queries[:, None], neighbours], dim=1).reshape(q * (k + 1), *queries.shape[1:])
    grid = make_grid(tiles.float() / 255, nrow=k + 1, padding=2, pad_value=1.0)
    fig, ax = _figure((0.9 * (k + 1) + 0.6, 0.9 * q + 0.7))
    ax.imshow(grid.permute(1, 2, 0).numpy(), interpolation="nearest")
    ax.set_xticks([grid.shape[2] * (i + 0.5) / (k + 1) for i in range(k + 1)],
                  ["query", *[str(i + 1) for i in range(k)]])
    ax.set_yticks([])
    ax.set_title(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(png, dpi=110)


def column_title(name: str, width: int = 26) -> str:
    """A column's name on lines that fit its tile: a break before each parenthesis, bracket and "+", and long
    run names (`[weights-inpainter-center-cifar10-small32]`) broken at their hyphens, so neighbours never overlap."""
    parts = name.replace(" (", "\n(").replace(") [", ")\n[").replace(" + ", "\n+ ").split("\n")
    return "\n".join(line for part in parts for line in textwrap.wrap(part, width))


def save_image_table(columns: dict[str, list[np.ndarray]], png: Path, title: str, tile: int = 96) -> None:
    """A grid with one column per entry of `columns` (name -> (H, W, 3) uint8 images of any size, one per row),
    each image shown at `tile` pixels on its longer side."""
    names = list(columns)
    rows = len(columns[names[0]])
    fig, axes = _figure((1.25 * len(names), 1.25 * rows + 0.5), rows, len(names), squeeze=False)
    for c, name in enumerate(names):
        for r in range(rows):
            ax = axes[r][c]
            ax.imshow(columns[name][r], interpolation="nearest" if columns[name][r].shape[0] <= tile else "antialiased")
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(column_title(name), fontsize=6)
    fig.suptitle(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(png, dpi=120)


def plot_mask_matrix(matrix: pd.DataFrame, png: Path, title: str) -> None:
    """Heat-map of PSNR by trained mask (rows) and test mask (columns), each cell labelled with its value."""
    fig, ax = _figure((5.4, 0.6 + 0.75 * len(matrix)))
    image = ax.imshow(matrix.values.astype(float), cmap="viridis")
    ax.set_xticks(range(matrix.shape[1]), list(matrix.columns), rotation=20, ha="right")
    ax.set_yticks(range(len(matrix)), [r if r.startswith("best") else f"trained: {r}" for r in matrix.index])
    for (r, c), value in pd.DataFrame(matrix.values).stack().items():
        ax.text(c, r, f"{value:.1f}", ha="center", va="center", color="white", fontsize=9)
    ax.set_xlabel("test mask")
    ax.set_title(title, fontsize=9)
    fig.colorbar(image, ax=ax)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=120)
