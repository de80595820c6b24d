"""Text synchronisation: open documents kept as line buffers, edited in place.

pygls's built-in `didChange` applies an incremental change by rebuilding the whole
text line by line; this protocol applies it to the server's own `TextBuffer` (a
splice of the touched lines) and hands pygls's workspace the result as a whole-text
change, so both agree at a cost independent of the document's length.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, cast

from lsprotocol import types
from pygls.protocol import LanguageServerProtocol, lsp_method

if TYPE_CHECKING:
    from lsp.server import DlmServer


class DlmProtocol(LanguageServerProtocol):
    """pygls's protocol, with document changes applied through the server's buffers."""

    @lsp_method(types.TEXT_DOCUMENT_DID_OPEN)
    def lsp_text_document__did_open(self, params: types.DidOpenTextDocumentParams) -> Iterator[Any]:
        """Track the opened text, then run the server's own handler."""
        item = params.text_document
        self.workspace.put_text_document(item)
        self._dlm.documents.open(item.uri, item.text, item.version)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_OPEN, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CHANGE)
    def lsp_text_document__did_change(
        self, params: types.DidChangeTextDocumentParams
    ) -> Iterator[Any]:
        """Apply the changes to the document's buffer; pygls gets the resulting text."""
        identifier = params.text_document
        documents = self._dlm.documents
        encoding = str(self.workspace.position_encoding or "utf-16")
        if documents.change(identifier.uri, params.content_changes, identifier.version, encoding):
            whole = types.TextDocumentContentChangeWholeDocument(
                text=documents.text(identifier.uri) or ""
            )
            self.workspace.update_text_document(identifier, whole)
        else:  # a document we never saw opened: pygls's own way
            for change in params.content_changes:
                self.workspace.update_text_document(identifier, change)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CHANGE, params)

    @lsp_method(types.TEXT_DOCUMENT_DID_CLOSE)
    def lsp_text_document__did_close(
        self, params: types.DidCloseTextDocumentParams
    ) -> Iterator[Any]:
        """Forget the document, then run the server's own handler."""
        self.workspace.remove_text_document(params.text_document.uri)
        self._dlm.documents.close(params.text_document.uri)
        yield from self._user_handler(types.TEXT_DOCUMENT_DID_CLOSE, params)

    @property
    def _dlm(self) -> DlmServer:
        return cast("DlmServer", self._server)

    def _user_handler(self, method: str, params: Any) -> Iterator[Any]:
        handler = self.fm.features.get(method)
        if handler is not None:
            yield handler, (params,), None
