"""dlmlang counts code points; the protocol counts UTF-16 code units unless the client
negotiated UTF-8 or UTF-32. Convert both ways."""

from __future__ import annotations

from collections.abc import Sequence

from lsprotocol import types

from dlmlang import Position, Range

UTF16 = "utf-16"


def units(text: str, encoding: str = UTF16) -> int:
    """The length of `text` in the negotiated encoding's code units."""
    if encoding == "utf-32" or text.isascii():
        return len(text)
    if encoding == "utf-8":
        return len(text.encode("utf-8", "surrogatepass"))
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def to_client(lines: Sequence[str], position: Position, encoding: str = UTF16) -> types.Position:
    """A dlmlang position as a protocol position."""
    line = lines[position.line] if position.line < len(lines) else ""
    return types.Position(position.line, units(line[: position.character], encoding))


def to_client_range(lines: Sequence[str], span: Range, encoding: str = UTF16) -> types.Range:
    """A dlmlang range as a protocol range."""
    return types.Range(to_client(lines, span.start, encoding), to_client(lines, span.end, encoding))


def from_client(lines: Sequence[str], position: types.Position, encoding: str = UTF16) -> Position:
    """A protocol position as a dlmlang one (a unit inside a character rounds down)."""
    line = lines[position.line] if position.line < len(lines) else ""
    seen = 0
    for index, ch in enumerate(line):
        width = units(ch, encoding)
        if seen + width > position.character:
            return Position(position.line, index)
        seen += width
    return Position(position.line, len(line))


def split_lines(text: str) -> list[str]:
    """Lines without their endings, split exactly where dlmlang splits (LF, CRLF, CR)."""
    if "\r" not in text:  # the common case: skip two copies of the text
        return text.split("\n")
    return text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
