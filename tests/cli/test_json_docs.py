"""docs/json.md and the real JSON outputs have the same shape and schema version."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from dlm.cli import app

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "json.md").read_text(encoding="utf-8")


def _documented(command: str) -> Any:
    section = DOC.split(f"## `{command}`", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block is not None, f"docs/json.md has no example for {command}"
    return json.loads(block.group(1))


def _shape(value: Any) -> Any:
    """Keys and value types, lists reduced to their first element."""
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return "null-or-string" if value is None or isinstance(value, str) else type(value).__name__


def test_check_json_matches_the_documented_example() -> None:
    example = ROOT / "tests" / "fixtures" / "diagnostics" / "DLM042_question_without_answer.dlm"
    result = CliRunner().invoke(app, ["check", "--json", str(example)])
    actual = json.loads(result.output)
    documented = _documented("dlm check --json")
    assert actual["schema_version"] == documented["schema_version"]
    assert _shape(actual) == _shape(documented)


def test_every_field_in_the_table_is_in_the_example() -> None:
    documented = json.dumps(_documented("dlm check --json"))
    fields = re.findall(r"^\| `files\[\]\.(\w+)", DOC, re.MULTILINE)
    assert fields
    assert all(f'"{field}"' in documented for field in fields)


def conforms(actual: Any, documented: Any) -> bool:
    """`actual` has the documented shape: the same keys at every level and the same value
    types, where `null` fits a field the example fills and `[]` on either side fits any list."""
    if actual is None:
        return True
    if isinstance(documented, dict):
        return (
            isinstance(actual, dict)
            and actual.keys() == documented.keys()
            and all(conforms(actual[key], documented[key]) for key in actual)
        )
    if isinstance(documented, list):
        if not isinstance(actual, list):
            return False
        return not documented or all(conforms(item, documented[0]) for item in actual)
    return _shape(actual) == _shape(documented)


def test_doctor_json_matches_the_documented_example(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["doctor", "--json"], env={"DLM_HOME": str(tmp_path)})
    actual = json.loads(result.stdout)
    documented = _documented("dlm doctor --json")
    assert actual["schema_version"] == documented["schema_version"]
    assert conforms(actual, documented)


def test_doctor_table_names_every_top_level_field() -> None:
    section = DOC.split("## `dlm doctor --json`", 1)[1]
    for field in _documented("dlm doctor --json"):
        assert field == "schema_version" or f"`{field}`" in section, field
