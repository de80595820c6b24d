"""The canonical layout: idempotent, bodies and section ids untouched, errors left alone."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

import dlmlang
from dlmlang.formatting import format_edits, format_text

from .strategies import document_text

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = sorted(
    [*ROOT.glob("examples/*.dlm"), *(ROOT / "tests" / "fixtures").rglob("*.dlm")],
    key=str,
)
SETTINGS = settings(
    max_examples=int(os.environ.get("DLM_HYPOTHESIS_EXAMPLES", "300")) // 3,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
MARKER = (
    '<!-- dlm-auto-mined:  judge_name="sway"\tjudge_score_chosen="0.82" '
    'judge_score_rejected="0.31" mined_at="2026-04-23T18:42:11Z" mined_run_id="7"   -->  '
)
MESSY = (
    "---\n"
    "dlm_id: 01JQ7Z0000000000000000000A   \n"
    "base_model: smollm2-135m\t\n"
    "---\n"
    "::instruction::\n"
    "### Q   \n"
    "Where?  \n"
    "\n"
    "\n"
    "### A\n"
    "Here.\t\n"
    "::preference#tone::\n"
    f"{MARKER}\n"
    "### Prompt\n"
    "p\n"
    "### Chosen\n"
    "c\n"
    "### Rejected\n"
    "r  "
)


def _reading(text: str) -> tuple[object, ...]:
    document = dlmlang.parse(text)
    sections = document.content_sections()
    return (document.frontmatter, sections, [s.section_id for s in sections])


def _read(path: Path) -> str:
    return path.read_bytes().decode("utf-8", errors="replace")


@pytest.mark.parametrize("path", DOCUMENTS, ids=lambda p: p.name)
def test_fixture_documents_keep_their_reading_and_reformat_to_themselves(path: Path) -> None:
    text = _read(path)
    formatted = format_text(text)
    if not dlmlang.parse(text).ok:
        assert formatted is None
        return
    assert formatted is not None
    assert _reading(formatted) == _reading(text)
    assert format_text(formatted) == formatted
    assert format_edits(formatted) == []


def test_messy_document_gets_its_layout_and_nothing_else() -> None:
    formatted = format_text(MESSY)
    assert formatted is not None
    lines = formatted.split("\n")
    # The frontmatter loses its trailing blanks; one layout line before the first fence.
    assert lines[1:6] == [
        "dlm_id: 01JQ7Z0000000000000000000A",
        "base_model: smollm2-135m",
        "---",
        "",
        "::instruction::",
    ]
    # Bodies are content: headers, text and blank lines stay exactly as written.
    assert "### Q   \nWhere?  \n\n\n### A\nHere.\t\n::preference#tone::\n" in formatted
    assert (
        '<!-- dlm-auto-mined: judge_name="sway" judge_score_chosen="0.82" '
        'judge_score_rejected="0.31" mined_at="2026-04-23T18:42:11Z" mined_run_id="7" -->\n'
    ) in formatted
    assert formatted.endswith("### Rejected\nr  \n")
    assert _reading(formatted) == _reading(MESSY)
    assert format_text(formatted) == formatted


def test_a_broken_frontmatter_opener_is_not_repaired() -> None:
    # `---  ` is not a frontmatter opener: that document has errors and stays as it is.
    assert format_text("---  \ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: m\n---\n") is None


def test_blank_lead_goes_and_one_layout_line_stays() -> None:
    head = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: m\n---\n"
    section = "::prose::\nText.\n"
    assert format_text(head + "\n  \n\t\n\n" + section) == head + "\n" + section
    assert format_text(head + section) == head + "\n" + section
    assert format_text(head + "\n\n\n") == head
    # Whitespace before text is the lead's own content.
    assert format_text(head + "\n  \nLead.\n") == head + "\n  \nLead.\n"
    assert format_text(head + "Lead.\n") == head + "\nLead.\n"


def test_line_endings_and_bom_are_kept() -> None:
    text = "\ufeff" + MESSY.replace("\n", "\r\n")
    formatted = format_text(text)
    assert formatted is not None
    assert formatted.startswith("\ufeff---\r\ndlm_id: 01JQ7Z0000000000000000000A\r\n")
    assert "\n" not in formatted.replace("\r\n", "")
    assert formatted.endswith("r  \r\n")
    assert _reading(formatted) == _reading(text)


def test_block_scalar_trailing_spaces_are_kept() -> None:
    text = (
        "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: m  \n"
        "system_prompt: |\n  Keep these   \n  two lines\n---\n\n::prose::\nText.\n"
    )
    formatted = format_text(text)
    assert formatted is not None
    assert "Keep these   \n" in formatted
    assert _reading(formatted) == _reading(text)


def test_document_with_errors_is_left_alone() -> None:
    head = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: m\n---\n"
    text = head + "::instruction::\n### Q\nx\n"
    assert format_text(text) is None
    assert format_edits(text) is None


@SETTINGS
@given(document_text())
def test_formatting_never_changes_what_a_document_says(text: str) -> None:
    formatted = format_text(text)
    if formatted is None:
        assert not dlmlang.parse(text).ok
        return
    assert _reading(formatted) == _reading(text)
    assert format_text(formatted) == formatted
