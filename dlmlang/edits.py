"""Text edits: insert and remove sections as minimal `(range, new_text)` changes.

The CLI applies them to files and the language server sends them as workspace
edits, so they touch only their ranges: every other byte, YAML comments and the
file's line endings stay as they are. Inserting sections and then removing
them restores the original text exactly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from dlmlang.document import Document
from dlmlang.positions import Position, Range, line_starts, offset_at
from dlmlang.sections import Section
from dlmlang.serialize import render_section

_TRAILING_EOL = re.compile(r"(?:\r\n|\r|\n)\Z")


@dataclass(frozen=True, slots=True)
class TextEdit:
    """Replace `range` of the original text with `new_text`."""

    range: Range
    new_text: str


class EditError(ValueError):
    """An edit cannot be computed (e.g. its anchor section is not in the document)."""


def insert_after(document: Document, anchor: Section | None, sections: Sequence[Section]) -> TextEdit:
    """Insert `sections` right after `anchor` (a section of `document`), or at the end."""
    if not sections:
        raise EditError("nothing to insert")
    newline = document.newline
    text = "".join(render_section(s) for s in sections).replace("\n", newline)
    index = _index_of(document, anchor) if anchor is not None else len(document.sections) - 1
    if index < 0:
        end = _end_of_frontmatter(document)
        return TextEdit(Range(end, end), text)
    target = document.sections[index]
    if index + 1 < len(document.sections) or _ends_with_eol(target):
        where = target.range.end
        return TextEdit(Range(where, where), text)
    # The file's last line has no line ending: keep it that way after the insert.
    end = _end_of_last_line(target)
    return TextEdit(Range(end, end), newline + text.rstrip("\r\n"))


def remove_sections(document: Document, section_ids: Iterable[str]) -> list[TextEdit]:
    """Edits removing every section whose id is in `section_ids` (whole lines)."""
    wanted = set(section_ids)
    edits: list[TextEdit] = []
    for index, section in enumerate(document.sections):
        if section.section_id not in wanted:
            continue
        start = section.range.start
        if not _ends_with_eol(section) and index > 0:
            # Last line without a line ending: take the preceding line ending instead.
            start = _end_of_last_line(document.sections[index - 1])
        end = _end_of_last_line(section) if not _ends_with_eol(section) else section.range.end
        edits.append(TextEdit(Range(start, end), ""))
    return edits


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


def _index_of(document: Document, anchor: Section) -> int:
    for index, section in enumerate(document.sections):
        if section is anchor or (section == anchor and section.range == anchor.range):
            return index
    raise EditError(f"section {anchor.section_id} is not in the document")


def _ends_with_eol(section: Section) -> bool:
    return section.source is None or bool(_TRAILING_EOL.search(section.source))


def _end_of_last_line(section: Section) -> Position:
    source = section.source or ""
    lines = re.split(r"\r\n|\r|\n", source)
    if _TRAILING_EOL.search(source):
        lines.pop()
        last = section.range.end.line - 1
    else:
        last = section.range.start.line + len(lines) - 1
    return Position(last, len(lines[-1]) if lines else 0)


def _end_of_frontmatter(document: Document) -> Position:
    return Position(document.body_line, 0)
