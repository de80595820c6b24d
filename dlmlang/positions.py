"""Positions and ranges in a document: 0-based lines and code-point characters."""

from __future__ import annotations

import re
from typing import NamedTuple


class Position(NamedTuple):
    """A point in the text: 0-based line, 0-based code-point offset in that line.

    A named tuple rather than a dataclass: documents hold tens of thousands and
    tuples are built several times faster; ordering is by line, then character.
    """

    line: int
    character: int

    def __str__(self) -> str:
        return f"{self.line}:{self.character}"


class Range(NamedTuple):
    """A half-open span [start, end) of the original text."""

    start: Position
    end: Position

    @classmethod
    def of(cls, line: int, start_char: int, end_line: int, end_char: int) -> Range:
        """Build a range from four integers."""
        return cls(Position(line, start_char), Position(end_line, end_char))

    @classmethod
    def on_line(cls, line: int, start_char: int, end_char: int) -> Range:
        """Build a range inside one line."""
        return cls(Position(line, start_char), Position(line, end_char))

    def shifted(self, lines: int) -> Range:
        """The same range moved down by `lines` lines."""
        if lines == 0:
            return self
        start, end = self
        return Range(
            Position(start.line + lines, start.character), Position(end.line + lines, end.character)
        )

    def __str__(self) -> str:
        return f"{self.start}-{self.end}"


LINE_END = re.compile(r"\r\n|\r|\n")
"""A line ending: LF, CRLF or CR (docs/format.md, "File encoding and line endings")."""


def line_starts(text: str) -> list[int]:
    """Offsets where each line of `text` starts; lines end at LF, CRLF or CR."""
    return [0, *(match.end() for match in LINE_END.finditer(text))]


def offset_at(starts: list[int], position: Position) -> int:
    """Offset of `position` in the text whose line starts are `starts`."""
    return starts[position.line] + position.character
