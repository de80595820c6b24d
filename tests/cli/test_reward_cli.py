"""`dlm reward train` end to end on the tiny document, then mining with `--judge reward`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_json_docs import _documented, _shape
from tests.cli.test_train_cli import DLM_ID, MINED, PAIR, write_document

runner = CliRunner()


def test_no_hand_written_pairs_is_nothing_to_do(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, extra=MINED)
    result = runner.invoke(app, ["reward", "train", str(path)])
    assert result.exit_code == 2
    assert "has no hand-written preference pairs" in result.output
    assert "--pairs FILE.jsonl" in result.output
    assert not (home / "store" / DLM_ID / "reward").exists()


def test_a_bad_pairs_file_names_the_line_and_writes_nothing(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, extra=PAIR)
    pairs = tmp_path / "more.jsonl"
    pairs.write_text('{"prompt": "a", "chosen": "b", "rejected": "c"}\n{"prompt": "a"}\n', "utf-8")
    result = runner.invoke(app, ["reward", "train", str(path), "--pairs", str(pairs)])
    assert result.exit_code == 1
    assert f'dlm: {pairs}:2: missing "chosen", "rejected".' in result.output
    assert not (home / "store").exists()


def test_learning_rate_must_be_positive(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    path = write_document(tmp_path, tiny_model_dir, extra=PAIR)
    result = runner.invoke(app, ["reward", "train", str(path), "--learning-rate", "0"])
    assert result.exit_code == 2 and "--learning-rate must be above 0" in result.output


@pytest.mark.slow  # an SFT run, a reward run and a mining run on the tiny model
def test_reward_train_then_mine_with_the_reward_judge(
    tiny_model_dir: Path, tmp_path: Path, home: Path
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=2, extra=PAIR)
    assert runner.invoke(app, ["train", str(path), "--phase", "sft"]).exit_code == 0
    pairs = tmp_path / "more.jsonl"
    pairs.write_text(
        json.dumps({"prompt": "When does the Tern leave?", "chosen": "At 7:40.", "rejected": "?"})
        + "\n",
        encoding="utf-8",
    )
    args = ["reward", "train", str(path), "--pairs", str(pairs), "--steps", "3", "--json"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert (summary["run_id"], summary["steps"], summary["pairs"]) == (2, 3, 2)
    assert (summary["document_pairs"], summary["file_pairs"]) == (1, 1)
    assert summary["path"] == str(home / "store" / DLM_ID / "reward")
    documented = _documented("dlm reward train --json")
    assert set(summary) == set(documented)
    assert _shape(summary["train_after"]) == _shape(documented["train_after"])
    assert summary["heldout_before"] is None  # fewer than 6 pairs: none held out
    assert "training" in result.stderr  # the progress bar

    text = runner.invoke(app, ["reward", "train", str(path), "--steps", "1"])
    assert text.exit_code == 0, text.output
    assert "Run 3 (reward): 1 step on 1 pair (1 from the document" in text.stdout
    assert "training pairs (1): chosen ranked first" in text.stdout

    mine = [
        "preference", "mine", str(path), "--judge", "reward", "--samples", "4", "--seed", "0",
        "--max-new-tokens", "12", "--temp", "1.5", "--threshold", "-100", "--json",
    ]  # fmt: skip
    mined = runner.invoke(app, mine)
    assert mined.exit_code == 0, mined.output
    report = json.loads(mined.stdout)
    assert report["judge"] == "reward" and report["pairs_mined"] >= 1
    assert report["run_id"] == 1  # the adapter that sampled came from the SFT run

    best = [
        "prompt", str(path), "When does the Tern leave?", "--best-of", "3",
        "--judge", "reward", "--max-new-tokens", "8", "--json",
    ]  # fmt: skip
    picked = runner.invoke(app, best)
    assert picked.exit_code == 0, picked.output
    answers = json.loads(picked.stdout)
    scores = [c["score"] for c in answers["candidates"]]
    assert answers["judge"] == "reward" and len(scores) == 3
    assert answers["best"] == scores.index(max(scores))

    shown = json.loads(runner.invoke(app, ["show", str(path), "--json"]).stdout)
    assert [r["phase"] for r in shown["store"]["runs"]] == ["sft", "reward", "reward"]
    assert shown["store"]["current"] == "v0001"
