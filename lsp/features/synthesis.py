""" "Synthesize questions here" on a prose section: `dlm synth instructions` as a
subprocess (the server never imports the trainer), with `$/progress` and cancellation,
then the staged pairs applied as a workspace edit from `dlm synth apply --dry-run --json`,
so the server never writes the file and an editor undo takes them out again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from uuid import uuid4

from lsprotocol import types
from pygls.lsp.server import LanguageServer

from lsp import cli_bridge
from lsp.features import long_runs
from lsp.features.loop import guarded_async, offer_to_apply, on_disk

if TYPE_CHECKING:
    from lsp.server import DlmServer

SYNTHESIZE = "dlm.synthesizeQuestions"
DOES = "synthesizes questions"


async def synthesize(ls: DlmServer, uri: str, section_id: str) -> None:
    """Synthesize pairs from one prose section with progress; then offer to apply them."""
    found = on_disk(ls, uri, DOES)
    if found is None:
        return
    path = found[1]
    token = f"dlm-synth-{uuid4().hex}"
    arguments = ["synth", "instructions", str(path), "--section", section_id]
    arguments += ["--progress", "jsonl", "--json"]
    title = "Synthesizing questions"
    result = await long_runs.run_with_progress(ls, token, title, path.name, arguments)
    if result is None:
        return
    if result.code not in (0, 2):
        long_runs.fail(ls, token, result)
        return
    summary = result.json()
    pairs = int(summary.get("pairs_synthesized", 0))
    ls.work_done_progress.end(token, types.WorkDoneProgressEnd(message=f"{pairs} pair(s) staged"))
    if not pairs:
        dropped = summary.get("dropped", {})
        detail = ", ".join(f"{n} {reason}" for reason, n in sorted(dropped.items()))
        message = "No questions kept" + (f" ({detail})." if detail else ".")
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=message)
        )
        return
    await offer_to_apply(
        ls,
        f"Synthesized {pairs} question(s). Apply them to the document?",
        lambda: apply_staged(ls, uri, f"Apply {pairs} synthesized question(s)"),
    )


async def apply_staged(ls: DlmServer, uri: str, label: str) -> bool:
    """Send the edits of `dlm synth apply --dry-run --json` as one workspace edit."""
    found = on_disk(ls, uri, DOES)
    if found is None:
        return False
    snapshot, path = found
    result = await ls.children.run(
        ls.settings.dlm_command, ["synth", "apply", str(path), "--dry-run", "--json"]
    )
    if result.code != 0:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=result.error_tail())
        )
        return False
    edits = cli_bridge.text_edits(result.json(), snapshot.lines, snapshot.encoding)
    if not edits:
        return False
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit(changes={uri: edits}), label=label)
    )
    return bool(response.applied)


def register(server: DlmServer) -> None:
    """Wire the synthesis command."""

    @server.command(SYNTHESIZE)
    async def synthesize_command(ls: LanguageServer, *arguments: Any) -> None:
        server = cast("DlmServer", ls)
        work = synthesize(server, str(arguments[0]), str(arguments[1]))
        await guarded_async(server, "synthesis", work)
