"""The README's examples run as written, from the repository root, offline."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from ssl_ce.cli import cli

from .conftest import REPO


def test_readme_python_example_runs_on_the_published_weights() -> None:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert blocks, "the README shows no Python example"
    for code in blocks:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "torch.Size([1, " in done.stdout and "(512, 512, 3)" in done.stdout


def test_readme_first_looks_fill_the_shipped_photos_and_leave_the_rest_alone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    readme = (REPO / "README.md").read_text()
    commands = re.findall(r"ssl-ce (inpaint [^\n]*examples/photos(?:[^\n]*\\\n)*[^\n]*)", readme)
    assert len(commands) == 2, commands  # the free-form model on hand-drawn strokes; the centre model
    monkeypatch.chdir(REPO)
    photos = sorted((REPO / "examples" / "photos").glob("*.jpg"))
    assert len(photos) == 4
    for command in commands:
        args = shlex.split(command.replace("\\\n", " "))  # the continued lines joined
        args = [str(tmp_path / a) if a.startswith("runs/") else a for a in args]  # keep the repository clean
        done = CliRunner().invoke(cli, args)
        assert done.exit_code == 0, done.output
        out, grid = Path(args[args.index("--out") + 1]), Path(args[args.index("--grid") + 1])
        assert grid.is_file()
        for photo in photos:
            before = np.asarray(Image.open(photo).convert("RGB"))
            after = np.asarray(Image.open(out / f"{photo.stem}.png"))
            changed = (before != after).any(-1)
            assert after.shape == before.shape and changed.any()
            if "--masks" in args:  # only under the hand-drawn strokes
                strokes = np.asarray(Image.open(REPO / "examples" / "masks" / f"{photo.stem}.png")) > 127
                assert not (changed & ~strokes).any()
                continue
            rows, cols = np.nonzero(changed)  # only the centre hole: within the middle half of each side
            h, w = changed.shape
            assert rows.min() >= h // 4 - 1 and rows.max() <= 3 * h // 4 and cols.min() >= w // 4 - 1
            assert cols.max() <= 3 * w // 4
