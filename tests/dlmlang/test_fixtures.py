"""Every document case under tests/fixtures parses to its expected diagnostics and sections."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import dlmlang
from tests.fixtures.regenerate import (
    BYTE_FIXTURES,
    FIXTURES,
    all_fixtures,
    expected_of,
    expected_path,
)

CASES = all_fixtures()
_CODE_IN_NAME = re.compile(r"(DLM\d{3})_")


def _case_id(fixture: Path) -> str:
    """`diagnostics/DLM042_question_without_answer` for that fixture."""
    return fixture.relative_to(FIXTURES).with_suffix("").as_posix()


def _expected(fixture: Path) -> dict[str, list[dict[str, object]]]:
    """The fixture's expected file, read."""
    data: dict[str, list[dict[str, object]]] = json.loads(expected_path(fixture).read_text("utf-8"))
    return data


def _expected_codes(fixture: Path) -> set[str]:
    """The diagnostic codes the fixture's expected file lists."""
    return {str(d["code"]) for d in _expected(fixture)["diagnostics"]}


def _in_folder(folder: str) -> list[Path]:
    """The fixtures in one subfolder of tests/fixtures."""
    return [f for f in CASES if f.parent.name == folder]


@pytest.mark.parametrize("fixture", CASES, ids=_case_id)
def test_fixture(fixture: Path) -> None:
    document = dlmlang.parse_bytes(fixture.read_bytes())
    assert expected_of(document) == _expected(fixture)


def test_fixtures_were_found() -> None:
    assert {f.parent.name for f in CASES} == {"valid", "diagnostics", "layout"}
    assert len(CASES) > 60


@pytest.mark.parametrize("fixture", CASES, ids=_case_id)
def test_every_fixture_has_an_expected_file(fixture: Path) -> None:
    assert set(_expected(fixture)) == {"diagnostics", "sections"}


@pytest.mark.parametrize("code", sorted(dlmlang.RULES))
def test_every_code_has_a_fixture_named_after_it(code: str) -> None:
    named = [f for f in _in_folder("diagnostics") if f.name.startswith(f"{code}_")]
    assert named, f"no tests/fixtures/diagnostics/{code}_*.dlm"
    assert any(code in _expected_codes(f) for f in named)


def test_every_diagnostic_fixture_is_named_after_a_code_it_expects() -> None:
    for fixture in _in_folder("diagnostics"):
        match = _CODE_IN_NAME.match(fixture.name)
        assert match is not None, fixture.name
        assert match.group(1) in dlmlang.RULES, fixture.name
        assert match.group(1) in _expected_codes(fixture), fixture.name


def test_expected_severities_match_the_rules() -> None:
    for fixture in CASES:
        for row in _expected(fixture)["diagnostics"]:
            assert row["severity"] == dlmlang.RULES[str(row["code"])].severity.value, fixture


@pytest.mark.parametrize("fixture", _in_folder("valid"), ids=_case_id)
def test_valid_fixtures_expect_no_diagnostics(fixture: Path) -> None:
    expected = _expected(fixture)
    assert expected["diagnostics"] == []
    assert expected["sections"]


def test_a_mined_section_and_its_hand_written_copy_share_an_id() -> None:
    sections = _expected(FIXTURES / "valid" / "auto_mined_marker.dlm")["sections"]
    assert [s["auto_mined"] for s in sections[:2]] == [True, False]
    assert sections[0]["section_id"] == sections[1]["section_id"]


@pytest.mark.parametrize(
    "variants",
    [
        ["crlf", "cr_only", "bom", "no_trailing_newline"],
        ["crlf_diagnostics", "cr_only_diagnostics", "bom_diagnostics"],
        ["crlf_invalid_utf8", "cr_only_invalid_utf8"],
    ],
    ids=lambda variants: variants[0],
)
def test_layout_does_not_change_what_is_read(variants: list[str]) -> None:
    paths = [FIXTURES / "layout" / f"{variant}.dlm" for variant in variants]
    results = [expected_of(dlmlang.parse_bytes(path.read_bytes())) for path in paths]
    assert all(result == results[0] for result in results)


@pytest.mark.parametrize("name", sorted(BYTE_FIXTURES))
def test_byte_fixtures_are_as_written_by_regenerate(name: str) -> None:
    assert (FIXTURES / name).read_bytes() == BYTE_FIXTURES[name]
