"""An open document's text as a list of lines, changed in place by the protocol's edits.

pygls rebuilds the whole text line by line on every incremental change; for a
1 MB document that is tens of thousands of Python steps per keystroke. Here an
edit replaces only the lines it touches (a list splice), the text is joined once
when it is needed, and each edit records how much of the text's start and end it
left alone, which the incremental parser uses instead of comparing texts.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from itertools import islice
from typing import overload

from lsprotocol import types

_LINE_END = re.compile(r"\r\n|\r|\n")
_ENDINGS = "\r\n"


def split_keeping_ends(text: str) -> list[str]:
    """Lines with their endings (LF, CRLF, CR); the last has none and may be empty."""
    if "\r" not in text:
        parts = text.split("\n")
        return [*(part + "\n" for part in parts[:-1]), parts[-1]]
    lines, start = [], 0
    for match in _LINE_END.finditer(text):
        lines.append(text[start : match.end()])
        start = match.end()
    lines.append(text[start:])
    return lines


class Lines(Sequence[str]):
    """The lines of one version of a text, without their endings."""

    __slots__ = ("_lines",)

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [line.rstrip(_ENDINGS) for line in self._lines[index]]
        return self._lines[index].rstrip(_ENDINGS)

    def __len__(self) -> int:
        return len(self._lines)

    def __iter__(self) -> Iterator[str]:
        return (line.rstrip(_ENDINGS) for line in self._lines)


class TextBuffer:
    """A document's current text, edited by protocol ranges in the negotiated encoding."""

    __slots__ = ("_known", "_length", "_lines", "_prefix", "_suffix", "_text")

    def __init__(self, text: str) -> None:
        self._lines = split_keeping_ends(text)
        self._text: str | None = text
        self._length = len(text)
        self._prefix = self._suffix = self._length
        """Characters at the start / end untouched since `take_unchanged` last ran."""
        self._known = True
        """False once the whole text was replaced: then nothing is known untouched."""

    @property
    def text(self) -> str:
        """The whole text (joined when first asked for after an edit)."""
        if self._text is None:
            self._text = "".join(self._lines)
        return self._text

    def lines(self) -> Lines:
        """The current lines, without endings (a copy: later edits do not change it)."""
        return Lines(list(self._lines))

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        """Apply one `contentChanges` entry (a ranged edit or the whole text)."""
        if isinstance(change, types.TextDocumentContentChangeWholeDocument):
            self.replace(change.text)
            return
        self.edit(change.range, change.text, encoding)

    def replace(self, text: str) -> None:
        """Replace everything."""
        self._lines = split_keeping_ends(text)
        self._text = text
        self._length = len(text)
        self._known = False

    def edit(self, span: types.Range, new_text: str, encoding: str) -> None:
        """Replace the text in `span` (protocol units) with `new_text`."""
        lines = self._lines
        start_line, start_col = self._point(span.start, encoding)
        end_line, end_col = self._point(span.end, encoding)
        if (end_line, end_col) < (start_line, start_col):  # a reversed range: read it forwards
            start_line, start_col, end_line, end_col = end_line, end_col, start_line, start_col
        start = sum(map(len, islice(lines, start_line))) + start_col
        end = start - start_col + sum(map(len, islice(lines, start_line, end_line))) + end_col
        first = start_line
        merged = lines[start_line][:start_col] + new_text + lines[end_line][end_col:]
        if first > 0 and merged.startswith("\n") and lines[first - 1].endswith("\r"):
            first -= 1  # a CR before the edit and an LF after it make one CRLF
            merged = lines[first] + merged
        replacement = split_keeping_ends(merged)
        if end_line + 1 < len(lines):
            replacement.pop()  # `merged` ends with the line ending before the next line
        lines[first : end_line + 1] = replacement
        old_length = self._length
        self._length = old_length - (end - start) + len(new_text)
        self._text = None
        self._prefix = min(self._prefix, start)
        self._suffix = min(self._suffix, old_length - end)

    def take_unchanged(self) -> tuple[int, int] | None:
        """(prefix, suffix): characters at the start and end of the text untouched since
        the last call (None after a whole-text replace); then start counting afresh."""
        prefix = min(self._prefix, self._length)
        unchanged = (prefix, min(self._suffix, self._length - prefix)) if self._known else None
        self._prefix = self._suffix = self._length
        self._known = True
        return unchanged

    def _point(self, position: types.Position, encoding: str) -> tuple[int, int]:
        """A protocol position as (line, code-point column), clamped into the text."""
        if position.line >= len(self._lines):
            last = len(self._lines) - 1
            return last, len(self._lines[last].rstrip(_ENDINGS))
        content = self._lines[position.line].rstrip(_ENDINGS)
        character = position.character
        if encoding == "utf-32" or content.isascii():
            return position.line, min(character, len(content))
        seen = 0
        for index, ch in enumerate(content):
            width = 1 if ord(ch) < 0x80 else _width(ch, encoding)
            if seen + width > character:
                return position.line, index
            seen += width
        return position.line, len(content)


def _width(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    return 2 if ord(ch) > 0xFFFF else 1
