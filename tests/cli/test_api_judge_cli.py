"""`dlm preference mine --judge api:<model> --judge-url URL` end to end against a local server."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import dlmlang
from dlm.cli import app
from tests.rewards.fake_openai import FakeOpenAI, Reply, answer_of, hashed_score

runner = CliRunner()


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI().running() as fake:
        yield fake


def mine(path: Path, *extra: str) -> object:
    return runner.invoke(
        app,
        [
            "preference",
            "mine",
            str(path),
            "--samples",
            "4",
            "--max-new-tokens",
            "12",
            "--temp",
            "1.5",
            "--seed",
            "0",
            "--json",
            *extra,
        ],
    )


def test_mine_with_an_api_judge(
    trained: Path, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    server.responder = lambda body: Reply(status=401, body=b"no")
    refused = mine(trained, "--judge", "api:test", "--judge-url", server.url, "--progress", "jsonl")
    assert refused.exit_code == 1  # type: ignore[attr-defined]
    assert "preflight request failed: HTTP 401: no" in refused.output  # type: ignore[attr-defined]
    assert '"stage": "sample"' not in refused.output  # type: ignore[attr-defined]

    server.responder = hashed_score
    server.requests.clear()
    monkeypatch.setenv("DLM_JUDGE_API_KEY", "sk-cli-secret")
    result = mine(trained, "--judge", "api:test", "--judge-url", server.url, "--apply")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert summary["judge"] == "api:test" and summary["threshold"] == 2.0
    assert summary["pairs_mined"] == 1 and summary["write_mode"] == "applied"
    graded = server.graded()
    assert 2 <= len(graded) <= 4  # each surviving candidate once, the preflight aside
    assert len({answer_of(s.body) for s in graded}) == len(graded)
    assert {s.headers["authorization"] for s in server.requests} == {"Bearer sk-cli-secret"}
    assert all(s.body["temperature"] == 0 for s in server.requests)
    users = [s.body["messages"][-1]["content"] for s in graded]
    assert all(u.startswith("## The assistant's instructions\nBe brief.") for u in users)

    document = dlmlang.parse_bytes(trained.read_bytes())
    mined = next(s for s in document.sections if s.auto_mined)
    assert mined.marker is not None and mined.marker.judge_name == "api:test"
    assert "sk-cli-secret" not in trained.read_text("utf-8")


def test_api_without_a_url_is_a_usage_error(tmp_path: Path) -> None:
    result = mine(tmp_path / "notes.dlm", "--judge", "api:test")
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "--judge api:test needs --judge-url URL" in result.output  # type: ignore[attr-defined]


@pytest.mark.parametrize("flag", [["--judge-url", "http://127.0.0.1:1/v1"], ["--rubric", "r.md"]])
def test_api_flags_with_another_judge_are_a_usage_error(tmp_path: Path, flag: list[str]) -> None:
    result = mine(tmp_path / "notes.dlm", "--judge", "sway", *flag)
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert f"{flag[0]} applies only to api: judges" in result.output  # type: ignore[attr-defined]
