"""The README's Python example runs as written, from the repository root, offline."""

from __future__ import annotations

import re
import subprocess
import sys

from .conftest import REPO


def test_readme_python_example_runs_on_the_published_weights() -> None:
    blocks = re.findall(r"```python\n(.*?)```", (REPO / "README.md").read_text(), flags=re.S)
    assert blocks, "the README shows no Python example"
    for code in blocks:
        done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=False,
                              env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"}, timeout=300)
        assert done.returncode == 0, done.stderr
        assert "torch.Size([1, " in done.stdout and "(512, 512, 3)" in done.stdout
