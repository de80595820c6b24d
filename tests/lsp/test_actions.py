"""Code actions end to end: quick fixes, and the loop's actions through real `dlm`
subprocesses on a tiny model with a `cli:` judge (mine with progress, cancel, apply, revert)."""

from __future__ import annotations

import ast
import asyncio
import json
import shlex
import sqlite3
import sys
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import ClientServerConfig, LanguageClient
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import write_document
from tests.lsp.processes import MINED_SECTION

runner = CliRunner()
JUDGE = Path(__file__).resolve().parents[1] / "trainer" / "scripts" / "judge.py"


def judge(mode: str) -> str:
    return f"cli:{shlex.quote(sys.executable)} {shlex.quote(str(JUDGE))} {mode}"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store lives here, for this process and the server it starts (set before it)."""
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


class Recorder:
    """What the server asked the client to do."""

    def __init__(self) -> None:
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.answer = "Apply"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp"]))
async def client(lsp_client: LanguageClient) -> Any:
    recorder = Recorder()
    lsp_client.recorder = recorder  # type: ignore[attr-defined]

    @lsp_client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        recorder.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=True)

    @lsp_client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
    def choose(params: types.ShowMessageRequestParams) -> types.MessageActionItem | None:
        return types.MessageActionItem(title=recorder.answer)

    options = {"judge": judge("ok"), "samples": 4, "threshold": 0.05, "diagnosticsDelay": 0.05}
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=types.ClientCapabilities(
                window=types.WindowClientCapabilities(work_done_progress=True)
            ),
            initialization_options=options,
        )
    )
    yield
    await lsp_client.shutdown_session()


def open_file(client: LanguageClient, path: Path) -> str:
    uri = from_fs_path(str(path))
    assert uri is not None
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(
                uri=uri, language_id="dlm", version=1, text=path.read_text(encoding="utf-8")
            )
        )
    )
    return uri


async def actions_at(client: LanguageClient, uri: str, line: int) -> list[types.CodeAction]:
    found = await client.text_document_code_action_async(
        types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(line, 0), types.Position(line, 0)),
            context=types.CodeActionContext(diagnostics=[]),
        )
    )
    return [_as_action(a) for a in found or []]


def _as_action(found: types.Command | types.CodeAction) -> types.CodeAction:
    """lsprotocol's converter reads a CodeAction that carries a command as a Command (it
    tries that type of the union first and stringifies the nested object); undo that."""
    if isinstance(found, types.CodeAction):
        return found
    nested = ast.literal_eval(found.command)
    assert isinstance(nested, dict), found
    return types.CodeAction(
        title=found.title,
        kind=types.CodeActionKind.Source,
        command=types.Command(nested["title"], nested["command"], arguments=nested["arguments"]),
    )


LOOP_DOCUMENT = (
    "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n::instruction::\n"
    "### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n" + MINED_SECTION
)
BROKEN = LOOP_DOCUMENT + "\n::instruction::\n### Q\nNo answer?\n"
FIX_FIRST = (
    "Fix the 1 error in this document first: dlm mines, applies and reverts only in a "
    "document without errors."
)


def loop_rows(text: str, line: int, staged: int, show_disabled: bool) -> list[tuple[Any, ...]]:
    from lsp.features.actions import loop_actions
    from lsp.state import OpenDocument

    snapshot = OpenDocument(text, 1).snapshot()
    return [
        (a.title, a.command.command if a.command else None, a.disabled and a.disabled.reason)
        for a in loop_actions(snapshot, "file:///n.dlm", line, staged, show_disabled)
    ]


def test_loop_actions_on_a_document_without_errors() -> None:
    assert loop_rows(LOOP_DOCUMENT, 6, 2, show_disabled=True) == [
        ("Mine preferences here (1 question)", "dlm.minePreferences", None),
        ("Apply 2 staged pairs", "dlm.applyStaged", None),
        ("Revert 1 mined section", "dlm.revertMined", None),
    ]
    assert loop_rows(LOOP_DOCUMENT, 0, 0, show_disabled=False) == [
        ("Revert 1 mined section", "dlm.revertMined", None)
    ]


def test_loop_actions_on_a_document_with_errors_say_why_they_are_disabled() -> None:
    assert loop_rows(BROKEN, 6, 1, show_disabled=True) == [
        ("Mine preferences here (1 question)", "dlm.minePreferences", FIX_FIRST),
        ("Apply 1 staged pair", "dlm.applyStaged", FIX_FIRST),
        ("Revert 1 mined section", "dlm.revertMined", FIX_FIRST),
    ]
    assert loop_rows(BROKEN, 6, 1, show_disabled=False) == []


def mined_in_replay(home: Path) -> list[str]:
    """The ids of auto-mined sections in the replay table of the one store under `home`."""
    (database,) = (home / "store").glob("*/metrics.sqlite")
    with closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT section_id FROM replay WHERE auto_mined = 1")
        return [str(row[0]) for row in rows]


def staged(path: Path) -> list[Any]:
    result = runner.invoke(app, ["preference", "list", str(path), "--json"])
    return list(json.loads(result.stdout)["staged"])


async def test_quick_fix_renames_a_misspelt_key(client: LanguageClient, tmp_path: Path) -> None:
    path = tmp_path / "typo.dlm"
    path.write_text(
        "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\ntraining:\n  lora_rr: 8\n---\n"
    )
    uri = open_file(client, path)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    actions = await actions_at(client, uri, 4)
    fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix)
    assert fix.title == "Rename to `lora_r`" and fix.is_preferred
    assert fix.edit is not None and fix.edit.changes is not None
    (edit,) = fix.edit.changes[uri]
    assert (edit.range.start.character, edit.range.end.character, edit.new_text) == (2, 9, "lora_r")


async def test_mine_here_reports_progress_and_applies_by_workspace_edit(
    client: LanguageClient, tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=2)
    assert runner.invoke(app, ["train", str(path)]).exit_code == 0
    before = path.read_bytes()
    uri = open_file(client, path)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    lines = path.read_text().splitlines()
    fence = lines.index("::instruction::")
    mine = next(a for a in await actions_at(client, uri, fence + 1) if "Mine" in a.title)
    assert mine.title == "Mine preferences here (1 question)" and mine.command is not None

    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=mine.command.command, arguments=mine.command.arguments)
    )
    (token,) = client.progress_reports
    values = list(client.progress_reports[token])
    assert isinstance(values[0], types.WorkDoneProgressBegin) and values[0].cancellable
    assert any(
        isinstance(v, types.WorkDoneProgressReport) and "sample" in (v.message or "")
        for v in values
    )
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert values[-1].message == "1 pair(s) staged"

    recorder = client.recorder  # type: ignore[attr-defined]
    (applied,) = recorder.applied
    (edit,) = applied.edit.changes[uri]
    assert edit.new_text.startswith('::preference::\n<!-- dlm-auto-mined: judge_name="cli:')
    assert path.read_bytes() == before  # the server never writes the file
    assert len(staged(path)) == 1  # staged until the editor's buffer is saved

    # The pair stays staged until the editor saves the buffer.
    await asyncio.sleep(2)  # the background recount of staged pairs
    titles = [a.title for a in await actions_at(client, uri, fence)]
    assert "Apply 1 staged pair" in titles

    # The editor applies the edit and saves; then "Revert" removes the mined section.
    lines_now = path.read_text().split("\n")
    at = edit.range.start.line
    saved = "\n".join(lines_now[:at]) + "\n" + edit.new_text + "\n".join(lines_now[at:])
    path.write_text(saved)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=saved)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert not client.diagnostics[uri]
    # A preference run trains on the mined section: replay keeps it from now on.
    trained = runner.invoke(app, ["train", str(path), "--phase", "preference"])
    assert trained.exit_code == 0, trained.output
    (mined_id,) = mined_in_replay(home)
    revert = next(a for a in await actions_at(client, uri, 0) if "Revert" in a.title)
    assert revert.title == "Revert 1 mined section" and revert.command is not None
    await client.workspace_execute_command_async(
        types.ExecuteCommandParams(
            command=revert.command.command, arguments=revert.command.arguments
        )
    )
    removal = recorder.applied[-1].edit.changes[uri]
    assert len(recorder.applied) == 2 and all(e.new_text == "" for e in removal)
    assert path.read_text() == saved  # still the server never writes
    # As `dlm preference revert` does, the reverted section is gone from replay too, so
    # the next training run does not bring it back.
    assert mined_id not in mined_in_replay(home) and mined_in_replay(home) == []


async def test_cancel_kills_the_miner_and_stages_nothing(
    client: LanguageClient, tiny_model_dir: Path, tmp_path: Path
) -> None:
    import psutil

    path = write_document(tmp_path, tiny_model_dir, max_steps=2)
    assert runner.invoke(app, ["train", str(path)]).exit_code == 0
    uri = open_file(client, path)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    client.workspace_did_change_configuration(
        types.DidChangeConfigurationParams(settings={"dlm": {"judge": judge("slow")}})
    )
    fence = path.read_text().splitlines().index("::instruction::")
    mine = next(a for a in await actions_at(client, uri, fence + 1) if "Mine" in a.title)
    assert mine.command is not None
    running = asyncio.ensure_future(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(
                command=mine.command.command, arguments=mine.command.arguments
            )
        )
    )
    for _ in range(600):  # wait until the judge (which sleeps 10 s) is running
        judges = [
            p
            for p in psutil.process_iter(["cmdline"])
            if str(JUDGE) in " ".join(p.info["cmdline"] or [])
        ]
        if judges:
            break
        await asyncio.sleep(0.1)
    assert judges, "the judge never started"
    # Diagnostics keep flowing while the miner runs.
    edited = path.read_text().replace("### A\n", "", 1)
    client.text_document_did_change(
        types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=2),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=edited)],
        )
    )
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    assert any(d.code == "DLM042" for d in client.diagnostics[uri])
    (token,) = client.progress_reports
    client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
    await asyncio.wait_for(running, timeout=30)
    values = list(client.progress_reports[token])
    assert isinstance(values[-1], types.WorkDoneProgressEnd) and values[-1].message == "Cancelled"
    psutil.wait_procs(judges, timeout=10)
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in judges)
    assert staged(path) == []
    assert client.recorder.applied == []  # type: ignore[attr-defined]
