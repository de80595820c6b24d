"""Very large blocks parsed in pieces, so that an edit in one re-parses one piece.

A block is one section: normally a few hundred bytes, but a pasted book in one
prose section, or an unclosed code fence that hides every fence after it, makes
blocks of hundreds of kilobytes. Such a block is cut at line starts outside any
code block; its first piece is parsed from the section's start symbol and each
later one from the matching `*_rest` symbol (the same lines, no fence), and the
pieces' results are joined: the lines that open a later piece continue the field
(or section) open at the cut, and a text run the cut split in two is one again.
A property test checks the joined result equals parsing the whole block.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from dlmlang.grammar import UNREAD, Field, Item, RawSection
from dlmlang.marker import MarkerAttribute

PIECE = 16384
"""About how many characters go in one piece. A piece costs the parser per token,
and prose or code runs are one token however long: fewer, larger pieces mean less
joining per edit for about the same parse."""
LARGE = 2 * PIECE
"""Blocks longer than this are parsed in pieces."""

REST = {
    "lead": "prose_rest",
    "prose_section": "prose_rest",
    "media_section": "prose_rest",
    "unknown_section": "prose_rest",
    "instruction_section": "instruction_rest",
    "preference_section": "preference_rest",
}
"""The start symbol of a later piece of a block, by the block's own."""

RawParser = Callable[[str, str, int], RawSection]
"""(piece text, start symbol, its first line in the block) -> its raw parse, lines
relative to the block."""


def cuts(block: str, toggles: list[int], size: int = PIECE) -> list[int]:
    """Offsets where `block` may be cut, about `size` characters apart: paragraph starts
    (a line after a blank one) and lines right after a code block, never inside one.
    `toggles` are the offsets of the block's code toggle lines, in order.

    The cuts are content-defined (a candidate qualifies by its own line's hash, not by
    where the previous cut fell), so an edit changes at most the cuts next to it and
    every other piece reads as before.
    """
    code = _code_regions(block, toggles)
    candidates = [match.end() for match in _PARAGRAPH.finditer(block)]
    candidates += [end for _, end in code if end < len(block)]
    candidates.sort()
    outside: list[int] = []
    region = 0
    for cut in candidates:
        while region < len(code) and code[region][1] <= cut:
            region += 1
        if (region == len(code) or code[region][0] >= cut) and (not outside or outside[-1] != cut):
            outside.append(cut)
    # One qualifying candidate in `every`: about one cut per `size` characters.
    every = 1 << max(0, int(size * len(outside) / max(1, len(block))).bit_length() - 1)
    if every == 1:
        return outside
    return [cut for cut in outside if not hash(block[cut : block.find("\n", cut)]) % every]


_PARAGRAPH = re.compile(r"\n\n(?=[^\n])")
"""A blank line and the start of the line after it (the match ends there)."""


def _code_regions(block: str, toggles: list[int]) -> list[tuple[int, int]]:
    """(opening toggle line start, start of the line after the closing one) per code block."""
    regions = []
    for index in range(0, len(toggles), 2):
        if index + 1 == len(toggles):
            regions.append((toggles[index], len(block)))  # unclosed: code to the end
            break
        after = block.find("\n", toggles[index + 1]) + 1
        regions.append((toggles[index], after or len(block)))
    return regions


def parse_in_pieces(block: str, start: str, offsets: list[int], parse: RawParser) -> RawSection:
    """The raw parse of `block` from `start`, made of the parses of its pieces."""
    bounds = [0, *offsets, len(block)]
    line = 0
    whole: RawSection | None = None
    for index in range(len(bounds) - 1):
        piece = block[bounds[index] : bounds[index + 1]]
        if whole is None:
            first = parse(piece, start, 0)
            whole = RawSection(
                first.kind,
                first.fence,
                first.line,
                first.offset,
                list(first.items),
                [Field(f.header, f.line, f.raw, list(f.items)) for f in first.fields],
            )
        else:
            _continue(whole, parse(piece, REST[start], line))
        line += piece.count("\n")
    assert whole is not None
    return whole


def _continue(whole: RawSection, rest: RawSection) -> None:
    """Append a later piece: its first lines go on in the open field (or section)."""
    items = rest.items
    into = whole.fields[-1].items if whole.fields else whole.items
    if items and into and items[0].kind == "text" and into[-1].kind == "text":
        last = into[-1]
        into[-1] = Item("text", last.line, last.text + items[0].text)
        items = items[1:]
    into.extend(items)
    whole.fields.extend(Field(f.header, f.line, f.raw, list(f.items)) for f in rest.fields)


def shifted(raw: RawSection, lines: int) -> RawSection:
    """A piece's raw parse moved down by `lines` lines (it starts there in its block)."""
    if lines == 0:
        return raw
    return RawSection(
        raw.kind,
        raw.fence,
        raw.line + lines,
        raw.offset,
        [_shifted_item(item, lines) for item in raw.items],
        [
            Field(f.header, f.line + lines, f.raw, [_shifted_item(i, lines) for i in f.items])
            for f in raw.fields
        ],
    )


def _shifted_item(item: Item, lines: int) -> Item:
    attributes = item.given  # UNREAD stays so: read at the shifted line when asked for
    if attributes is not None and attributes is not UNREAD:
        attributes = [MarkerAttribute(a.name, a.value, a.range.shifted(lines)) for a in attributes]
    return Item(item.kind, item.line + lines, item.text, attributes, item.unclosed)
