"""The documentation agrees with the code: every diagnostic code and frontmatter key is listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dlmlang
from dlmlang.schema import FRONTMATTER, KeySpec

DOCS = Path(__file__).resolve().parent.parent / "docs"
DIAGNOSTICS = DOCS / "diagnostics.md"
FORMAT = DOCS / "format.md"
_ROW = re.compile(r"^\|\s*`?(DLM\d{3})`?\s*\|\s*([a-z]+)\s*\|(.*)\|\s*$")
_CODE = re.compile(r"\bDLM\d{3}\b")


def _table_rows() -> list[tuple[str, str, list[str]]]:
    """(code, severity, remaining cells) of every row of the table in diagnostics.md."""
    rows = []
    for line in DIAGNOSTICS.read_text("utf-8").splitlines():
        match = _ROW.match(line)
        if match:
            cells = [cell.strip() for cell in match.group(3).split(" | ")]
            rows.append((match.group(1), match.group(2), cells))
    return rows


def _key_paths(spec: KeySpec, prefix: str = "") -> list[str]:
    """Dotted paths of every key under `spec` ("training.preference.method", ...)."""
    paths = []
    for child in spec.children:
        path = f"{prefix}{child.name}"
        paths.append(path)
        paths.extend(_key_paths(child, f"{path}."))
    return paths


def test_diagnostics_table_lists_exactly_the_codes_of_the_rules() -> None:
    codes = [code for code, _, _ in _table_rows()]
    assert len(codes) == len(set(codes)), "a code is listed twice"
    assert set(codes) == set(dlmlang.RULES)


def test_diagnostics_table_is_in_code_order() -> None:
    codes = [code for code, _, _ in _table_rows()]
    assert codes == sorted(codes)


@pytest.mark.parametrize(
    ("code", "severity", "cells"), [pytest.param(*row, id=row[0]) for row in _table_rows()]
)
def test_diagnostics_row_has_the_rules_severity_and_text(
    code: str, severity: str, cells: list[str]
) -> None:
    assert severity == dlmlang.RULES[code].severity.value
    trigger, fix = cells
    assert len(trigger) > 20 and len(fix) > 10


def test_docs_mention_only_existing_codes() -> None:
    for page in (DIAGNOSTICS, FORMAT):
        mentioned = set(_CODE.findall(page.read_text("utf-8")))
        assert mentioned <= set(dlmlang.RULES), page.name


def test_format_reference_links_to_the_diagnostics_table() -> None:
    assert "](diagnostics.md)" in FORMAT.read_text("utf-8")


@pytest.mark.parametrize("path", _key_paths(FRONTMATTER))
def test_format_reference_documents_every_frontmatter_key(path: str) -> None:
    assert f"| `{path}` |" in FORMAT.read_text("utf-8")
