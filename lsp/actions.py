"""Code actions: quick fixes, "Mine preferences here", "Apply staged pairs", "Revert mined
sections". Edits come from `dlm preference ... --dry-run --json` and reach the document as
workspace edits, so the server never writes a file and an editor undo restores it."""

from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from dlmlang import Section, SectionKind
from lsp import cli_bridge
from lsp.diagnostics import SEVERITY
from lsp.positions import to_client_range
from lsp.state import Snapshot

if TYPE_CHECKING:
    from pathlib import Path

    from lsp.server import DlmServer

MINE = "dlm.minePreferences"
APPLY = "dlm.applyStaged"
REVERT = "dlm.revertMined"
REFRESH = "dlm.refreshStaged"


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
        client_range = to_client_range(snapshot.lines, diagnostic.range, snapshot.encoding)
        protocol_diagnostic = types.Diagnostic(
            range=client_range,
            message=diagnostic.message,
            severity=SEVERITY[diagnostic.severity],
            code=diagnostic.code,
            source="dlm",
        )
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


def loop_actions(snapshot: Snapshot, uri: str, line: int, staged: int) -> list[types.CodeAction]:
    """The self-improving loop's actions available at `line`."""
    actions = []
    section = section_at(snapshot, line)
    if section is not None and section.kind is SectionKind.INSTRUCTION and snapshot.document.ok:
        count = len({pair.question for pair in section.pairs})
        actions.append(
            types.CodeAction(
                title=f"Mine preferences here ({count} question{'s' * (count != 1)})",
                kind=types.CodeActionKind.Source,
                command=types.Command(
                    title="Mine preferences here", command=MINE, arguments=[uri, section.section_id]
                ),
            )
        )
    if staged:
        actions.append(
            types.CodeAction(
                title=f"Apply {staged} staged pair{'s' * (staged != 1)}",
                kind=types.CodeActionKind.Source,
                command=types.Command(title="Apply staged pairs", command=APPLY, arguments=[uri]),
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
            )
        )
    return actions


def _on_disk(ls: "DlmServer", uri: str) -> "tuple[Snapshot, Path] | None":
    """The document and its file, or None (with a message) when the CLI cannot see it yet."""
    from pathlib import Path

    snapshot = ls.snapshot(uri)
    path_text = to_fs_path(uri)
    if snapshot is None or path_text is None:
        return None
    path = Path(path_text)
    if not cli_bridge.same_as_disk(path, snapshot.text):
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Warning,
                message=f"Save {path.name} first: dlm works on the file on disk.",
            )
        )
        return None
    return snapshot, path


async def refresh_staged(ls: "DlmServer", uri: str) -> None:
    """Ask `dlm preference list` how many pairs are staged for this document."""
    path = to_fs_path(uri)
    if path is None:
        return
    result = await cli_bridge.run(ls.settings.dlm_command, ["preference", "list", path, "--json"])
    if result.code == 0:
        ls.staged[uri] = len(result.json().get("staged", []))


async def edit_from_cli(ls: "DlmServer", uri: str, verb: str, label: str) -> bool:
    """Run `dlm preference <verb> --dry-run --json` and send its edits as one workspace edit."""
    found = _on_disk(ls, uri)
    if found is None:
        return False
    snapshot, path = found
    result = await cli_bridge.run(
        ls.settings.dlm_command, ["preference", verb, str(path), "--dry-run", "--json"]
    )
    if result.code != 0:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=result.error_tail())
        )
        return False
    edits = cli_bridge.text_edits(result.json(), snapshot.lines, snapshot.encoding)
    if not edits:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=f"Nothing to {verb}.")
        )
        return False
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit(changes={uri: edits}), label=label)
    )
    return bool(response.applied)


async def mine(ls: "DlmServer", uri: str, section_id: str) -> None:
    """Run the miner for one section with `$/progress`, cancellable; then offer to apply."""
    found = _on_disk(ls, uri)
    if found is None:
        return
    _, path = found
    token = f"dlm-mine-{uuid4().hex}"
    await ls.work_done_progress.create_async(token)
    ls.work_done_progress.begin(
        token,
        types.WorkDoneProgressBegin(
            title="Mining preferences",
            cancellable=True,
            message=f"{path.name} ({ls.settings.judge})",
        ),
    )
    arguments = ["preference", "mine", str(path), "--section", section_id, "--progress", "jsonl"]
    process = await cli_bridge.start(
        ls.settings.dlm_command, [*arguments, *ls.settings.mine_arguments(), "--json"]
    )
    ls.mining[token] = process
    stderr_lines: list[str] = []
    try:
        assert process.stderr is not None and process.stdout is not None
        async for raw in process.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            stderr_lines.append(line)
            report = progress_report(line)
            if report is not None:
                ls.work_done_progress.report(token, report)
        stdout = (await process.stdout.read()).decode("utf-8", "replace")
        code = await process.wait()
    finally:
        ls.mining.pop(token, None)
    result = cli_bridge.CliResult(code, stdout, "\n".join(stderr_lines))
    if token in ls.cancelled:
        ls.cancelled.discard(token)
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Cancelled"))
        return
    if code not in (0, 2):
        ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message="Failed"))
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=result.error_tail())
        )
        return
    summary = result.json()
    pairs = int(summary.get("pairs_mined", 0))
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=f"{pairs} pair(s) staged"))
    await refresh_staged(ls, uri)
    if not pairs:
        advice = " ".join(summary.get("advice", [])) or "No pairs met the threshold."
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info, message=f"No pairs mined. {advice}"
            )
        )
        return
    choice = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=f"Mined {pairs} preference pair(s). Apply them to the document?",
            actions=[
                types.MessageActionItem(title="Apply"),
                types.MessageActionItem(title="Later"),
            ],
        )
    )
    if choice is not None and choice.title == "Apply":
        await edit_from_cli(ls, uri, "apply", f"Apply {pairs} mined pair(s)")


def progress_report(line: str) -> types.WorkDoneProgressReport | None:
    """A miner's `--progress jsonl` line as a progress report; None for other lines."""
    import json

    try:
        event = json.loads(line)
    except ValueError:
        return None
    if not isinstance(event, dict) or "stage" not in event:
        return None
    done, total = event.get("done"), event.get("total")
    percentage = None
    if isinstance(done, int) and isinstance(total, int) and total > 0:
        percentage = min(100, done * 100 // total)
    counts = f" {done}/{total}" if isinstance(total, int) and total else ""
    message = event.get("message") or ""
    return types.WorkDoneProgressReport(
        message=f"{event['stage']}{counts} {message}".strip(), percentage=percentage
    )


def register(server: "DlmServer") -> None:
    """Wire code actions, the loop's commands and progress cancellation."""

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
        line = params.range.start.line
        loop = ls.guarded("actions", loop_actions, snapshot, uri, line, ls.staged.get(uri, 0))
        return fixes + (loop or [])

    @server.command(MINE)
    async def mine_command(ls: LanguageServer, *arguments: Any) -> None:
        server = cast("DlmServer", ls)
        await guarded_async(server, "mining", mine(server, str(arguments[0]), str(arguments[1])))

    @server.command(APPLY)
    async def apply_command(ls: LanguageServer, *arguments: Any) -> None:
        server = cast("DlmServer", ls)
        work = edit_from_cli(server, str(arguments[0]), "apply", "Apply staged pairs")
        await guarded_async(server, "apply", work)

    @server.command(REVERT)
    async def revert_command(ls: LanguageServer, *arguments: Any) -> None:
        server = cast("DlmServer", ls)
        work = edit_from_cli(server, str(arguments[0]), "revert", "Revert mined sections")
        await guarded_async(server, "revert", work)

    @server.command(REFRESH)
    async def refresh_command(ls: LanguageServer, *arguments: Any) -> int:
        server = cast("DlmServer", ls)
        await guarded_async(server, "staged pairs", refresh_staged(server, str(arguments[0])))
        return server.staged.get(str(arguments[0]), 0)

    @server.feature(types.WINDOW_WORK_DONE_PROGRESS_CANCEL)
    def cancel(ls: "DlmServer", params: types.WorkDoneProgressCancelParams) -> None:
        token = str(params.token)
        process = ls.mining.get(token)
        if process is not None:
            ls.cancelled.add(token)
            cli_bridge.kill(process)


async def guarded_async(server: "DlmServer", feature: str, work: Any) -> None:
    try:
        await work
    except Exception as error:  # a failing feature never ends the session
        server.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error, message=f"dlm {feature} failed: {error!r}"
            )
        )
