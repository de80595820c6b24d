"""A `dlm train` killed with SIGKILL: the next command marks its run interrupted and cleans up."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from dlm.commands.metrics import plot_label
from tests.cli.test_train_cli import DLM_ID, write_document

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]


def _wait_for_steps(database: Path, process: subprocess.Popen[bytes], steps: int) -> None:
    """Poll metrics.sqlite until run 1 is running and has logged `steps` steps."""
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"training ended (exit {process.returncode}) before it could be killed")
        if database.exists():
            try:
                with sqlite3.connect(f"{database.as_uri()}?mode=ro", uri=True) as connection:
                    status = connection.execute("SELECT status FROM runs WHERE run_id = 1")
                    row = status.fetchone()
                    logged = connection.execute("SELECT count(*) FROM steps WHERE run_id = 1")
                    if row == ("running",) and logged.fetchone()[0] >= steps:
                        return
            except sqlite3.Error:
                pass  # the database or its tables are still being created
        time.sleep(0.2)
    pytest.fail(f"training logged fewer than {steps} steps in time")


def _kill_training(path: Path, home: Path) -> None:
    """Start `dlm train` as a process, let it log two steps, then SIGKILL it.

    While it trains, `dlm show` must leave its run alone.
    """
    environment = {**os.environ, "DLM_HOME": str(home)}
    process = subprocess.Popen(
        [sys.executable, "-m", "dlm", "train", str(path)],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for_steps(home / "store" / DLM_ID / "metrics.sqlite", process, steps=2)
        shown = runner.invoke(app, ["show", str(path), "--json"])
        assert [r["status"] for r in json.loads(shown.stdout)["store"]["runs"]] == ["running"]
        assert (home / "store" / DLM_ID / "tmp" / "run-1").is_dir()
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def test_a_killed_training_is_interrupted_and_the_next_run_works(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=100_000)
    _kill_training(path, home)
    scratch = home / "store" / DLM_ID / "tmp" / "run-1"
    assert scratch.is_dir()  # what the kill left behind

    shown = runner.invoke(app, ["show", str(path), "--json"])
    assert shown.exit_code == 0, shown.output
    [run] = json.loads(shown.stdout)["store"]["runs"]
    assert (run["run_id"], run["status"]) == (1, "interrupted")
    assert run["ended_at"] is not None and run["ended_at"] >= run["started_at"]
    assert not scratch.exists()

    reported = runner.invoke(app, ["metrics", str(path), "--json"])
    [run] = json.loads(reported.stdout)["runs"]
    assert (run["status"], len(run["steps"]) >= 2) == ("interrupted", True)
    text = runner.invoke(app, ["metrics", str(path)]).stdout
    assert text.startswith("run 1 sft interrupted: ")
    plot = tmp_path / "runs.png"
    assert runner.invoke(app, ["metrics", str(path), "--plot", str(plot)]).exit_code == 0
    assert plot.read_bytes().startswith(b"\x89PNG")
    assert plot_label(run) == "run 1 (sft, interrupted)"

    path.write_text(path.read_text().replace("max_steps: 100000", "max_steps: 2"))
    trained = runner.invoke(app, ["train", str(path), "--json"])
    assert trained.exit_code == 0, trained.output
    [summary] = json.loads(trained.stdout)["runs"]
    assert (summary["run_id"], summary["adapter_version"]) == (2, "v0001")
    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    statuses = [(r["run_id"], r["status"]) for r in shown["store"]["runs"]]
    assert statuses == [(1, "interrupted"), (2, "completed")]
    assert "run 1: sft interrupted -> -" in runner.invoke(app, ["show", str(path)]).stdout
    assert list((home / "store" / DLM_ID / "tmp").iterdir()) == []
