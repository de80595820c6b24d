"""The model teachers on the tiny random-weight model: `self` before training (the base
model), `self` with the current adapter, and `hf:<directory>`. Random weights write no
usable questions, so these check the mechanics: the teacher loads, is asked, and the run
reports what it got without touching the document."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import write_document
from tests.rewards.fake_openai import FakeOpenAI
from tests.synth.conftest import DOCUMENT

runner = CliRunner()
QUICK = ["--per-section", "1", "--max-new-tokens", "6", "--json"]


@pytest.mark.parametrize("trained", [False, True], ids=["base", "adapter"])
def test_self_teacher_runs_on_the_tiny_model(
    tiny_model_dir: Path, tmp_path: Path, home: Path, trained: bool
) -> None:
    path = write_document(tmp_path, tiny_model_dir, max_steps=2)
    if trained:
        assert runner.invoke(app, ["train", str(path)]).exit_code == 0
    before = path.read_bytes()
    result = runner.invoke(app, ["synth", "instructions", str(path), *QUICK])
    assert result.exit_code in (0, 2), result.output
    summary = json.loads(result.stdout)
    assert summary["teacher"] == "self" and summary["sections_seen"] == 1
    assert path.read_bytes() == before
    loading = "adapter v0001" if trained else "the base model"
    assert f"loading teacher self ({loading})" in result.stderr


def test_hf_teacher_is_a_local_model(tiny_model_dir: Path, tmp_path: Path, home: Path) -> None:
    path = write_document(tmp_path, tiny_model_dir)
    result = runner.invoke(
        app, ["synth", "instructions", str(path), "--teacher", f"hf:{tiny_model_dir}", *QUICK]
    )
    assert result.exit_code in (0, 2), result.output
    assert json.loads(result.stdout)["teacher"] == f"hf:{tiny_model_dir}"
    missing = runner.invoke(
        app, ["synth", "instructions", str(path), "--teacher", "hf:nobody/nothing-here"]
    )
    assert missing.exit_code == 1 and "never downloads" in missing.output


def test_a_sway_judge_scores_with_the_documents_model_under_an_api_teacher(
    tiny_model_dir: Path, tmp_path: Path, home: Path, teacher_server: FakeOpenAI
) -> None:
    """An api: teacher needs no model, but a sway judge scores with the document's own:
    it is loaded for the judge, and every kept pair was judged (threshold -inf keeps all)."""
    path = tmp_path / "notes.dlm"
    path.write_text(DOCUMENT.replace("smollm2-135m", str(tiny_model_dir)), encoding="utf-8")
    teacher = ["--teacher", "api:scripted", "--teacher-url", teacher_server.url]
    judged = ["--judge", "sway:logprob", "--threshold", "-1e9", "--device", "cpu"]
    result = runner.invoke(app, ["synth", "instructions", str(path), *teacher, *judged, "--json"])
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    assert summary["pairs_synthesized"] == 2 and "disfavoured" not in summary["dropped"]
    strict = [
        "--judge",
        "sway:logprob",
        "--threshold",
        "1e9",
        "--device",
        "cpu",
        "--replace",
        "--json",
    ]
    result = runner.invoke(app, ["synth", "instructions", str(path), *teacher, *strict])
    assert result.exit_code == 2, result.output
    assert json.loads(result.stdout)["dropped"]["disfavoured"] == 2
