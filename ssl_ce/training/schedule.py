"""When things happen in a run, as pure functions of the step: the learning rate, the epoch ends that are
marked (checkpoint, pictures), and the epoch ends whose weights join the average. Resuming needs no state."""

from __future__ import annotations

import math

import torch

from ssl_ce.config import Config


def learning_rate(base: float, schedule: str, step: int, total_steps: int) -> float:
    """The rate for the update that follows `step` steps; cosine ends at 0 after the last step."""
    if schedule == "cosine":
        return base * 0.5 * (1 + math.cos(math.pi * step / max(total_steps, 1)))
    return base


def set_learning_rates(optimizers: dict[str, torch.optim.Optimizer], cfg: Config, step: int, total: int) -> None:
    """Every step, from the config and the step alone: resuming needs no scheduler state."""
    bases = {"g": cfg.optim.lr_g, "d": cfg.optim.lr_d}
    for name, optimizer in optimizers.items():
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(bases[name], cfg.optim.lr_schedule, step, total)


def epoch_end_due(step: int, steps_per_epoch: int, total_steps: int, every: int) -> bool:
    """Whether `step` closes an epoch whose end is marked (checkpoint, grid, plot): every `every`-th, and the last."""
    return step == total_steps or (step % steps_per_epoch == 0 and (step // steps_per_epoch) % every == 0)


def average_due(step: int, steps_per_epoch: int, total_steps: int, epochs: int) -> bool:
    """Whether the weights after `step` join the average: each epoch end (and the last step) among the last
    `epochs` epochs of the run."""
    in_window = epochs > 0 and step > total_steps - epochs * steps_per_epoch
    return in_window and epoch_end_due(step, steps_per_epoch, total_steps, every=1)
