"""The canonical layout of a document (`dlm fmt`, the editor's "Format Document").

Formatting may only change what the parse does not see. In `.dlm` almost every line
is seen: a section's content is every line from its fence (and markers) to the next
fence, headers as written, trailing whitespace and blank lines included, blank lines
before the next fence too (docs/format.md, "Section identity"). Adding a blank line
between two pairs or before a fence, or stripping the spaces after a `### Q`, would
change the section's content and so its id: training would see a new section. So the
blank lines the serializer writes between pairs and sections, and trailing whitespace
on header, text and prose-marker lines, are left exactly as written, and so is every
line of every body.

What formatting does change, each invisible to what the document says:

- trailing spaces and tabs on frontmatter YAML lines, unless that would change a value
  (a line of a `|` block keeps them): then the frontmatter is left as it is;
- the blank lines between the frontmatter's closing `---` and the body: exactly one
  empty line (the one the reader skips as layout); whitespace-only lines before the
  first fence are a blank lead, which is not a section to dlm, and go;
- an auto-mined marker line is written with single spaces, as dlm writes it (`<!--
  dlm-auto-mined: a="1" b="2" -->`); marker lines are not content and the attribute
  values stay byte for byte (the synthesis and harvest markers admit only that
  spacing already, DLM070);
- the last line gets a line ending (the reader adds one anyway).

Line endings and the byte-order mark are kept. A document with errors is not
formatted. Every result is parsed again and must have the same frontmatter, the same
sections with the same ids and the same diagnostic codes; otherwise nothing changes.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

from dlmlang.document import BOM, Document, parse
from dlmlang.edits import TextEdit, apply_edits
from dlmlang.marker import MARKER_PREFIX
from dlmlang.positions import LINE_END, Position, Range
from dlmlang.sections import SectionKind

_TRAILING = re.compile(r"[ \t]+\Z")
_ATTRIBUTE = re.compile(r'[ \t]+([a-z][a-z0-9_]*)="([^"\n]*)"')
_MARKER_LINE = re.compile(
    re.escape(MARKER_PREFIX) + r'((?:[ \t]+[a-z][a-z0-9_]*="[^"\n]*")*)[ \t]*-->[ \t]*'
)


@dataclass(frozen=True, slots=True)
class _Lines:
    """The text (without its BOM) as lines without endings, and its line-ending style."""

    lines: list[str]
    newline: str
    terminated: bool
    """The last line ends with a line ending."""


def format_text(text: str) -> str | None:
    """The canonical text of `text`; None when the document has errors."""
    edits = format_edits(text)
    return None if edits is None else apply_edits(text, edits)


def format_edits(text: str) -> list[TextEdit] | None:
    """The edits that give `text` its canonical layout ([] when it has it); None on errors."""
    document = parse(text)
    if not document.ok or document.frontmatter is None:
        return None
    split = _split(text.removeprefix(BOM), document.newline)
    closing = _closing_line(split.lines)
    if closing is None:
        return None
    body = _body_edits(document, split, closing) + _marker_edits(document, split.lines)
    end = Position(len(split.lines) - 1, len(split.lines[-1]))
    if not split.terminated and split.lines[-1] and all(e.range.end < end for e in body):
        body.append(TextEdit(Range(end, end), split.newline))
    frontmatter = _frontmatter_edits(split.lines, closing)
    for edits in (frontmatter + body, body):
        if _same_reading(document, apply_edits(text, edits)):
            return sorted(edits, key=lambda e: e.range.start)
    return []


def _split(text: str, newline: str) -> _Lines:
    """Lines without endings, split where dlmlang splits them (LF, CRLF, CR)."""
    lines = LINE_END.split(text)
    terminated = len(lines) > 1 and lines[-1] == ""
    if terminated:
        lines.pop()
    return _Lines(lines, newline, terminated)


def _closing_line(lines: list[str]) -> int | None:
    """The line of the frontmatter's closing `---`."""
    return next((i for i in range(1, len(lines)) if lines[i] == "---"), None)


def _frontmatter_edits(lines: list[str], closing: int) -> list[TextEdit]:
    """Trailing spaces and tabs removed from the YAML lines."""
    edits = []
    for index in range(1, closing):
        found = _TRAILING.search(lines[index])
        if found:
            edits.append(TextEdit(Range.on_line(index, found.start(), found.end()), ""))
    return edits


def _body_edits(document: Document, split: _Lines, closing: int) -> list[TextEdit]:
    """Exactly one empty line between the closing `---` and the body."""
    lines, newline = split.lines, split.newline
    after = closing + 1
    if after >= len(lines):
        return []
    sections = document.sections
    if sections and not sections[0].fenced and sections[0].is_blank:
        # A blank lead (and the layout line before it): one empty line before the
        # first fence, nothing when the file ends there.
        end = sections[0].range.end.line
        if end >= len(lines):
            return [TextEdit(Range(Position(after, 0), Position(len(lines), 0)), "")]
        if end - after == 1 and lines[after] == "":
            return []
        return [TextEdit(Range(Position(after, 0), Position(end, 0)), newline)]
    if sections and document.body_line == after:
        return [TextEdit(Range.on_line(after, 0, 0), newline)]
    return []


def _marker_edits(document: Document, lines: list[str]) -> list[TextEdit]:
    """Auto-mined marker lines with single spaces between their parts."""
    edits = []
    for section in document.sections:
        if not section.fenced or section.kind not in (
            SectionKind.INSTRUCTION,
            SectionKind.PREFERENCE,
        ):
            continue
        index = section.range.start.line + 1
        while index < len(lines) and lines[index].startswith("<!-- dlm-auto-"):
            line = lines[index]
            found = _MARKER_LINE.fullmatch(line)
            if found is not None:
                pairs = _ATTRIBUTE.findall(found.group(1))
                canonical = f"{MARKER_PREFIX} " + " ".join(f'{n}="{v}"' for n, v in pairs) + " -->"
                if canonical != line:
                    edits.append(TextEdit(Range.on_line(index, 0, len(line)), canonical))
            index += 1
    return edits


def _same_reading(before: Document, text: str) -> bool:
    """`text` parses to what `before` says: frontmatter, sections, ids, diagnostic codes."""
    after = parse(text)
    if after.frontmatter != before.frontmatter:
        return False
    old, new = before.content_sections(), after.content_sections()
    if old != new or [s.section_id for s in old] != [s.section_id for s in new]:
        return False
    return Counter(d.code for d in after.diagnostics) == Counter(d.code for d in before.diagnostics)
