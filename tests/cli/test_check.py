"""`dlm check`: text and JSON output, exit codes, unreadable paths."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from dlm.cli import app

runner = CliRunner()
FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"
VALID = FIXTURES / "valid"
HEAD = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: smollm2-135m\n---\n"


def _write(tmp_path: Path, name: str, text: str, newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


def test_valid_file_exits_zero_with_a_summary(tmp_path: Path) -> None:
    path = _write(tmp_path, "ok.dlm", HEAD + "\n::instruction::\n### Q\nWhy?\n### A\nBecause.\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0
    assert result.output == "1 file checked: no problems.\n"


def test_error_is_printed_like_a_compiler_with_a_caret(tmp_path: Path) -> None:
    path = _write(tmp_path, "bad.dlm", HEAD + "::instruction::\n### Q\nWhy?\n")
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0].startswith(f"{path}:6:1: error DLM042 `### Q` without a `### A`")
    assert lines[1] == "    6 | ### Q"
    assert lines[2] == "        ^~~~~"
    assert lines[-1] == "1 file checked: 1 error(s), 0 warning(s)."


def test_warnings_alone_do_not_fail(tmp_path: Path) -> None:
    path = _write(tmp_path, "warn.dlm", HEAD + '::image path="a.png"::\n')
    result = runner.invoke(app, ["check", str(path)])
    assert result.exit_code == 0
    assert "warning DLM032" in result.output


def test_crlf_file_reports_the_same_positions(tmp_path: Path) -> None:
    text = HEAD + "::instruction::\n### Q\nWhy?\n"
    lf = runner.invoke(app, ["check", "--json", str(_write(tmp_path, "a.dlm", text))])
    crlf = runner.invoke(app, ["check", "--json", str(_write(tmp_path, "b.dlm", text, "\r\n"))])
    first, second = json.loads(lf.output)["files"][0], json.loads(crlf.output)["files"][0]
    assert first["diagnostics"] == second["diagnostics"]
    assert first["sections"] == second["sections"]


def test_json_shape(tmp_path: Path) -> None:
    path = _write(tmp_path, "x.dlm", HEAD + "prose\n::instruction#tone::\n### Q\nWhy?\n")
    result = runner.invoke(app, ["check", "--json", str(path)])
    assert result.exit_code == 1
    payload = json.loads(result.output)
    assert payload["schema_version"] == 1
    (entry,) = payload["files"]
    assert entry["path"] == str(path)
    assert entry["ok"] is False
    assert entry["diagnostics"] == [
        {
            "code": "DLM042",
            "severity": "error",
            "message": entry["diagnostics"][0]["message"],
            "range": {"start": {"line": 6, "character": 0}, "end": {"line": 6, "character": 5}},
        }
    ]
    assert [(s["type"], s["adapter"], s["auto_mined"]) for s in entry["sections"]] == [
        ("prose", None, False),
        ("instruction", "tone", False),
    ]
    assert entry["sections"][1]["range"] == {
        "start": {"line": 5, "character": 0},
        "end": {"line": 8, "character": 0},
    }
    assert all(len(s["section_id"]) == 16 for s in entry["sections"])


def test_missing_file_is_a_failure_with_a_message(tmp_path: Path) -> None:
    missing = tmp_path / "nope.dlm"
    result = runner.invoke(app, ["check", str(missing)])
    assert result.exit_code == 1
    assert f"{missing}: no such file. Create one with `dlm init {missing}`." in result.output
    result = runner.invoke(app, ["check", "--json", str(missing)])
    entry = json.loads(result.output)["files"][0]
    assert entry["ok"] is False and entry["diagnostics"][0]["code"] == "IO"


def test_directory_is_not_a_document(tmp_path: Path) -> None:
    result = runner.invoke(app, ["check", str(tmp_path)])
    assert result.exit_code == 1
    assert "is a directory" in result.output


def test_several_files_one_failing(tmp_path: Path) -> None:
    good = _write(tmp_path, "good.dlm", HEAD + "text\n")
    bad = _write(tmp_path, "bad.dlm", "no frontmatter\n")
    result = runner.invoke(app, ["check", "--json", str(good), str(bad)])
    assert result.exit_code == 1
    assert [f["ok"] for f in json.loads(result.output)["files"]] == [True, False]


def test_unknown_option_is_a_usage_error() -> None:
    result = runner.invoke(app, ["check", "--bogus", "x.dlm"])
    assert result.exit_code == 2


def test_bundled_example_is_valid() -> None:
    example = Path(__file__).resolve().parents[2] / "examples" / "notes.dlm"
    result = runner.invoke(app, ["check", str(example)])
    assert result.exit_code == 0, result.output
