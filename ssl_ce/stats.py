"""How the report states a number over pretraining seeds: mean ± std, the 95 % interval of a margin, and
whether a target is met, missed or not established (its interval straddles the target)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from scipy import stats as scipy_stats


@dataclass(frozen=True)
class Summary:
    mean: float
    std: float  # sample standard deviation (n - 1); nan for a single value
    n: int

    def __str__(self) -> str:
        return f"{self.mean:.2f}" if self.n < 2 else f"{self.mean:.2f} ± {self.std:.2f}"


def summarise(values: Sequence[float]) -> Summary:
    n = len(values)
    if n == 0:
        raise ValueError("no values to summarise")
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else math.nan
    return Summary(mean, std, n)


@dataclass(frozen=True)
class Margin:
    """`a` minus `b`: the difference of means and its confidence interval."""

    diff: float
    low: float
    high: float
    level: float = 0.95

    def __str__(self) -> str:
        if math.isinf(self.low):
            return f"{self.diff:+.2f} (interval needs 2+ seeds)"
        return f"{self.diff:+.2f} [{self.low:+.2f}, {self.high:+.2f}]"


def margin(a: Sequence[float], b: Sequence[float], level: float = 0.95) -> Margin:
    """Welch's t interval for mean(a) - mean(b), each over independent pretraining seeds; fewer than two seeds
    on either side give an unbounded interval, since a single seed says nothing of the noise."""
    sa, sb = summarise(a), summarise(b)
    if sa.n < 2 or sb.n < 2:
        return Margin(sa.mean - sb.mean, -math.inf, math.inf, level)
    va, vb = sa.std**2 / sa.n, sb.std**2 / sb.n
    if va + vb == 0:
        return Margin(sa.mean - sb.mean, sa.mean - sb.mean, sa.mean - sb.mean, level)
    df = (va + vb) ** 2 / (va**2 / (sa.n - 1) + vb**2 / (sb.n - 1))  # Welch-Satterthwaite
    return _interval(sa.mean - sb.mean, math.sqrt(va + vb), df, level)


def margin_over(a: Sequence[float], baseline: float, level: float = 0.95) -> Margin:
    """mean(a) - baseline for a baseline without seeds (a classical inpainter is deterministic): the one-sample
    t interval of `a`."""
    sa = summarise(a)
    if sa.n < 2:
        return Margin(sa.mean - baseline, -math.inf, math.inf, level)
    return _interval(sa.mean - baseline, sa.std / math.sqrt(sa.n), sa.n - 1, level)


def _interval(diff: float, se: float, df: float, level: float) -> Margin:
    if se == 0:
        return Margin(diff, diff, diff, level)
    half = float(scipy_stats.t.ppf(0.5 + level / 2, df)) * se
    return Margin(diff, diff - half, diff + half, level)


def verdict(m: Margin, target: float) -> str:
    """'met' when the whole interval clears the target, 'missed' when it lies wholly below, else 'not
    established': the seeds' noise is too large to say."""
    if m.low >= target:
        return "met"
    if m.high < target:
        return "missed"
    return "not established"
