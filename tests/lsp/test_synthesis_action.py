""" "Synthesize questions here" on prose sections: offered (disabled with the reason on a
document with errors), run as `dlm synth instructions --section ID` with progress, then
the staged pairs applied as a workspace edit from `dlm synth apply --dry-run --json`,
against the stand-in `dlm` (fake_dlm.py)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types

from lsp.features.actions import loop_actions
from lsp.features.synthesis import SYNTHESIZE
from lsp.state import OpenDocument
from tests.lsp.test_children import open_file, run_command, saved_document, server

PROSE_DOCUMENT = """---
dlm_id: 01JQ7Z0000000000000000000A
base_model: smollm2-135m
---

The Tern leaves Gullmouth at 7:40.

::instruction::
### Q
When does the Tern leave?
### A
At 7:40.
"""
BROKEN = PROSE_DOCUMENT + "\n::instruction::\n### Q\nNo answer?\n"


def rows(text: str, line: int) -> list[tuple[str, str | None, object]]:
    snapshot = OpenDocument(text, 1).snapshot()
    return [
        (a.title, a.command.command if a.command else None, a.disabled and a.disabled.reason)
        for a in loop_actions(snapshot, "file:///n.dlm", line, 0)
    ]


def test_offered_on_prose_only_and_disabled_with_the_reason_on_errors() -> None:
    assert rows(PROSE_DOCUMENT, 5) == [("Synthesize questions here", SYNTHESIZE, None)]
    assert all(title != "Synthesize questions here" for title, _, _ in rows(PROSE_DOCUMENT, 8))
    reason = (
        "Fix the 1 error in this document first: dlm synthesizes questions only in a "
        "document without errors."
    )
    assert rows(BROKEN, 5) == [("Synthesize questions here", SYNTHESIZE, reason)]
    snapshot = OpenDocument(PROSE_DOCUMENT, 1).snapshot()
    (action,) = loop_actions(snapshot, "file:///n.dlm", 5, 0)
    prose = snapshot.document.sections[0]
    assert action.command is not None
    assert action.command.arguments == ["file:///n.dlm", prose.section_id]


async def test_synthesize_reports_progress_then_applies_by_workspace_edit(tmp_path: Path) -> None:
    path = saved_document(tmp_path, PROSE_DOCUMENT)
    async with server(tmp_path) as (client, started):

        @client.feature(types.WINDOW_SHOW_MESSAGE_REQUEST)
        def choose(params: types.ShowMessageRequestParams) -> types.MessageActionItem:
            return types.MessageActionItem(title="Apply")

        uri = open_file(client, path)
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        await started.wait_for(1)  # the staged-pairs recount
        await run_command(client, SYNTHESIZE, uri, "0123456789abcdef")
        arguments = [r["arguments"] for r in started.records()]
        assert [str(path) if a == str(path) else a for a in arguments[1]] == [
            "synth",
            "instructions",
            str(path),
            "--section",
            "0123456789abcdef",
            "--progress",
            "jsonl",
            "--json",
        ]
        assert arguments[2] == ["synth", "apply", str(path), "--dry-run", "--json"]
        (token,) = client.progress_reports
        values = list(client.progress_reports[token])
        reports = [v.message for v in values if isinstance(v, types.WorkDoneProgressReport)]
        assert reports == ["synthesize 1/2", "synthesize 2/2"]
        assert isinstance(values[-1], types.WorkDoneProgressEnd)
        assert values[-1].message == "1 pair(s) staged"
        (applied,) = client.recorder.applied  # type: ignore[attr-defined]
        assert applied.label == "Apply 1 synthesized question(s)"
        assert path.read_text(encoding="utf-8") == PROSE_DOCUMENT  # the server never writes


async def test_unsaved_changes_stop_it_before_dlm_runs(tmp_path: Path) -> None:
    path = saved_document(tmp_path, PROSE_DOCUMENT)
    async with server(tmp_path) as (client, started):
        uri = open_file(client, path, PROSE_DOCUMENT + "\nMore prose.\n")
        await client.wait_for_notification(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        await started.wait_for(1)
        await run_command(client, SYNTHESIZE, uri, "0123456789abcdef")
        assert started.verbs() == ["preference list"]
        assert client.messages[-1].message == "Save notes.dlm first: dlm works on the file on disk."
