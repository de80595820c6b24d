"""Completion: fences, the header that comes next in a section, frontmatter keys and values,
and the auto-mined marker's attributes; what fits where is dlmlang's (dlmlang/context.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import Position
from dlmlang.context import (
    ATTRIBUTE_EXAMPLES,
    KeyContext,
    LineStartContext,
    MarkerContext,
    ValueContext,
    context_at,
)
from dlmlang.schema import KeySpec, Kind
from dlmlang.sections import SECTION_TYPES
from lsp.positions import from_client, units
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer

VALUE_HINTS: dict[str, tuple[str, ...]] = {"base_model": ("smollm2-135m",)}


def completions(snapshot: Snapshot, position: Position) -> list[types.CompletionItem]:
    """What may be typed at `position`."""
    context = context_at(snapshot.document, snapshot.lines, position)
    if isinstance(context, KeyContext):
        return _keys(context)
    if isinstance(context, ValueContext):
        return _values(context.spec, context.name)
    if isinstance(context, MarkerContext):
        return _marker(context)
    if isinstance(context, LineStartContext):
        return _line_start(snapshot, position, context)
    return []


def _line_start(
    snapshot: Snapshot, position: Position, context: LineStartContext
) -> list[types.CompletionItem]:
    before = snapshot.lines[position.line][: position.character]
    items = []
    if context.fences:
        items += [
            types.CompletionItem(
                label=f"::{name}::",
                kind=types.CompletionItemKind.Keyword,
                detail=f"start a{'n' * name.startswith('i')} {name} section",
                text_edit=_replace_line_start(position, before, f"::{name}::", snapshot.encoding),
            )
            for name in SECTION_TYPES
        ]
    if context.header is not None and context.kind is not None:
        items.append(
            types.CompletionItem(
                label=context.header,
                kind=types.CompletionItemKind.Keyword,
                detail=f"next header of this {context.kind.value} section",
                text_edit=_replace_line_start(position, before, context.header, snapshot.encoding),
            )
        )
    return items


def _keys(context: KeyContext) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=child.name,
            kind=types.CompletionItemKind.Property,
            detail=child.kind.value,
            documentation=child.doc,
            insert_text=f"{child.name}:\n" if child.kind is Kind.MAPPING else f"{child.name}: ",
        )
        for child in context.parent.children
        if child.name not in context.present
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


def _marker(context: MarkerContext) -> list[types.CompletionItem]:
    return [
        types.CompletionItem(
            label=name,
            kind=types.CompletionItemKind.Field,
            insert_text=f"{name}={ATTRIBUTE_EXAMPLES[name]}",
            detail="auto-mined marker attribute",
        )
        for name in context.remaining
    ]


def _replace_line_start(
    position: Position, before: str, text: str, encoding: str
) -> types.TextEdit:
    """Replace what was typed so far on the line."""
    start = types.Position(position.line, 0)
    end = types.Position(position.line, units(before, encoding))
    return types.TextEdit(range=types.Range(start, end), new_text=text)


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
