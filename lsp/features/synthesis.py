""" "Synthesize questions here" on a prose section: `dlm synth instructions` as a
subprocess (the server never imports the trainer), with `$/progress` and cancellation,
then the staged pairs applied as a workspace edit from `dlm synth apply --dry-run --json`,
so the server never writes the file and an editor undo takes them out again."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

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
    arguments = ["synth", "instructions", str(path), "--section", section_id]
    arguments += ["--progress", "jsonl", "--json"]
    title, count = "Synthesizing questions", "pairs_synthesized"
    staged = await long_runs.stage_with_progress(ls, title, path.name, arguments, count)
    if staged is None:
        return
    summary, pairs = staged
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
