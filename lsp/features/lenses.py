"""Code lenses: the loop's commands above the sections they act on ("Mine preferences"
over instruction sections, "Revert" over mined ones, "Apply" on the frontmatter when
pairs are staged). A document with errors gets none: the code actions say why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import SectionKind
from lsp.features.loop import APPLY, MINE, REVERT, errors_first
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer


def code_lenses(snapshot: Snapshot, uri: str, staged: int) -> list[types.CodeLens]:
    """The lenses of a document without errors."""
    if errors_first(snapshot) is not None:
        return []
    lenses = []
    mined = [s for s in snapshot.document.sections if s.auto_mined]
    if staged:
        title = f"Apply {staged} staged pair{'s' * (staged != 1)}"
        lenses.append(_lens(0, types.Command(title=title, command=APPLY, arguments=[uri])))
    for section in snapshot.document.sections:
        line = section.range.start.line
        if section.kind is SectionKind.INSTRUCTION and section.fenced and section.pairs:
            count = len({pair.question for pair in section.pairs})
            title = f"Mine preferences ({count} question{'s' * (count != 1)})"
            command = types.Command(title=title, command=MINE, arguments=[uri, section.section_id])
            lenses.append(_lens(line, command))
        elif section.auto_mined:
            title = f"Revert mined sections ({len(mined)})"
            lenses.append(_lens(line, types.Command(title=title, command=REVERT, arguments=[uri])))
    return lenses


def _lens(line: int, command: types.Command) -> types.CodeLens:
    start = types.Position(line, 0)
    return types.CodeLens(range=types.Range(start, start), command=command)


def register(server: DlmServer) -> None:
    """Wire the code lens request."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    def lenses(ls: DlmServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        snapshot = ls.snapshot(uri)
        if snapshot is None:
            return []
        found = ls.guarded("code lenses", code_lenses, snapshot, uri, ls.staged.get(uri, 0))
        return found or []
