"""The server's `dlm` children end to end: a real server over stdio whose `dlmCommand` is
a stand-in (fake_dlm.py) that records every start. Large outputs, stopping the server,
files that are not documents, revert forgetting replay, disabled actions, and the
import path children get."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from lsprotocol import types
from pygls.uris import from_fs_path
from pytest_lsp import LanguageClient
from pytest_lsp.client import make_test_lsp_client

from tests.lsp.processes import MINED_SECTION, gone

FAKE_DLM = Path(__file__).resolve().parent / "fake_dlm.py"
ROOT = Path(__file__).resolve().parents[2]
DOCUMENT = """---
dlm_id: 01JQ7Z0000000000000000000A
base_model: smollm2-135m
---

::instruction::
### Q
When does the Tern leave?
### A
At 7:40.
"""


class Started:
    """What the stand-in `dlm` recorded: one JSON line per start."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def records(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text("utf-8").splitlines()]

    def verbs(self) -> list[str]:
        return [" ".join(r["arguments"][:2]) for r in self.records()]

    async def wait_for(self, count: int, timeout: float = 30) -> list[dict[str, Any]]:
        for _ in range(int(timeout * 20)):
            if len(self.records()) >= count:
                return self.records()
            await asyncio.sleep(0.05)
        raise AssertionError(f"expected {count} dlm start(s), saw {self.records()}")


@asynccontextmanager
async def server(
    tmp_path: Path,
    behaviour: str = "answer",
    *,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    real_dlm: bool = False,
    disabled_support: bool = True,
    stop: str = "shutdown",
) -> AsyncIterator[tuple[LanguageClient, Started]]:
    """A language server whose `dlm` is fake_dlm.py (or, with `real_dlm`, its default);
    stopped by `stop` on the way out: `shutdown` then `exit`, `exit` alone, or `stdin`
    closed."""
    log = tmp_path / "started.jsonl"
    client = make_test_lsp_client()
    _read_code_actions_whole(client)
    recorder = Recorder()
    client.recorder = recorder  # type: ignore[attr-defined]

    @client.feature(types.WORKSPACE_APPLY_EDIT)
    def apply_edit(params: types.ApplyWorkspaceEditParams) -> types.ApplyWorkspaceEditResult:
        recorder.applied.append(params)
        return types.ApplyWorkspaceEditResult(applied=recorder.accept)

    environment = {**os.environ, **(env or {})}
    await client.start_io(sys.executable, "-m", "lsp", cwd=cwd or ROOT, env=environment)
    assert client._server is not None
    process = client._server
    code_action = types.CodeActionClientCapabilities(disabled_support=disabled_support)
    capabilities = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True),
        text_document=types.TextDocumentClientCapabilities(code_action=code_action),
    )
    options: dict[str, Any] = {"diagnosticsDelay": 0.05}
    if not real_dlm:
        options["dlmCommand"] = [sys.executable, str(FAKE_DLM), str(log), behaviour]
    await client.initialize_session(
        types.InitializeParams(capabilities=capabilities, initialization_options=options)
    )
    try:
        yield client, Started(log)
    finally:
        try:
            if stop == "shutdown":
                await asyncio.wait_for(client.shutdown_session(), timeout=30)
            elif stop == "exit":  # no shutdown request first
                client.exit(None)
            else:
                assert process.stdin is not None
                process.stdin.close()
            await asyncio.wait_for(process.wait(), timeout=30)
        finally:
            if process.returncode is None:  # a hung server must not outlive the test
                process.kill()
            await client.stop()


def _read_code_actions_whole(client: LanguageClient) -> None:
    """lsprotocol reads every code action that carries a command as a bare Command,
    dropping its kind and `disabled`; tell the two apart by the command's type."""
    converter = client.protocol._converter

    def structure(value: Any, _: type) -> types.Command | types.CodeAction:
        bare = isinstance(value.get("command"), str)
        return converter.structure(value, types.Command if bare else types.CodeAction)

    converter.register_structure_hook(types.Command | types.CodeAction, structure)


class Recorder:
    """The workspace edits the server asked for, and whether the client applies them."""

    def __init__(self) -> None:
        self.applied: list[types.ApplyWorkspaceEditParams] = []
        self.accept = True


def open_file(client: LanguageClient, path: Path, text: str | None = None) -> str:
    uri = from_fs_path(str(path))
    assert uri is not None
    if text is None:
        text = path.read_text(encoding="utf-8")
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="dlm", version=1, text=text)
        )
    )
    return uri


async def run_command(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await asyncio.wait_for(
        client.workspace_execute_command_async(
            types.ExecuteCommandParams(command=command, arguments=list(arguments))
        ),
        timeout=60,
    )


def saved_document(tmp_path: Path, text: str = DOCUMENT, name: str = "notes.dlm") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# 1. A child that prints more than a pipe holds.


async def test_mine_reads_a_megabyte_of_stdout_while_progress_flows(tmp_path: Path) -> None:
    path = saved_document(tmp_path)
    async with server(tmp_path) as (client, started):
        uri = open_file(client, path)
        await started.wait_for(1)  # the staged-pairs recount
        await run_command(client, "dlm.minePreferences", uri, "section-id")
        assert "preference mine" in started.verbs()
        (token,) = client.progress_reports
        values = list(client.progress_reports[token])
        reports = [v.message for v in values if isinstance(v, types.WorkDoneProgressReport)]
        assert reports == ["sample 1/3", "sample 2/3", "sample 3/3", "done 3/3"]
        assert isinstance(values[-1], types.WorkDoneProgressEnd)
        assert values[-1].message == "0 pair(s) staged"


# 2. Children do not outlive the server.


@pytest.mark.parametrize("stop", ["shutdown", "exit", "stdin"])
async def test_children_die_with_the_server(tmp_path: Path, stop: str) -> None:
    path = saved_document(tmp_path)
    async with server(tmp_path, "sleep", stop=stop) as (client, started):
        open_file(client, path)
        (record,) = await started.wait_for(1)
        pids = [record["pid"], record["grandchild"]]
        assert not gone(pids, timeout=0.5)
    assert gone(pids), "the server exited and left its dlm children running"


# 3. Only regular files of bounded size reach `dlm`.


async def test_no_child_for_a_fifo_and_diagnostics_keep_flowing(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.dlm"
    os.mkfifo(fifo)
    regular = saved_document(tmp_path)
    async with server(tmp_path) as (client, started):
        fifo_uri = open_file(client, fifo, DOCUMENT.replace("### A\nAt 7:40.\n", ""))
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert any(d.code == "DLM042" for d in client.diagnostics[fifo_uri])
        await run_command(client, "dlm.applyStaged", fifo_uri)  # must not read the FIFO
        await run_command(client, "dlm.refreshStaged", fifo_uri)
        open_file(client, regular)  # a regular file's recount shows the server got this far
        await started.wait_for(1)
        await asyncio.sleep(0.5)
        assert [r["arguments"][2] for r in started.records()] == [str(regular)]
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=fifo_uri, version=2),
                content_changes=[types.TextDocumentContentChangeWholeDocument(text=DOCUMENT)],
            )
        )
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert not client.diagnostics[fifo_uri]


@pytest.mark.parametrize("where", ["/dev/zero", "directory", "too large"])
async def test_no_child_for_what_dlm_would_refuse(tmp_path: Path, where: str) -> None:
    if where == "directory":
        target = tmp_path / "folder.dlm"
        target.mkdir()
    elif where == "too large":
        target = saved_document(tmp_path, name="big.dlm")
    else:
        target = Path(where)
    regular = saved_document(tmp_path)
    limit = {"DLM_MAX_DOCUMENT_BYTES": str(len(DOCUMENT.encode()) - 1)}
    async with server(tmp_path, env=limit if where == "too large" else None) as (client, started):
        uri = open_file(client, target, DOCUMENT)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        await run_command(client, "dlm.revertMined", uri)
        if where != "too large":
            open_file(client, regular)
            await started.wait_for(1)
        await asyncio.sleep(0.5)
        expected = [] if where == "too large" else [str(regular)]
        assert [r["arguments"][2] for r in started.records()] == expected


# 4. Revert from the editor forgets the reverted sections for replay.


@pytest.mark.parametrize("outcome", ["applied", "declined", "forget fails"])
async def test_revert_forgets_the_dry_run_sections_once_applied(
    tmp_path: Path, outcome: str
) -> None:
    path = saved_document(tmp_path)
    behaviour = "locked" if outcome == "forget fails" else "answer"
    async with server(tmp_path, behaviour) as (client, started):
        client.recorder.accept = outcome != "declined"  # type: ignore[attr-defined]
        uri = open_file(client, path)
        await started.wait_for(1)
        await run_command(client, "dlm.revertMined", uri)
        (applied,) = client.recorder.applied  # type: ignore[attr-defined]
        assert applied.edit.changes is not None and len(applied.edit.changes[uri]) == 1
        messages = [m.message for m in client.messages]
    forget = ["preference", "forget", str(path)]
    forget += ["--section", "0123456789abcdef", "--section", "fedcba9876543210"]
    arguments = [r["arguments"] for r in started.records()]
    assert [" ".join(a[:2]) for a in arguments[:2]] == ["preference list", "preference revert"]
    assert arguments[2:] == ([] if outcome == "declined" else [[*forget, "--json"]])
    if outcome == "forget fails":
        (message,) = messages
        assert message.startswith("The mined sections are out of the document but still in")
        assert message.endswith(
            "Error: the store is locked.\nTo forget them, run: dlm " + " ".join(forget)
        )
    else:
        assert messages == []


@pytest.mark.parametrize("disabled_support", [True, False])
async def test_loop_actions_on_a_document_with_errors_are_disabled(
    tmp_path: Path, disabled_support: bool
) -> None:
    text = DOCUMENT + MINED_SECTION + "\n::instruction::\n### Q\nNo answer?\n"
    path = saved_document(tmp_path, text)
    async with server(tmp_path, disabled_support=disabled_support) as (client, started):
        uri = open_file(client, path)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert [d.code for d in client.diagnostics[uri]] == ["DLM042"]
        found = await client.text_document_code_action_async(
            types.CodeActionParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(6, 0), types.Position(6, 0)),
                context=types.CodeActionContext(diagnostics=[]),
            )
        )
        actions = [a for a in found or [] if isinstance(a, types.CodeAction)]
        if disabled_support:
            titles = ["Mine preferences here (1 question)", "Revert 1 mined section"]
            assert [a.title for a in actions] == titles
            reason = (
                "Fix the 1 error in this document first: dlm mines, applies and reverts "
                "only in a document without errors."
            )
            assert all(a.disabled == types.CodeActionDisabled(reason=reason) for a in actions)
        else:  # a client that cannot show a reason gets no actions that cannot run
            assert actions == []
        await started.wait_for(1)
        await run_command(client, "dlm.revertMined", uri)
        await run_command(client, "dlm.minePreferences", uri, "section-id")
        assert started.verbs() == ["preference list"]  # neither ran `dlm`
        assert client.recorder.applied == []  # type: ignore[attr-defined]
        assert client.messages[-1].message.startswith("Fix the 1 error in this document")


# 7. Children import dlm, never a module lying in the server's working directory.


async def test_children_ignore_modules_planted_in_the_working_directory(tmp_path: Path) -> None:
    planted = tmp_path / "planted"
    (planted / "dlm").mkdir(parents=True)
    marker = tmp_path / "planted-module-ran"
    code = f"open({str(marker)!r}, 'a').write(__name__)\nraise SystemExit('planted')\n"
    for module in ("typer.py", "dlm/__init__.py", "dlm/__main__.py"):
        (planted / module).write_text(code)
    path = saved_document(tmp_path)
    home = {"DLM_HOME": str(tmp_path / "home")}
    async with server(tmp_path, cwd=planted, env=home, real_dlm=True) as (client, _):
        uri = open_file(client, path)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        staged = await run_command(client, "dlm.refreshStaged", uri)
        messages = [m.message for m in client.log_messages]
    assert not marker.exists(), f"the server's `dlm` child ran planted {marker.read_text()}"
    assert staged == 0 and not [m for m in messages if "failed" in m]


@pytest.mark.parametrize("user_set", [None, "1"])
async def test_children_get_pythonsafepath(tmp_path: Path, user_set: str | None) -> None:
    path = saved_document(tmp_path)
    env = {} if user_set is None else {"PYTHONSAFEPATH": user_set}
    async with server(tmp_path, env=env) as (client, started):
        open_file(client, path)
        (record,) = await started.wait_for(1)
    assert record["PYTHONSAFEPATH"] == "1"
    assert record["DLM_SAFEPATH_ADDED"] == (None if user_set else "1")
