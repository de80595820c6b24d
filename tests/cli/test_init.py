"""`dlm init`: a fresh ULID, never overwriting, and a result that passes `dlm check`."""

from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

import dlmlang
from dlm.cli import app

runner = CliRunner()


def test_init_writes_a_valid_document_with_a_fresh_id(tmp_path: Path) -> None:
    first, second = tmp_path / "a.dlm", tmp_path / "b.dlm"
    assert runner.invoke(app, ["init", str(first)]).exit_code == 0
    assert runner.invoke(app, ["init", str(second), "--base", "hf:org/model"]).exit_code == 0
    a = dlmlang.parse(first.read_text(encoding="utf-8"))
    b = dlmlang.parse(second.read_text(encoding="utf-8"))
    assert a.ok and b.ok
    assert a.frontmatter is not None and b.frontmatter is not None
    assert re.fullmatch(r"[0-7][0-9A-HJKMNP-TV-Z]{25}", a.frontmatter.dlm_id)
    assert a.frontmatter.dlm_id != b.frontmatter.dlm_id
    assert a.frontmatter.dlm_version == 15
    assert b.frontmatter.base_model == "hf:org/model"
    assert [s.kind.value for s in a.sections] == ["instruction"]
    assert runner.invoke(app, ["check", str(first)]).exit_code == 0


def test_init_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "notes.dlm"
    path.write_text("mine\n", encoding="utf-8")
    result = runner.invoke(app, ["init", str(path)])
    assert result.exit_code == 1
    assert path.read_text(encoding="utf-8") == "mine\n"
    assert list(tmp_path.iterdir()) == [path]
