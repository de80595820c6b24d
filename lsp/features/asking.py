"""Ask the adapter: a question of the document answered by its current adapter through
`dlm prompt --json` (cancellable), cached per adapter version and question, and shown
beside the reference answer as an inlay hint (and in the hover of its `### Q`)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from dlmlang import Position, SectionKind
from dlmlang.context import headers_of
from lsp import cli_bridge
from lsp.adapters import Adapters, Answer
from lsp.features import long_runs
from lsp.features.loop import errors_first, guarded_async, on_disk
from lsp.positions import to_client
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer

ASK = "dlm.askAdapter"
EMPTY = "(an empty answer)"
SHOW_TIMEOUT = 30.0
"""Seconds `dlm show` may take to say which adapter is current."""


async def refresh_adapter(ls: DlmServer, uri: str) -> None:
    """Ask `dlm show --json` which adapter version is current for the document."""
    path = to_fs_path(uri)
    if path is None or cli_bridge.unusable_reason(Path(path)) is not None:
        return
    arguments = ["show", path, "--json"]
    result = await ls.children.run(ls.settings.dlm_command, arguments, timeout=SHOW_TIMEOUT)
    if result.code != 0:
        return
    current = (result.json().get("store") or {}).get("current")
    ls.adapters.set_version(uri, current if isinstance(current, str) else None)


async def know_adapter(ls: DlmServer, uri: str) -> None:
    """Make sure the adapter version is up to date, sharing one `dlm show` per document."""
    if not ls.adapters.needs_query(uri):
        return
    task = ls.adapters.queries.get(uri)
    if task is None:
        task = asyncio.ensure_future(refresh_adapter(ls, uri))
        ls.adapters.queries[uri] = task
        task.add_done_callback(lambda _: ls.adapters.queries.pop(uri, None))
    try:
        await asyncio.shield(task)
    except Exception as error:  # then nothing is known: the lenses offer to ask
        ls.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error, message=f"dlm show failed: {error!r}"
            )
        )


async def ask(ls: DlmServer, uri: str, question: str) -> str | None:
    """The current adapter's answer to `question`: from the cache, else from `dlm prompt`
    with a cancellable `$/progress`. Shown to the user; None when there is none."""
    found = on_disk(ls, uri, "answers")
    if found is None:
        return None
    path = found[1]
    await know_adapter(ls, uri)
    cached = ls.adapters.answer(uri, question)
    if cached is not None:
        _show(ls, cached)
        return cached.text
    token = f"dlm-ask-{uuid4().hex}"
    arguments = ["prompt", "--json", "--", str(path), question]
    result = await long_runs.run_with_progress(
        ls, token, "Asking the adapter", _short(question, 60), arguments
    )
    if result is None:
        return None
    if result.code != 0:
        ls.adapters.invalidate(uri)  # with no adapter yet, the lenses then say "run Train"
        long_runs.fail(ls, token, result)
        refresh_views(ls)
        return None
    payload = result.json()
    answer = Answer(str(payload["adapter_version"]), str(payload["answer"]))
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=f"{answer.version}"))
    ls.adapters.set_version(uri, answer.version)
    ls.adapters.remember(uri, answer.version, question, answer.text)
    refresh_views(ls)
    _show(ls, answer)
    return answer.text


def _show(ls: DlmServer, answer: Answer) -> None:
    ls.window_show_message(
        types.ShowMessageParams(
            type=types.MessageType.Info,
            message=f"Adapter {answer.version}: {answer.text.strip() or EMPTY}",
        )
    )


def refresh_views(ls: DlmServer) -> None:
    """Have the client ask again for code lenses and inlay hints, where it can."""
    workspace = ls.client_capabilities.workspace
    if workspace is None:
        return
    if workspace.code_lens is not None and workspace.code_lens.refresh_support:
        ls.workspace_code_lens_refresh(None)
    if workspace.inlay_hint is not None and workspace.inlay_hint.refresh_support:
        ls.workspace_inlay_hint_refresh(None)


def answer_hints(snapshot: Snapshot, uri: str, adapters: Adapters) -> list[types.InlayHint]:
    """An inlay hint after each `### A` whose question the current adapter answered."""
    if errors_first(snapshot) is not None:
        return []
    hints = []
    for section in snapshot.document.sections:
        if section.kind is not SectionKind.INSTRUCTION or not section.fenced:
            continue
        headers = headers_of(section, snapshot.lines)
        answer_lines = [at for at, header in headers if header == "### A"]
        for pair, line in zip(section.pairs, answer_lines, strict=False):
            found = adapters.answer(uri, pair.question)
            if found is None:
                continue
            end = Position(line, len(snapshot.lines[line]))
            hints.append(
                types.InlayHint(
                    position=to_client(snapshot.lines, end, snapshot.encoding),
                    label=f"{found.version}: {_short(found.text, 80)}",
                    padding_left=True,
                    tooltip=types.MarkupContent(
                        kind=types.MarkupKind.PlainText,
                        value=f"Adapter {found.version} answers:\n\n{found.text}",
                    ),
                )
            )
    return hints


def _short(text: str, limit: int) -> str:
    flat = " ".join(text.split()) or EMPTY
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def register(server: DlmServer) -> None:
    """Wire the ask command and the inlay hints that show its answers."""

    @server.command(ASK)
    async def ask_command(ls: LanguageServer, *arguments: Any) -> str | None:
        server = cast("DlmServer", ls)
        work = ask(server, str(arguments[0]), str(arguments[1]))
        return await guarded_async(server, "ask the adapter", work)

    @server.feature(types.TEXT_DOCUMENT_INLAY_HINT)
    async def hints(ls: DlmServer, params: types.InlayHintParams) -> list[types.InlayHint]:
        uri = params.text_document.uri
        await know_adapter(ls, uri)
        snapshot = ls.snapshot(uri)
        if snapshot is None:
            return []
        return ls.guarded("inlay hints", answer_hints, snapshot, uri, ls.adapters) or []
