"""Code actions: quick fixes, and the loop's actions ("Mine preferences here", "Apply staged
pairs", "Revert mined sections") that run the commands of lsp/features/loop.py, and
"Synthesize questions here" on prose (lsp/features/synthesis.py)."""

from typing import TYPE_CHECKING

from lsprotocol import types

from dlmlang import Section, SectionKind
from lsp.features.diagnostics import to_protocol
from lsp.features.loop import APPLY, MINE, REVERT, errors_first
from lsp.features.synthesis import DOES, SYNTHESIZE
from lsp.positions import to_client_range
from lsp.state import Snapshot

if TYPE_CHECKING:
    from lsp.server import DlmServer


def quick_fixes(snapshot: Snapshot, uri: str, span: types.Range) -> list[types.CodeAction]:
    """One action per fix of each diagnostic that touches the requested range."""
    actions = []
    for diagnostic in snapshot.document.diagnostics:
        # Lines, not columns: a cursor anywhere on the diagnostic's line gets its fixes.
        touches = (
            diagnostic.range.start.line <= span.end.line
            and span.start.line <= diagnostic.range.end.line
        )
        if not touches or not diagnostic.fixes:
            continue
        protocol_diagnostic = to_protocol(diagnostic, snapshot)
        for fix in diagnostic.fixes:
            edit = types.TextEdit(
                range=to_client_range(snapshot.lines, fix.range, snapshot.encoding),
                new_text=fix.new_text,
            )
            actions.append(
                types.CodeAction(
                    title=fix.title,
                    kind=types.CodeActionKind.QuickFix,
                    diagnostics=[protocol_diagnostic],
                    edit=types.WorkspaceEdit(changes={uri: [edit]}),
                    is_preferred=len(diagnostic.fixes) == 1,
                )
            )
    return actions


def section_at(snapshot: Snapshot, line: int) -> Section | None:
    """The section that holds `line`."""
    for section in snapshot.document.sections:
        end = section.range.end.line + (section.range.end.character > 0)
        if section.range.start.line <= line < end:
            return section
    return None


def loop_actions(
    snapshot: Snapshot, uri: str, line: int, staged: int, show_disabled: bool = True
) -> list[types.CodeAction]:
    """The self-improving loop's actions available at `line`.

    On a document with errors `dlm` refuses to work, so the actions come disabled with
    the reason (or, for a client that cannot show disabled actions, not at all).
    """
    blocked = errors_first(snapshot)
    if blocked is not None and not show_disabled:
        return []
    disabled = None if blocked is None else types.CodeActionDisabled(reason=blocked)
    actions = []
    section = section_at(snapshot, line)
    if section is not None and section.kind is SectionKind.INSTRUCTION:
        count = len({pair.question for pair in section.pairs})
        actions.append(
            types.CodeAction(
                title=f"Mine preferences here ({count} question{'s' * (count != 1)})",
                kind=types.CodeActionKind.Source,
                command=types.Command(
                    title="Mine preferences here", command=MINE, arguments=[uri, section.section_id]
                ),
                disabled=disabled,
            )
        )
    if section is not None and section.kind is SectionKind.PROSE and not section.is_blank:
        reason = errors_first(snapshot, DOES)
        actions.append(
            types.CodeAction(
                title="Synthesize questions here",
                kind=types.CodeActionKind.Source,
                command=types.Command(
                    title="Synthesize questions here",
                    command=SYNTHESIZE,
                    arguments=[uri, section.section_id],
                ),
                disabled=None if reason is None else types.CodeActionDisabled(reason=reason),
            )
        )
    if staged:
        actions.append(
            types.CodeAction(
                title=f"Apply {staged} staged pair{'s' * (staged != 1)}",
                kind=types.CodeActionKind.Source,
                command=types.Command(title="Apply staged pairs", command=APPLY, arguments=[uri]),
                disabled=disabled,
            )
        )
    mined = [s for s in snapshot.document.sections if s.auto_mined]
    if mined:
        actions.append(
            types.CodeAction(
                title=f"Revert {len(mined)} mined section{'s' * (len(mined) != 1)}",
                kind=types.CodeActionKind.Source,
                command=types.Command(
                    title="Revert mined sections", command=REVERT, arguments=[uri]
                ),
                disabled=disabled,
            )
        )
    return actions


def register(server: "DlmServer") -> None:
    """Wire the code action feature (quick fixes and the loop's actions)."""

    @server.feature(
        types.TEXT_DOCUMENT_CODE_ACTION,
        types.CodeActionOptions(
            code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.Source]
        ),
    )
    def code_actions(ls: "DlmServer", params: types.CodeActionParams) -> list[types.CodeAction]:
        uri = params.text_document.uri
        snapshot = ls.snapshot(uri)
        if snapshot is None:
            return []
        fixes = ls.guarded("quick fixes", quick_fixes, snapshot, uri, params.range) or []
        line, staged = params.range.start.line, ls.staged.get(uri, 0)
        show = _shows_disabled(ls)
        loop = ls.guarded("actions", loop_actions, snapshot, uri, line, staged, show)
        return fixes + (loop or [])


def _shows_disabled(ls: "DlmServer") -> bool:
    """Whether the client shows disabled code actions (with their reason)."""
    capabilities = ls.client_capabilities.text_document
    code_action = capabilities.code_action if capabilities is not None else None
    return bool(code_action is not None and code_action.disabled_support)
