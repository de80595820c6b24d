"""Diagnostics: dlmlang's findings, pushed on open, save and (debounced) change."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import Diagnostic, Severity
from lsp.positions import to_client_range
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer

DOCS_URL = "https://github.com/dlm-tools/dlm/blob/main/docs/diagnostics.md"
"""Where each code is explained: one heading per code (`## DLM041`, anchor `#dlm041`).
The repository named in vscode-ext/package.json, a placeholder until it is published."""

SEVERITY = {
    Severity.ERROR: types.DiagnosticSeverity.Error,
    Severity.WARNING: types.DiagnosticSeverity.Warning,
    Severity.INFO: types.DiagnosticSeverity.Information,
}


def code_link(code: str) -> str:
    """The address of `code`'s entry in docs/diagnostics.md."""
    return f"{DOCS_URL}#{code.lower()}"


def to_protocol(diagnostic: Diagnostic, snapshot: Snapshot) -> types.Diagnostic:
    """One dlmlang diagnostic in the protocol's form, its range in the client's units."""
    return types.Diagnostic(
        range=to_client_range(snapshot.lines, diagnostic.range, snapshot.encoding),
        message=diagnostic.message,
        severity=SEVERITY[diagnostic.severity],
        code=diagnostic.code,
        code_description=types.CodeDescription(href=code_link(diagnostic.code)),
        source="dlm",
    )


def lsp_diagnostics(snapshot: Snapshot) -> list[types.Diagnostic]:
    """The protocol form of a parse's diagnostics, ranges in the client's units."""
    return [to_protocol(d, snapshot) for d in snapshot.diagnostics]


def publish(server: DlmServer, uri: str) -> None:
    """Parse the document as it is now and push its diagnostics with its version."""
    snapshot = server.snapshot(uri)
    if snapshot is None:
        return
    server.text_document_publish_diagnostics(
        types.PublishDiagnosticsParams(
            uri=uri, diagnostics=lsp_diagnostics(snapshot), version=snapshot.version
        )
    )


def schedule(server: DlmServer, uri: str) -> None:
    """Publish after a quiet spell; an edit in the meantime restarts the wait."""
    pending = server.pending.pop(uri, None)
    if pending is not None:
        pending.cancel()
    server.pending[uri] = asyncio.get_running_loop().create_task(_after_delay(server, uri))


async def _after_delay(server: DlmServer, uri: str) -> None:
    await asyncio.sleep(server.settings.diagnostics_delay)
    server.pending.pop(uri, None)
    server.guarded("diagnostics", publish, server, uri)  # re-reads: never a stale version


def register(server: DlmServer) -> None:
    """Wire the document lifecycle notifications."""

    @server.feature(types.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: DlmServer, params: types.DidOpenTextDocumentParams) -> None:
        ls.guarded("diagnostics", publish, ls, params.text_document.uri)
        ls.file_settled(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: DlmServer, params: types.DidChangeTextDocumentParams) -> None:
        ls.guarded("diagnostics", schedule, ls, params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: DlmServer, params: types.DidSaveTextDocumentParams) -> None:
        ls.guarded("diagnostics", publish, ls, params.text_document.uri)
        ls.file_settled(params.text_document.uri)

    @server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: DlmServer, params: types.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        pending = ls.pending.pop(uri, None)
        if pending is not None:
            pending.cancel()
        ls.text_document_publish_diagnostics(
            types.PublishDiagnosticsParams(uri=uri, diagnostics=[])
        )
