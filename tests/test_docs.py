"""The documentation agrees with the code: every diagnostic code and frontmatter key is listed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import dlmlang
from dlmlang.schema import FRONTMATTER, KeySpec
from lsp.features.diagnostics import DOCS_URL, code_link

DOCS = Path(__file__).resolve().parent.parent / "docs"
DIAGNOSTICS = DOCS / "diagnostics.md"
FORMAT = DOCS / "format.md"
_HEADING = re.compile(r"^## (DLM\d{3})$")
_SEVERITY = re.compile(r"^\*\*([a-z]+)\*\*: ")
_CODE = re.compile(r"\bDLM\d{3}\b")


def _table_rows() -> list[tuple[str, str, list[str]]]:
    """(code, severity, [when, fix]) of every code's entry (`## DLM041`) in diagnostics.md."""
    rows: list[tuple[str, str, list[str]]] = []
    for line in DIAGNOSTICS.read_text("utf-8").splitlines():
        heading = _HEADING.match(line)
        if heading:
            rows.append((heading.group(1), "", []))
        elif rows and (severity := _SEVERITY.match(line)) and not rows[-1][1]:
            rows[-1] = (rows[-1][0], severity.group(1), rows[-1][2])
        elif rows and line.startswith(("**Reported when:** ", "**How to fix it:** ")):
            rows[-1][2].append(line.split(":** ", 1)[1].strip())
    return rows


def github_anchor(heading: str) -> str:
    """The fragment GitHub gives a heading: lower case, punctuation dropped, spaces to `-`."""
    kept = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return kept.replace(" ", "-")


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


@pytest.mark.parametrize("code", sorted(dlmlang.RULES))
def test_every_code_has_the_heading_its_diagnostic_links_to(code: str) -> None:
    headings = [
        line[3:] for line in DIAGNOSTICS.read_text("utf-8").splitlines() if line.startswith("## ")
    ]
    anchors = {github_anchor(heading) for heading in headings}
    link = code_link(code)
    assert link.startswith(DOCS_URL + "#")
    assert link.split("#", 1)[1] in anchors
    assert f"| [{code}](#{github_anchor(code)}) |" in DIAGNOSTICS.read_text("utf-8")


def test_docs_mention_only_existing_codes() -> None:
    for page in (DIAGNOSTICS, FORMAT):
        mentioned = set(_CODE.findall(page.read_text("utf-8")))
        assert mentioned <= set(dlmlang.RULES), page.name


def test_format_reference_links_to_the_diagnostics_table() -> None:
    assert "](diagnostics.md)" in FORMAT.read_text("utf-8")


@pytest.mark.parametrize("path", _key_paths(FRONTMATTER))
def test_format_reference_documents_every_frontmatter_key(path: str) -> None:
    assert f"| `{path}` |" in FORMAT.read_text("utf-8")
