"""`dlm metrics --csv` (the --json data as rows) and `--watch` (new rows as they are recorded,
until Ctrl-C, exit 0)."""

from __future__ import annotations

import csv
import io
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.signals import interruptible
from trainer.store import Store
from trainer.store.metric_rows import COLUMNS, MetricsFollower

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[2]
DLM_ID = "01JQ7Z0000000000000000000W"


def test_csv_has_the_json_steps_and_evals(trained: Path, home: Path) -> None:
    store = Store.open("01JQ7Z0000000000000000000A", home)
    store.metrics.log_eval(1, step=None, name="eval_loss", value=0.5)
    store.metrics.log_step(
        1, step=3, loss=None, learning_rate=0.001, grad_norm=None, tokens_per_second=None
    )
    report = json.loads(runner.invoke(app, ["metrics", str(trained), "--json"]).stdout)
    result = runner.invoke(app, ["metrics", str(trained), "--csv"])
    assert result.exit_code == 0, result.output
    header, *rows = list(csv.reader(io.StringIO(result.stdout)))
    assert tuple(header) == COLUMNS
    expected = [
        ["1", "sft", "step", str(step["step"]), name, str(step[name])]
        for step in report["runs"][0]["steps"]
        for name in ("loss", "learning_rate", "grad_norm", "tokens_per_second")
        if step[name] is not None
    ] + [
        [
            "1",
            "sft",
            "eval",
            "" if e["step"] is None else str(e["step"]),
            e["name"],
            str(e["value"]),
        ]
        for e in report["runs"][0]["evals"]
    ]
    assert rows == expected
    assert ["1", "sft", "step", "3", "learning_rate", "0.001"] in rows
    assert ["1", "sft", "eval", "", "eval_loss", "0.5"] in rows
    assert {float(row[5]) for row in rows}  # every value is a number

    narrowed = runner.invoke(app, ["metrics", str(trained), "--csv", "--run-id", "1"])
    assert narrowed.stdout == result.stdout


def document(tmp_path: Path) -> Path:
    """A valid document whose store the test fills through the store's API (no training)."""
    path = tmp_path / "notes.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: smollm2-135m\n---\n\n::instruction::\n"
        "### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n",
        encoding="utf-8",
    )
    return path


def started_run(home: Path) -> Store:
    """The document's store with run 1 (sft) running, one step logged."""
    store = Store.open(DLM_ID, home)
    run_id = store.metrics.start_run(
        phase="sft", method="lora", seed=0, base_model="smollm2-135m", doc_sha256="0", config={}
    )
    store.metrics.log_step(
        run_id, step=1, loss=2.5, learning_rate=0.0001, grad_norm=1.0, tokens_per_second=50.0
    )
    return store


@pytest.mark.parametrize(
    ("flags", "usage"),
    [
        (["--csv", "--json"], "--json and --csv"),
        (["--watch", "--json"], "--watch prints rows as they come; --json"),
        (["--watch", "--plot", "x.png"], "--watch prints rows as they come; --plot"),
    ],
)
def test_conflicting_flags_are_usage_errors(
    flags: list[str], usage: str, tmp_path: Path, home: Path
) -> None:
    result = runner.invoke(app, ["metrics", str(document(tmp_path)), *flags])
    assert result.exit_code == 2
    assert usage in result.stderr


def test_follower_reports_each_row_once(tmp_path: Path, home: Path) -> None:
    store = started_run(home)
    follower = MetricsFollower(store.metrics)
    first = follower.poll()
    assert [r.status for r in first.runs] == ["running"] and len(first.rows) == 4
    assert follower.poll().rows == [] and follower.poll().runs == []
    store.metrics.log_step(
        1, step=2, loss=2.0, learning_rate=None, grad_norm=None, tokens_per_second=None
    )
    store.metrics.log_eval(1, step=2, name="eval_loss", value=2.2)
    store.metrics.finish_run(1, status="completed", adapter_version="v0001")
    update = follower.poll()
    assert [(r.source, r.step, r.metric, r.value) for r in update.rows] == [
        ("step", 2, "loss", 2.0),
        ("eval", 2, "eval_loss", 2.2),
    ]
    assert [(r.status, r.adapter_version) for r in update.runs] == [("completed", "v0001")]


class Lines:
    """The stdout lines of a process, read on a thread so the test can wait with a timeout."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._queue: queue.Queue[str] = queue.Queue()
        assert process.stdout is not None
        threading.Thread(target=self._read, args=(process.stdout,), daemon=True).start()
        self.seen: list[str] = []

    def _read(self, stream: Iterable[str]) -> None:
        for line in stream:
            self._queue.put(line)

    def wait_for(self, text: str, timeout: float = 60.0) -> str:
        """The first line (read from now on, or already read) that contains `text`."""
        deadline = time.monotonic() + timeout
        for line in self.seen:
            if text in line:
                return line
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no line with {text!r} in {self.seen}")


@pytest.mark.parametrize(
    ("flags", "old", "new"),
    [
        (["--csv"], "1,sft,step,1,loss,2.5", "1,sft,step,2,loss,1.25"),
        ([], "run 1 sft running: 1 steps, loss 2.500", "run 1 sft step 2: loss 1.25"),
    ],
    ids=["csv", "text"],
)
def test_watch_prints_new_rows_until_ctrl_c(
    flags: list[str], old: str, new: str, tmp_path: Path, home: Path
) -> None:
    path = document(tmp_path)
    store = started_run(home)
    process = subprocess.Popen(
        [sys.executable, "-m", "dlm", "metrics", str(path), "--watch", "--interval", "0.1", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "DLM_HOME": str(home)},
        preexec_fn=interruptible,
    )
    try:
        lines = Lines(process)
        lines.wait_for(old)
        store.metrics.log_step(
            1, step=2, loss=1.25, learning_rate=None, grad_norm=None, tokens_per_second=None
        )
        lines.wait_for(new)
        if not flags:
            store.metrics.finish_run(1, status="completed", adapter_version="v0001")
            lines.wait_for("run 1 sft completed, adapter v0001")
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, process.stderr.read() if process.stderr else ""
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    if flags:
        rows = list(csv.reader(io.StringIO("".join(lines.seen))))
        assert tuple(rows[0]) == COLUMNS and rows.count(rows[0]) == 1  # one header
        assert sum(row[3:5] == ["1", "loss"] for row in rows) == 1  # old rows printed once
