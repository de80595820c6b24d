"""`dlm prompt --best-of N --judge SEL` end to end on a tiny model with a real `cli:` judge."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_json_docs import _documented, _shape
from tests.cli.test_mine_cli import judge
from tests.cli.test_train_cli import write_document

runner = CliRunner()
QUESTION = "When does the Tern leave?"


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("best-of")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLM_HOME", str(directory / "home"))
        path = write_document(directory, tiny_model_dir, max_steps=2)
        assert runner.invoke(app, ["train", str(path)]).exit_code == 0
        yield path


def best_of(path: Path, *extra: str) -> object:
    args = ["prompt", str(path), QUESTION, "--max-new-tokens", "12", *extra]
    return runner.invoke(app, args)


def test_the_highest_scored_answer_wins_and_json_shows_every_score(
    trained: Path, tmp_path: Path
) -> None:
    log = tmp_path / "calls.jsonl"
    before = trained.read_bytes()
    flags = ["--best-of", "4", "--temp", "1.5", "--judge", judge("logged", str(log)), "--json"]
    result = best_of(trained, *flags)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    documented = _documented("dlm prompt --best-of N --json")
    assert set(summary) == set(documented)
    assert _shape(summary["candidates"][0]) == _shape(documented["candidates"][0])
    candidates = summary["candidates"]
    assert len(candidates) == 4 and summary["judge"].startswith("cli:")
    # The test judge scores an answer by its length: the longest (earliest among equals) wins.
    scores = [c["score"] for c in candidates]
    assert scores == [len(c["text"]) / 10 for c in candidates]
    assert summary["best"] == scores.index(max(scores))
    assert summary["answer"] == candidates[summary["best"]]["text"]
    assert candidates[0]["reasoning"] == f"{len(candidates[0]['text'])} characters"
    # Each distinct answer was scored exactly once.
    scored = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    assert sorted(scored) == sorted({c["text"] for c in candidates})
    assert trained.read_bytes() == before


def test_without_json_stdout_is_the_answer_and_the_scores_go_to_stderr(trained: Path) -> None:
    result = best_of(trained, "--best-of", "3", "--temp", "1.5", "--judge", judge("ok"))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert result.stderr.startswith("best of 3 by cli:")  # type: ignore[attr-defined]
    starred = [s for s in result.stderr.split(": ", 1)[1].split(", ") if s.startswith("*")]  # type: ignore[attr-defined]
    assert len(starred) == 1
    assert float(starred[0][1:]) == pytest.approx(len(result.stdout.strip()) / 10, abs=0.05)  # type: ignore[attr-defined]


def test_identical_answers_are_scored_once(trained: Path, tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    args = ["--best-of", "3", "--temp", "0.0001", "--judge", judge("logged", str(log)), "--json"]
    result = best_of(trained, *args)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    candidates = json.loads(result.stdout)["candidates"]  # type: ignore[attr-defined]
    assert len({c["text"] for c in candidates}) == 1 and len(candidates) == 3
    assert len(log.read_text(encoding="utf-8").splitlines()) == 1
    assert json.loads(result.stdout)["best"] == 0  # type: ignore[attr-defined]


def test_plain_prompt_json_has_the_answer(trained: Path) -> None:
    result = best_of(trained, "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    summary = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert set(summary) == set(_documented("dlm prompt --json"))
    assert summary["adapter_version"] == "v0001" and isinstance(summary["answer"], str)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--judge", "sway"], "--judge picks among several answers: add --best-of N"),
        (["--judge-cache", "c"], "--judge-cache picks among several answers"),
        (["--best-of", "3", "--temp", "0"], "would sample the same greedy answer 3 times"),
        (["--best-of", "2", "--judge", "api:m"], "needs --judge-url URL"),
        (["--best-of", "2", "--rubric", "r.txt"], "--rubric applies only to api: judges"),
    ],
)
def test_flag_mistakes_are_usage_errors(trained: Path, args: list[str], message: str) -> None:
    result = best_of(trained, *args)
    assert result.exit_code == 2, result.output  # type: ignore[attr-defined]
    assert message in result.output  # type: ignore[attr-defined]


def test_a_failing_judge_fails_before_printing_an_answer(trained: Path) -> None:
    result = best_of(trained, "--best-of", "2", "--temp", "1", "--judge", judge("exit"))
    assert result.exit_code == 1, result.output  # type: ignore[attr-defined]
    assert result.stdout == ""  # type: ignore[attr-defined]
    assert "model file missing" in result.stderr  # type: ignore[attr-defined]
