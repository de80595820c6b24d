"""The `cli:` judge against real subprocesses: the contract and every way to break it."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest

from trainer.judges import CliJudge, JudgeError, JudgeItem, Judgement

SCRIPT = Path(__file__).parent / "scripts" / "judge.py"
ITEMS = [JudgeItem("Who keeps the light?", "Morwenna."), JudgeItem("Who?", "Teague")]


def judge(mode: str, timeout: float = 10.0) -> CliJudge:
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))} {mode}"
    return CliJudge(command, timeout=timeout)


def test_scores_every_item_in_order_with_reasoning() -> None:
    subject = judge("ok")
    subject.load()
    assert subject.score(ITEMS) == [
        Judgement(0.9, "9 characters"),
        Judgement(0.6, "6 characters"),
    ]
    assert subject.name.startswith("cli:") and subject.default_threshold == 0.1


def test_arguments_are_not_shell_interpreted(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    subject = CliJudge(
        f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))} ok ; touch {marker}"
    )
    subject.score(ITEMS[:1])
    assert not marker.exists()


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("exit", "exited with status 3: model file missing"),
        ("empty", "printed nothing"),
        ("text", "not JSON"),
        ("list", "not an object"),
        ("noscore", 'has no "score"'),
        ("bool", '"score" must be a number, not True'),
        ("nan", '"score" must be finite'),
        ("string", "\"score\" must be a number, not '0.5'"),
    ],
)
def test_every_broken_answer_stops_with_a_clear_message(mode: str, message: str) -> None:
    with pytest.raises(JudgeError, match=message.replace("(", r"\(")):
        judge(mode).score(ITEMS)


def test_timeout() -> None:
    with pytest.raises(JudgeError, match=r"no answer within 0.5 s"):
        judge("slow", timeout=0.5).score(ITEMS[:1])


def test_missing_program_fails_in_load_before_any_work() -> None:
    subject = CliJudge("no-such-judge-program --fast")
    with pytest.raises(JudgeError, match="`no-such-judge-program` was not found"):
        subject.load()


def test_empty_or_unsplittable_command() -> None:
    with pytest.raises(JudgeError, match="needs a command"):
        CliJudge("")
    with pytest.raises(JudgeError, match="cannot split"):
        CliJudge('python "unclosed')
