"""Loading `dlm.lark` and turning its parse of a body or block into raw sections.

The transformer does no validation: it reports what the grammar found (items
with their relative line numbers). `sections.py` checks the rules on that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer

from dlmlang.lalr import TableParser
from dlmlang.marker import MarkerAttribute
from dlmlang.positions import Range

START_SYMBOLS = (
    "body",
    "lead",
    "prose_section",
    "instruction_section",
    "preference_section",
    "media_section",
    "unknown_section",
)
REST_SYMBOLS = ("prose_rest", "instruction_rest", "preference_rest")
"""Start symbols for the rest of a block after a line outside any code block."""


@dataclass(slots=True)
class Item:
    """One body construct: a text run, code block, escaped line, marker, ..."""

    kind: str
    """text | escaped | code | marker | fence_like | inline_header"""
    line: int
    """0-based line of its first line, relative to the parsed text."""
    text: str
    """Its text as content (escapes removed), every line ending in "\\n"."""
    attributes: list[MarkerAttribute] | None = None
    """marker: the attributes when well formed, None when malformed."""
    unclosed: bool = False
    """code: the block never closes."""


@dataclass(slots=True)
class Field:
    """A header line (### Q, ### Prompt, ...) and the items under it."""

    header: str
    line: int
    raw: str
    items: list[Item]


@dataclass(slots=True)
class RawSection:
    """What the grammar found for one section, before any rule is checked."""

    kind: str
    """lead | prose | instruction | preference | media | unknown"""
    fence: str | None
    """The fence line without its line ending; None for the lead."""
    line: int
    offset: int = 0
    """Offset of its first character in the parsed text."""
    items: list[Item] = field(default_factory=list)
    fields: list[Field] = field(default_factory=list)


def grammar_text() -> str:
    """The text of `dlm.lark`: from the installed package, else the source tree."""
    packaged = resources.files("dlmlang").joinpath("dlm.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    source_tree = Path(__file__).resolve().parent.parent / "grammar" / "dlm.lark"
    return source_tree.read_text(encoding="utf-8")


@cache
def parser() -> Lark:
    """The LALR parser for every start symbol, with the transformer inlined."""
    return Lark(
        grammar_text(),
        parser="lalr",
        lexer="contextual",
        start=[*START_SYMBOLS, *REST_SYMBOLS],
        maybe_placeholders=False,
        transformer=_ToRaw(),
        cache=True,  # the LALR tables, in the temp dir, keyed by the grammar's hash
    )


@cache
def _table_parser() -> TableParser:
    return TableParser(parser())


def parse_raw(text: str, start: str) -> Any:
    """Parse LF-normalised text ending in "\\n" from `start`; raw sections out."""
    return _table_parser().parse(text, start)


def malformed_marker_span(line: str) -> tuple[int, int]:
    """Columns of the first part of a malformed marker line that is not `name="value"`.

    Walks the line with the grammar's own attribute terminals; used to point a
    DLM060 at the offending attribute rather than at the whole line.
    """
    terminals = {t.name: t.pattern.to_regexp() for t in parser().terminals}
    name = re.compile(terminals["ATTRIBUTE_NAME"])
    value = re.compile(terminals["ATTRIBUTE_VALUE"])
    prefix = _MARKER_PREFIX.match(line)
    if prefix is None:
        return 0, len(line)
    position = prefix.end()
    while (found := name.match(line, position)) and (pair := value.match(line, found.end())):
        position = pair.end()
    start = len(line) - len(line[position:].lstrip(" \t"))
    if start >= len(line):
        return 0, len(line)  # every attribute is fine: the closing `-->` is missing
    following = _NEXT_PART.search(line, start + 1)
    return start, following.start() if following else len(line)


_MARKER_PREFIX = re.compile(r"<!-- dlm-auto-(?:mined|synth|harvest):")
_NEXT_PART = re.compile(r"[ \t]+(?:[A-Za-z_][A-Za-z0-9_]*=|-->)")


def _item(token: Token | Item) -> Item:
    if isinstance(token, Item):
        return token
    return Item("text", token.line - 1, token.value)  # type: ignore[operator]


class _ToRaw(Transformer[Token, Any]):
    """Tree to RawSection values; one method per grammar rule or alias."""

    def body(self, children: list[RawSection]) -> list[RawSection]:
        return children

    def lead(self, children: list[Any]) -> RawSection:
        items = [_item(c) for c in children]
        return RawSection("lead", None, 0, 0, items)

    def _make_section(self, kind: str, children: list[Any]) -> RawSection:
        fence: Token = children[0]
        line = fence.line - 1  # type: ignore[operator]
        section = RawSection(kind, fence.value[:-1], line, fence.start_pos or 0)
        for child in children[1:]:
            if isinstance(child, Field):
                section.fields.append(child)
            else:
                section.items.append(_item(child))
        return section

    def prose_section(self, children: list[Any]) -> RawSection:
        return self._make_section("prose", children)

    def media_section(self, children: list[Any]) -> RawSection:
        return self._make_section("media", children)

    def unknown_section(self, children: list[Any]) -> RawSection:
        return self._make_section("unknown", children)

    def instruction_section(self, children: list[Any]) -> RawSection:
        return self._make_section("instruction", children)

    def preference_section(self, children: list[Any]) -> RawSection:
        return self._make_section("preference", children)

    def _make_rest(self, children: list[Any]) -> RawSection:
        rest = RawSection("rest", None, 0)
        for child in children:
            if isinstance(child, Field):
                rest.fields.append(child)
            else:
                rest.items.append(_item(child))
        return rest

    def prose_rest(self, children: list[Any]) -> RawSection:
        return self._make_rest(children)

    def instruction_rest(self, children: list[Any]) -> RawSection:
        return self._make_rest(children)

    def preference_rest(self, children: list[Any]) -> RawSection:
        return self._make_rest(children)

    def _make_field(self, header: str, children: list[Any]) -> Field:
        head: Token = children[0]
        line = head.line - 1  # type: ignore[operator]
        items = [_item(c) for c in children[1:]]
        value: str = head.value
        split = value.index("\n") + 1
        if split < len(value):
            items.insert(0, Item("text", line + 1, value[split:]))
        return Field(header, line, value[:split], items)

    def question(self, children: list[Any]) -> Field:
        return self._make_field("Q", children)

    def answer(self, children: list[Any]) -> Field:
        return self._make_field("A", children)

    def prompt(self, children: list[Any]) -> Field:
        return self._make_field("Prompt", children)

    def chosen(self, children: list[Any]) -> Field:
        return self._make_field("Chosen", children)

    def rejected(self, children: list[Any]) -> Field:
        return self._make_field("Rejected", children)

    def code_block(self, children: list[Any]) -> Item:
        first: Token = children[0]
        text = "".join(c.text if isinstance(c, Item) else c.value for c in children)
        unclosed = first.type == "UNCLOSED_CODE_OPEN"
        return Item("code", first.line - 1, text, unclosed=unclosed)  # type: ignore[operator]

    def escaped_line(self, children: list[Token]) -> Item:
        token = children[0]
        return Item("escaped", token.line - 1, token.value[1:])  # type: ignore[operator]

    def fence_like(self, children: list[Token]) -> Item:
        token = children[0]
        return Item("fence_like", token.line - 1, token.value)  # type: ignore[operator]

    def inline_header(self, children: list[Token]) -> Item:
        token = children[0]
        return Item("inline_header", token.line - 1, token.value)  # type: ignore[operator]

    def marker(self, children: list[Any]) -> Item:
        first: Token = children[0]
        line = first.line - 1  # type: ignore[operator]
        if first.type == "MALFORMED_MARKER":
            return Item("marker", line, first.value, None)
        raw = "".join(c.raw if isinstance(c, _Attribute) else c.value for c in children)
        attributes = [c.attribute for c in children if isinstance(c, _Attribute)]
        return Item("marker", line, raw, attributes)

    def marker_attribute(self, children: list[Token]) -> _Attribute:
        name, value = children
        stripped = name.value.lstrip(" \t")
        start = name.column - 1 + len(name.value) - len(stripped)  # type: ignore[operator]
        end = value.end_column - 1  # type: ignore[operator]
        line = name.line - 1  # type: ignore[operator]
        where = Range.on_line(line, start, end)
        attribute = MarkerAttribute(stripped, value.value[2:-1], where)
        return _Attribute(attribute, name.value + value.value)


@dataclass(slots=True)
class _Attribute:
    attribute: MarkerAttribute
    raw: str
