"""Training keeps freed memory in glibc's heap (ssl_ce.runtime.keep_freed_memory): a speed setting only, so a run's
losses must be exactly those of wave 2's step, which left glibc's malloc as it comes."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from ssl_ce import runtime

from .conftest import REPO

RUN = """
import sys
from tests.conftest import tiny_config
from ssl_ce.training import train
train(tiny_config(train={"precision": "auto", "max_steps": 6}), sys.argv[1], progress=False)
"""
GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"


def _train_in_a_fresh_process(out: Path, system_allocator: bool) -> dict:
    env = {k: v for k, v in os.environ.items() if k != runtime.SYSTEM_ALLOCATOR_ENV}
    if system_allocator:
        env[runtime.SYSTEM_ALLOCATOR_ENV] = "1"
    done = subprocess.run([sys.executable, "-c", RUN, str(out)], cwd=REPO, env=env, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 0, done.stderr
    return json.loads((out / "run.json").read_text())


def test_a_run_that_keeps_freed_memory_has_wave_2_s_losses_and_says_which_allocator_ran(tmp_path: Path) -> None:
    kept = _train_in_a_fresh_process(tmp_path / "kept", system_allocator=False)
    system = _train_in_a_fresh_process(tmp_path / "system", system_allocator=True)
    assert system["allocator"] == f"system ({runtime.SYSTEM_ALLOCATOR_ENV}=1)"
    assert kept["allocator"] == ("glibc, freed memory kept" if GLIBC else "system (not glibc)")
    losses = [pd.read_csv(tmp_path / name / "metrics.csv")[["step", "rec", "g_total"]] for name in ("kept", "system")]
    assert len(losses[0]) == 6
    pd.testing.assert_frame_equal(*losses)  # bit for bit: the allocator moves no number


def test_the_system_allocator_is_left_alone_when_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(runtime.SYSTEM_ALLOCATOR_ENV, "1")
    monkeypatch.setattr(runtime.ctypes, "CDLL", lambda *_: pytest.fail("mallopt was called"))
    assert runtime.keep_freed_memory().startswith("system")
