"""Completion: fences, the header that comes next in a section, frontmatter keys and values,
and the auto-mined marker's attributes."""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import islice
from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import Position, Section, SectionKind
from dlmlang.marker import MARKER_PREFIX
from dlmlang.schema import FRONTMATTER, KeySpec, Kind
from lsp.positions import from_client, units
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer

FENCES = ("prose", "instruction", "preference")
NEXT_HEADER = {
    SectionKind.INSTRUCTION: {None: "### Q", "### Q": "### A", "### A": "### Q"},
    SectionKind.PREFERENCE: {
        None: "### Prompt",
        "### Prompt": "### Chosen",
        "### Chosen": "### Rejected",
        "### Rejected": "### Prompt",
    },
}
MARKER_ATTRIBUTES = (
    ("judge_name", '"sway"'),
    ("judge_score_chosen", '"0.0"'),
    ("judge_score_rejected", '"0.0"'),
    ("mined_at", '"2026-01-01T00:00:00Z"'),
    ("mined_run_id", '"1"'),
)
VALUE_HINTS: dict[str, tuple[str, ...]] = {"base_model": ("smollm2-135m",)}
_KEY_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*)?$")
_VALUE_LINE = re.compile(r"^(\s*)([A-Za-z_][\w-]*):\s*(\S*)$")


def completions(snapshot: Snapshot, position: Position) -> list[types.CompletionItem]:
    """What may be typed at `position`."""
    lines = snapshot.lines
    if position.line >= len(lines):
        return []
    before = lines[position.line][: position.character]
    closing = _frontmatter_close(lines)
    if position.line > 0 and lines[0] == "---" and (closing is None or position.line < closing):
        return _frontmatter(lines, position.line, before)
    if before.lstrip().startswith(MARKER_PREFIX):
        return _marker(before)
    if before.startswith(":") or before == "":
        items = [
            types.CompletionItem(
                label=f"::{name}::",
                kind=types.CompletionItemKind.Keyword,
                detail=f"start a {name} section",
                text_edit=_replace_line_start(position, before, f"::{name}::", snapshot.encoding),
            )
            for name in FENCES
        ]
        if before == "":
            items += _headers(snapshot, position)
        return items
    if before.startswith("#"):
        return _headers(snapshot, position)
    return []


def _headers(snapshot: Snapshot, position: Position) -> list[types.CompletionItem]:
    section = _section_above(snapshot, position.line)
    if section is None or section.kind not in NEXT_HEADER:
        return []
    last = None
    in_code = False
    for line in snapshot.lines[section.range.start.line + 1 : position.line]:
        if line.startswith("```"):
            in_code = not in_code
        elif not in_code and line.rstrip() in NEXT_HEADER[section.kind]:
            last = line.rstrip()
    header = NEXT_HEADER[section.kind][last]
    before = snapshot.lines[position.line][: position.character]
    return [
        types.CompletionItem(
            label=header,
            kind=types.CompletionItemKind.Keyword,
            detail=f"next header of this {section.kind.value} section",
            text_edit=_replace_line_start(position, before, header, snapshot.encoding),
        )
    ]


def _section_above(snapshot: Snapshot, line: int) -> Section | None:
    """The section the cursor's line belongs to: the last one that starts above it."""
    found = None
    for section in snapshot.document.sections:
        if section.range.start.line < line:
            found = section
    return found


def _frontmatter(lines: Sequence[str], line: int, before: str) -> list[types.CompletionItem]:
    value = _VALUE_LINE.match(before)
    if value is not None:
        spec = _spec_for(lines, line, len(value.group(1)), value.group(2))
        return _values(spec, value.group(2)) if spec is not None else []
    key = _KEY_LINE.match(before)
    if key is None:
        return []
    parent = _parent(lines, line, len(key.group(1)))
    if parent is None:
        return []
    present = _sibling_keys(lines, line, len(key.group(1)))
    return [
        types.CompletionItem(
            label=child.name,
            kind=types.CompletionItemKind.Property,
            detail=child.kind.value,
            documentation=child.doc,
            insert_text=f"{child.name}:\n" if child.kind is Kind.MAPPING else f"{child.name}: ",
        )
        for child in parent.children
        if child.name not in present
    ]


def _values(spec: KeySpec, name: str) -> list[types.CompletionItem]:
    options: list[str] = list(spec.choices)
    if spec.kind is Kind.BOOL:
        options = ["true", "false"]
    elif spec.kind in (Kind.INT_OR_AUTO, Kind.FLOAT_OR_AUTO, Kind.MODULES):
        options = ["auto"]
    elif spec.kind is Kind.BOOL_OR_AUTO:
        options = ["auto", "true", "false"]
    options += VALUE_HINTS.get(name, ())
    return [
        types.CompletionItem(
            label=option,
            kind=types.CompletionItemKind.Value,
            detail="default" if str(spec.default) == option else None,
        )
        for option in options
    ]


def _parent(lines: Sequence[str], line: int, indent: int) -> KeySpec | None:
    """The mapping a key at `indent` on `line` belongs to, by the lines above it."""
    path: list[str] = []
    wanted = indent
    for above in range(line - 1, 0, -1):
        text = lines[above]
        if not text.strip() or text.lstrip().startswith("#"):
            continue
        depth = len(text) - len(text.lstrip())
        if depth < wanted:
            match = re.match(r"^\s*([A-Za-z_][\w-]*):\s*$", text)
            if match is None:
                return None
            path.insert(0, match.group(1))
            wanted = depth
            if depth == 0:
                break
    spec: KeySpec | None = FRONTMATTER
    for name in path:
        spec = spec.child(name) if spec is not None else None
    return spec


def _spec_for(lines: Sequence[str], line: int, indent: int, name: str) -> KeySpec | None:
    parent = _parent(lines, line, indent)
    return parent.child(name) if parent is not None else None


def _sibling_keys(lines: Sequence[str], line: int, indent: int) -> set[str]:
    keys = set()
    for index, text in enumerate(islice(lines, 1, None), start=1):
        if index == line or text == "---":
            if text == "---":
                break
            continue
        depth = len(text) - len(text.lstrip())
        match = re.match(r"^\s*([A-Za-z_][\w-]*):", text)
        if match and depth == indent:
            keys.add(match.group(1))
    return keys


def _marker(before: str) -> list[types.CompletionItem]:
    written = set(re.findall(r"(\w+)=", before))
    return [
        types.CompletionItem(
            label=name,
            kind=types.CompletionItemKind.Field,
            insert_text=f"{name}={example}",
            detail="auto-mined marker attribute",
        )
        for name, example in MARKER_ATTRIBUTES
        if name not in written
    ]


def _replace_line_start(
    position: Position, before: str, text: str, encoding: str
) -> types.TextEdit:
    """Replace what was typed so far on the line."""
    start = types.Position(position.line, 0)
    end = types.Position(position.line, units(before, encoding))
    return types.TextEdit(range=types.Range(start, end), new_text=text)


def _frontmatter_close(lines: Sequence[str]) -> int | None:
    if not lines or lines[0] != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index] == "---":
            return index
    return None


def register(server: DlmServer) -> None:
    """Wire the completion request."""

    @server.feature(
        types.TEXT_DOCUMENT_COMPLETION,
        types.CompletionOptions(trigger_characters=[":", "#", " "]),
    )
    def complete(ls: DlmServer, params: types.CompletionParams) -> types.CompletionList:
        snapshot = ls.snapshot(params.text_document.uri)
        items: list[types.CompletionItem] | None = None
        if snapshot is not None:
            position = from_client(snapshot.lines, params.position, snapshot.encoding)
            items = ls.guarded("completion", completions, snapshot, position)
        return types.CompletionList(is_incomplete=False, items=items or [])
