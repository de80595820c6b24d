"""Semantic tokens (whole document): fences and their adapter, section headers, escaped
lines, and the attributes of the auto-mined, synthesis and harvest markers.

Each section's text is parsed with dlmlang's grammar (as the document parse does), so a
token is exactly what the parser reads as structure: a `### Q` in prose or a fence
inside a code block is no token. The tokens of a section's text are cached, so after
an edit only the edited section is parsed again.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Sequence
from enum import IntEnum
from typing import TYPE_CHECKING, NamedTuple

from lsprotocol import types

from dlmlang.grammar import Field, Item, RawSection, parse_raw
from lsp.positions import units
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer


class TokenType(IntEnum):
    """The legend's token types, by index (standard names, so themes colour them)."""

    KEYWORD = 0
    """A fence, `::instruction::`, without its adapter."""
    NAMESPACE = 1
    """The adapter suffix of a fence, `#tone`."""
    TYPE = 2
    """A section header, `### Q`, `### Prompt`, ..."""
    DECORATOR = 3
    """The `!probe` of `### Q !probe`."""
    MACRO = 4
    """A marker's delimiters, `<!-- dlm-auto-mined:` and `-->`."""
    PROPERTY = 5
    """A marker attribute's name."""
    STRING = 6
    """A marker attribute's quoted value; the text of an escaped line."""
    OPERATOR = 7
    """The backslash that escapes a line (the parser removes it)."""


LEGEND = types.SemanticTokensLegend(
    token_types=[kind.name.lower() for kind in TokenType], token_modifiers=[]
)
CACHE_CHARS = 16_000_000
"""How much section text (characters) the token cache keeps: a few versions of a large
document, so unchanged sections are not parsed again after an edit."""

_ESCAPED_TOGGLE = re.compile(r"\\+```")
_MARKER_OPEN = re.compile(r"<!-- dlm-auto-(?:mined|synth|harvest):")
_MARKER_CLOSE = re.compile(r"[ \t]*(-->)[ \t]*\Z")


class Token(NamedTuple):
    """One token in dlmlang's units: a line, code-point columns, a type."""

    line: int
    start: int
    end: int
    type: TokenType


def document_tokens(snapshot: Snapshot) -> list[Token]:
    """Every token of the document, in order."""
    found: list[Token] = []
    for section in snapshot.document.sections:
        if section.source is None:
            continue
        first = section.range.start.line
        found.extend(
            Token(first + line, start, end, kind)
            for line, start, end, kind in section_tokens(section.source)
        )
    found.sort()
    return found


def section_tokens(source: str) -> tuple[Token, ...]:
    """The tokens of one section's text, lines counted from its first line (cached by the
    text itself: an unchanged section keeps its string, whose hash Python keeps)."""
    found = _CACHE.get(source)
    if found is None:
        found = _CACHE.put(source, _parse_tokens(source))
    return found


class _Cache:
    """Recently used section texts and their tokens, up to `CACHE_CHARS` characters of
    text (a count would either thrash on a document of many sections or keep too much
    of one with large ones)."""

    def __init__(self) -> None:
        self._entries: OrderedDict[str, tuple[Token, ...]] = OrderedDict()
        self._chars = 0

    def get(self, source: str) -> tuple[Token, ...] | None:
        """The tokens of `source`, if cached (it becomes the most recent)."""
        found = self._entries.get(source)
        if found is not None:
            self._entries.move_to_end(source)
        return found

    def put(self, source: str, tokens: tuple[Token, ...]) -> tuple[Token, ...]:
        """Keep `tokens` for `source`, dropping the oldest entries beyond the budget."""
        self._entries[source] = tokens
        self._chars += len(source)
        while self._chars > CACHE_CHARS and len(self._entries) > 1:
            old, _ = self._entries.popitem(last=False)
            self._chars -= len(old)
        return tokens


_CACHE = _Cache()


def _parse_tokens(source: str) -> tuple[Token, ...]:
    text = source.replace("\r\n", "\n").replace("\r", "\n")
    if not text.endswith("\n"):
        text += "\n"
    try:
        raws: list[RawSection] = parse_raw(text, "body")
    except Exception:  # not a section the grammar reads (never expected)
        return ()
    lines = text.split("\n")
    found: list[Token] = []
    for raw in raws:
        if raw.fence is not None:
            found.extend(_fence(raw.line, raw.fence))
        found.extend(_items(raw.items, lines))
        for field in raw.fields:
            found.extend(_header(field))
            found.extend(_items(field.items, lines))
    return tuple(found)


def _fence(line: int, fence: str) -> Iterator[Token]:
    """`::type` and `::` as keywords, a `#adapter` between them as a namespace."""
    hash_at = fence.find("#")
    if hash_at < 0 or fence.startswith(("::image", "::audio")):
        yield Token(line, 0, len(fence), TokenType.KEYWORD)
        return
    yield Token(line, 0, hash_at, TokenType.KEYWORD)
    yield Token(line, hash_at, len(fence) - 2, TokenType.NAMESPACE)
    yield Token(line, len(fence) - 2, len(fence), TokenType.KEYWORD)


def _header(field: Field) -> Iterator[Token]:
    """The header, without the blanks around it; `!probe` as a decorator."""
    raw = field.raw.rstrip("\n")
    start = len(raw) - len(raw.lstrip(" \t"))
    text = raw.strip(" \t")
    if text.endswith("!probe"):
        yield Token(field.line, start, start + len("### Q"), TokenType.TYPE)
        probe = start + text.index("!probe")
        yield Token(field.line, probe, probe + len("!probe"), TokenType.DECORATOR)
        return
    yield Token(field.line, start, start + len(text), TokenType.TYPE)


def _items(items: Iterable[Item], lines: Sequence[str]) -> Iterator[Token]:
    for item in items:
        if item.kind == "escaped":
            yield from _escaped(item.line, lines[item.line])
        elif item.kind == "marker" and item.attributes is not None:
            yield from _marker(item, lines[item.line])
        elif item.kind == "code":
            # Inside a code block, only an escaped closing toggle is structure.
            for line in range(item.line, item.line + item.text.count("\n")):
                if _ESCAPED_TOGGLE.match(lines[line]):
                    yield from _escaped(line, lines[line])


def _escaped(line: int, text: str) -> Iterator[Token]:
    yield Token(line, 0, 1, TokenType.OPERATOR)
    if len(text) > 1:
        yield Token(line, 1, len(text), TokenType.STRING)


def _marker(item: Item, text: str) -> Iterator[Token]:
    """The opening and closing delimiters, and each attribute's name and value."""
    opening = _MARKER_OPEN.match(text)
    if opening is None:
        return
    yield Token(item.line, 0, opening.end(), TokenType.MACRO)
    for attribute in item.attributes or ():
        start, end = attribute.range.start.character, attribute.range.end.character
        yield Token(item.line, start, start + len(attribute.name), TokenType.PROPERTY)
        yield Token(item.line, start + len(attribute.name) + 1, end, TokenType.STRING)
    closing = _MARKER_CLOSE.search(text)
    if closing is not None:
        yield Token(item.line, closing.start(1), closing.end(1), TokenType.MACRO)


def encode(tokens: Sequence[Token], lines: Sequence[str], encoding: str) -> list[int]:
    """The protocol's relative encoding: five integers a token, columns in `encoding`."""
    data: list[int] = []
    previous_line = previous_start = 0
    for token in tokens:
        text = lines[token.line] if token.line < len(lines) else ""
        start = units(text[: token.start], encoding)
        length = units(text[token.start : token.end], encoding)
        if length <= 0:
            continue
        delta_line = token.line - previous_line
        delta_start = start - previous_start if delta_line == 0 else start
        data.extend((delta_line, delta_start, length, int(token.type), 0))
        previous_line, previous_start = token.line, start
    return data


def semantic_tokens(snapshot: Snapshot) -> types.SemanticTokens:
    """The whole document's tokens, in the client's position encoding."""
    data = encode(document_tokens(snapshot), snapshot.lines, snapshot.encoding)
    return types.SemanticTokens(data=data)


def register(server: DlmServer) -> None:
    """Wire `textDocument/semanticTokens/full`, advertising the legend."""

    @server.feature(types.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, LEGEND)
    def full(ls: DlmServer, params: types.SemanticTokensParams) -> types.SemanticTokens:
        snapshot = ls.snapshot(params.text_document.uri)
        found = ls.guarded("semantic tokens", semantic_tokens, snapshot) if snapshot else None
        return found or types.SemanticTokens(data=[])
