"""The `cli:` judge against real subprocesses: the contract and every way to break it."""

from __future__ import annotations

import shlex
import sys
import time
from pathlib import Path

import pytest

from trainer.rewards.base import DEFAULT_MAX_OUTPUT, JudgeError, RewardDetails, conversation
from trainer.rewards.command import CliRM

SCRIPT = Path(__file__).parent / "scripts" / "judge.py"
ITEMS = [conversation("Who keeps the light?", "Morwenna."), conversation("Who?", "Teague")]


def verdicts(details: list[RewardDetails]) -> list[tuple[float, str | None]]:
    """(score, reasoning) of each answer."""
    return [(d.score, d.reasoning) for d in details]


def judge(mode: str, timeout: float = 10.0) -> CliRM:
    command = f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))} {mode}"
    return CliRM(command, timeout=timeout)


def test_scores_every_item_in_order_with_reasoning() -> None:
    subject = judge("ok")
    subject.load()
    assert verdicts(subject.score_batch_details(ITEMS)) == [
        (0.9, "9 characters"),
        (0.6, "6 characters"),
    ]
    assert subject.score(ITEMS[0]) == 0.9  # the reward-model API, one conversation
    assert subject.name.startswith("cli:") and subject.scale.default_threshold == 0.1


def test_arguments_are_not_shell_interpreted(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    subject = CliRM(f"{shlex.quote(sys.executable)} {shlex.quote(str(SCRIPT))} ok ; touch {marker}")
    subject.score(ITEMS[0])
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
        judge(mode).score_batch_details(ITEMS)


def test_timeout() -> None:
    with pytest.raises(JudgeError, match=r"no answer within 0.5 s"):
        judge("slow", timeout=0.5).score(ITEMS[0])


def test_missing_program_fails_in_load_before_any_work() -> None:
    subject = CliRM("no-such-judge-program --fast")
    with pytest.raises(JudgeError, match="`no-such-judge-program` was not found"):
        subject.load()


def test_empty_or_unsplittable_command() -> None:
    with pytest.raises(JudgeError, match="needs a command"):
        CliRM("")
    with pytest.raises(JudgeError, match="cannot split"):
        CliRM('python "unclosed')


HOSTILE = Path(__file__).parent / "scripts" / "hostile_judge.py"


def hostile(*args: str, timeout: float = 10.0, max_output: int = DEFAULT_MAX_OUTPUT) -> CliRM:
    """A judge running the contract-breaking script with `args` (its mode first)."""
    command = shlex.join([sys.executable, str(HOSTILE), *args])
    return CliRM(command, timeout=timeout, max_output=max_output)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("digits", "400"), r"the number 1{10}\.\.\. is outside the range of a float"),
        (("digits", "5000"), r"the number 1{10}\.\.\. is outside the range of a float"),
        (("raw", '{"score": 1e400}'), r"the number 1e400 is outside the range of a float"),
        (("raw", '{"score": -1E+999}'), r"the number -1E\+999 is outside the range of a float"),
        (("raw", '{"score": Infinity}'), r"holds Infinity, which is not a JSON number"),
        (("raw", '{"score": -Infinity}'), r"holds -Infinity, which is not a JSON number"),
        (("raw", '{"score": 1, "n": NaN}'), r"holds NaN, which is not a JSON number"),
        (("raw", '{"score": false}'), r'"score" must be a number, not False'),
        (("raw", '{"score": 1, "score": 2}'), r'gives "score" twice'),
        (("raw", '{"score": 1, "reasoning": 5}'), r'"reasoning" must be a string'),
        (("deep", "100000"), r"nested too deeply"),
    ],
)
def test_hostile_answers_are_clear_judge_errors(args: tuple[str, ...], message: str) -> None:
    subject = hostile(*args)
    with pytest.raises(JudgeError, match=message) as caught:
        subject.score(ITEMS[0])
    assert str(caught.value).startswith(subject.name + ": ")
    assert "Print" in str(caught.value)  # the fix


def test_numbers_in_range_still_parse() -> None:
    answers = ['{"score": 1e300}', '{"score": -7}', '{"score": 1' + "0" * 300 + "}"]
    scores = [hostile("raw", answer).score(ITEMS[0]) for answer in answers]
    assert scores == [1e300, -7.0, 1e300]


def test_output_over_the_limit_stops_the_judge_early() -> None:
    subject = hostile("flood", timeout=60.0, max_output=64 * 1024)
    started = time.monotonic()
    with pytest.raises(JudgeError, match=r"more than 65536 bytes.*--judge-max-output"):
        subject.score(ITEMS[0])
    assert time.monotonic() - started < 20  # read as it comes, not when the judge is done


def test_output_at_the_limit_is_read_whole() -> None:
    answer = '{"score": 0.25}'
    assert hostile("raw", answer, max_output=len(answer) + 1).score(ITEMS[0]) == 0.25
    with pytest.raises(JudgeError, match="--judge-max-output"):
        hostile("raw", answer, max_output=len(answer)).score(ITEMS[0])
