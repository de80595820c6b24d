"""`api:` judge against a local server: wire protocol, strict verdicts, retries, concurrency."""

from __future__ import annotations

import json
import math
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.rewards.fake_openai import FakeOpenAI, Reply, answer_of, verdict
from trainer.rewards.base import JudgeError, conversation
from trainer.rewards.chat_api import RetryPolicy, public_url
from trainer.rewards.llm_judge import LLMJudge, load_api_rm
from trainer.rewards.rubric import DEFAULT_RUBRIC, Rubric, parse_rubric, parse_verdict
from trainer.rewards.wrappers import WithSystemPrompt

FAST = RetryPolicy(max_retries=2, backoff_s=0.01, max_wait_s=2.0)
ITEMS = [conversation("What is the ferry called?", f"answer {i}") for i in range(3)]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as fake:
        yield fake


def judge(server: FakeOpenAI, **options: Any) -> LLMJudge:
    options.setdefault("retry", FAST)
    options.setdefault("timeout", 5.0)
    return LLMJudge("test", server.url, **options)


def by_answer(replies: dict[str, Reply]) -> Any:
    """A responder that answers a given answer text with a given reply, else a score of 5."""
    return lambda body: replies.get(answer_of(body), verdict(5))


def test_scores_in_order_with_reasoning(server: FakeOpenAI) -> None:
    server.responder = lambda body: verdict(int(answer_of(body)[-1]) + 2, "fine")
    rm = judge(server)
    rm.load()
    details = rm.score_batch_details(ITEMS)
    assert [d.score for d in details] == [2.0, 3.0, 4.0]
    assert {d.reasoning for d in details} == {"fine"}
    assert rm.name == "api:test" and rm.scale.default_threshold == 2.0
    assert rm.score(conversation("q", "answer 7")) == 9.0


def test_request_is_chat_completions_at_temperature_zero_with_the_schema(
    server: FakeOpenAI,
) -> None:
    WithSystemPrompt(judge(server, max_tokens=99), "Answer briefly.").score(ITEMS[0])
    seen = server.graded()[0]
    assert seen.path == "/v1/chat/completions"
    body = seen.body
    assert body["model"] == "test" and body["temperature"] == 0 and body["max_tokens"] == 99
    system, user = body["messages"]
    assert system["role"] == "system" and "strict, fair grader" in system["content"]
    assert '"score": <an integer from 0 to 10>' in system["content"]
    assert user["role"] == "user"
    assert "## The assistant's instructions\nAnswer briefly." in user["content"]
    assert "## Question\nWhat is the ferry called?" in user["content"]
    assert user["content"].endswith("## Answer to grade\nanswer 0")
    response_format = body["response_format"]
    assert response_format["type"] == "json_schema"
    spec = response_format["json_schema"]
    assert spec["strict"] is True and spec["name"] == "verdict"
    schema = spec["schema"]
    assert schema["required"] == ["reasoning", "score"]
    assert list(schema["properties"]) == ["reasoning", "score"]
    assert schema["additionalProperties"] is False
    assert schema["properties"]["score"] == {"type": "integer", "enum": list(range(11))}


def test_the_key_goes_in_the_header_and_nowhere_else(
    server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DLM_JUDGE_API_KEY", "sk-secret-123")
    rm = load_api_rm("test", server.url, retry=FAST)
    rm.score(ITEMS[0])
    assert {s.headers["authorization"] for s in server.requests} == {"Bearer sk-secret-123"}
    shown = [rm.name, repr(rm), repr(rm.endpoint), json.dumps(rm.fingerprint())]
    assert not any("sk-secret" in text for text in shown)

    monkeypatch.delenv("DLM_JUDGE_API_KEY")
    server.requests.clear()
    load_api_rm("test", server.url).score(ITEMS[0])
    assert all("authorization" not in s.headers for s in server.requests)


def test_429_is_retried_after_retry_after(server: FakeOpenAI) -> None:
    rm = judge(server)
    rm.load()
    server.script = [Reply(status=429, headers={"Retry-After": "1"}, body=b"slow down")]
    started = time.monotonic()
    assert rm.score(conversation("q", "answer 1")) in range(11)
    assert time.monotonic() - started >= 0.9
    assert len(server.graded()) == 2


def test_500_is_retried(server: FakeOpenAI) -> None:
    rm = judge(server)
    rm.load()
    server.script = [Reply(status=500, body=b"oops"), Reply(status=503, body=b"busy")]
    rm.score(conversation("q", "a"))
    assert len(server.graded()) == 3


def test_persistent_500_fails_after_the_retries(server: FakeOpenAI) -> None:
    rm = judge(server)
    rm.load()
    server.responder = lambda body: Reply(status=500, body=b"model crashed")
    with pytest.raises(JudgeError) as caught:
        rm.score(conversation("q", "a"))
    message = str(caught.value)
    assert "api:test: answer 1 (to 'q') failed: HTTP 500: model crashed" in message
    assert "gave up after 3 attempts" in message and "is running" in message
    assert len(server.graded()) == 3


def test_a_malformed_verdict_stops_at_once_without_retry(server: FakeOpenAI) -> None:
    rm = judge(server)
    server.responder = by_answer({"bad": Reply('The score is 7. {"score": 7}')})
    with pytest.raises(JudgeError) as caught:
        rm.score_batch([conversation("q", "bad")])
    message = str(caught.value)
    assert "the verdict on answer 1 (to 'q') is unusable: the reply is not JSON" in message
    assert "Nothing is salvaged" in message and "The score is 7." in message
    assert len([s for s in server.requests if answer_of(s.body) == "bad"]) == 1


@pytest.mark.parametrize(
    ("reply", "problem"),
    [
        (verdict(11), "outside the rubric's 0-10"),
        (verdict(-1), "outside the rubric's 0-10"),
        (verdict(6.5), "not a whole number"),
        (verdict("7"), '"score" must be a number'),
        (verdict(True), '"score" must be a number'),
        (Reply('{"reasoning": "r", "score": NaN}'), "NaN"),
        (Reply('{"reasoning": "r", "score": 1e999}'), "must be finite"),
        (Reply('{"score": 5}'), "missing keys ['reasoning']"),
        (Reply('{"reasoning": "r", "score": 5, "x": 1}'), "unexpected keys ['x']"),
        (Reply('{"reasoning": "r", "score": 1, "score": 5}'), "repeats the key(s) ['score']"),
        (Reply("[5]"), "not an object"),
        (Reply(None), "not text"),
        (Reply('{"reasoning": "r", "sc', finish_reason="length"), "cut off at max_tokens=512"),
        (Reply(body=b'{"choices": []}'), "no choices[0].message.content"),
        (Reply(body=b"<html>"), "the answer is not JSON"),
    ],
)
def test_every_broken_verdict_is_refused(server: FakeOpenAI, reply: Reply, problem: str) -> None:
    rm = judge(server)
    rm.load()
    server.script = [reply]
    with pytest.raises(JudgeError, match="api:test") as caught:
        rm.score(conversation("q", "a"))
    assert problem in str(caught.value)
    assert len(server.graded()) == 1  # never retried


def test_concurrency_is_bounded(server: FakeOpenAI) -> None:
    rm = judge(server, concurrency=3)
    rm.load()
    server.delay = 0.1
    scores = rm.score_batch([conversation("q", f"answer {i}") for i in range(10)])
    assert len(scores) == 10
    assert server.max_active == 3


def test_one_failure_stops_the_batch(server: FakeOpenAI) -> None:
    rm = judge(server, concurrency=2)
    rm.load()
    server.delay = 0.05
    server.responder = by_answer({"answer 1": Reply("not json")})
    with pytest.raises(JudgeError, match="answer 2 "):
        rm.score_batch([conversation("q", f"answer {i}") for i in range(20)])
    assert len(server.graded()) < 20


def test_a_server_without_json_schema_gets_the_json_object_form(server: FakeOpenAI) -> None:
    server.formats = {"json_object"}  # what llama-cpp-python's server knows
    rm = judge(server)
    rm.load()
    rm.score(conversation("q", "a"))
    kinds = [s.body["response_format"]["type"] for s in server.requests]
    assert kinds == ["json_schema", "json_object", "json_object"]
    assert server.requests[-1].body["response_format"]["schema"] == DEFAULT_RUBRIC.schema()

    fixed = judge(server, response_format="json_schema")
    with pytest.raises(JudgeError, match=r"HTTP 422.*structured outputs"):
        fixed.load()


LLAMA_CPP_PYTHON_REFUSAL = Reply(
    status=500,
    body=b'{"error": {"message": "1 validation error: (\'body\', \'response_format\', '
    b"'type') Input should be 'text' or 'json_object'\"}}",
)


def test_llama_cpp_pythons_500_refusal_falls_back_at_once(server: FakeOpenAI) -> None:
    server.formats = {"json_object"}
    server.refusal = LLAMA_CPP_PYTHON_REFUSAL
    rm = judge(server)
    rm.load()
    assert rm.settled_format == "json_object"
    kinds = [s.body["response_format"]["type"] for s in server.requests]
    assert kinds == ["json_schema", "json_object"]  # the refusal is not retried


def test_a_transient_preflight_failure_is_retried_not_taken_for_a_refusal(
    server: FakeOpenAI,
) -> None:
    server.script = [Reply(status=503, body=b"loading model")]
    rm = judge(server)
    rm.load()
    assert rm.settled_format == "json_schema"
    assert [s.body["response_format"]["type"] for s in server.requests] == ["json_schema"] * 2


def test_a_raw_newline_inside_the_reasoning_is_not_a_reason_to_fail(server: FakeOpenAI) -> None:
    # llama-cpp-python's grammar lets control characters into JSON strings.
    rm = judge(server)
    rm.load()
    server.script = [Reply('{ "reasoning": "wrong\nanswer" , "score" : 2}')]
    assert rm.score_details(conversation("q", "a")).reasoning == "wrong\nanswer"


def test_a_refused_key_is_not_retried(server: FakeOpenAI) -> None:
    server.responder = lambda body: Reply(status=401, body=b'{"error": "bad key"}')
    with pytest.raises(JudgeError, match=r"preflight request failed: HTTP 401.*DLM_JUDGE_API_KEY"):
        judge(server).load()
    assert len(server.requests) == 1


def test_a_wrong_path_names_the_url_flag(server: FakeOpenAI) -> None:
    rm = LLMJudge("test", server.url.removesuffix("/v1"), retry=FAST)
    with pytest.raises(JudgeError, match=r"HTTP 404.*--judge-url"):
        rm.load()


def test_timeouts_are_retried_then_reported(server: FakeOpenAI) -> None:
    server.delay = 0.6
    rm = judge(server, timeout=0.2, retry=RetryPolicy(max_retries=1, backoff_s=0.01))
    with pytest.raises(JudgeError, match=r"no answer within 0.2 s \(gave up after 2 attempts\)"):
        rm.load()
    assert len(server.requests) == 2


def test_an_unreachable_server_is_retried_then_reported() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    rm = LLMJudge("test", f"http://127.0.0.1:{port}/v1", retry=FAST)
    with pytest.raises(JudgeError, match=r"cannot reach .*gave up after 3 attempts"):
        rm.load()


def test_bad_settings_are_refused() -> None:
    with pytest.raises(JudgeError, match="not an http"):
        LLMJudge("m", "127.0.0.1:8080")
    with pytest.raises(JudgeError, match="--judge-url"):
        load_api_rm("m", None)
    with pytest.raises(JudgeError, match="needs a model name"):
        LLMJudge(" ", "http://127.0.0.1:1/v1")
    with pytest.raises(JudgeError, match="response_format"):
        LLMJudge("m", "http://127.0.0.1:1/v1", response_format="xml")  # type: ignore[arg-type]
    endpoint = LLMJudge("m", "http://u:pw@127.0.0.1:1/v1/chat/completions/?k=s").endpoint
    assert endpoint.url == "http://u:pw@127.0.0.1:1/v1/chat/completions?k=s"
    assert endpoint.shown == "http://127.0.0.1:1/v1/chat/completions"
    assert public_url("http://[::1]:8/v1?token=x") == "http://[::1]:8/v1"


def test_a_rubric_file_sets_the_scale_and_threshold(server: FakeOpenAI, tmp_path: Path) -> None:
    path = tmp_path / "rubric.md"
    path.write_text("---\nscale: [1, 5]\nscores: number\n---\nGrade politeness.\n", "utf-8")
    rm = load_api_rm("test", server.url, rubric=path, retry=FAST)
    assert rm.scale.name == "rubric-1-5" and math.isclose(rm.scale.default_threshold, 0.8)
    server.responder = lambda body: verdict(4.5)
    assert rm.score(conversation("q", "a")) == 4.5
    system = server.requests[-1].body["messages"][0]["content"]
    assert system.startswith("Grade politeness.") and "<a number from 1 to 5>" in system
    score = server.requests[-1].body["response_format"]["json_schema"]["schema"]["properties"]
    assert score["score"] == {"type": "number", "minimum": 1.0, "maximum": 5.0}


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("---\nscale: [5, 1]\n---\nx", "finite MIN < MAX"),
        ("---\nscale: [0, 2.5]\n---\nx", "whole-number ends"),
        ("---\nscale: 10\n---\nx", "scale must be [MIN, MAX]"),
        ("---\nscores: float\n---\nx", "scores must be integer or number"),
        ("---\nthreshold: 11\n---\nx", "at most 10"),
        ("---\nthreshold: 0\n---\nx", "above 0"),
        ("---\nrange: [0, 1]\n---\nx", "unknown setting(s) range"),
        ("---\nscale: [0, 1]\n", "never closed"),
        ("---\n---\n  \n", "the rubric text is empty"),
    ],
)
def test_bad_rubrics_are_refused(text: str, problem: str) -> None:
    with pytest.raises(JudgeError, match=r"my\.rubric") as caught:
        parse_rubric(text, "my.rubric")
    assert problem in str(caught.value)


def test_a_rubric_without_frontmatter_is_0_to_10_with_threshold_2() -> None:
    rubric = parse_rubric("Grade it.\n")
    assert (rubric.low, rubric.high, rubric.scores) == (0.0, 10.0, "integer")
    assert rubric.scale.default_threshold == 2.0 and rubric.text == "Grade it."
    custom = Rubric("x", threshold=3)
    assert custom.scale.default_threshold == 3 and custom.digest() == Rubric("x").digest()
    assert parse_verdict(' {"reasoning": "ok", "score": 7.0} ', rubric) == (7.0, "ok")


def test_auto_rm_loads_the_api_judge(server: FakeOpenAI) -> None:
    from trainer.rewards.auto import AutoRM

    rm = AutoRM.load("test", load_method="api", api_base=server.url, retry=FAST)
    assert isinstance(rm, LLMJudge) and rm.score(conversation("q", "a")) in range(11)
