"""What made a run: versions, device, git commit and command line, written next to every output."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ssl_ce import __version__

COMMIT_ENV = "SSL_CE_COMMIT"


def git_commit() -> str:
    """The commit of the ssl-ce source tree, with '+dirty' when it has uncommitted changes. Changes under
    results/ and weights/ do not count: they are what the code writes, not the code. A tree that is not a git
    checkout (a copy shipped to a GPU node) reports $SSL_CE_COMMIT, set by whoever copied it, else ''."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no", "--",
                                ".", ":(exclude)results", ":(exclude)weights"],
                               capture_output=True, text=True, timeout=5, check=False).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return os.environ.get(COMMIT_ENV, "")
    return commit + ("+dirty" if dirty else "")


def row_stamp() -> dict[str, str]:
    """The columns that date every results row and tie it to the code that made it."""
    return {"ssl_ce_version": __version__, "git_commit": git_commit(),
            "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}


def environment(device: torch.device) -> dict[str, Any]:
    name = torch.cuda.get_device_name(device) if device.type == "cuda" else cpu_name()
    return {
        "ssl_ce": __version__, "git_commit": git_commit(), "python": sys.version.split()[0],
        "torch": torch.__version__, "numpy": np.__version__, "platform": platform.platform(),
        "device": str(device), "device_name": name, "cpu_threads": torch.get_num_threads(),
        "cpu_features": " ".join(cpu_features()), "command": command_line(),
    }


def machine_line(env: dict[str, Any]) -> str:
    """The one-line 'made on' of a benchmark table, from `environment`: where a speed figure or a wall time is
    read, the device, threads and commit that made it sit beside it."""
    return f"{env['device_name']} ({env['cpu_threads']} threads), commit {env['git_commit']}, torch {env['torch']}"


CPU_FEATURES = ("avx2", "avx512f", "avx512_bf16", "amx_tile", "amx_bf16")  # what decides bf16 speed on a CPU


def _cpuinfo() -> dict[str, str]:
    """The first processor's fields of /proc/cpuinfo (empty where there is none)."""
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return {}
    first = text.split("\n\n")[0]
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in first.splitlines())}


def cpu_name() -> str:
    """The CPU's model name (`Intel(R) Xeon(R) Processor`, `AMD EPYC ...`): CPUs of one architecture differ
    several-fold in bf16 speed, so a speed figure names its CPU."""
    return _cpuinfo().get("model name") or platform.processor() or platform.machine()


def cpu_features() -> list[str]:
    """Which of CPU_FEATURES the CPU reports (AMX and AVX-512 BF16 set the bf16 matmul peak)."""
    flags = set(_cpuinfo().get("flags", "").split())
    return [f for f in CPU_FEATURES if f in flags]


def command_line() -> str:
    """The command as typed: `python -m ssl_ce` shows as such rather than as the path of __main__.py."""
    program = sys.argv[0]
    if Path(program).name == "__main__.py" and Path(program).parent.name == "ssl_ce":
        program = "python -m ssl_ce"
    return " ".join([program, *sys.argv[1:]])
