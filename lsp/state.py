"""What the server knows about each open document: its text buffer, an incremental
parser, and the parse of the current version."""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass

from lsprotocol import types

from dlmlang import Diagnostic, Document
from dlmlang.incremental import IncrementalParser, Parsed
from lsp.text import TextBuffer


@dataclass(slots=True)
class Snapshot:
    """One parse of one version of a document."""

    version: int | None
    text: str
    parsed: Parsed
    lines: Sequence[str]
    """The text's lines without endings, as this version has them."""
    encoding: str = "utf-16"
    """The position encoding negotiated with the client."""

    @property
    def document(self) -> Document:
        """The parsed document (sections are built on first use)."""
        return self.parsed.document

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        """The parse's diagnostics, in document order."""
        return self.parsed.diagnostics


class OpenDocument:
    """A document the client has open; only edited blocks are parsed again."""

    def __init__(self, text: str, version: int | None) -> None:
        self.buffer = TextBuffer(text)
        self.version = version
        self.parser = IncrementalParser()
        self._snapshot: Snapshot | None = None

    def change(
        self,
        changes: Sequence[types.TextDocumentContentChangeEvent],
        version: int | None,
        encoding: str,
    ) -> None:
        """Apply the client's `contentChanges`, in order."""
        for change in changes:
            self.buffer.apply(change, encoding)
        self.version = version
        self._snapshot = None

    def replace(self, text: str, version: int | None) -> None:
        """Take a whole new text (unless it is the text already held)."""
        if text != self.buffer.text:
            self.buffer.replace(text)
            self._snapshot = None
        self.version = version

    def snapshot(self, encoding: str = "utf-16") -> Snapshot:
        """The parse of the current text (parsed once per version)."""
        snapshot = self._snapshot
        if snapshot is None:
            buffer = self.buffer
            parsed = self.parser.update(buffer.text, buffer.take_unchanged())
            snapshot = self._snapshot = Snapshot(self.version, buffer.text, parsed, buffer.lines())
            _settle_heap()
        snapshot.version = self.version
        snapshot.encoding = encoding
        return snapshot


SWEEP_GROWTH = 1.5
"""A full sweep of the frozen heap runs when it has grown this much since the last one."""
SWEEP_CHECK = 64
"""Parses between two looks at the frozen heap's size (counting it walks it all)."""


class _Frozen:
    """The frozen heap's bookkeeping (the heap is the process's, and so is this)."""

    parses = 0
    after_sweep = 0
    """How many objects were frozen just after the last full sweep."""


def _settle_heap() -> None:
    """Collect the cyclic garbage made since the last parse, then exempt what is left
    from future collections.

    A parse of a large document leaves hundreds of thousands of long-lived, acyclic
    objects (reference counting frees them); were they not frozen, every full
    collection would walk them all, a pause of tens of milliseconds on a 1 MB document
    at random edits. The collection walks only what is not frozen yet (little after a
    one-line edit), so no garbage gets frozen, where no collection would find it.
    Frozen objects that later die in a cycle are found by a full sweep, once the
    frozen heap has grown by half since the last sweep.
    """
    gc.collect()
    gc.freeze()
    _Frozen.parses += 1
    if _Frozen.parses % SWEEP_CHECK != 1:
        return
    if gc.get_freeze_count() <= SWEEP_GROWTH * _Frozen.after_sweep:
        return
    if _Frozen.after_sweep:
        gc.unfreeze()
        gc.collect()
        gc.freeze()
    _Frozen.after_sweep = gc.get_freeze_count()


class Documents:
    """Open documents by URI."""

    def __init__(self) -> None:
        self._open: dict[str, OpenDocument] = {}

    def open(self, uri: str, text: str, version: int | None) -> None:
        """Start tracking a document the client opened."""
        known = self._open.get(uri)
        if known is None:
            self._open[uri] = OpenDocument(text, version)
        else:
            known.replace(text, version)

    def change(
        self,
        uri: str,
        changes: Sequence[types.TextDocumentContentChangeEvent],
        version: int | None,
        encoding: str,
    ) -> bool:
        """Apply the client's changes; False when the document is not open."""
        known = self._open.get(uri)
        if known is None:
            return False
        known.change(changes, version, encoding)
        return True

    def text(self, uri: str) -> str | None:
        """The current text of an open document."""
        known = self._open.get(uri)
        return None if known is None else known.buffer.text

    def snapshot(self, uri: str, encoding: str = "utf-16") -> Snapshot | None:
        """The parse of an open document's current text, or None if it is not open."""
        known = self._open.get(uri)
        return None if known is None else known.snapshot(encoding)

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._open.pop(uri, None)
