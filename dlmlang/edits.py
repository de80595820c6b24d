"""Text edits: insert and remove sections, set a frontmatter value, as minimal changes.

The CLI applies them to files and the language server sends them as workspace
edits, so they touch only their ranges: every other byte, YAML comments and the
file's line endings stay as they are. Inserting sections and then removing
them restores the original text exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml

from dlmlang.document import Document
from dlmlang.errors import DlmError
from dlmlang.positions import LINE_END, Position, Range, line_starts, offset_at
from dlmlang.sections import Section
from dlmlang.serialize import render_section

# Problems after which inserted text would not read as sections.
_SWALLOWING = frozenset({"DLM011", "DLM034"})
_TRAILING_EOL = re.compile(r"(?:\r\n|\r|\n)\Z")


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `range` of the original text with `new_text`."""

    range: Range
    new_text: str


class EditError(DlmError, ValueError):
    """An edit cannot be computed (e.g. its anchor section is not in the document)."""


def insert_after(
    document: Document, anchor: Section | None, sections: Sequence[Section]
) -> TextEdit:
    """Insert `sections` right after `anchor` (a section of `document`), or at the end."""
    if not sections:
        raise EditError("nothing to insert")
    swallowing = [d for d in document.diagnostics if d.code in _SWALLOWING]
    if swallowing:
        problem = swallowing[0]
        raise EditError(
            f"line {problem.range.start.line + 1}: {problem.message} Until then, anything "
            "inserted after it would be swallowed; fix it first."
        )
    newline = document.newline
    text = "".join(render_section(s) for s in sections).replace("\n", newline)
    index = _index_of(document, anchor) if anchor is not None else len(document.sections) - 1
    if index + 1 < len(document.sections):
        where = document.sections[index].range.end
        return TextEdit(Range(where, where), text)
    source, start_line = _part(document, index)
    end = _end_of_last_line(source, start_line)
    if not source or _TRAILING_EOL.search(source):
        where = Position(end.line + 1, 0) if source else end
        return TextEdit(Range(where, where), text)
    # The file's last line has no line ending: keep it that way after the insert.
    return TextEdit(Range(end, end), newline + text.rstrip("\r\n"))


def remove_sections(document: Document, section_ids: Iterable[str]) -> list[TextEdit]:
    """Edits removing every section whose id is in `section_ids` (whole lines).

    Adjacent sections go in one edit. A run that ends the file without a final
    line ending takes the line ending before it instead, so the file keeps
    having no final line ending.
    """
    wanted = set(section_ids)
    sections = document.sections
    runs: list[tuple[int, int]] = []
    for index, section in enumerate(sections):
        if section.section_id not in wanted:
            continue
        if runs and runs[-1][1] == index - 1:
            runs[-1] = (runs[-1][0], index)
        else:
            runs.append((index, index))
    edits: list[TextEdit] = []
    for first, last in runs:
        start, end = sections[first].range.start, sections[last].range.end
        if not _ends_with_eol(sections[last]):
            end = _end_of_last_line(*_part(document, last))
            source, start_line = _part(document, first - 1)
            if source:
                start = _end_of_last_line(source, start_line)
        edits.append(TextEdit(Range(start, end), ""))
    return edits


def replace_frontmatter_value(document: Document, key: str, value: str) -> TextEdit:
    """The edit giving frontmatter `key` (dotted when nested) the string `value`.

    Only the characters of the old value change: the key, the value's quotes (if it
    has any), a comment after it and the line endings stay. Raises EditError when the
    key is not in the frontmatter, or its value is not a one-line scalar that `value`
    can be written in with the same quoting and read back as the same YAML type.
    """
    where = document.frontmatter.key_ranges.get(key) if document.frontmatter else None
    if where is None:
        raise EditError(f"the frontmatter has no `{key}` to change")
    source = document.frontmatter_source or ""
    starts = line_starts(source)
    segment = source[offset_at(starts, where.start) : offset_at(starts, where.end)]
    node = _scalar_of(segment)
    if node is None or node.style not in (None, "'", '"'):
        raise EditError(f"`{key}` is not a one-line value; write it as `{key}: <value>` first")
    begin, end = node.start_mark, node.end_mark
    quote = node.style or ""
    written = {"": value, "'": value.replace("'", "''"), '"': _double_quoted(value)}[quote]
    raw = segment[begin.index : end.index]
    changed = segment[: begin.index] + quote + written + quote + segment[end.index :]
    new_node = _scalar_of(changed)
    if (
        raw != quote + node.value + quote
        or new_node is None
        or (new_node.value, new_node.tag) != (value, node.tag)
    ):
        raise EditError(f"`{key}` cannot be given {value!r} by changing only its value")
    inner = len(quote)
    return TextEdit(
        Range(
            _position_in(where.start, begin.line, begin.column + inner),
            _position_in(where.start, end.line, end.column - inner),
        ),
        written,
    )


def apply_edits(text: str, edits: Iterable[TextEdit]) -> str:
    """Apply non-overlapping edits to `text` (positions refer to `text`)."""
    starts = line_starts(text.removeprefix("\ufeff"))
    bom = 1 if text.startswith("\ufeff") else 0
    ordered = sorted(edits, key=lambda e: (e.range.start, e.range.end), reverse=True)
    out = text
    previous_start: int | None = None
    for edit in ordered:
        begin = _offset(starts, edit.range.start, text) + bom
        end = _offset(starts, edit.range.end, text) + bom
        if previous_start is not None and end > previous_start:
            raise EditError("edits overlap")
        out = out[:begin] + edit.new_text + out[end:]
        previous_start = begin
    return out


def _offset(starts: list[int], position: Position, text: str) -> int:
    if position.line >= len(starts):
        return len(text.removeprefix("\ufeff"))
    return offset_at(starts, position)


def _scalar_of(segment: str) -> yaml.ScalarNode | None:
    """The value node of a one-key YAML `segment`, if it is a scalar."""
    try:
        root = yaml.compose(segment, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return None
    if not isinstance(root, yaml.MappingNode) or len(root.value) != 1:
        return None
    node = root.value[0][1]
    if not isinstance(node, yaml.ScalarNode) or node.start_mark.line != node.end_mark.line:
        return None
    return node


def _double_quoted(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _position_in(origin: Position, line: int, column: int) -> Position:
    """A position in a segment (line, column) as a position in the file it starts at."""
    return Position(origin.line + line, (origin.character if line == 0 else 0) + column)


def _index_of(document: Document, anchor: Section) -> int:
    for index, section in enumerate(document.sections):
        if section is anchor or (section == anchor and section.range == anchor.range):
            return index
    raise EditError(f"section {anchor.section_id} is not in the document")


def _ends_with_eol(section: Section) -> bool:
    return section.source is None or bool(_TRAILING_EOL.search(section.source))


def _part(document: Document, index: int) -> tuple[str, int]:
    """Source text and first line of section `index`; index -1 is the frontmatter."""
    if index < 0:
        return document.frontmatter_source or "", 0
    section = document.sections[index]
    return section.source or "", section.range.start.line


def _end_of_last_line(source: str, start_line: int) -> Position:
    """Where the last line of `source` (starting at `start_line`) ends, before its EOL."""
    lines = LINE_END.split(source)
    if len(lines) > 1 and lines[-1] == "":
        lines.pop()
    return Position(start_line + len(lines) - 1, len(lines[-1]))
