"""Loading `dlm.lark` and turning its parse of a body or block into raw sections.

The transformer does no validation: it reports what the grammar found (items
with their relative line numbers). `sections.py` checks the rules on that.
"""

from __future__ import annotations

import marshal
import os
import re
import sys
import zlib
from dataclasses import dataclass, field
from functools import cache, partialmethod
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlmlang.lalr import TABLES_FORMAT, TableParser, Tables, build_tables
from dlmlang.marker import MarkerAttribute
from dlmlang.positions import Position, Range

if TYPE_CHECKING:
    from lark import Lark, Token

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
    given: list[MarkerAttribute] | None = field(default=None, compare=False, repr=False)
    """marker: the attributes (`attributes`), or `UNREAD` for a well-formed marker
    whose attributes are read on first use; None when malformed. They follow from
    `text` and `line`, so equality leaves them out."""
    unclosed: bool = False
    """code: the block never closes."""

    @property
    def attributes(self) -> list[MarkerAttribute] | None:
        """marker: the attributes when well formed, None when malformed."""
        found = self.given
        if found is UNREAD:
            found = self.given = marker_attributes(self.text, self.line)
        return found


UNREAD: list[MarkerAttribute] = []
"""`Item.given` of a well-formed marker whose attributes are not read yet (a sentinel:
compared by identity, never filled)."""


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
    here = Path(__file__).resolve().parent
    for path in (here / "dlm.lark", here.parent / "grammar" / "dlm.lark"):
        if path.is_file():
            return path.read_text(encoding="utf-8")
    from importlib import resources  # a package that is not plain files (a zip)

    return resources.files("dlmlang").joinpath("dlm.lark").read_text(encoding="utf-8")


@cache
def parser() -> Lark:
    """The LALR parser for every start symbol, with the transformer inlined.

    Parsing needs only its tables (`tables()`); Lark itself builds them, reports
    input they reject, and is what the property tests compare the driver with.
    """
    from lark import Lark

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
def tables() -> Tables:
    """The parse tables of `dlm.lark`, computed by Lark and kept on disk.

    The cache file holds the grammar text it was built from and is used only for
    exactly that text (and the tables' format), so an edited grammar never reads
    stale tables: it gets its own file, built on first use. Without a writable cache
    folder the tables are built every time.
    """
    return load_tables(grammar_text(), _cache_dirs())


def load_tables(grammar: str, cache_dirs: list[Path]) -> Tables:
    """The tables of `grammar` from the first cache folder that has them, else built
    by Lark and saved in the first folder that takes them."""
    # The file is named by a checksum and holds the grammar it was built from: tables
    # are used only for exactly that text (hashlib would cost more to import).
    # marshal's format is Python's own, and a user cache folder may be shared by
    # several interpreters: the name holds the version that wrote it.
    checksum = zlib.crc32(grammar.encode("utf-8"))
    python = "{}{}".format(*sys.version_info[:2])
    name = f"dlm-lark-{checksum:08x}-{len(grammar)}-{TABLES_FORMAT}-py{python}.tables"
    for folder in cache_dirs:
        try:
            found = marshal.loads((folder / name).read_bytes())
        except (OSError, ValueError, EOFError, TypeError):
            continue
        if isinstance(found, dict) and found.get("grammar") == grammar:
            return found
    built = build_tables(parser() if grammar == grammar_text() else _lark(grammar))
    built["terminals"] = _all_terminals(grammar)
    built["grammar"] = grammar
    data = marshal.dumps(built)
    for folder in cache_dirs:
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial = folder / f"{name}.{os.getpid()}"
            partial.write_bytes(data)
            os.replace(partial, folder / name)  # readers never see half a file
            break
        except OSError:
            continue
    return built


def _cache_dirs() -> list[Path]:
    """Next to the package's bytecode, else the user's cache folder."""
    folders = [Path(__file__).resolve().parent / "__pycache__"]
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    folders.append(Path(home) / "dlm")
    return folders


def _all_terminals(grammar: str) -> dict[str, tuple[str, int]]:
    """Every terminal the grammar defines, those only used inside others included."""
    from lark.load_grammar import load_grammar

    loaded, _ = load_grammar(grammar, "<dlm.lark>", [], False)  # type: ignore[no-untyped-call]
    found, _, _ = loaded.compile([*START_SYMBOLS, *REST_SYMBOLS], "*")
    return {str(t.name): (str(t.pattern.to_regexp()), int(t.priority)) for t in found}


def _lark(grammar: str) -> Lark:
    from lark import Lark

    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        start=[*START_SYMBOLS, *REST_SYMBOLS],
        maybe_placeholders=False,
    )


@cache
def terminals() -> dict[str, tuple[str, int]]:
    """Each terminal of `dlm.lark`: its regular expression and priority."""
    return {name: (regexp, priority) for name, (regexp, priority) in tables()["terminals"].items()}


@cache
def _table_parser() -> TableParser:
    return TableParser(tables(), _ToRaw(), parser)


def parse_raw(text: str, start: str) -> Any:
    """Parse LF-normalised text ending in "\\n" from `start`; raw sections out."""
    return _table_parser().parse(text, start)


def malformed_marker_span(line: str) -> tuple[int, int]:
    """Columns of the first part of a malformed marker line that is not `name="value"`.

    Walks the line with the grammar's own attribute terminals; used to point a
    DLM060 at the offending attribute rather than at the whole line.
    """
    name = re.compile(terminals()["ATTRIBUTE_NAME"][0])
    value = re.compile(terminals()["ATTRIBUTE_VALUE"][0])
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


def _sort_children(children: list[Any], start: int, items: list[Item], fields: list[Field]) -> None:
    """A section's children from `start` on into its items and its fields, in order."""
    for child in children[start:]:
        kind = child.__class__
        if kind is Field:
            fields.append(child)
        elif kind is Item:
            items.append(child)
        else:
            items.append(Item("text", child.line - 1, child.value))


class _ToRaw:
    """Tree to RawSection values; one method per grammar rule or alias (Lark calls
    them by name, and so does the table driver)."""

    def body(self, children: list[RawSection]) -> list[RawSection]:
        return children

    def lead(self, children: list[Any]) -> RawSection:
        items = [_item(c) for c in children]
        return RawSection("lead", None, 0, 0, items)

    def _make_section(self, kind: str, children: list[Any]) -> RawSection:
        fence: Token = children[0]
        line = fence.line - 1  # type: ignore[operator]
        items: list[Item] = []
        fields: list[Field] = []
        if len(children) > 1:
            _sort_children(children, 1, items, fields)
        return RawSection(kind, fence.value[:-1], line, fence.start_pos or 0, items, fields)

    prose_section = partialmethod(_make_section, "prose")
    media_section = partialmethod(_make_section, "media")
    unknown_section = partialmethod(_make_section, "unknown")
    instruction_section = partialmethod(_make_section, "instruction")
    preference_section = partialmethod(_make_section, "preference")

    def _make_rest(self, children: list[Any]) -> RawSection:
        rest = RawSection("rest", None, 0)
        _sort_children(children, 0, rest.items, rest.fields)
        return rest

    prose_rest = instruction_rest = preference_rest = _make_rest

    def _make_field(self, header: str, children: list[Any]) -> Field:
        head: Token = children[0]
        line = head.line - 1  # type: ignore[operator]
        value: str = head.value
        split = value.index("\n") + 1
        # The header's token holds the plain lines right under it too.
        items = [Item("text", line + 1, value[split:])] if split < len(value) else []
        if len(children) > 1:
            items.extend([_item(c) for c in children[1:]])
        return Field(header, line, value[:split], items)

    question = partialmethod(_make_field, "Q")
    answer = partialmethod(_make_field, "A")
    prompt = partialmethod(_make_field, "Prompt")
    chosen = partialmethod(_make_field, "Chosen")
    rejected = partialmethod(_make_field, "Rejected")

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

    def marker(self, children: list[Token]) -> Item:
        token = children[0]
        line = token.line - 1  # type: ignore[operator]
        if token.type == "MALFORMED_MARKER":
            return Item("marker", line, token.value, None)
        # Most markers are valid and checked without their attributes' ranges
        # (`marker_values`): those are read when something asks for them.
        return Item("marker", line, token.value, UNREAD)


def marker_attributes(text: str, line: int) -> list[MarkerAttribute]:
    """The attributes of a well-formed marker line (a MARKER token) at `line`, read
    with the grammar's own MARKER_OPEN, ATTRIBUTE_NAME and ATTRIBUTE_VALUE terminals."""
    opening, pair = _marker_parts()
    attributes = []
    position = opening.match(text).end()  # type: ignore[union-attr]
    new = tuple.__new__  # Range and Position are named tuples: built without their __new__
    # The pairs stand one after the other up to MARKER_CLOSE, where none can match.
    for name, value in pair.findall(text, position):
        stripped = name.lstrip(" \t")
        start = position + len(name) - len(stripped)
        position += len(name) + len(value)
        where = new(Range, (new(Position, (line, start)), new(Position, (line, position))))
        attributes.append(MarkerAttribute(stripped, value[2:-1], where))
    return attributes


def marker_values(text: str) -> list[tuple[str, str]]:
    """The (name, value) pairs of a well-formed marker line, as `marker_attributes` reads
    them, without their ranges."""
    opening, pair = _marker_parts()
    position = opening.match(text).end()  # type: ignore[union-attr]
    return [(name.lstrip(" \t"), value[2:-1]) for name, value in pair.findall(text, position)]


@cache
def _marker_parts() -> tuple[re.Pattern[str], re.Pattern[str]]:
    found = terminals()
    pair = f"({found['ATTRIBUTE_NAME'][0]})({found['ATTRIBUTE_VALUE'][0]})"
    return re.compile(found["MARKER_OPEN"][0]), re.compile(pair)
