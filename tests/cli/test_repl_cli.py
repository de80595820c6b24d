"""`dlm repl` on the tiny model: multi-turn history, slash commands, and /save writing a valid
document (escaped, atomic, keeping an edit saved meanwhile)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import dlmlang
import trainer.generation.chat as chat_module
from dlm.cli import app
from dlmlang.sections import QAPair, SectionKind
from tests.cli.test_document_writes import USER_LINE, append_in_another_process
from tests.cli.test_train_cli import write_document

runner = CliRunner()
QUESTION = "When does the Tern leave?"


def record_messages(monkeypatch: pytest.MonkeyPatch, answer: str | None = None) -> list[Any]:
    """Every chat sent to the model; answered by the model, or with `answer` when given."""
    calls: list[Any] = []
    real = chat_module.answer_messages

    def spy(model: Any, tokenizer: Any, messages: Any, sampling: Any) -> str:
        calls.append((messages, sampling))
        return answer if answer is not None else real(model, tokenizer, messages, sampling)

    monkeypatch.setattr(chat_module, "answer_messages", spy)
    return calls


def last_pair(path: Path) -> QAPair:
    """The pair of the document's last section, which must be an instruction section."""
    document = dlmlang.parse(path.read_text(encoding="utf-8"))
    assert document.ok, document.diagnostics
    section = document.sections[-1]
    assert section.kind is SectionKind.INSTRUCTION and len(section.pairs) == 1
    return section.pairs[0]


def test_repl_keeps_the_history_and_saves_the_last_exchange(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = record_messages(monkeypatch)
    before = trained.read_text(encoding="utf-8")
    result = runner.invoke(
        app,
        ["repl", str(trained), "--max-new-tokens", "8", "--temp", "1"],
        input=f"{QUESTION}\nAnd the light?\n/save\n/quit\n",
    )
    assert result.exit_code == 0, result.output
    first, second = (messages for messages, _ in calls)
    assert first == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": QUESTION},
    ]
    answer = second[2]["content"]
    assert second == [*first, {"role": "assistant", "content": answer}, second[3]]
    assert second[3] == {"role": "user", "content": "And the light?"}
    assert [sampling.seed for _, sampling in calls] == [0, 1]  # each turn its own stream
    assert "Saved as ::instruction:: section" in result.stdout

    text = trained.read_text(encoding="utf-8")
    assert text.startswith(before)  # appended, nothing else touched
    saved = last_pair(trained)
    assert saved.question == "And the light?"
    assert saved.answer.strip() and saved.answer in result.stdout
    assert runner.invoke(app, ["check", str(trained)]).exit_code == 0


STRUCTURE = "### A\n::instruction::\n\\### Q\nThe Tern leaves at 7:40.\n```\n### Q\n```"


def test_save_escapes_answer_lines_that_would_be_structure(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_messages(monkeypatch, answer=STRUCTURE)
    result = runner.invoke(app, ["repl", str(trained)], input=f"{QUESTION}\n/save\n")
    assert result.exit_code == 0, result.output
    text = trained.read_text(encoding="utf-8")
    assert "\n\\### A\n\\::instruction::\n\\\\### Q\n" in text
    assert last_pair(trained) == QAPair(QUESTION, STRUCTURE)
    check = runner.invoke(app, ["check", str(trained)])
    assert check.exit_code == 0, check.output
    again = runner.invoke(app, ["repl", str(trained)], input=f"{QUESTION}\n/save\n")
    assert "Already in" in again.stdout and trained.read_text(encoding="utf-8") == text


def test_save_keeps_an_edit_saved_while_it_worked(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    record_messages(monkeypatch, answer="At 7:40.")
    real = chat_module.insert_after
    calls: list[int] = []

    def insert_then_user_saves(*args: Any, **kwargs: Any) -> Any:
        edit = real(*args, **kwargs)
        if not calls:  # the user saves between dlm's read and its write
            append_in_another_process(trained, USER_LINE)
        calls.append(1)
        return edit

    monkeypatch.setattr(chat_module, "insert_after", insert_then_user_saves)
    result = runner.invoke(app, ["repl", str(trained)], input="Again?\n/save\n")
    assert result.exit_code == 0, result.output
    assert len(calls) == 2  # computed again on the saved text
    text = trained.read_text(encoding="utf-8")
    assert USER_LINE in text and text.index(USER_LINE) < text.index("### Q\nAgain?")
    assert last_pair(trained) == QAPair("Again?", "At 7:40.")


def test_slash_commands(trained: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = record_messages(monkeypatch, answer="Yes.")
    lines = [
        "/help",
        "/save",
        "/temp 0.5",
        "/temp warm",
        "/temp inf",
        "/version",
        "/version 7",
        "/version base",
        "first",
        "/reset",
        "//second",
        "/nope",
        "",
    ]
    result = runner.invoke(app, ["repl", str(trained)], input="\n".join(lines) + "\n")
    assert result.exit_code == 0, result.output  # Ctrl-D (end of input) leaves cleanly
    out = result.stdout
    assert "/reset" in out and "/quit" in out  # the help
    assert "Nothing to save yet" in out
    assert "Temperature 0.5." in out
    assert "/temp takes a number" in result.stderr
    assert "not inf" in result.stderr
    assert "Adapter version v0001; the store has v0001, base." in out
    assert "No adapter version 7" in result.stderr
    assert "Adapter version base;" in out
    assert "Unknown command /nope" in result.stderr
    (first, first_sampling), (second, _) = calls
    assert first_sampling.temperature == 0.5
    assert first[-1]["content"] == "first"
    assert second == [first[0], {"role": "user", "content": "/second"}]  # history reset


def test_ctrl_c_at_the_prompt_leaves_with_exit_0(
    trained: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(prompt: str = "") -> str:
        raise KeyboardInterrupt

    monkeypatch.setattr("builtins.input", interrupted)
    result = runner.invoke(app, ["repl", str(trained)])
    assert result.exit_code == 0, result.output


def test_repl_needs_an_adapter(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(app, ["repl", str(path)], input="/quit\n")
    assert result.exit_code == 1
    assert "No trained adapter" in result.stderr and f"dlm train {path}" in result.stderr
