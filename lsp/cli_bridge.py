"""The server reaches the store only through `dlm` subprocesses: run them, read their JSON."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import stat
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lsprotocol import types

from dlmlang import Range
from lsp.positions import to_client_range

RUN_TIMEOUT = 120.0
"""Seconds a `dlm` run that answers a question (list, dry runs, forget) may take."""
DEFAULT_MAX_DOCUMENT_BYTES = 64 * 1024 * 1024
TIMED_OUT = 124


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
    """`dlm` as the interpreter running this server runs it, with a safe import path."""
    # `-m` alone puts the working directory first on the import path: a `typer.py` (or a
    # `dlm/`) lying in the folder the editor started the server in would run instead.
    return [sys.executable, "-P", "-m", "dlm"]


def child_environment() -> dict[str, str]:
    """The server's environment plus PYTHONSAFEPATH, so that Python children of `dlm`
    (a `uv run` or a wrapper script in `dlmCommand`) get a safe import path too."""
    environment = os.environ.copy()
    if not environment.get("PYTHONSAFEPATH"):
        environment["PYTHONSAFEPATH"] = "1"
        # Tells dlm that the server, not the user, set it: judge scripts run without it.
        environment["DLM_SAFEPATH_ADDED"] = "1"
    return environment


def max_document_bytes() -> int:
    """The largest document `dlm` reads: $DLM_MAX_DOCUMENT_BYTES, else 64 MiB.

    A value that is not a positive number counts as unset here; `dlm` itself refuses
    to run with it and says why, and the server shows that message.
    """
    value = os.environ.get("DLM_MAX_DOCUMENT_BYTES", "").strip()
    try:
        limit = int(value)
    except ValueError:
        return DEFAULT_MAX_DOCUMENT_BYTES
    return limit if limit > 0 else DEFAULT_MAX_DOCUMENT_BYTES


def unusable_reason(path: Path) -> str | None:
    """Why `dlm` must not be started on `path` (missing, not a regular file, over the
    size limit), or None when it may. Follows symbolic links, as `dlm` does."""
    try:
        info = os.stat(path)
    except OSError as error:
        return f"{path.name} cannot be read ({error.strerror}); save it first."
    if not stat.S_ISREG(info.st_mode):
        return f"{path.name} is not a regular file; dlm works on regular files only."
    limit = max_document_bytes()
    if info.st_size > limit:
        return (
            f"{path.name} is larger than the document size limit of {limit:,} bytes "
            "(DLM_MAX_DOCUMENT_BYTES)."
        )
    return None


class Children:
    """The `dlm` processes one server started, so that none outlives it."""

    def __init__(self) -> None:
        self._started: set[asyncio.subprocess.Process] = set()

    async def start(
        self, command: Sequence[str], arguments: Sequence[str]
    ) -> asyncio.subprocess.Process:
        """Start `dlm` in its own process group (a kill also stops its judge processes)."""
        self._started = {p for p in self._started if p.returncode is None}
        process = await asyncio.create_subprocess_exec(
            *command,
            *arguments,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            start_new_session=True,
            env=child_environment(),
        )
        self._started.add(process)
        return process

    async def run(
        self,
        command: Sequence[str],
        arguments: Sequence[str],
        timeout: float | None = RUN_TIMEOUT,
    ) -> CliResult:
        """Run `dlm` to completion; past `timeout` seconds (None: no limit) it is killed and
        the result says so (code 124). A cancelled run kills it too."""
        process = await self.start(command, arguments)
        try:
            stdout, stderr = await asyncio.wait_for(process.communicate(), timeout)
        except TimeoutError:
            kill(process)
            await process.wait()
            what = " ".join(["dlm", *arguments[:2]])
            message = f"`{what}` took longer than {timeout or 0:g} s and was stopped."
            return CliResult(TIMED_OUT, "", message)
        except BaseException:
            kill(process)
            raise
        return CliResult(
            process.returncode or 0,
            stdout.decode("utf-8", "replace"),
            stderr.decode("utf-8", "replace"),
        )

    def kill_all(self) -> None:
        """Kill every child still running, with everything it started."""
        for process in self._started:
            kill(process)
        self._started.clear()


async def collect(
    process: asyncio.subprocess.Process, on_stderr_line: Callable[[str], None]
) -> CliResult:
    """Wait for a started `dlm`, handing each stderr line to `on_stderr_line` as it comes.

    stdout and stderr are read at once: a child whose output on one of them outgrows
    the pipe would otherwise stop, waiting for a reader that waits for it. A cancelled
    wait kills the child.
    """
    assert process.stdout is not None and process.stderr is not None
    stdout = asyncio.ensure_future(process.stdout.read())
    lines: list[str] = []

    def keep(line: str) -> None:
        lines.append(line)
        on_stderr_line(line)

    try:
        await _read_lines(process.stderr, keep)
        code = await process.wait()
        out = await stdout
    except BaseException:
        stdout.cancel()
        kill(process)
        raise
    return CliResult(code, out.decode("utf-8", "replace"), "\n".join(lines))


async def _read_lines(stream: asyncio.StreamReader, on_line: Callable[[str], None]) -> None:
    # Chunks, not readline(): a line past the stream's limit (64 KiB) would raise there.
    pending = b""
    while chunk := await stream.read(65536):
        *complete, pending = (pending + chunk).split(b"\n")
        for raw in complete:
            on_line(raw.decode("utf-8", "replace"))
    if pending:
        on_line(pending.decode("utf-8", "replace"))


def kill(process: asyncio.subprocess.Process) -> None:
    """Stop a `dlm` process and everything it started."""
    if process.returncode is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, AttributeError):
        with contextlib.suppress(ProcessLookupError):
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
    """True when the editor's text is what the file holds (the CLI reads the file).

    Reads regular files within the size limit only: opening a FIFO does not wait for
    a writer here, and a device is never read.
    """
    limit = max_document_bytes()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return False
        data = handle.read(limit + 1)
    if len(data) > limit:
        return False
    try:
        on_disk = data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return on_disk.removeprefix("\ufeff") == text.removeprefix("\ufeff")
