"""`dlm preference list|apply|revert|discard` on a staged plan, with --dry-run --json."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlmlang
from dlm.cli import app
from trainer.mining.plan import merge, save_plan, stage_pair
from trainer.store import Store

runner = CliRunner()
DLM_ID = "01JQ7Z0000000000000000000A"
TEXT = (
    f"---\ndlm_id: {DLM_ID}\nbase_model: x\n---\n\n"
    "::instruction::\n### Q\nWhen does the Tern leave?\n### A\nAt 7:40.\n\n"
    "::prose::\nThe end.\n"
)


@pytest.fixture
def staged(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = tmp_path / "notes.dlm"
    path.write_bytes(TEXT.replace("\n", "\r\n").encode())
    source = dlmlang.parse(TEXT).sections[0].section_id
    pair = stage_pair(
        "When does the Tern leave?",
        "At 7:40 every morning.",
        "I do not know.\n::instruction::",
        score_chosen=0.9,
        score_rejected=0.2,
        source_section_id=source,
        judge="sway",
        run_id=1,
        mined_at=datetime(2026, 4, 23, 18, 42, 11, tzinfo=UTC),
        threshold=0.1,
    )
    store = Store.open(DLM_ID, tmp_path / "home")
    save_plan(store.pending_plan_path(), merge(None, [pair], "sha"))
    return path


def test_list_apply_revert_discard(staged: Path) -> None:
    listed = json.loads(runner.invoke(app, ["preference", "list", str(staged), "--json"]).stdout)
    assert (len(listed["applied"]), len(listed["staged"])) == (0, 1)
    assert listed["staged"][0]["margin"] == pytest.approx(0.7)

    dry = runner.invoke(app, ["preference", "apply", str(staged), "--dry-run", "--json"])
    assert dry.exit_code == 0, dry.output
    (edit,) = json.loads(dry.stdout)["edits"]
    assert edit["range"]["start"] == {"line": 11, "character": 0}
    assert '<!-- dlm-auto-mined: judge_name="sway"' in edit["new_text"]
    assert "\r\n" in edit["new_text"] and "\\::instruction::" in edit["new_text"]
    assert staged.read_bytes() == TEXT.replace("\n", "\r\n").encode()  # dry run wrote nothing

    applied = runner.invoke(app, ["preference", "apply", str(staged)])
    assert applied.exit_code == 0, applied.output
    document = dlmlang.parse_bytes(staged.read_bytes())
    assert document.ok and [s.kind.value for s in document.sections] == [
        "instruction",
        "preference",
        "prose",
    ]
    listed = json.loads(runner.invoke(app, ["preference", "list", str(staged), "--json"]).stdout)
    assert (len(listed["applied"]), len(listed["staged"])) == (1, 0)

    reverted = runner.invoke(app, ["preference", "revert", str(staged)])
    assert reverted.exit_code == 0, reverted.output
    assert staged.read_bytes() == TEXT.replace("\n", "\r\n").encode()
    again = runner.invoke(app, ["preference", "revert", str(staged)])
    assert again.exit_code == 2 and "No auto-mined sections" in again.output

    assert (
        "Discarded 1 staged pair"
        in runner.invoke(app, ["preference", "discard", str(staged)]).stdout
    )
    nothing = runner.invoke(app, ["preference", "apply", str(staged)])
    assert nothing.exit_code == 2 and "Nothing staged" in nothing.output


def test_json_outputs_match_docs(staged: Path) -> None:
    from tests.cli.test_json_docs import _documented, _shape

    listed = json.loads(runner.invoke(app, ["preference", "list", str(staged), "--json"]).stdout)
    documented = _documented("dlm preference list --json")
    assert set(listed["staged"][0]) == set(documented["staged"][0])
    assert listed["staged"][0]["threshold"] == 0.1
    assert set(documented["applied"][0]) <= set(documented["staged"][0])
    dry = json.loads(
        runner.invoke(app, ["preference", "apply", str(staged), "--dry-run", "--json"]).stdout
    )
    assert _shape(dry) == _shape(_documented("dlm preference apply --dry-run --json"))


def test_list_shows_both_answers_their_scores_and_the_reasoning(staged: Path) -> None:
    shown = runner.invoke(app, ["preference", "list", str(staged)])
    assert shown.exit_code == 0, shown.output
    lines = shown.stdout.splitlines()
    assert lines[0] == f"1 staged pair(s) and 0 mined section(s) in {staged}."
    assert "(run 1, judge sway, margin 0.700)" in shown.stdout
    assert "  prompt:   When does the Tern leave?" in lines
    assert "  chosen:   At 7:40 every morning.  [score 0.900]" in lines
    assert "  rejected: I do not know. ::instruction::  [score 0.200]" in lines

    runner.invoke(app, ["preference", "apply", str(staged)])
    applied = runner.invoke(app, ["preference", "list", str(staged)]).stdout
    assert "0 staged pair(s) and 1 mined section(s)" in applied
    assert "  chosen:   At 7:40 every morning.  [score 0.900]" in applied.splitlines()


def test_list_shows_the_judges_reasoning(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DLM_HOME", str(tmp_path / "home"))
    path = tmp_path / "notes.dlm"
    path.write_text(TEXT, encoding="utf-8")
    source = dlmlang.parse(TEXT).sections[0].section_id
    pair = stage_pair(
        "When does the Tern leave?",
        "At 7:40.",
        "Never.",
        score_chosen=8.0,
        score_rejected=2.0,
        source_section_id=source,
        judge="api:judge",
        run_id=1,
        mined_at=datetime(2026, 4, 23, 18, 42, 11, tzinfo=UTC),
        reasoning=("Matches the\ntimetable.", "Contradicts it."),
    )
    save_plan(Store.open(DLM_ID, tmp_path / "home").pending_plan_path(), merge(None, [pair], "s"))
    lines = runner.invoke(app, ["preference", "list", str(path)]).stdout.splitlines()
    assert "            reasoning: Matches the timetable." in lines
    assert "            reasoning: Contradicts it." in lines
