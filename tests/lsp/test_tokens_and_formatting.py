"""Semantic tokens, formatting and diagnostics' documentation links, through a real LSP
client over stdio."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient

from dlmlang.formatting import format_text
from lsp.features.diagnostics import DOCS_URL
from lsp.features.semantic_tokens import LEGEND
from tests.lsp.test_server import DOC, MARKER, URI, diagnostics_for, open_document


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp"]))
async def client(lsp_client: LanguageClient) -> Any:
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"diagnosticsDelay": 0.05},
    )
    result = await lsp_client.initialize_session(params)
    lsp_client.capabilities_seen = result.capabilities  # type: ignore[attr-defined]
    yield
    await lsp_client.shutdown_session()


def decode(data: Sequence[int], text: str) -> list[tuple[int, str, str]]:
    """(line, covered text, token type) of each token; columns are UTF-16 units."""
    lines = text.split("\n")
    found = []
    line = start = 0
    for index in range(0, len(data), 5):
        delta_line, delta_start, length, kind, modifiers = data[index : index + 5]
        assert modifiers == 0
        line += delta_line
        start = start + delta_start if delta_line == 0 else delta_start
        units = lines[line].encode("utf-16-le")
        covered = units[2 * start : 2 * (start + length)].decode("utf-16-le")
        found.append((line, covered, LEGEND.token_types[kind]))
    return found


async def tokens(client: LanguageClient, text: str) -> list[tuple[int, str, str]]:
    open_document(client, text)
    await diagnostics_for(client)
    result = await client.text_document_semantic_tokens_full_async(
        types.SemanticTokensParams(text_document=types.TextDocumentIdentifier(uri=URI))
    )
    assert result is not None
    return decode(result.data, text)


async def test_the_legend_is_advertised(client: LanguageClient) -> None:
    provider = client.capabilities_seen.semantic_tokens_provider  # type: ignore[attr-defined]
    assert list(provider.legend.token_types) == list(LEGEND.token_types)
    assert provider.full


async def test_tokens_of_fences_headers_markers_and_escapes(client: LanguageClient) -> None:
    text = DOC.replace('judge_name="sway"', 'judge_name="😀 sway"').replace(
        "::preference::", "::preference#tone::"
    )
    text = text.replace("At 7:40.", "\\### Q\nAt 7:40.\n```\n::prose::\n\\```\n```")
    text += "\n::prose::\n### Q\n\\### Q\n\\::prose::\n"
    found = await tokens(client, text)
    lines = text.split("\n")
    named = [(lines[line].split(" ")[0][:14], covered, kind) for line, covered, kind in found]
    assert named[:5] == [
        ("::instruction:", "::instruction::", "keyword"),
        ("###", "### Q", "type"),
        ("###", "### A", "type"),
        ("\\###", "\\", "operator"),
        ("\\###", "### Q", "string"),
    ]
    # Inside the code block only the escaped closing toggle is structure.
    assert ("\\```", "\\", "operator") in named
    assert ("\\```", "```", "string") in named
    in_code = lines.index("::prose::")
    assert not [token for token in found if token[0] == in_code]
    marker_line = lines.index(MARKER.replace('judge_name="sway"', 'judge_name="😀 sway"'))
    on_marker = [(covered, kind) for line, covered, kind in found if line == marker_line]
    assert on_marker[:3] == [
        ("<!-- dlm-auto-mined:", "macro"),
        ("judge_name", "property"),
        ('"😀 sway"', "string"),
    ]
    assert on_marker[3:5] == [("judge_score_chosen", "property"), ('"0.82"', "string")]
    assert on_marker[-1] == ("-->", "macro")
    fence_line = lines.index("::preference#tone::")
    assert [(c, k) for line, c, k in found if line == fence_line] == [
        ("::preference", "keyword"),
        ("#tone", "namespace"),
        ("::", "keyword"),
    ]
    # In prose, `### Q` is text and `\### Q` keeps its backslash; a fence escape is one.
    prose = [(c, k) for line, c, k in found if line >= len(lines) - 5]
    assert prose == [("::prose::", "keyword"), ("\\", "operator"), ("::prose::", "string")]


async def test_formatting_edits_give_the_canonical_text(client: LanguageClient) -> None:
    messy = DOC.replace("base_model: smollm2-135m\n", "base_model: smollm2-135m  \n")
    messy = messy.replace("---\n\nHarwick", "---\nHarwick").replace(
        'mined_run_id="7" -->', 'mined_run_id="7"    -->'
    )
    messy = messy.replace("### Q\n", "### Q  \n").removesuffix("\n")
    open_document(client, messy)
    await diagnostics_for(client)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert edits
    assert apply(messy, edits) == format_text(messy)
    assert "### Q  \n" in apply(messy, edits)  # a header line is content


async def test_no_formatting_for_a_document_with_errors(client: LanguageClient) -> None:
    broken = DOC.replace("### A\nAt 7:40.", "").replace("smollm2-135m\n", "smollm2-135m  \n")
    open_document(client, broken)
    await diagnostics_for(client)
    edits = await client.text_document_formatting_async(
        types.DocumentFormattingParams(
            text_document=types.TextDocumentIdentifier(uri=URI),
            options=types.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not edits


async def test_diagnostics_link_to_their_entry(client: LanguageClient) -> None:
    open_document(client, DOC.replace("### A\nAt 7:40.", ""))
    found = await diagnostics_for(client)
    assert found
    for diagnostic in found:
        assert diagnostic.code_description is not None
        assert diagnostic.code_description.href == f"{DOCS_URL}#{str(diagnostic.code).lower()}"


def apply(text: str, edits: Sequence[types.TextEdit]) -> str:
    """The client's side: UTF-16 positions, edits applied from the last one up."""
    lines = text.split("\n")

    def offset(position: types.Position) -> int:
        before = sum(len(line) + 1 for line in lines[: position.line])
        if position.line >= len(lines):
            return len(text)
        units = lines[position.line].encode("utf-16-le")[: 2 * position.character]
        return before + len(units.decode("utf-16-le"))

    out = text
    for edit in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character))[::-1]:
        out = out[: offset(edit.range.start)] + edit.new_text + out[offset(edit.range.end) :]
    return out
