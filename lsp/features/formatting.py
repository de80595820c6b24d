"""Formatting: `textDocument/formatting` with dlmlang's canonical layout (`dlm fmt`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang.formatting import format_edits
from lsp.positions import to_client_range
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer


def formatting_edits(snapshot: Snapshot) -> list[types.TextEdit]:
    """The edits that format the document; none when it has errors or is formatted."""
    edits = format_edits(snapshot.text) or []
    return [
        types.TextEdit(
            range=to_client_range(snapshot.lines, edit.range, snapshot.encoding),
            new_text=edit.new_text,
        )
        for edit in edits
    ]


def register(server: DlmServer) -> None:
    """Wire `textDocument/formatting` (the client's tab and space options do not apply:
    the layout is the language's)."""

    @server.feature(types.TEXT_DOCUMENT_FORMATTING)
    def formatting(ls: DlmServer, params: types.DocumentFormattingParams) -> list[types.TextEdit]:
        snapshot = ls.snapshot(params.text_document.uri)
        found = ls.guarded("formatting", formatting_edits, snapshot) if snapshot else None
        return found or []
