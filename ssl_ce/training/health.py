"""GAN health checks on the logged losses: non-finite losses stop the run, discriminator collapse is flagged.

Collapse: the discriminator wins outright (its loss near 0) while the generator's adversarial loss explodes,
for many steps in a row. The generator then gets no useful adversarial gradient and the L2 term alone trains.
"""

from __future__ import annotations

import math
from pathlib import Path

from ssl_ce.config import TrainConfig
from ssl_ce.errors import SslCeError

REMEDIES = ("lower optim.lr_d (the paper's code trains D at a tenth of G's rate), lower method.adv_weight "
            "(the paper uses 0.001), or resume from an earlier checkpoint with another seed")


def check_finite(row: dict[str, float], step: int, checkpoint: Path) -> None:
    """Raises naming the loss, the step and the last good checkpoint when a loss is NaN or infinite."""
    bad = [name for name, value in row.items() if isinstance(value, float) and not math.isfinite(value)]
    if bad:
        last = f"the last good checkpoint is {checkpoint}" if checkpoint.exists() else "no checkpoint was written yet"
        raise SslCeError(f"loss {bad[0]} became {row[bad[0]]} at step {step}; {last} "
                         "(lower the learning rates or use --precision fp32)")


class CollapseMonitor:
    """Counts consecutive steps with D loss < `collapse_d_loss` and adversarial loss > `collapse_adv_loss`."""

    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg
        self.run = 0

    def update(self, row: dict[str, float]) -> tuple[bool, str | None]:
        """(collapsed at this step, a message when a collapse episode starts)."""
        if "d_total" not in row or "adv" not in row:
            return False, None
        if row["d_total"] < self.cfg.collapse_d_loss and row["adv"] > self.cfg.collapse_adv_loss:
            self.run += 1
        else:
            self.run = 0
        collapsed = self.run >= self.cfg.collapse_steps
        if self.run == self.cfg.collapse_steps:
            return True, (f"discriminator collapse at step {row['step']}: D loss < {self.cfg.collapse_d_loss:g} and "
                          f"adversarial loss > {self.cfg.collapse_adv_loss:g} for {self.run} steps; {REMEDIES}")
        return collapsed, None
