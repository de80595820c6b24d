"""`dlm train --watch` as a real process on a tiny model: a first run, a run per saved
change (an editor's atomic rename), no run for a document with errors, Ctrl-C exits 0."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from dlm.watch import Timing, file_state, wait_for_change
from tests.cli.test_train_cli import DLM_ID, ROOT, write_document
from tests.signals import interruptible

runner = CliRunner()


class Output:
    """The lines a process writes, collected by a thread so that waiting never blocks."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        assert process.stdout is not None
        stream = process.stdout
        self._thread = threading.Thread(target=lambda: self.lines.extend(stream), daemon=True)
        self._thread.start()

    def wait_for(self, check: Callable[[str], bool], after: int = 0, timeout: float = 60) -> int:
        """The index of the first line from `after` on that passes `check`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for index in range(after, len(self.lines)):
                if check(self.lines[index]):
                    return index
            time.sleep(0.1)
        pytest.fail("timed out; output so far:\n" + "".join(self.lines))

    def events(self) -> list[dict[str, object]]:
        """The "watch" stage JSON lines."""
        parsed = [json.loads(line) for line in self.lines if line.startswith('{"event"')]
        return [line for line in parsed if line["stage"] == "watch"]


def save_atomically(path: Path, text: str) -> None:
    """Save like an editor: write a temporary file, rename it over the document."""
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def test_watch_trains_on_each_valid_save_and_stops_on_ctrl_c(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=2)
    process = subprocess.Popen(
        [sys.executable, "-m", "dlm", "train", str(path), "--watch", "--progress", "jsonl"],
        cwd=ROOT,
        env={**os.environ, "DLM_HOME": str(home)},
        preexec_fn=interruptible,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = Output(process)
    try:
        first = output.wait_for(lambda line: "adapter v0001" in line and "Trained" in line)
        waiting = output.wait_for(lambda line: line.startswith("Watching"), first)

        text = path.read_text(encoding="utf-8")
        save_atomically(path, text + "\nThe Tern is painted green.\n")
        second = output.wait_for(lambda line: "Trained" in line and "v0002" in line, waiting)

        output.wait_for(lambda line: line.startswith("Watching"), second)
        save_atomically(path, text + "::instruction::\n### Q\nno answer\n")
        invalid = output.wait_for(lambda line: "has errors (above); not training" in line, second)
        assert any("DLM042" in line for line in output.lines[second:invalid])
        output.wait_for(lambda line: line.startswith("Watching"), invalid)

        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, "".join(output.lines)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output.wait_for(lambda line: "Stopped watching." in line)
    versions = home / "store" / DLM_ID / "adapter" / "versions"
    assert sorted(p.name for p in versions.iterdir() if not p.name.startswith(".")) == [
        "v0001",
        "v0002",
    ]
    events = [event["event"] for event in output.events()]
    assert events == [
        "training",
        "trained",
        "waiting",
        "changed",
        "training",
        "trained",
        "waiting",
        "changed",
        "invalid",
        "waiting",
        "stopped",
    ]
    assert [e.get("version") for e in output.events() if e["event"] == "trained"] == [
        "v0001",
        "v0002",
    ]


def test_watch_refuses_json_and_nproc(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "notes.dlm"
    for flags in (["--json"], ["--nproc", "2"]):
        result = runner.invoke(app, ["train", str(path), "--watch", *flags])
        assert result.exit_code == 2, result.output
        assert "--watch trains in this one process" in result.output


def test_a_change_counts_once_the_file_stays_quiet(tmp_path: Path) -> None:
    path = tmp_path / "notes.dlm"
    path.write_text("one", encoding="utf-8")
    seen = file_state(path)
    now = [0.0]
    writes = {1: "two", 3: "three!"}  # at these polls the file is written again

    def sleep(seconds: float) -> None:
        now[0] += seconds
        polls = round(now[0] / 0.5)
        if polls in writes:
            temporary = tmp_path / "next"
            temporary.write_text(writes.pop(polls), encoding="utf-8")
            os.replace(temporary, path)

    state = wait_for_change(path, seen, Timing(poll=0.5, quiet=1.0), sleep, lambda: now[0])
    assert state == file_state(path) and state != seen
    assert path.read_text(encoding="utf-8") == "three!"
    assert now[0] == pytest.approx(2.5), "1 s of quiet after the last write, at poll 3"
