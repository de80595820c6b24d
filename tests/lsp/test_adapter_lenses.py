"""Train, Show metrics and Ask the adapter end to end: a real LSP client, the real `dlm`
on a tiny model (the lenses before and after training, training's `$/progress`, the
metrics summary, and an answer in the hover and inlay hints of its question)."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Any

import pytest
import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp.features.asking import ASK
from lsp.features.training import METRICS, TRAIN
from tests.cli.test_train_cli import write_document
from tests.lsp.test_actions import open_file

QUESTION = "When does the Tern leave?"


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The store lives here, for the server and the `dlm` it starts (set before it)."""
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    return tmp_path / "home"


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp"]))
async def client(lsp_client: LanguageClient) -> Any:
    capabilities = types.ClientCapabilities(
        window=types.WindowClientCapabilities(work_done_progress=True)
    )
    await lsp_client.initialize_session(
        types.InitializeParams(
            capabilities=capabilities, initialization_options={"diagnosticsDelay": 0.05}
        )
    )
    yield
    await lsp_client.shutdown_session()


async def lenses(client: LanguageClient, uri: str) -> list[tuple[int, str, str]]:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return [
        (lens.range.start.line, lens.command.title, lens.command.command)
        for lens in found or []
        if lens.command is not None
    ]


async def lenses_until(
    client: LanguageClient, uri: str, wanted: tuple[int, str, str], seconds: float = 60.0
) -> list[tuple[int, str, str]]:
    """The lenses, asked again until `wanted` is among them or `seconds` have passed."""
    deadline = asyncio.get_running_loop().time() + seconds
    found = await lenses(client, uri)
    while wanted not in found and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.2)
        found = await lenses(client, uri)
    return found


async def execute(client: LanguageClient, command: str, *arguments: Any) -> Any:
    return await client.workspace_execute_command_async(
        types.ExecuteCommandParams(command=command, arguments=list(arguments))
    )


async def test_train_then_ask_the_adapter_and_show_metrics(
    client: LanguageClient, tiny_model_dir: Path, tmp_path: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=2)
    uri = open_file(client, path)
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    question_line = path.read_text().splitlines().index("### Q")
    # The server asks `dlm show` for the adapter version in the background: until it has
    # answered (slow on a busy machine) the question's lens cannot know there is none.
    no_adapter = (question_line, "No adapter yet: run Train", TRAIN)
    before = await lenses_until(client, uri, no_adapter)
    assert before[:2] == [(0, "Train", TRAIN), (0, "Show metrics", METRICS)]
    assert no_adapter in before
    assert (
        await execute(client, METRICS, uri) == "notes.dlm: no training runs yet. Run Train first."
    )

    await execute(client, TRAIN, uri)
    (token,) = client.progress_reports
    values = list(client.progress_reports[token])
    assert isinstance(values[0], types.WorkDoneProgressBegin) and values[0].cancellable
    reports = [v for v in values if isinstance(v, types.WorkDoneProgressReport)]
    assert any((r.message or "").startswith("train 2/2 loss ") for r in reports)
    assert [r.percentage for r in reports if r.percentage is not None][-1] == 100
    assert isinstance(values[-1], types.WorkDoneProgressEnd)
    assert (values[-1].message or "").startswith("sft v0001 (2 steps, loss ")
    assert client.messages[-1].message.startswith("Trained notes.dlm: sft v0001 (2 steps")
    ask = (question_line, "Ask the adapter", ASK)
    assert ask in await lenses_until(client, uri, ask)

    summary = await execute(client, METRICS, uri)
    assert summary.splitlines()[0] == "notes.dlm: 1 training run:"
    assert summary.splitlines()[1].startswith("Run 1 sft → v0001 (completed): 2 steps, loss ")

    answer = await execute(client, ASK, uri, QUESTION)
    assert isinstance(answer, str)
    assert client.messages[-1].message.startswith("Adapter v0001: ")
    assert (question_line, "Ask the adapter (v0001 answered)", ASK) in await lenses(client, uri)
    hover = await client.text_document_hover_async(
        types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            position=types.Position(question_line, 0),
        )
    )
    assert hover is not None and isinstance(hover.contents, types.MarkupContent)
    assert "**A:** At 7:40.\n\n**adapter v0001:** " in hover.contents.value
    hints = await client.text_document_inlay_hint_async(
        types.InlayHintParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 0), types.Position(question_line + 4, 0)),
        )
    )
    ((line, label),) = [(h.position.line, h.label) for h in hints or []]
    assert line == question_line + 2 and isinstance(label, str) and label.startswith("v0001: ")
