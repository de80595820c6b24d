"""Code lenses: "Train" and "Show metrics" on the frontmatter, the loop's commands above
the sections they act on ("Mine preferences" over instruction sections, "Revert" over
mined ones, "Apply" on the frontmatter when pairs are staged), and "Ask the adapter"
above each `### Q`. A document with errors gets none: the code actions say why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import SectionKind
from dlmlang.context import pair_starts
from lsp.adapters import Adapters
from lsp.features.asking import ASK, know_adapter
from lsp.features.loop import APPLY, MINE, REVERT, errors_first
from lsp.features.training import METRICS, TRAIN
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer


def code_lenses(
    snapshot: Snapshot, uri: str, staged: int, adapters: Adapters
) -> list[types.CodeLens]:
    """The lenses of a document without errors."""
    if errors_first(snapshot) is not None:
        return []
    lenses = [
        _lens(0, types.Command(title="Train", command=TRAIN, arguments=[uri])),
        _lens(0, types.Command(title="Show metrics", command=METRICS, arguments=[uri])),
    ]
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
            starts = pair_starts(section, snapshot.lines)
            lenses += [
                _lens(at, _ask(uri, pair.question, adapters))
                for at, pair in zip(starts, section.pairs, strict=False)
            ]
        elif section.auto_mined:
            title = f"Revert mined sections ({len(mined)})"
            lenses.append(_lens(line, types.Command(title=title, command=REVERT, arguments=[uri])))
    return lenses


def _ask(uri: str, question: str, adapters: Adapters) -> types.Command:
    """The ask lens of one question, or "run Train" when there is no adapter yet."""
    if adapters.known(uri) and adapters.version(uri) is None:
        return types.Command(title="No adapter yet: run Train", command=TRAIN, arguments=[uri])
    answered = adapters.answer(uri, question)
    title = f"Ask the adapter ({answered.version} answered)" if answered else "Ask the adapter"
    return types.Command(title=title, command=ASK, arguments=[uri, question])


def _lens(line: int, command: types.Command) -> types.CodeLens:
    start = types.Position(line, 0)
    return types.CodeLens(range=types.Range(start, start), command=command)


def register(server: DlmServer) -> None:
    """Wire the code lens request."""

    @server.feature(types.TEXT_DOCUMENT_CODE_LENS)
    async def lenses(ls: DlmServer, params: types.CodeLensParams) -> list[types.CodeLens]:
        uri = params.text_document.uri
        await know_adapter(ls, uri)
        snapshot = ls.snapshot(uri)
        if snapshot is None:
            return []
        staged = ls.staged.get(uri, 0)
        found = ls.guarded("code lenses", code_lenses, snapshot, uri, staged, ls.adapters)
        return found or []
