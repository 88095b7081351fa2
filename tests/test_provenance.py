"""Provenance: the commit recorded beside every output, also when the tree is a copy without git."""

from __future__ import annotations

import subprocess
import sys

import pytest

from ssl_ce import provenance


def _no_git(*args, **kwargs):
    raise FileNotFoundError("git")


def test_a_copied_tree_reports_the_commit_its_copier_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provenance.subprocess, "run", _no_git)
    monkeypatch.setenv(provenance.COMMIT_ENV, "abc123")
    assert provenance.git_commit() == "abc123"
    monkeypatch.delenv(provenance.COMMIT_ENV)
    assert provenance.git_commit() == ""


def test_a_git_checkout_reports_its_head(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(provenance.COMMIT_ENV, "ignored-in-a-checkout")
    try:
        head = subprocess.run(["git", "-C", str(provenance.Path(provenance.__file__).parent), "rev-parse", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        pytest.skip("not a git checkout")
    assert provenance.git_commit().removesuffix("+dirty") == head


def test_python_dash_m_is_recorded_as_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    main_py = str(provenance.Path(provenance.__file__).parent / "__main__.py")
    monkeypatch.setattr(provenance.sys, "argv", [main_py, "pretrain", "--epochs", "2"])
    assert provenance.command_line() == "python -m ssl_ce pretrain --epochs 2"
    monkeypatch.setattr(provenance.sys, "argv", ["/venv/bin/ssl-ce", "info", "x"])
    assert provenance.command_line() == "/venv/bin/ssl-ce info x"


def test_the_package_runs_as_a_module_from_its_source_tree() -> None:
    done = subprocess.run([sys.executable, "-m", "ssl_ce", "--help"], capture_output=True, text=True,
                          cwd=provenance.Path(provenance.__file__).parent.parent, check=False)
    assert done.returncode == 0 and "pretrain" in done.stdout
