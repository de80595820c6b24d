"""The self-improving loop's commands in the editor: mine, apply, revert, refresh staged.

Each runs `dlm` as a subprocess (the server never imports the trainer): mining with
`$/progress` and cancellation; apply and revert through `dlm preference ... --dry-run
--json`, whose edits reach the document as workspace edits, so the server never writes
a file and an editor undo restores it.
"""

import shlex
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from dlmlang import Severity
from lsp import cli_bridge, trust
from lsp.features import long_runs
from lsp.state import Snapshot

if TYPE_CHECKING:
    from pathlib import Path

    from lsp.server import DlmServer

MINE = "dlm.minePreferences"
APPLY = "dlm.applyStaged"
REVERT = "dlm.revertMined"
REFRESH = "dlm.refreshStaged"
T = TypeVar("T")


def errors_first(snapshot: Snapshot, does: str = "mines, applies and reverts") -> str | None:
    """Why `dlm` cannot run on this text yet (it has errors), or None; `does` says
    what it would do."""
    errors = sum(d.severity is Severity.ERROR for d in snapshot.diagnostics)
    if not errors:
        return None
    return (
        f"Fix the {errors} error{'s' * (errors != 1)} in this document first: "
        f"dlm {does} only in a document without errors."
    )


def on_disk(
    ls: "DlmServer", uri: str, does: str = "mines, applies and reverts"
) -> "tuple[Snapshot, Path] | None":
    """The document and its file, or None (with a message) when `dlm` cannot work on it:
    not a regular file or too large, with errors, or not saved."""
    from pathlib import Path

    snapshot = ls.snapshot(uri)
    path_text = to_fs_path(uri)
    if snapshot is None or path_text is None:
        return None
    path = Path(path_text)
    problem = cli_bridge.unusable_reason(path) or errors_first(snapshot, does)
    if problem is None and not cli_bridge.same_as_disk(path, snapshot.text):
        problem = f"Save {path.name} first: dlm works on the file on disk."
    if problem is not None:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=problem)
        )
        return None
    return snapshot, path


async def refresh_staged(ls: "DlmServer", uri: str) -> None:
    """Ask `dlm preference list` how many pairs are staged for this document."""
    from pathlib import Path

    path = to_fs_path(uri)
    if path is None or cli_bridge.unusable_reason(Path(path)) is not None:
        return
    result = await ls.children.run(ls.settings.dlm_command, ["preference", "list", path, "--json"])
    if result.code == 0:
        ls.staged[uri] = len(result.json().get("staged", []))


async def edit_from_cli(
    ls: "DlmServer", uri: str, verb: str, label: str
) -> "tuple[Path, dict[str, Any]] | None":
    """Run `dlm preference <verb> --dry-run --json` and send its edits as one workspace
    edit. Returns the file and the CLI's answer once the client applied the edit."""
    found = on_disk(ls, uri)
    if found is None:
        return None
    snapshot, path = found
    result = await ls.children.run(
        ls.settings.dlm_command, ["preference", verb, str(path), "--dry-run", "--json"]
    )
    if result.code != 0:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Error, message=result.error_tail())
        )
        return None
    payload = result.json()
    edits = cli_bridge.text_edits(payload, snapshot.lines, snapshot.encoding)
    if not edits:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Info, message=f"Nothing to {verb}.")
        )
        return None
    response = await ls.workspace_apply_edit_async(
        types.ApplyWorkspaceEditParams(edit=types.WorkspaceEdit(changes={uri: edits}), label=label)
    )
    return (path, payload) if response.applied else None


async def revert(ls: "DlmServer", uri: str) -> None:
    """Remove the mined sections in the editor, then have `dlm` forget them for replay,
    as `dlm preference revert` does, so that the next training run does not bring
    them back."""
    done = await edit_from_cli(ls, uri, "revert", "Revert mined sections")
    if done is None:
        return
    path, payload = done
    arguments = ["preference", "forget", str(path)]
    for section in payload.get("sections", []):
        arguments += ["--section", str(section)]
    if len(arguments) == 3:
        advice = "This dlm does not list the sections a revert removes; update it."
    else:
        # No time limit: forget waits for the store lock while a training run holds it,
        # as a CLI revert would; the server's exit still stops it.
        command = [*arguments, "--json"]
        result = await ls.children.run(ls.settings.dlm_command, command, timeout=None)
        if result.code == 0:
            return
        advice = f"{result.error_tail()}\nTo forget them, run: dlm {shlex.join(arguments)}"
    message = (
        "The mined sections are out of the document but still in replay, so the next "
        f"training run may bring them back. {advice}"
    )
    ls.window_show_message(types.ShowMessageParams(type=types.MessageType.Error, message=message))


async def mine(ls: "DlmServer", uri: str, section_id: str) -> None:
    """Run the miner for one section with `$/progress`, cancellable; then offer to apply.
    A judge that runs code is refused when it comes from an untrusted workspace."""
    refused = trust.refusal(ls.settings.judge, ls.settings.judge_origin)
    if refused is not None:
        ls.window_show_message(
            types.ShowMessageParams(type=types.MessageType.Warning, message=refused)
        )
        return
    found = on_disk(ls, uri)
    if found is None:
        return
    path = found[1]
    arguments = ["preference", "mine", str(path), "--section", section_id, "--progress", "jsonl"]
    arguments += [*ls.settings.mine_arguments(), "--json"]
    title, detail = "Mining preferences", f"{path.name} ({ls.settings.judge})"
    staged = await long_runs.stage_with_progress(ls, title, detail, arguments, "pairs_mined")
    if staged is None:
        return
    summary, pairs = staged
    await refresh_staged(ls, uri)
    if not pairs:
        advice = " ".join(summary.get("advice", [])) or "No pairs met the threshold."
        ls.window_show_message(
            types.ShowMessageParams(
                type=types.MessageType.Info, message=f"No pairs mined. {advice}"
            )
        )
        return
    await offer_to_apply(
        ls,
        f"Mined {pairs} preference pair(s). Apply them to the document?",
        lambda: edit_from_cli(ls, uri, "apply", f"Apply {pairs} mined pair(s)"),
    )


async def offer_to_apply(
    ls: "DlmServer", question: str, apply: Callable[[], Awaitable[object]]
) -> None:
    """Ask `question` with Apply and Later, and run `apply` if the user says Apply."""
    choice = await ls.window_show_message_request_async(
        types.ShowMessageRequestParams(
            type=types.MessageType.Info,
            message=question,
            actions=[
                types.MessageActionItem(title="Apply"),
                types.MessageActionItem(title="Later"),
            ],
        )
    )
    if choice is not None and choice.title == "Apply":
        await apply()


def register(server: "DlmServer") -> None:
    """Wire the loop's commands."""

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
        await guarded_async(server, "revert", revert(server, str(arguments[0])))

    @server.command(REFRESH)
    async def refresh_command(ls: LanguageServer, *arguments: Any) -> int:
        server = cast("DlmServer", ls)
        await guarded_async(server, "staged pairs", refresh_staged(server, str(arguments[0])))
        return server.staged.get(str(arguments[0]), 0)


async def guarded_async(server: "DlmServer", feature: str, work: Awaitable[T]) -> T | None:
    """What `work` gives; a failure is logged to the client and gives None."""
    try:
        return await work
    except Exception as error:  # a failing feature never ends the session
        server.window_log_message(
            types.LogMessageParams(
                type=types.MessageType.Error, message=f"dlm {feature} failed: {error!r}"
            )
        )
        return None
