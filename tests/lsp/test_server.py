"""The language server end to end over stdio with a real LSP client (pytest-lsp)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

import pytest_lsp
from lsprotocol import types
from pytest_lsp import ClientServerConfig, LanguageClient
from typer.testing import CliRunner

from dlm.cli import app

MARKER = (
    '<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.82" '
    'judge_score_rejected="0.31" mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->'
)
DOC = """---
dlm_id: 01JQ7Z0000000000000000000A
base_model: smollm2-135m
training:
  lora_r: 8
---

Harwick 😀 Island lies off the north coast.

::instruction::
### Q
When does the Tern leave?
### A
At 7:40.

::preference::
{MARKER}
### Prompt
中文 ferry?
### Chosen
The Tern.
### Rejected
None.
""".replace("{MARKER}", MARKER)
URI = "file:///tmp/notes.dlm"


@pytest_lsp.fixture(
    config=ClientServerConfig(server_command=[sys.executable, "-m", "lsp"]),
)
async def client(lsp_client: LanguageClient) -> Any:
    params = types.InitializeParams(
        capabilities=types.ClientCapabilities(),
        initialization_options={"diagnosticsDelay": 0.05},
    )
    await lsp_client.initialize_session(params)
    yield
    await lsp_client.shutdown_session()


def open_document(client: LanguageClient, text: str, uri: str = URI) -> None:
    client.text_document_did_open(
        types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="dlm", version=1, text=text)
        )
    )


async def diagnostics_for(client: LanguageClient, uri: str = URI) -> list[types.Diagnostic]:
    await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    return list(client.diagnostics[uri])


def check_json(tmp_path: Path, text: str) -> list[dict[str, Any]]:
    """What `dlm check --json` says about the same text (code-point ranges)."""
    path = tmp_path / "same.dlm"
    path.write_text(text, encoding="utf-8", newline="")
    result = CliRunner().invoke(app, ["check", "--json", str(path)])
    return list(json.loads(result.stdout)["files"][0]["diagnostics"])


def as_check(diagnostics: list[types.Diagnostic], text: str) -> list[tuple[Any, ...]]:
    """Protocol diagnostics with UTF-16 columns turned back into code points."""
    from lsp.positions import from_client, split_lines

    lines = split_lines(text)
    out = []
    for d in diagnostics:
        start = from_client(lines, d.range.start)
        end = from_client(lines, d.range.end)
        out.append((d.code, d.message, tuple(start), tuple(end)))
    return out


def expected(checked: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (
            d["code"],
            d["message"],
            (d["range"]["start"]["line"], d["range"]["start"]["character"]),
            (d["range"]["end"]["line"], d["range"]["end"]["character"]),
        )
        for d in checked
    ]


async def test_open_publishes_the_same_diagnostics_as_dlm_check(
    client: LanguageClient, tmp_path: Path
) -> None:
    text = DOC.replace("lora_r: 8", "lora_rr: 8").replace("### A\nAt 7:40.", "")
    open_document(client, text)
    found = await diagnostics_for(client)
    assert found, "the document has errors"
    assert {d.code for d in found} >= {"DLM042"}
    assert as_check(found, text) == expected(check_json(tmp_path, text))


async def test_columns_are_utf16_after_an_emoji(client: LanguageClient) -> None:
    text = DOC.replace("Harwick 😀 Island lies off the north coast.", "😀😀 ::instruction")
    text = text.replace("### Q\nWhen", "### Q\n😀 ### A\nWhen")
    open_document(client, text.replace("training:\n  lora_r: 8\n", "training:\n  lora_r: 😀\n"))
    found = await diagnostics_for(client)
    bad_value = next(d for d in found if d.range.start.line == 4)
    assert bad_value.range.start.character == len("  lora_r: ")
    assert bad_value.range.end.character == len("  lora_r: ") + 2  # one emoji, two units


async def test_random_edits_match_dlm_check_after_each(
    client: LanguageClient, tmp_path: Path
) -> None:
    rng = random.Random(3)
    text = DOC
    open_document(client, text)
    await diagnostics_for(client)
    pieces = ["::instruction::\n", "### Q\n", "### A\n", "```\n", "x 😀 中\n", "\n", "### Chosen\n"]
    for version in range(2, 20):
        lines = text.split("\n")
        line = rng.randrange(len(lines) - 1)
        choice = rng.random()
        # Ranged changes in UTF-16 units, as editors send them; now and then the whole text.
        if choice < 0.4:
            piece = rng.choice(pieces)
            lines.insert(line, piece.rstrip("\n"))
            at = types.Position(line, 0)
            change: types.TextDocumentContentChangeEvent = types.TextDocumentContentChangePartial(
                range=types.Range(at, at), text=piece
            )
        elif choice < 0.7:
            end = types.Position(line, len(lines[line].encode("utf-16-le")) // 2)
            lines[line] += " 😀x"
            change = types.TextDocumentContentChangePartial(
                range=types.Range(end, end), text=" 😀x"
            )
        elif choice < 0.9:
            del lines[line]
            change = types.TextDocumentContentChangePartial(
                range=types.Range(types.Position(line, 0), types.Position(line + 1, 0)), text=""
            )
        else:
            lines.insert(line, "::preference::")
            change = types.TextDocumentContentChangeWholeDocument(text="\n".join(lines))
        text = "\n".join(lines)
        client.text_document_did_change(
            types.DidChangeTextDocumentParams(
                text_document=types.VersionedTextDocumentIdentifier(uri=URI, version=version),
                content_changes=[change],
            )
        )
        found = await diagnostics_for(client)
        assert as_check(found, text) == expected(check_json(tmp_path, text)), version


async def test_outline_and_folding(client: LanguageClient) -> None:
    open_document(client, DOC)
    await diagnostics_for(client)
    document = types.TextDocumentIdentifier(uri=URI)
    symbols = await client.text_document_document_symbol_async(
        types.DocumentSymbolParams(text_document=document)
    )
    assert symbols is not None
    names = [s.name for s in symbols]
    assert names == [
        "frontmatter",
        "Harwick 😀 Island lies off the north coast.",
        "When does the Tern leave?",
        "中文 ferry?",
    ]
    assert "(auto-mined)" in (symbols[-1].detail or "")  # type: ignore[union-attr]
    pairs = [(c.name, c.detail, c.selection_range.start.line) for c in symbols[2].children or []]  # type: ignore[union-attr]
    assert pairs == [("When does the Tern leave?", "Q", 10)]
    (triple,) = symbols[3].children or []  # type: ignore[union-attr]
    assert (triple.name, triple.detail) == ("中文 ferry?", "Prompt")
    assert (triple.range.start.line, triple.range.end.line) == (17, 22)
    folds = await client.text_document_folding_range_async(
        types.FoldingRangeParams(text_document=document)
    )
    assert folds is not None
    assert (folds[0].start_line, folds[0].end_line) == (0, 5)
    assert any(f.start_line == 9 and f.end_line == 13 for f in folds)


async def test_hover_on_marker_fence_and_key(client: LanguageClient) -> None:
    open_document(client, DOC)
    await diagnostics_for(client)
    document = types.TextDocumentIdentifier(uri=URI)

    async def hover(line: int, character: int) -> str:
        found = await client.text_document_hover_async(
            types.HoverParams(text_document=document, position=types.Position(line, character))
        )
        assert found is not None
        assert isinstance(found.contents, types.MarkupContent)
        return found.contents.value

    marker = await hover(16, 10)
    assert "`sway`" in marker and "margin **0.51**" in marker and "run 7" in marker
    fence = await hover(9, 3)
    assert fence.startswith("**instruction** section") and "1 question/answer" in fence
    key = await hover(4, 3)
    assert key.startswith("`training.lora_r`: integer (default `8`)")
    question = await hover(10, 2)
    assert question.startswith("question/answer pair 1 of 1 in section `")
    assert "**A:** At 7:40." in question
    prompt = await hover(17, 2)
    assert "triple 1 of 1" in prompt and "**chosen:** The Tern." in prompt
    nothing = await client.text_document_hover_async(
        types.HoverParams(text_document=document, position=types.Position(12, 1))
    )
    assert nothing is None


async def test_garbage_never_kills_the_server(client: LanguageClient) -> None:
    for index, text in enumerate(["", "---", "---\n---\n", "\x00\ud800", "::prose::\n" * 50]):
        uri = f"file:///tmp/garbage-{index}.dlm"
        open_document(client, text, uri)
        await diagnostics_for(client, uri)
        await client.text_document_document_symbol_async(
            types.DocumentSymbolParams(text_document=types.TextDocumentIdentifier(uri=uri))
        )
    open_document(client, DOC)
    assert await diagnostics_for(client) == []
