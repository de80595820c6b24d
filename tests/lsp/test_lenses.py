"""Code lenses over the sections the loop acts on, through a real LSP client."""

from __future__ import annotations

import sys
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from lsp.features.asking import ASK
from lsp.features.loop import MINE, REVERT
from lsp.features.training import METRICS, TRAIN
from tests.lsp.test_server import DOC, URI, diagnostics_for, open_document


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp"]))
async def client(lsp_client: LanguageClient) -> Any:
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"diagnosticsDelay": 0.05},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


async def lenses(client: LanguageClient, uri: str = URI) -> list[types.CodeLens]:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return list(found or [])


async def test_mine_over_instruction_sections_and_revert_over_mined_ones(
    client: LanguageClient,
) -> None:
    open_document(client, DOC)
    await diagnostics_for(client)
    shown = [
        (lens.range.start.line, lens.command.title, lens.command.command, lens.command.arguments)
        for lens in await lenses(client)
        if lens.command is not None
    ]
    assert [row[:3] for row in shown] == [
        (0, "Train", TRAIN),
        (0, "Show metrics", METRICS),
        (9, "Mine preferences (1 question)", MINE),
        (10, "Ask the adapter", ASK),
        (15, "Revert mined sections (1)", REVERT),
    ]
    assert [list(row[3] or []) for row in shown[:2]] == [[URI], [URI]]
    mine, ask, revert = (list(row[3] or []) for row in shown[2:])
    assert mine[0] == URI and len(mine[1]) == 16
    assert ask == [URI, "When does the Tern leave?"]
    assert revert == [URI]


async def test_a_document_with_errors_gets_no_lenses(client: LanguageClient) -> None:
    uri = "file:///tmp/broken.dlm"
    open_document(client, DOC.replace("### A\nAt 7:40.", "At 7:40."), uri)
    await diagnostics_for(client, uri)
    assert await lenses(client, uri) == []
