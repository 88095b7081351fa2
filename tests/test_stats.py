"""The report's statistics: mean ± std over seeds, Welch intervals of margins, and the three verdicts."""

from __future__ import annotations

import math

import pytest
from scipy import stats as scipy_stats

from ssl_ce.stats import margin, margin_over, summarise, verdict


def test_summary_is_the_sample_mean_and_std() -> None:
    s = summarise([1.0, 2.0, 6.0])
    assert s.mean == pytest.approx(3.0) and s.std == pytest.approx(math.sqrt(7)) and s.n == 3
    assert str(summarise([2.5])) == "2.50" and math.isnan(summarise([2.5]).std)


def test_margin_matches_welchs_t_test() -> None:
    a, b = [60.1, 61.3, 59.8, 62.0], [55.2, 57.9, 56.1]
    m = margin(a, b)
    result = scipy_stats.ttest_ind(a, b, equal_var=False)
    low, high = result.confidence_interval(0.95)
    assert m.diff == pytest.approx(sum(a) / 4 - sum(b) / 3)
    assert (m.low, m.high) == pytest.approx((low, high))


def test_a_fixed_baseline_gives_the_one_sample_interval() -> None:
    a = [18.4, 18.6, 18.5]
    low, high = scipy_stats.ttest_1samp(a, 16.6).confidence_interval(0.95)
    m = margin_over(a, 16.6)
    assert m.diff == pytest.approx(1.9) and (m.low + 16.6, m.high + 16.6) == pytest.approx((low, high))


def test_verdicts_follow_the_interval_not_the_mean() -> None:
    assert verdict(margin([10, 11, 12], [5, 6, 7]), 3) == "not established"  # +5 [+2.73, +7.27] straddles 3
    assert verdict(margin([10, 10.1, 10.2], [5, 5.1, 5.2]), 3) == "met"
    assert verdict(margin([5, 5.1, 5.2], [4, 4.1, 4.2]), 3) == "missed"
    single = margin([10], [5, 6, 7])
    assert math.isinf(single.low) and verdict(single, 3) == "not established"  # one seed says nothing of noise
