"""The loop's edits in a real VS Code: "Apply Staged Pairs" and "Revert Mined Sections" edit
the open document, and one undo restores it. The staged pair comes from a tiny model
trained here and a `cli:` judge, as in tests/lsp/test_actions.py."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dlm.cli import app
from tests.cli.test_train_cli import write_document
from tests.editor.workbench import Workbench

pytestmark = pytest.mark.editor
JUDGE = Path(__file__).resolve().parents[1] / "trainer" / "scripts" / "judge.py"


def train_document(folder: Path, model: Path) -> Path:
    """`trained.dlm` in `folder`, on the tiny model, trained for 2 steps."""
    path = write_document(folder, model, max_steps=2).rename(folder / "trained.dlm")
    trained = CliRunner().invoke(app, ["train", str(path)])
    assert trained.exit_code == 0, trained.output
    return path


def stage_a_pair(folder: Path, model: Path) -> Path:
    """`trained.dlm` in `folder`: trained, with one mined pair staged."""
    path = train_document(folder, model)
    runner = CliRunner()
    judge = f"cli:{shlex.quote(sys.executable)} {shlex.quote(str(JUDGE))} ok"
    arguments = ["--judge", judge, "--samples", "4", "--threshold", "0.05", "--seed", "0"]
    mined = runner.invoke(app, ["preference", "mine", str(path), *arguments])
    assert mined.exit_code == 0, mined.output
    return path


def test_apply_staged_pairs_edits_the_document_and_one_undo_restores_it(
    workbench: Workbench, tiny_model_dir: Path, dlm_home: Path
) -> None:
    stage_a_pair(workbench.folder, tiny_model_dir)
    workbench.open_file("trained.dlm")
    before = workbench.editor_text()
    workbench.run_command("dlm: Apply Staged Pairs")
    workbench.wait_for(lambda: "::preference::" in workbench.editor_text(), "the applied pair")
    assert "dlm-auto-mined" in workbench.editor_text()
    workbench.page.keyboard.press("Control+z")
    workbench.wait_for(lambda: workbench.editor_text() == before, "one undo to restore it")


def test_revert_mined_sections_edits_the_document_and_one_undo_restores_it(
    workbench: Workbench, dlm_home: Path
) -> None:
    workbench.open_file("notes.dlm")
    before = workbench.editor_text()
    assert "dlm-auto-mined" in before
    workbench.run_command("dlm: Revert Mined Sections")
    workbench.wait_for(lambda: "dlm-auto-mined" not in workbench.editor_text(), "the revert")
    assert "::preference::" not in workbench.editor_text()
    workbench.page.keyboard.press("Control+z")
    workbench.wait_for(lambda: workbench.editor_text() == before, "one undo to restore it")
