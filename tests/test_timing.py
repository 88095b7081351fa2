"""The benchmarks' one timing helper: warm-ups untimed, the fastest run counted, a product's rate from its FLOPs."""

from __future__ import annotations

import time

import pytest

from ssl_ce.timing import best_seconds, matmul_gflops


def test_best_seconds_runs_the_warm_ups_untimed_and_keeps_the_fastest_run() -> None:
    delays = iter([0.05, 0.03, 0.001, 0.02])  # the first is a warm-up: slower than any timed run
    calls = []

    def fn() -> None:
        calls.append(1)
        time.sleep(next(delays))

    best = best_seconds(fn, repeats=3, warmup=1)
    assert len(calls) == 4
    assert 0.001 <= best < 0.02


def test_matmul_gflops_is_the_products_flops_over_its_best_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("ssl_ce.timing.best_seconds", lambda fn, repeats, device, warmup: 0.5)
    assert matmul_gflops(100, 200, 300, repeats=2) == pytest.approx(2 * 100 * 200 * 300 / 0.5 / 1e9)
