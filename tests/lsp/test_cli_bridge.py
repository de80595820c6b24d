"""cli_bridge without a server: reading children's output, timeouts, killing process
groups, which files `dlm` may be started on, and the children's import path."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import sys
from pathlib import Path

import pytest

from lsp import cli_bridge
from tests.lsp.processes import gone

# Progress on stderr, then over a megabyte of JSON on stdout (far more than a pipe
# holds), then more progress: a reader that drains stderr first waits forever.
FLOOD = """
import json, sys
print(json.dumps({"stage": "sample", "done": 1, "total": 2}), file=sys.stderr, flush=True)
sys.stdout.write(json.dumps({"pairs_mined": 0, "padding": ["x" * 1000] * 1100}))
sys.stdout.flush()
print("y" * 200_000, file=sys.stderr)  # one line longer than a stream's line limit
print(json.dumps({"stage": "sample", "done": 2, "total": 2}), file=sys.stderr)
"""
# A child that starts a grandchild, says its pid (on stdout, stderr, and in the file
# $SLEEPER_PIDS names, if any), and sleeps.
SLEEPER = """
import os, subprocess, sys, time
grandchild = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])
if os.environ.get("SLEEPER_PIDS"):
    with open(os.environ["SLEEPER_PIDS"], "w") as handle:
        handle.write(f"{os.getpid()} {grandchild.pid}")
print(grandchild.pid, flush=True)
print(f"started {grandchild.pid}", file=sys.stderr, flush=True)
time.sleep(300)
"""


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


async def test_collect_reads_stdout_and_stderr_at_once() -> None:
    children = cli_bridge.Children()
    process = await children.start(python(FLOOD), [])
    lines: list[str] = []
    result = await asyncio.wait_for(cli_bridge.collect(process, lines.append), timeout=30)
    assert result.code == 0
    assert len(result.json()["padding"]) == 1100
    assert [json.loads(line)["done"] for line in lines if line.startswith("{")] == [1, 2]
    assert "y" * 200_000 in lines
    assert result.stderr == "\n".join(lines)


async def test_run_reads_a_megabyte_of_stdout() -> None:
    result = await asyncio.wait_for(cli_bridge.Children().run(python(FLOOD), []), timeout=30)
    assert result.code == 0 and len(result.json()["padding"]) == 1100


async def test_run_past_its_timeout_kills_the_group_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SLEEPER_PIDS", str(tmp_path / "pids"))
    children = cli_bridge.Children()
    result = await children.run(python(SLEEPER), ["preference", "list"], timeout=2)
    assert result.code == cli_bridge.TIMED_OUT
    assert result.error_tail() == "`dlm preference list` took longer than 2 s and was stopped."
    assert gone([int(pid) for pid in (tmp_path / "pids").read_text().split()])


async def test_a_cancelled_collect_kills_the_child_and_its_children() -> None:
    children = cli_bridge.Children()
    process = await children.start(python(SLEEPER), [])
    started: list[str] = []
    waiting = asyncio.ensure_future(cli_bridge.collect(process, started.append))
    for _ in range(200):
        if started:
            break
        await asyncio.sleep(0.05)
    grandchild = int(started[0].split()[1])
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert gone([process.pid, grandchild])


async def test_kill_all_stops_every_child_and_grandchild() -> None:
    children = cli_bridge.Children()
    started = [await children.start(python(SLEEPER), []) for _ in range(2)]
    pids = [p.pid for p in started]
    for process in started:
        assert process.stdout is not None
        pids.append(int(await asyncio.wait_for(process.stdout.readline(), timeout=30)))
    assert not gone(pids, timeout=0.2)
    children.kill_all()
    assert gone(pids)
    for process in started:
        await process.wait()


def test_unusable_reason_refuses_what_dlm_would_refuse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    regular = tmp_path / "notes.dlm"
    regular.write_text("x" * 100)
    fifo = tmp_path / "pipe.dlm"
    os.mkfifo(fifo)
    linked = tmp_path / "link.dlm"
    linked.symlink_to(regular)
    to_fifo = tmp_path / "to-pipe.dlm"
    to_fifo.symlink_to(fifo)
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "socket.dlm"))
        reasons = {
            name: cli_bridge.unusable_reason(path)
            for name, path in {
                "regular": regular,
                "link to regular": linked,
                "fifo": fifo,
                "link to fifo": to_fifo,
                "socket": tmp_path / "socket.dlm",
                "directory": tmp_path,
                "device": Path("/dev/zero"),
                "missing": tmp_path / "missing.dlm",
            }.items()
        }
    assert reasons["regular"] is None and reasons["link to regular"] is None
    for name in ("fifo", "link to fifo", "socket", "directory", "device"):
        assert reasons[name] is not None and "not a regular file" in reasons[name], name
    assert reasons["missing"] is not None and reasons["missing"].startswith("missing.dlm")
    monkeypatch.setenv("DLM_MAX_DOCUMENT_BYTES", "99")
    assert cli_bridge.unusable_reason(regular) == (
        "notes.dlm is larger than the document size limit of 99 bytes (DLM_MAX_DOCUMENT_BYTES)."
    )
    monkeypatch.setenv("DLM_MAX_DOCUMENT_BYTES", "100")
    assert cli_bridge.unusable_reason(regular) is None


DEFAULT = 64 * 1024 * 1024


@pytest.mark.parametrize(
    ("value", "limit"),
    [(None, DEFAULT), ("", DEFAULT), ("1000", 1000), (" 5 ", 5), ("0", DEFAULT), ("x", DEFAULT)],
)
def test_max_document_bytes(monkeypatch: pytest.MonkeyPatch, value: str | None, limit: int) -> None:
    if value is None:
        monkeypatch.delenv("DLM_MAX_DOCUMENT_BYTES", raising=False)
    else:
        monkeypatch.setenv("DLM_MAX_DOCUMENT_BYTES", value)
    assert cli_bridge.max_document_bytes() == limit


def test_same_as_disk_never_waits_on_a_fifo_nor_reads_a_device(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dlm"
    os.mkfifo(fifo)
    assert cli_bridge.same_as_disk(fifo, "") is False  # returns at once: no writer needed
    assert cli_bridge.same_as_disk(Path("/dev/zero"), "") is False
    regular = tmp_path / "notes.dlm"
    regular.write_text("\ufeffsame", encoding="utf-8")
    assert cli_bridge.same_as_disk(regular, "same")


def test_children_run_dlm_with_a_safe_import_path(monkeypatch: pytest.MonkeyPatch) -> None:
    assert cli_bridge.default_command() == [sys.executable, "-P", "-m", "dlm"]
    monkeypatch.delenv("PYTHONSAFEPATH", raising=False)
    environment = cli_bridge.child_environment()
    assert environment["PYTHONSAFEPATH"] == "1" and environment["DLM_SAFEPATH_ADDED"] == "1"
    monkeypatch.setenv("PYTHONSAFEPATH", "yes")
    environment = cli_bridge.child_environment()
    assert environment["PYTHONSAFEPATH"] == "yes" and "DLM_SAFEPATH_ADDED" not in environment
