"""`dlm eval` end to end on a tiny model: held-out prompts, a real `cli:` judge, the record."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from dlmlang import parse
from dlmlang.heldout import heldout_pairs
from tests.cli.test_json_docs import _documented
from tests.cli.test_mine_cli import judge
from tests.cli.test_train_cli import DLM_ID

runner = CliRunner()
QUESTIONS = [
    "When does the Tern leave?",
    "Who keeps the light?",
    "What colour is the light?",
    "Where is Gullmouth?",
    "When does the Tern return?",
    "What is the ferry called?",
    "How often does the light flash?",
    "Where does the ferry go?",
]


def write(directory: Path, model_dir: Path, share: float) -> Path:
    """A document with eight pairs, `share` of them held out."""
    pairs = "".join(
        f"::instruction::\n### Q\n{q}\n### A\nThe answer to {q.lower()}\n\n" for q in QUESTIONS
    )
    path = directory / "notes.dlm"
    path.write_text(
        f"---\ndlm_id: {DLM_ID}\nbase_model: {model_dir}\nsystem_prompt: Be brief.\n"
        f"training:\n  max_steps: 2\n  sequence_len: 64\n  micro_batch_size: 2\n"
        f"  precision: fp32\n  heldout: {share}\n---\n\nThe Tern is the ferry.\n\n{pairs}",
        encoding="utf-8",
    )
    return path


@pytest.fixture(scope="module")
def trained(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    directory = tmp_path_factory.mktemp("eval")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DLM_HOME", str(directory / "home"))
        path = write(directory, tiny_model_dir, 0.5)
        assert runner.invoke(app, ["train", str(path)]).exit_code == 0
        yield path


def keys(value: object) -> object:
    """The keys of every object, nested; lists reduced to their first element."""
    if isinstance(value, dict):
        return {key: keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [keys(value[0])] if value else []
    return None


def evaluate(path: Path, *extra: str) -> object:
    return runner.invoke(app, ["eval", str(path), "--max-new-tokens", "8", *extra])


def test_held_out_pairs_against_the_base_model_by_reference(trained: Path) -> None:
    held = heldout_pairs(parse(trained.read_text(encoding="utf-8")))
    assert 1 <= len(held) < len(QUESTIONS)
    result = evaluate(trained, "--against", "base", "--json")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert keys(report) == keys(_documented("dlm eval --json"))
    assert report["versions"] == ["v0001", "base"] and report["by"] == "reference"
    assert [i["prompt"] for i in report["items"]] == [h.pair.question for h in held]
    assert [i["reference"] for i in report["items"]] == [h.pair.answer for h in held]
    comparison = report["comparison"]
    assert comparison["prompts"] == len(held)
    assert comparison["wins"] + comparison["ties"] + comparison["losses"] == len(held)
    assert 0 <= comparison["low"] <= comparison["win_rate"] <= comparison["high"] <= 1

    shown = json.loads(runner.invoke(app, ["show", str(trained), "--json"]).stdout)
    overview = shown["store"]["evals"][-1]
    assert overview["eval_id"] == report["eval_id"] and overview["decision"] is None
    assert keys(overview) == keys(_documented("dlm show --json")["store"]["evals"][0])
    metrics = json.loads(runner.invoke(app, ["metrics", str(trained), "--json"]).stdout)
    assert metrics["answer_evals"][-1] == overview
    text = runner.invoke(app, ["show", str(trained)]).stdout
    assert f"eval {report['eval_id']} " in text and "win rate by reference" in text


def test_a_judge_scores_every_answer_and_decides(trained: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "extra.txt"
    prompts.write_text("Is the island far?\nWho runs the ferry?\n", encoding="utf-8")
    result = evaluate(
        trained, "--prompts", str(prompts), "--no-heldout", "--judge", judge("ok"), "--json"
    )
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    report = json.loads(result.stdout)  # type: ignore[attr-defined]
    assert report["by"] == "judge" and report["judge"].startswith("cli:")
    assert [i["source"] for i in report["items"]] == ["file:1", "file:2"]
    for item in report["items"]:
        [answer] = item["answers"]
        assert answer["judge"] == len(answer["text"]) / 10 and answer["reference_f1"] is None
    assert report["comparison"] is None


def test_the_table_and_the_comparison_line(trained: Path) -> None:
    result = evaluate(trained, "--against", "base")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "v0001 vs base by reference: win rate" in result.stdout  # type: ignore[attr-defined]


def test_a_sway_judge_is_refused(trained: Path) -> None:
    result = evaluate(trained, "--judge", "sway")
    assert result.exit_code == 2
    assert "favours that adapter" in result.output  # type: ignore[attr-defined]


def test_prompts_without_references_need_a_judge(trained: Path, tmp_path: Path) -> None:
    prompts = tmp_path / "extra.txt"
    prompts.write_text("Is the island far?\n", encoding="utf-8")
    result = evaluate(trained, "--prompts", str(prompts))
    assert result.exit_code == 2
    assert "no reference answer" in result.output  # type: ignore[attr-defined]


def test_no_held_out_pairs_and_no_file_says_how_to_get_prompts(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write(tmp_path, tiny_model_dir, 0.0)
    assert runner.invoke(app, ["train", str(path)]).exit_code == 0
    result = evaluate(path)
    assert result.exit_code == 1
    assert "heldout: 0.2" in result.output  # type: ignore[attr-defined]
