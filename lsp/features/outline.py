"""The outline (document symbols) and folding ranges: one entry per section."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import Range, Section, SectionKind
from dlmlang.context import pair_starts
from lsp.positions import to_client_range
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer

KINDS = {
    SectionKind.PROSE: types.SymbolKind.String,
    SectionKind.INSTRUCTION: types.SymbolKind.Interface,
    SectionKind.PREFERENCE: types.SymbolKind.Event,
    SectionKind.INVALID: types.SymbolKind.Null,
}
TITLE_WIDTH = 60


def section_title(section: Section) -> str:
    """What the outline calls a section: its first question or prompt, else its first line."""
    if section.pairs:
        text = section.pairs[0].question
    elif section.triples:
        text = section.triples[0].prompt
    else:
        text = next((line for line in section.content.splitlines() if line.strip()), "")
    text = " ".join(text.split()) or f"({section.kind.value})"
    return text if len(text) <= TITLE_WIDTH else text[: TITLE_WIDTH - 1] + "…"


def document_symbols(snapshot: Snapshot) -> list[types.DocumentSymbol]:
    """Frontmatter first, then every section, in order."""
    symbols = []
    lines = snapshot.lines
    document = snapshot.document
    closing = frontmatter_end(snapshot)
    if closing is not None:
        span = Range.of(0, 0, closing, len(lines[closing]))
        client = to_client_range(lines, span, snapshot.encoding)
        symbols.append(
            types.DocumentSymbol(
                name="frontmatter",
                kind=types.SymbolKind.Namespace,
                range=client,
                selection_range=types.Range(client.start, client.start),
            )
        )
    for section in document.sections:
        if section.is_blank:
            continue
        span = _trimmed(section.range, lines)
        first = Range.of(span.start.line, 0, span.start.line, len(lines[span.start.line]))
        detail = f"{section.kind.value} {section.section_id}"
        if section.auto_mined:
            detail += " (auto-mined)"
        if section.auto_synth:
            detail += " (synthesized)"
        if section.harvest is not None:
            detail += " (harvested)"
        symbols.append(
            types.DocumentSymbol(
                name=section_title(section),
                detail=detail,
                kind=KINDS[section.kind],
                range=to_client_range(lines, span, snapshot.encoding),
                selection_range=to_client_range(lines, first, snapshot.encoding),
                children=_pairs(snapshot, section, span) or None,
            )
        )
    return symbols


def _pairs(snapshot: Snapshot, section: Section, span: Range) -> list[types.DocumentSymbol]:
    """One child per Q/A pair or preference triple, named by its question or prompt."""
    lines = snapshot.lines
    starts = pair_starts(section, lines)
    children = []
    for index, start in enumerate(starts):
        last = starts[index + 1] - 1 if index + 1 < len(starts) else span.end.line
        while last > start and not lines[last].strip():
            last -= 1
        text = next((line for line in lines[start + 1 : last + 1] if line.strip()), "")
        name = " ".join(text.split()) or lines[start]
        pair_span = Range.of(start, 0, last, len(lines[last]))
        header = Range.of(start, 0, start, len(lines[start]))
        children.append(
            types.DocumentSymbol(
                name=name if len(name) <= TITLE_WIDTH else name[: TITLE_WIDTH - 1] + "…",
                detail=lines[start].removeprefix("### "),
                kind=types.SymbolKind.Field,
                range=to_client_range(lines, pair_span, snapshot.encoding),
                selection_range=to_client_range(lines, header, snapshot.encoding),
            )
        )
    return children


def folding_ranges(snapshot: Snapshot) -> list[types.FoldingRange]:
    """One fold for the frontmatter and one per section of more than one line."""
    folds = []
    closing = frontmatter_end(snapshot)
    if closing is not None:
        folds.append(types.FoldingRange(start_line=0, end_line=closing))
    for section in snapshot.document.sections:
        span = _trimmed(section.range, snapshot.lines)
        if span.end.line > span.start.line:
            folds.append(
                types.FoldingRange(
                    start_line=span.start.line,
                    end_line=span.end.line,
                    kind=types.FoldingRangeKind.Region,
                )
            )
    return folds


def frontmatter_end(snapshot: Snapshot) -> int | None:
    """The line of the frontmatter's closing `---`, if the document has one."""
    for line in range(min(snapshot.document.body_line, len(snapshot.lines)) - 1, 0, -1):
        if snapshot.lines[line] == "---":
            return line
    return None


def _trimmed(span: Range, lines: Sequence[str]) -> Range:
    """The section's lines without the blank lines that separate it from the next."""
    last = span.end.line - 1 if span.end.character == 0 else span.end.line
    last = min(max(last, span.start.line), len(lines) - 1)
    while last > span.start.line and not lines[last].strip():
        last -= 1
    return Range.of(span.start.line, 0, last, len(lines[last]))


def register(server: DlmServer) -> None:
    """Wire the outline and folding requests."""

    @server.feature(types.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def symbols(ls: DlmServer, params: types.DocumentSymbolParams) -> list[types.DocumentSymbol]:
        snapshot = ls.snapshot(params.text_document.uri)
        found = ls.guarded("outline", document_symbols, snapshot) if snapshot else None
        return found or []

    @server.feature(types.TEXT_DOCUMENT_FOLDING_RANGE)
    def folds(ls: DlmServer, params: types.FoldingRangeParams) -> list[types.FoldingRange]:
        snapshot = ls.snapshot(params.text_document.uri)
        found = ls.guarded("folding", folding_ranges, snapshot) if snapshot else None
        return found or []
