"""Every judge's answer is bounded: reasoning length, the api: body, parse depth and range."""

from __future__ import annotations

import json
import shlex
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.rewards.fake_openai import FakeOpenAI, Reply, verdict
from trainer.rewards.base import DetailedRM, JudgeError, Messages, RewardDetails, conversation
from trainer.rewards.chat_api import RetryPolicy
from trainer.rewards.settings import JudgeSettings, load_judge
from trainer.rewards.wrappers import BoundedRM

HOSTILE = Path(__file__).parent / "scripts" / "hostile_judge.py"
ITEMS = [conversation("What is the ferry called?", "The Tern.")]
PLUGIN = (
    "from trainer.rewards.base import BaseRM, RewardDetails\n"
    "class Chatty(BaseRM):\n"
    "    def score(self, messages):\n"
    "        return 1.0\n"
    "    def score_batch_details(self, batch, batch_size=8):\n"
    "        return [RewardDetails(1.0, 1.0, reasoning='why ' * 50) for _ in batch]\n"
)


class Fixed(DetailedRM):
    """A judge that answers any batch with the same fixed details, however many it was asked."""

    name = "fixed"

    def __init__(self, *answers: tuple[float, str | None]) -> None:
        self.details = [RewardDetails(score, score, reasoning=why) for score, why in answers]

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        return self.details


def build(tmp_path: Path, selector: str, **flags: Any) -> Any:
    return load_judge(
        JudgeSettings(selector, **flags),
        model=None,
        tokenizer=None,
        system_prompt=None,
        store_root=tmp_path / "store",
    )


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as fake:
        yield fake


def test_reasoning_over_the_limit_names_the_flag() -> None:
    bounded = BoundedRM(Fixed((1.0, "x" * 11)), max_reasoning=10)
    with pytest.raises(JudgeError, match=r"fixed: .*11 characters.*--judge-max-reasoning 11"):
        bounded.score_batch_details(ITEMS)
    details = BoundedRM(Fixed((1.0, "x" * 10)), 10).score_batch_details(ITEMS)
    assert [(d.score, d.reasoning) for d in details] == [(1.0, "x" * 10)]


def test_a_judge_answering_the_wrong_number_of_items_is_stopped() -> None:
    with pytest.raises(JudgeError, match="2 scores for 1 answer"):
        BoundedRM(Fixed((1.0, None), (2.0, None)), 10).score_batch_details(ITEMS)


def test_cli_judge_reasoning_is_bounded_through_load_judge(tmp_path: Path) -> None:
    selector = "cli:" + shlex.join([sys.executable, str(HOSTILE), "reasoning", "100000"])
    with pytest.raises(JudgeError, match="--judge-max-reasoning"):
        build(tmp_path, selector).score_batch_details(ITEMS)
    judge = build(tmp_path, selector, max_reasoning=100_000)
    assert judge.score_batch_details(ITEMS)[0].reasoning == "x" * 100_000


def test_cli_judge_output_limit_comes_from_the_flags(tmp_path: Path) -> None:
    selector = "cli:" + shlex.join([sys.executable, str(HOSTILE), "reasoning", "2000"])
    with pytest.raises(JudgeError, match=r"more than 1000 bytes.*--judge-max-output"):
        build(tmp_path, selector, max_output=1000).score_batch_details(ITEMS)


def test_plugin_reasoning_is_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "chatty_rewards.py").write_text(PLUGIN, encoding="utf-8")
    judge = build(tmp_path, "py:chatty_rewards:Chatty", max_reasoning=100)
    with pytest.raises(JudgeError, match=r"py:chatty_rewards:Chatty: .*--judge-max-reasoning"):
        judge.score_batch_details(ITEMS)


def test_api_reasoning_is_bounded(tmp_path: Path, server: FakeOpenAI) -> None:
    server.responder = lambda body: verdict(7, "because " * 5000)
    judge = build(tmp_path, "api:test", url=server.url)
    with pytest.raises(JudgeError, match=r"api:test: .*--judge-max-reasoning"):
        judge.score_batch_details(ITEMS)


def test_api_body_over_the_limit_is_not_read_whole(server: FakeOpenAI) -> None:
    from trainer.rewards.llm_judge import LLMJudge

    server.responder = lambda body: Reply(body=b" " * 5000 + b"{}")
    rm = LLMJudge("test", server.url, retry=RetryPolicy(max_retries=0), max_output=4096)
    with pytest.raises(JudgeError, match=r"more than 4096 bytes.*--judge-max-output"):
        rm.load()


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
        (json.dumps({"choices": [{"message": {"content": "[" * 50_000}}]}).encode(), "deeply"),
        (
            json.dumps({"choices": [{"message": {"content": '{"reasoning": "", "score": 1'}}]})
            .encode()
            .replace(b': 1"', b": 1" + b"0" * 400 + b'}"'),
            "outside the range of a float",
        ),
    ],
)
def test_api_hostile_answers_are_clear_errors(
    server: FakeOpenAI, body: bytes, message: str
) -> None:
    from trainer.rewards.llm_judge import LLMJudge

    server.responder = lambda _: Reply(body=body)
    rm = LLMJudge("test", server.url, retry=RetryPolicy(max_retries=0))
    with pytest.raises(JudgeError, match=message):
        rm.load()
