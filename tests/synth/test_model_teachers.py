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
