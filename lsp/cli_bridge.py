"""The server reaches the store only through `dlm` subprocesses: run them, read their JSON."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from dlmlang import Range
from lsp.positions import to_client_range


@dataclass(frozen=True, slots=True)
class CliResult:
    """What a finished `dlm` subprocess said."""

    code: int
    stdout: str
    stderr: str

    def json(self) -> dict[str, Any]:
        """stdout as a JSON object (every `--json` output is one)."""
        value = json.loads(self.stdout)
        if not isinstance(value, dict):
            raise ValueError("dlm printed JSON that is not an object")
        return value

    def error_tail(self, lines: int = 6) -> str:
        """The last lines of stderr that are not progress JSON: the message to show."""
        kept = [line for line in self.stderr.splitlines() if not line.startswith("{")]
        return "\n".join(kept[-lines:]).strip() or f"dlm exited with code {self.code}"


def default_command() -> list[str]:
    """`dlm` as the interpreter running this server runs it."""
    return [sys.executable, "-m", "dlm"]


async def start(command: Sequence[str], arguments: Sequence[str]) -> asyncio.subprocess.Process:
    """Start `dlm` in its own process group (so a cancel also stops its judge processes)."""
    return await asyncio.create_subprocess_exec(
        *command,
        *arguments,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
        env=os.environ.copy(),
    )


async def run(command: Sequence[str], arguments: Sequence[str]) -> CliResult:
    """Run `dlm` to completion."""
    process = await start(command, arguments)
    stdout, stderr = await process.communicate()
    return CliResult(
        process.returncode or 0,
        stdout.decode("utf-8", "replace"),
        stderr.decode("utf-8", "replace"),
    )


def kill(process: asyncio.subprocess.Process) -> None:
    """Stop a `dlm` process and everything it started."""
    if process.returncode is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        process.kill()


def text_edits(
    payload: dict[str, Any], lines: Sequence[str], encoding: str
) -> list[types.TextEdit]:
    """The edits of `dlm preference apply|revert --dry-run --json` in protocol units."""
    edits = []
    for edit in payload.get("edits", []):
        start, end = edit["range"]["start"], edit["range"]["end"]
        span = Range.of(start["line"], start["character"], end["line"], end["character"])
        edits.append(
            types.TextEdit(
                range=to_client_range(lines, span, encoding), new_text=str(edit["new_text"])
            )
        )
    return edits


def same_as_disk(path: Path, text: str) -> bool:
    """True when the editor's text is what the file holds (the CLI reads the file)."""
    try:
        data = path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return data.removeprefix("\ufeff") == text.removeprefix("\ufeff")
