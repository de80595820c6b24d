"""What is at a position of a document, and what may be written there next.

The frontmatter key path at a line and its spec, the header a section expects next,
the marker attributes not yet written: the language's knowledge, asked by an editor's
completion and hover (docs/format.md describes the same rules).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from dlmlang.document import Document
from dlmlang.marker import ATTRIBUTES, MARKER_PREFIX
from dlmlang.positions import Position
from dlmlang.schema import FRONTMATTER, KeySpec
from dlmlang.sections import Section, SectionKind

NEXT_HEADER: dict[SectionKind, dict[str | None, str]] = {
    SectionKind.INSTRUCTION: {None: "### Q", "### Q": "### A", "### A": "### Q"},
    SectionKind.PREFERENCE: {
        None: "### Prompt",
        "### Prompt": "### Chosen",
        "### Chosen": "### Rejected",
        "### Rejected": "### Prompt",
    },
}
"""Per section kind: the header that follows each header (None: the first one)."""

ATTRIBUTE_EXAMPLES = {
    "judge_name": '"sway"',
    "judge_score_chosen": '"0.0"',
    "judge_score_rejected": '"0.0"',
    "mined_at": '"2026-01-01T00:00:00Z"',
    "mined_run_id": '"1"',
}
"""A valid value of each marker attribute, in its quoted form."""

_KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*)?$")
_VALUE_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*):\s*(\S*)$")
_MAPPING_KEY = re.compile(r"^\s*([A-Za-z_][\w-]*):\s*$")
_ANY_KEY = re.compile(r"^\s*([A-Za-z_][\w-]*):")
_WRITTEN_ATTRIBUTE = re.compile(r"(\w+)=")


@dataclass(frozen=True, slots=True)
class KeyContext:
    """A frontmatter key may be typed here: one of `parent`'s keys not yet `present`."""

    parent: KeySpec
    present: frozenset[str]


@dataclass(frozen=True, slots=True)
class ValueContext:
    """The value of frontmatter key `name` is being typed."""

    name: str
    spec: KeySpec


@dataclass(frozen=True, slots=True)
class MarkerContext:
    """Inside an auto-mined marker: the attributes not yet written, in order."""

    remaining: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class LineStartContext:
    """At the start of a body line: a fence may open a section (`fences`), and inside an
    instruction or preference section its next header may follow (`header`)."""

    fences: bool
    header: str | None
    kind: SectionKind | None


Context = KeyContext | ValueContext | MarkerContext | LineStartContext


def context_at(document: Document, lines: Sequence[str], position: Position) -> Context | None:
    """What may be written at `position` (its line's text up to the character), if anything."""
    if position.line >= len(lines):
        return None
    before = lines[position.line][: position.character]
    closing = frontmatter_end(lines)
    if position.line > 0 and lines[0] == "---" and (closing is None or position.line < closing):
        return _frontmatter_context(lines, position.line, before)
    if before.lstrip().startswith(MARKER_PREFIX):
        written = set(_WRITTEN_ATTRIBUTE.findall(before))
        return MarkerContext(tuple(name for name in ATTRIBUTES if name not in written))
    fences = before.startswith(":") or before == ""
    wants_header = before == "" or before.startswith("#")
    section = section_above(document, position.line) if wants_header else None
    header = next_header(section, lines, position.line) if section is not None else None
    if not fences and header is None:
        return None
    return LineStartContext(fences, header, section.kind if header and section else None)


def spec_at(path: Sequence[str]) -> KeySpec | None:
    """The spec of the frontmatter key at `path` (e.g. ("training", "lora_r")), if any."""
    spec: KeySpec | None = FRONTMATTER
    for name in path:
        spec = spec.child(name) if spec is not None else None
    return spec


def key_path_at(lines: Sequence[str], line: int, indent: int) -> tuple[str, ...] | None:
    """The path of the mapping that a key at `indent` on `line` belongs to, read from the
    lines above it; None when a line above is not a mapping key."""
    path: list[str] = []
    wanted = indent
    for above in range(line - 1, 0, -1):
        text = lines[above]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        depth = len(text) - len(text.lstrip())
        if depth < wanted:
            match = _MAPPING_KEY.match(text)
            if match is None:
                return None
            path.insert(0, match.group(1))
            wanted = depth
            if depth == 0:
                break
    return tuple(path)


def keys_present(lines: Sequence[str], line: int, indent: int) -> frozenset[str]:
    """The frontmatter keys written at `indent` on lines other than `line`."""
    keys = set()
    for index in range(1, len(lines)):
        text = lines[index]
        if text == "---":
            break
        if index == line:
            continue
        match = _ANY_KEY.match(text)
        if match and len(text) - len(text.lstrip()) == indent:
            keys.add(match.group(1))
    return frozenset(keys)


def frontmatter_end(lines: Sequence[str]) -> int | None:
    """The line of the frontmatter's closing `---`; None without a (closed) frontmatter."""
    if not lines or lines[0] != "---":
        return None
    return next((index for index in range(1, len(lines)) if lines[index] == "---"), None)


def section_above(document: Document, line: int) -> Section | None:
    """The section a body line belongs to: the last one that starts above it."""
    found = None
    for section in document.sections:
        if section.range.start.line < line:
            found = section
    return found


def next_header(section: Section, lines: Sequence[str], line: int) -> str | None:
    """The header `section` expects at `line` after the headers above it (code blocks
    skipped); None for a section without headers."""
    order = NEXT_HEADER.get(section.kind)
    if order is None:
        return None
    above = [header for at, header in headers_of(section, lines) if at < line]
    return order[above[-1] if above else None]


_PROBE = {"### Q !probe": "### Q"}
"""A probe question opens a pair as `### Q` does."""


def headers_of(section: Section, lines: Sequence[str]) -> list[tuple[int, str]]:
    """(line, header) of each `### ...` header of an instruction or preference section,
    in order; lines inside code blocks are text, not headers."""
    order = NEXT_HEADER.get(section.kind)
    if order is None:
        return []
    found: list[tuple[int, str]] = []
    in_code = False
    end = min(section.range.end.line + (section.range.end.character > 0), len(lines))
    for at in range(section.range.start.line + 1, end):
        text = lines[at]
        if text.startswith("```"):
            in_code = not in_code
        elif not in_code and (header := _PROBE.get(text.rstrip(), text.rstrip())) in order:
            found.append((at, header))
    return found


def pair_starts(section: Section, lines: Sequence[str]) -> list[int]:
    """The line of each pair's first header: `### Q` of an instruction section,
    `### Prompt` of a preference section."""
    first = NEXT_HEADER.get(section.kind, {}).get(None)
    return [at for at, header in headers_of(section, lines) if header == first]


def _frontmatter_context(lines: Sequence[str], line: int, before: str) -> Context | None:
    value = _VALUE_LINE.match(before)
    if value is not None:
        path = key_path_at(lines, line, len(value.group(1)))
        spec = spec_at((*path, value.group(2))) if path is not None else None
        return ValueContext(value.group(2), spec) if spec is not None else None
    key = _KEY_LINE.match(before)
    if key is None:
        return None
    indent = len(key.group(1))
    path = key_path_at(lines, line, indent)
    parent = spec_at(path) if path is not None else None
    if parent is None:
        return None
    return KeyContext(parent, keys_present(lines, line, indent))
