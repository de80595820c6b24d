"""Fixtures of the CLI tests: a store of their own, and a document trained on the tiny model."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import write_document


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`DLM_HOME` in the test's own directory."""
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest.fixture
def trained(tiny_model_dir: Path, tmp_path: Path, home: Path) -> Path:
    """A document trained for two steps (adapter v0001, run 1)."""
    path = write_document(tmp_path, tiny_model_dir, max_steps=2)
    result = CliRunner().invoke(app, ["train", str(path)])
    assert result.exit_code == 0, result.output
    return path
