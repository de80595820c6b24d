"""Diagnostics and sections as compiler-style text and as the JSON of docs/json.md."""

from __future__ import annotations

import re
from typing import Any

from rich.cells import cell_len

from dlmlang import Diagnostic, Document, Range, Section

CHECK_SCHEMA_VERSION = 1
_LINES = re.compile(r"\r\n|\r|\n")
# C0 and C1 controls but tab and newline, and the bidirectional overrides: what could
# move the cursor, recolour or reorder a terminal's text.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` safe for a terminal: control characters shown escaped (`\\x1b`, `\\u202e`)."""
    return _UNPRINTABLE.sub(_escaped, text)


def range_json(where: Range) -> dict[str, dict[str, int]]:
    """A range as LSP-style JSON (0-based)."""
    return {
        "start": {"line": where.start.line, "character": where.start.character},
        "end": {"line": where.end.line, "character": where.end.character},
    }


def diagnostic_json(problem: Diagnostic) -> dict[str, Any]:
    """One diagnostic as JSON."""
    return {
        "code": problem.code,
        "severity": problem.severity.value,
        "message": problem.message,
        "range": range_json(problem.range),
    }


def section_json(section: Section) -> dict[str, Any]:
    """One section as JSON."""
    return {
        "type": section.kind.value,
        "section_id": section.section_id,
        "auto_mined": section.auto_mined,
        "adapter": section.adapter,
        "range": range_json(section.range),
    }


def file_json(path: str, document: Document) -> dict[str, Any]:
    """A checked file as JSON."""
    return {
        "path": path,
        "ok": document.ok,
        "diagnostics": [diagnostic_json(d) for d in document.diagnostics],
        "sections": [section_json(s) for s in document.content_sections()],
    }


def unreadable_json(path: str, message: str) -> dict[str, Any]:
    """A file that could not be read, as JSON."""
    nowhere = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
    return {
        "path": path,
        "ok": False,
        "diagnostics": [{"code": "IO", "severity": "error", "message": message, "range": nowhere}],
        "sections": [],
    }


def document_report(path: str, document: Document, data: bytes) -> list[str]:
    """Every diagnostic of `document` (read from `data`) as compiler-style text."""
    lines = _LINES.split(data.decode("utf-8", errors="replace").removeprefix("\ufeff"))
    return [diagnostic_text(path, problem, lines) for problem in document.diagnostics]


def diagnostic_text(path: str, problem: Diagnostic, lines: list[str]) -> str:
    """`file:line:col: severity CODE message`, the source line and a caret underline."""
    start, end = problem.range.start, problem.range.end
    head = printable(
        f"{path}:{start.line + 1}:{start.character + 1}: "
        f"{problem.severity.value} {problem.code} {problem.message}"
    )
    if start.line >= len(lines):
        return head
    source = lines[start.line].rstrip("\r\n")
    stop = end.character if end.line == start.line else len(source)
    before = _shown(source[: start.character])
    marked = _shown(source[start.character : max(stop, start.character)])
    gutter = f"{start.line + 1:>5} | "
    caret = " " * (len(gutter) + cell_len(before)) + "^" + "~" * max(0, cell_len(marked) - 1)
    return f"{head}\n{gutter}{_shown(source)}\n{caret}"


def _shown(text: str) -> str:
    return printable(text.replace("\t", "    "))


def _escaped(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"
