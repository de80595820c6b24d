"""Options for every command: --version, --home, -v/--verbose, -q/--quiet, completion."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import DLM_ID, write_document

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def restored_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The options set environment variables for child processes; undo them after."""
    for name in ("DLM_HOME", "DLM_QUIET", "DLM_VERBOSE"):
        monkeypatch.setenv(name, os.environ.get(name, ""))


def test_version_in_process_and_as_a_module() -> None:
    expected = f"dlm {version('dlm-toolkit')}"
    assert runner.invoke(app, ["--version"]).stdout.strip() == expected
    done = subprocess.run(
        [sys.executable, "-m", "dlm", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert (done.returncode, done.stdout.strip()) == (0, expected)


def test_home_is_where_the_store_goes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "default"))
    path = write_document(tmp_path, tmp_path / "no-model")
    result = runner.invoke(app, ["--home", str(tmp_path / "chosen"), "show", str(path), "--json"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "chosen" / "store" / DLM_ID).is_dir()
    assert not (tmp_path / "default").exists()


def test_verbose_turns_on_the_debug_logs(tmp_path: Path) -> None:
    logger = logging.getLogger("dlm")
    handlers = list(logger.handlers)
    try:
        result = runner.invoke(app, ["-v", "check", str(write_document(tmp_path, tmp_path))])
        assert result.exit_code == 0, result.output
        assert logger.level == logging.DEBUG and len(logger.handlers) == len(handlers) + 1
    finally:
        logger.handlers = handlers
        logger.setLevel(logging.NOTSET)


def test_quiet_leaves_results_and_drops_progress(tiny_model_dir: Path, tmp_path: Path) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    environment = {**os.environ, "DLM_HOME": str(tmp_path / "home"), "DLM_DEVICE": "cpu"}

    def train(*options: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "dlm", *options, "train", str(path), "--phase", "sft"]
        return subprocess.run(command, capture_output=True, text=True, env=environment, cwd=ROOT)

    quiet = train("-q")
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""  # no "Loading ...", no bar
    os.environ.update(DLM_HOME=str(tmp_path / "home"), DLM_QUIET="")
    loud = runner.invoke(app, ["train", str(path), "--phase", "sft"])
    assert loud.exit_code == 0 and "Loading" in loud.stderr  # what -q left out
    assert "sft" in quiet.stdout and "v0001" in quiet.stdout  # the result is still printed


def test_help_offers_shell_completion() -> None:
    shown = runner.invoke(app, ["--help"]).stdout
    assert "--install-completion" in shown and "--show-completion" in shown
