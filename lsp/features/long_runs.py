"""`dlm` runs that take a while (mine, train, prompt): `$/progress` from their
`--progress jsonl` lines, and cancellation through `window/workDoneProgress/cancel`."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any
from uuid import uuid4

from lsprotocol import types

from lsp import cli_bridge

if TYPE_CHECKING:
    from lsp.server import DlmServer


async def run_with_progress(
    ls: DlmServer, token: str, title: str, message: str, arguments: Sequence[str]
) -> cli_bridge.CliResult | None:
    """Run `dlm ARGUMENTS` with a cancellable progress under `token`; None (and the
    progress ended) when it was cancelled. The caller ends the progress otherwise."""
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(
        token, types.WorkDoneProgressBegin(title=title, cancellable=True, message=message)
    )
    process = await ls.children.start(ls.settings.dlm_command, arguments)
    ls.running[token] = process

    def relay(line: str) -> None:
        report = progress_report(line)
        if report is not None:
            ls.work_done_progress.report(token, report)

    try:
        result = await cli_bridge.collect(process, relay)
    except BaseException:
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Cancelled"))
        raise
    finally:
        ls.running.pop(token, None)
    if token in ls.cancelled:
        ls.cancelled.discard(token)
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Cancelled"))
        return None
    return result


async def stage_with_progress(
    ls: DlmServer, title: str, message: str, arguments: Sequence[str], count: str
) -> tuple[dict[str, Any], int] | None:
    """Run a `dlm` command that stages pairs (exit 0, or 2 for none) with progress: its
    JSON summary and the number of pairs under `count`, the progress ended with it; None
    when it was cancelled or failed (the failure shown)."""
    token = f"dlm-{uuid4().hex}"
    result = await run_with_progress(ls, token, title, message, arguments)
    if result is None:
        return None
    if result.code not in (0, 2):
        fail(ls, token, result)
        return None
    summary = result.json()
    pairs = int(summary.get(count, 0))
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=f"{pairs} pair(s) staged"))
    return summary, pairs


def fail(ls: DlmServer, token: str, result: cli_bridge.CliResult) -> None:
    """End the progress as failed and show what `dlm` said."""
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Failed"))
    ls.window_show_message(
        types.ShowMessageParams(type=types.MessageType.Error, message=result.error_tail())
    )


def progress_report(line: str) -> types.WorkDoneProgressReport | None:
    """A `--progress jsonl` line as a progress report; None for other lines."""
    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or "stage" not in event:
        return None
    done, total = event.get("done"), event.get("total")
    percentage = None
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        percentage = min(100, done * 100 // total)
    counts = f" {done}/{total}" if isinstance(total, int) and total else ""
    message = event.get("message") or ""
    return types.WorkDoneProgressReport(
        message=f"{event['stage']}{counts} {message}".strip(), percentage=percentage
    )


def register(server: DlmServer) -> None:
    """Wire the cancellation of a long run: its `dlm` process is killed."""

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel(ls: DlmServer, params: types.WorkDoneProgressCancelParams) -> None:
        token = str(params.token)
        process = ls.running.get(token)
        if process is not None:
            ls.cancelled.add(token)
            cli_bridge.kill(process)
