"""Train, Show metrics and Ask the adapter against the stand-in `dlm` (fake_dlm.py): the
exact command lines, one `dlm prompt` per adapter version and question, the answer
beside the reference answer, cancelling, and refusing unsaved or broken documents."""

from __future__ import annotations

import asyncio
from pathlib import Path

from lsprotocol import types
from pytest_lsp import LanguageClient

from lsp.features.asking import ASK
from lsp.features.training import METRICS, TRAIN, metrics_summary
from tests.lsp.processes import gone
from tests.lsp.test_children import DOCUMENT, open_file, run_command, saved_document, server

QUESTION = "When does the Tern leave?"


async def lens_titles(client: LanguageClient, uri: str) -> list[tuple[int, str]]:
    found = await client.text_document_code_lens_async(
        types.CodeLensParams(text_document=types.TextDocumentIdentifier(uri=uri))
    )
    return [(lens.range.start.line, lens.command.title) for lens in found or [] if lens.command]


async def test_ask_runs_dlm_prompt_once_per_version_and_question(tmp_path: Path) -> None:
    path = saved_document(tmp_path)
    async with server(tmp_path) as (client, started):
        uri = open_file(client, path)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        assert (6, "Ask the adapter") in await lens_titles(client, uri)  # `dlm show`: v0003
        assert await run_command(client, ASK, uri, QUESTION) == f"Fake: {QUESTION}"
        assert await run_command(client, ASK, uri, QUESTION) == f"Fake: {QUESTION}"
        prompts = [r["arguments"] for r in started.records() if r["arguments"][0] == "prompt"]
        assert prompts == [["prompt", "--json", "--", str(path), QUESTION]]  # the second: cached
        assert [m.message for m in client.messages] == [f"Adapter v0003: Fake: {QUESTION}"] * 2
        assert (6, "Ask the adapter (v0003 answered)") in await lens_titles(client, uri)

        hover = await client.text_document_hover_async(
            types.HoverParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                position=types.Position(6, 1),
            )
        )
        assert hover is not None and isinstance(hover.contents, types.MarkupContent)
        assert "**A:** At 7:40." in hover.contents.value
        assert "**adapter v0003:** Fake: When does the Tern leave?" in hover.contents.value

        hints = await client.text_document_inlay_hint_async(
            types.InlayHintParams(
                text_document=types.TextDocumentIdentifier(uri=uri),
                range=types.Range(types.Position(0, 0), types.Position(10, 0)),
            )
        )
        ((position, label),) = [
            ((h.position.line, h.position.character), h.label) for h in hints or []
        ]
        assert position == (8, len("### A")) and label == f"v0003: Fake: {QUESTION}"


async def test_train_and_metrics_run_the_cli_with_the_documented_flags(tmp_path: Path) -> None:
    path = saved_document(tmp_path)
    async with server(tmp_path) as (client, started):
        uri = open_file(client, path)
        await started.wait_for(1)
        await run_command(client, TRAIN, uri)
        await run_command(client, METRICS, uri)
    arguments = [r["arguments"] for r in started.records()]
    assert ["train", str(path), "--progress", "jsonl", "--json"] in arguments
    assert ["metrics", str(path), "--json"] in arguments


async def test_cancelling_training_kills_dlm_and_says_cancelled(tmp_path: Path) -> None:
    path = saved_document(tmp_path)
    async with server(tmp_path, "sleep") as (client, started):
        uri = open_file(client, path)
        await started.wait_for(1)  # the staged-pairs recount, sleeping too
        running = asyncio.ensure_future(run_command(client, TRAIN, uri))
        records = await started.wait_for(2)
        (train,) = [r for r in records if r["arguments"][0] == "train"]
        (token,) = client.progress_reports
        client.window_work_done_progress_cancel(types.WorkDoneProgressCancelParams(token=token))
        await asyncio.wait_for(running, timeout=30)
        values = list(client.progress_reports[token])
        assert isinstance(values[0], types.WorkDoneProgressBegin) and values[0].cancellable
        assert isinstance(values[-1], types.WorkDoneProgressEnd)
        assert values[-1].message == "Cancelled"
        assert gone([train["pid"], train["grandchild"]])


async def test_unsaved_or_broken_documents_are_refused(tmp_path: Path) -> None:
    path = saved_document(tmp_path)
    async with server(tmp_path) as (client, started):
        uri = open_file(client, path, DOCUMENT.replace("At 7:40.", "At 7:41."))
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        await run_command(client, TRAIN, uri)
        await run_command(client, ASK, uri, QUESTION)
        broken = tmp_path / "broken.dlm"
        broken_uri = open_file(client, broken, DOCUMENT.replace("### A\nAt 7:40.\n", ""))
        broken.write_text(DOCUMENT.replace("### A\nAt 7:40.\n", ""), encoding="utf-8")
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        await run_command(client, TRAIN, broken_uri)
        messages = [m.message for m in client.messages]
    assert messages[:2] == ["Save notes.dlm first: dlm works on the file on disk."] * 2
    assert messages[2] == (
        "Fix the 1 error in this document first: dlm trains only in a document without errors."
    )
    assert not [r for r in started.records() if r["arguments"][0] in ("train", "prompt")]


def test_metrics_summary_describes_the_latest_runs() -> None:
    def run(run_id: int, mining: list[dict[str, int]]) -> dict[str, object]:
        steps = [{"step": 1, "loss": 3.5}, {"step": 2, "loss": 1.25}]
        evals = [{"step": 2, "name": "eval_loss", "value": 0.9}]
        return {
            "run_id": run_id,
            "phase": "sft",
            "status": "completed",
            "adapter_version": f"v000{run_id}",
            "steps": steps,
            "evals": evals,
            "mining": mining,
        }

    payload = {"runs": [run(n, [{"pairs_mined": 2}] if n == 4 else []) for n in range(1, 5)]}
    assert metrics_summary("notes.dlm", payload).splitlines() == [
        "notes.dlm: 4 training runs, the latest 3:",
        "Run 2 sft → v0002 (completed): 2 steps, loss 3.500 → 1.250, eval_loss 0.900.",
        "Run 3 sft → v0003 (completed): 2 steps, loss 3.500 → 1.250, eval_loss 0.900.",
        "Run 4 sft → v0004 (completed): 2 steps, loss 3.500 → 1.250, eval_loss 0.900, "
        "2 pairs mined from it.",
    ]
    assert metrics_summary("notes.dlm", {"runs": []}) == (
        "notes.dlm: no training runs yet. Run Train first."
    )
