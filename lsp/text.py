"""An open document's text as a list of lines, changed in place by the protocol's edits.

pygls rebuilds the whole text line by line on every incremental change; for a
1 MB document that is tens of thousands of Python steps per keystroke. Here an
edit replaces only the lines it touches (a list splice), the text is joined once
when it is needed, and each edit records how much of the text's start and end it
left alone, which the incremental parser uses instead of comparing texts.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate
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


CHUNK = 256
"""Lines per chunk of a buffer (a chunk is split when it grows past twice this)."""


class Lines(Sequence[str]):
    """The lines of one version of a text, without their endings."""

    __slots__ = ("_chunks", "_firsts", "_length")

    def __init__(self, chunks: list[list[str]]) -> None:
        self._chunks = chunks
        self._firsts = list(accumulate((len(c) for c in chunks), initial=0))
        self._length = self._firsts[-1]

    @overload
    def __getitem__(self, index: int) -> str: ...

    @overload
    def __getitem__(self, index: slice) -> list[str]: ...

    def __getitem__(self, index: int | slice) -> str | list[str]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(self._length))]
        if index < 0:
            index += self._length
        if not 0 <= index < self._length:
            raise IndexError(index)
        chunk = bisect_right(self._firsts, index) - 1
        return self._chunks[chunk][index - self._firsts[chunk]].rstrip(_ENDINGS)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[str]:
        return (line.rstrip(_ENDINGS) for chunk in self._chunks for line in chunk)


class TextBuffer:
    """A document's current text, edited by protocol ranges in the negotiated encoding.

    The lines live in chunks of a few hundred, each with its length in characters:
    finding where a line starts adds up chunk lengths, and an edit copies only the
    chunks it touches (never changing one in place, so a `Lines` taken earlier
    keeps its version).
    """

    __slots__ = (
        "_chunk",
        "_chunk_chars",
        "_chunk_text",
        "_chunks",
        "_known",
        "_length",
        "_prefix",
        "_suffix",
        "_text",
    )

    def __init__(self, text: str, chunk: int = CHUNK) -> None:
        self._chunk = chunk
        self._set(text)
        self._prefix = self._suffix = self._length
        """Characters at the start / end untouched since `take_unchanged` last ran."""
        self._known = True
        """False once the whole text was replaced: then nothing is known untouched."""

    def _set(self, text: str) -> None:
        lines = split_keeping_ends(text)
        size = self._chunk
        self._chunks = [lines[i : i + size] for i in range(0, len(lines), size)]
        self._chunk_chars = [sum(map(len, chunk)) for chunk in self._chunks]
        self._chunk_text: list[str | None] = [None] * len(self._chunks)
        self._text: str | None = text
        self._length = len(text)

    @property
    def text(self) -> str:
        """The whole text (joined when first asked for after an edit)."""
        if self._text is None:
            parts = self._chunk_text
            for index, part in enumerate(parts):
                if part is None:
                    parts[index] = "".join(self._chunks[index])
            self._text = "".join(parts)  # type: ignore[arg-type]
        return self._text

    def lines(self) -> Lines:
        """The current lines, without endings (later edits do not change them)."""
        return Lines(list(self._chunks))

    def apply(self, change: types.TextDocumentContentChangeEvent, encoding: str) -> None:
        """Apply one `contentChanges` entry (a ranged edit or the whole text)."""
        if isinstance(change, types.TextDocumentContentChangeWholeDocument):
            self.replace(change.text)
            return
        self.edit(change.range, change.text, encoding)

    def replace(self, text: str) -> None:
        """Replace everything."""
        self._set(text)
        self._known = False

    def edit(self, span: types.Range, new_text: str, encoding: str) -> None:
        """Replace the text in `span` (protocol units) with `new_text`."""
        start_line, start_col = self._point(span.start, encoding)
        end_line, end_col = self._point(span.end, encoding)
        if (end_line, end_col) < (start_line, start_col):  # a reversed range: read it forwards
            start_line, start_col, end_line, end_col = end_line, end_col, start_line, start_col
        first_chunk, first_row = self._locate(start_line)
        last_chunk, last_row = self._locate(end_line)
        if first_chunk > 0 and first_row == 0 and start_col == 0:
            first_chunk -= 1  # the line before may end in a CR that the edit's LF joins
            first_row = len(self._chunks[first_chunk])
        chunks = self._chunks
        lines = [line for chunk in chunks[first_chunk : last_chunk + 1] for line in chunk]
        before = sum(self._chunk_chars[:first_chunk])
        row = first_row
        last = last_row + sum(len(c) for c in chunks[first_chunk:last_chunk])
        start = before + sum(map(len, lines[:row])) + start_col
        end = before + sum(map(len, lines[:last])) + end_col
        merged = lines[row][:start_col] + new_text + lines[last][end_col:]
        if row > 0 and merged.startswith("\n") and lines[row - 1].endswith("\r"):
            row -= 1  # a CR before the edit and an LF after it make one CRLF
            merged = lines[row] + merged
        replacement = split_keeping_ends(merged)
        if last_chunk + 1 < len(chunks) or last + 1 < len(lines):
            replacement.pop()  # `merged` ends with the line ending before the next line
        lines[row : last + 1] = replacement
        size = self._chunk
        pieces = [lines[i : i + size] for i in range(0, len(lines), size)] or [[""]]
        if len(pieces) > 1 and len(lines) <= 2 * size:
            pieces = [lines]
        chunks[first_chunk : last_chunk + 1] = pieces
        self._chunk_chars[first_chunk : last_chunk + 1] = [sum(map(len, p)) for p in pieces]
        self._chunk_text[first_chunk : last_chunk + 1] = [None] * len(pieces)
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

    def _locate(self, line: int) -> tuple[int, int]:
        """(chunk, row in it) of a line that exists."""
        for index, chunk in enumerate(self._chunks):
            if line < len(chunk):
                return index, line
            line -= len(chunk)
        last = len(self._chunks) - 1
        return last, len(self._chunks[last]) - 1

    def _point(self, position: types.Position, encoding: str) -> tuple[int, int]:
        """A protocol position as (line, code-point column), clamped into the text."""
        line_count = sum(len(chunk) for chunk in self._chunks)
        if position.line >= line_count:
            chunk, row = self._locate(line_count - 1)
            return line_count - 1, len(self._chunks[chunk][row].rstrip(_ENDINGS))
        chunk, row = self._locate(position.line)
        content = self._chunks[chunk][row].rstrip(_ENDINGS)
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
