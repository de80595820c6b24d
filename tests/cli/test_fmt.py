"""`dlm fmt`: the canonical layout written atomically, `--check`, `--json`, errors refused."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

import dlmlang
from dlm.cli import app
from dlmlang.formatting import format_text
from tests.cli.test_json_docs import _documented, conforms

runner = CliRunner()
MESSY = (
    "---\n"
    "dlm_id: 01JQ7Z0000000000000000000A  \n"
    "base_model: smollm2-135m\n"
    "---\n"
    "::instruction::\n"
    "### Q  \n"
    "Where?\n"
    "### A\n"
    "Here.  "
)


def _write(tmp_path: Path, text: str, name: str = "notes.dlm") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8"))
    return path


def test_fmt_writes_the_canonical_text_and_keeps_the_ids(tmp_path: Path) -> None:
    path = _write(tmp_path, MESSY)
    path.chmod(0o640)
    result = runner.invoke(app, ["fmt", str(path)])
    assert result.exit_code == 0, result.output
    assert "formatted (3 change(s))" in result.output
    written = path.read_bytes().decode("utf-8")
    assert written == format_text(MESSY)
    assert "### Q  \nWhere?\n### A\nHere.  \n" in written
    ids = [s.section_id for s in dlmlang.parse(MESSY).content_sections()]
    assert [s.section_id for s in dlmlang.parse(written).content_sections()] == ids
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left
    again = runner.invoke(app, ["fmt", str(path)])
    assert again.exit_code == 0 and "already formatted" in again.output
    assert path.read_bytes().decode("utf-8") == written


def test_fmt_check_reports_where_and_writes_nothing(tmp_path: Path) -> None:
    path = _write(tmp_path, MESSY)
    result = runner.invoke(app, ["fmt", "--check", str(path)])
    assert result.exit_code == 1
    assert result.output.strip().splitlines() == [
        f"{path}:2:35: not formatted (3 change(s)); run `dlm fmt {path}`"
    ]
    assert path.read_bytes().decode("utf-8") == MESSY
    formatted = _write(tmp_path, format_text(MESSY) or "", "done.dlm")
    clean = runner.invoke(app, ["fmt", "--check", str(formatted)])
    assert clean.exit_code == 0 and clean.output == ""


def test_fmt_json_matches_docs(tmp_path: Path) -> None:
    path = _write(tmp_path, MESSY)
    checked = runner.invoke(app, ["fmt", "--check", "--json", str(path)])
    assert checked.exit_code == 1
    payload = json.loads(checked.output)
    assert payload["changed"] is True and payload["written"] is False
    assert conforms(payload, _documented("dlm fmt --json"))
    written = runner.invoke(app, ["fmt", "--json", str(path)])
    assert written.exit_code == 0
    payload = json.loads(written.output)
    assert payload["written"] is True and payload["changes"] == 3
    assert conforms(payload, _documented("dlm fmt --json"))


def test_fmt_refuses_a_document_with_errors(tmp_path: Path) -> None:
    text = MESSY.replace("### A\nHere.  ", "")
    path = _write(tmp_path, text)
    for arguments in (["fmt", str(path)], ["fmt", "--check", str(path)]):
        result = runner.invoke(app, arguments)
        assert result.exit_code == 1
        assert "DLM042" in result.output
    assert path.read_bytes().decode("utf-8") == text
