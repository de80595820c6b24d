"""What the server knows about each open document: an incremental parser and its result."""

from __future__ import annotations

from dataclasses import dataclass, field

from dlmlang import Document
from dlmlang.incremental import IncrementalParser
from lsp.positions import split_lines


@dataclass(slots=True)
class Snapshot:
    """One parse of one version of a document."""

    version: int | None
    text: str
    document: Document
    lines: list[str]
    encoding: str = "utf-16"
    """The position encoding negotiated with the client."""


@dataclass(slots=True)
class OpenDocument:
    """A document the client has open; only edited blocks are parsed again."""

    parser: IncrementalParser = field(default_factory=IncrementalParser)
    snapshot: Snapshot | None = None

    def parse(self, text: str, version: int | None) -> Snapshot:
        """Parse `text` (reusing unchanged blocks), unless this exact text was parsed last."""
        if self.snapshot is not None and self.snapshot.text == text:
            self.snapshot.version = version
            return self.snapshot
        document = self.parser.parse(text)
        self.snapshot = Snapshot(version, text, document, split_lines(text))
        return self.snapshot


class Documents:
    """Open documents by URI."""

    def __init__(self) -> None:
        self._open: dict[str, OpenDocument] = {}

    def parse(self, uri: str, text: str, version: int | None) -> Snapshot:
        """The parse of `text` for `uri`."""
        return self._open.setdefault(uri, OpenDocument()).parse(text, version)

    def close(self, uri: str) -> None:
        """Forget a closed document."""
        self._open.pop(uri, None)
