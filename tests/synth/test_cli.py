"""`dlm synth` from the command line with an `api:` teacher on a local OpenAI-compatible
server: instructions, list, apply, check, revert byte for byte; bad input changes nothing;
`synth preferences` is `preference mine`."""

from __future__ import annotations

import json
import re
import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.rewards.fake_openai import FakeOpenAI
from tests.synth.conftest import DOCUMENT

JUDGE = Path(__file__).resolve().parents[1] / "trainer" / "scripts" / "judge.py"

runner = CliRunner()


def synth(*arguments: str) -> object:
    return runner.invoke(app, ["synth", *arguments])


def teacher(server: FakeOpenAI) -> list[str]:
    return ["--teacher", "api:scripted", "--teacher-url", server.url]


def test_instructions_list_apply_check_revert(
    document: Path, teacher_server: FakeOpenAI, home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_TEACHER_API_KEY", "sk-test")
    before = document.read_bytes()
    made = synth(
        "instructions", str(document), *teacher(teacher_server), "--per-section", "2", "--json"
    )
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert summary["teacher"] == "api:scripted" and summary["write_mode"] == "staged"
    assert summary["pairs_synthesized"] == 2 and summary["dropped"] == {
        "duplicate": 1,
        "unsupported": 1,
    }
    assert document.read_bytes() == before  # staged only
    assert teacher_server.requests[0].headers["authorization"] == "Bearer sk-test"
    assert teacher_server.requests[0].body["model"] == "scripted"

    listed = json.loads(synth("list", str(document), "--json").stdout)
    assert [p["question"] for p in listed["staged"]] == [
        "How much is a ticket on the Tern?",
        "Who keeps Black Rock Light?",
    ]
    assert listed["applied"] == []
    assert "2 staged pair(s)" in synth("list", str(document)).stdout

    dry = json.loads(synth("apply", str(document), "--dry-run", "--json").stdout)
    assert len(dry["edits"]) == 2 and document.read_bytes() == before
    applied = synth("apply", str(document))
    assert applied.exit_code == 0, applied.output
    text = document.read_text(encoding="utf-8")
    assert text.count('<!-- dlm-auto-synth: synth_teacher="api:scripted"') == 2
    assert re.search(r"::instruction::\n<!-- dlm-auto-synth: .*-->\n### Q\nWho keeps", text)
    assert runner.invoke(app, ["check", str(document)]).exit_code == 0
    listed = json.loads(synth("list", str(document), "--json").stdout)
    assert len(listed["applied"]) == 2 and listed["staged"] == []
    assert {p["teacher"] for p in listed["applied"]} == {"api:scripted"}
    mined = json.loads(runner.invoke(app, ["preference", "list", str(document), "--json"]).stdout)
    assert mined["applied"] == []  # synthesized sections are not mined ones

    reverted = synth("revert", str(document), "--json")
    assert reverted.exit_code == 0, reverted.output
    assert len(json.loads(reverted.stdout)["sections"]) == 2
    assert document.read_bytes() == before
    # The plan is kept: the pairs are staged again, and apply brings them back.
    assert len(json.loads(synth("list", str(document), "--json").stdout)["staged"]) == 2
    assert synth("discard", str(document)).exit_code == 0
    assert json.loads(synth("list", str(document), "--json").stdout)["staged"] == []


def test_apply_now_then_nothing_new_exits_2(document: Path, teacher_server: FakeOpenAI) -> None:
    first = synth("instructions", str(document), *teacher(teacher_server), "--apply")
    assert first.exit_code == 0, first.output
    assert "2 pair(s) from 2 prose section(s) by api:scripted, applied" in first.stdout
    assert document.read_text(encoding="utf-8").count("dlm-auto-synth") == 2
    again = synth("instructions", str(document), *teacher(teacher_server), "--json")
    assert again.exit_code == 2
    assert json.loads(again.stdout)["dropped"]["duplicate"] == 3
    one = [s for s in json.loads(synth("list", str(document), "--json").stdout)["applied"]]
    removed = synth("revert", str(document), "--section", one[0]["source_section_id"])
    assert removed.exit_code == 0 and "1 section(s) removed" in removed.stdout
    assert document.read_text(encoding="utf-8").count("dlm-auto-synth") == 1


@pytest.mark.parametrize(
    ("arguments", "code", "message"),
    [
        (["--teacher", "gpt"], 2, "is not a teacher"),
        (["--teacher", "api:x"], 2, "--teacher-url"),
        (["--section", "0123456789abcdef"], 2, "no section with that id"),
        (["--per-section", "0"], 2, ""),
    ],
)
def test_bad_input_changes_nothing(
    document: Path, home: Path, arguments: list[str], code: int, message: str
) -> None:
    before = document.read_bytes()
    result = synth("instructions", str(document), *arguments)
    assert result.exit_code == code, result.output
    assert message in result.output
    assert document.read_bytes() == before
    assert not home.exists()  # not even the store was created


def test_a_document_without_prose_is_refused_before_any_model(tmp_path: Path, home: Path) -> None:
    path = tmp_path / "qa.dlm"
    path.write_text(
        DOCUMENT.split("\n\nThe Tern")[0] + "\n\n::instruction::\n### Q\nA b?\n### A\nC.\n"
    )
    result = synth("instructions", str(path))
    assert result.exit_code == 2 and "no prose section" in result.output
    assert not home.exists()


def test_a_document_with_errors_and_empty_plans_are_refused(
    document: Path, teacher_server: FakeOpenAI
) -> None:
    broken = document.read_text(encoding="utf-8") + "\n::instruction::\n### Q\nNo answer?\n"
    document.write_text(broken, encoding="utf-8")
    result = synth("instructions", str(document), *teacher(teacher_server))
    assert result.exit_code == 1 and "has errors" in result.output
    assert teacher_server.requests == []
    document.write_text(broken.split("\n::instruction::\n### Q\nNo answer?")[0], encoding="utf-8")
    nothing = synth("apply", str(document))
    assert nothing.exit_code == 2 and "Nothing staged" in nothing.output
    none = synth("revert", str(document))
    assert none.exit_code == 2 and "No synthesized sections" in none.output


def test_a_failing_teacher_stages_nothing(document: Path, home: Path) -> None:
    fake = FakeOpenAI()  # refuses requests without a response_format: HTTP 422
    with fake.running():
        result = synth("instructions", str(document), *teacher(fake))
    assert result.exit_code == 1 and "api:scripted" in result.output
    assert not list(home.rglob("pending.json"))


def test_preferences_is_preference_mine() -> None:
    def options(*command: str) -> list[str]:
        text = runner.invoke(app, [*command, "--help"], terminal_width=200).stdout
        return sorted(set(re.findall(r"--[a-z][a-z-]+", text)))

    assert options("synth", "preferences") == options("preference", "mine")
    assert "--judge" in options("synth", "preferences")


def test_json_outputs_match_docs_json_md(document: Path, teacher_server: FakeOpenAI) -> None:
    from tests.cli.test_json_docs import _documented, conforms

    made = synth("instructions", str(document), *teacher(teacher_server), "--json")
    actual = json.loads(made.stdout)
    assert conforms(actual, _documented("dlm synth instructions --json"))
    applied_one = synth("apply", str(document))
    assert applied_one.exit_code == 0
    # One pair back to staged: both lists are filled.
    (first, *_) = json.loads(synth("list", str(document), "--json").stdout)["applied"]
    synth("revert", str(document), "--section", first["section_id"])
    listed = json.loads(synth("list", str(document), "--json").stdout)
    assert listed["applied"] and listed["staged"]
    assert conforms(listed, _documented("dlm synth list --json"))


def test_a_judge_drops_answers_it_does_not_prefer_to_a_non_answer(
    document: Path, teacher_server: FakeOpenAI, home: Path
) -> None:
    # The test judge scores a tenth of the answer's length: "I don't know." gets 1.3,
    # "A ticket costs four pounds, sold on board." 4.2 (kept at a margin of 2), and
    # "Morwenna Teague keeps it." 2.5 (dropped).
    judge = "cli:" + shlex.join([sys.executable, str(JUDGE), "ok"])
    arguments = ["--per-section", "2", "--judge", judge, "--threshold", "2", "--json"]
    made = synth("instructions", str(document), *teacher(teacher_server), *arguments)
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)
    assert [p["question"] for p in summary["pairs"]] == ["How much is a ticket on the Tern?"]
    assert summary["dropped"] == {"duplicate": 1, "unsupported": 1, "disfavoured": 1}
    words = synth(
        "instructions",
        str(document),
        *teacher(teacher_server),
        "--replace",
        "--judge",
        judge,
        "--threshold",
        "2",
    )
    assert "1 answer(s) the judge did not prefer" in words.stdout, words.output


def test_judge_flags_need_a_judge(document: Path, home: Path) -> None:
    before = document.read_bytes()
    result = synth("instructions", str(document), "--threshold", "1")
    assert result.exit_code == 2 and "--threshold applies with --judge SEL" in result.output
    assert document.read_bytes() == before and not home.exists()
