"""Quick fixes of the marker diagnostics that have one obvious fix: applying the fix
leaves a valid marker."""

from __future__ import annotations

import pytest

import dlmlang
from dlmlang.positions import line_starts, offset_at

GOOD = {
    "judge_name": "sway",
    "judge_score_chosen": "0.82",
    "judge_score_rejected": "0.31",
    "mined_at": "2026-04-23T18:42:11Z",
    "mined_run_id": "7",
}


def document(**changed: str) -> str:
    attributes = {**GOOD, **changed}
    marker = " ".join(f'{name}="{value}"' for name, value in attributes.items())
    return (
        "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n::preference::\n"
        f"<!-- dlm-auto-mined: {marker} -->\n### Prompt\nP\n### Chosen\nC\n### Rejected\nR\n"
    )


def fixed(text: str, code: str) -> str:
    """The text with the one fix of its `code` diagnostic applied."""
    (found,) = [d for d in dlmlang.parse(text).diagnostics if d.code == code]
    (fix,) = found.fixes
    starts = line_starts(text)
    start, end = offset_at(starts, fix.range.start), offset_at(starts, fix.range.end)
    return text[:start] + fix.new_text + text[end:]


@pytest.mark.parametrize(
    ("code", "text", "expected"),
    [
        ("DLM062", document().replace("judge_name=", "judge_nme="), 'judge_name="sway"'),
        ("DLM064", document(judge_score_chosen="0,82"), 'judge_score_chosen="0.82"'),
        ("DLM064", document(judge_score_rejected=" 0.31 "), 'judge_score_rejected="0.31"'),
        ("DLM065", document(mined_at="2026-04-23"), 'mined_at="2026-04-23T00:00:00Z"'),
        ("DLM065", document(mined_at="2026-04-23 18:42:11"), 'mined_at="2026-04-23T18:42:11Z"'),
        ("DLM066", document(mined_run_id="#7"), 'mined_run_id="7"'),
        ("DLM066", document(mined_run_id="7.0"), 'mined_run_id="7"'),
    ],
)
def test_the_fix_makes_the_marker_valid(code: str, text: str, expected: str) -> None:
    repaired = fixed(text, code)
    assert expected in repaired
    document_after = dlmlang.parse(repaired)
    assert document_after.ok, document_after.diagnostics
    assert document_after.sections[0].auto_mined


@pytest.mark.parametrize(
    ("code", "text"),
    [
        ("DLM064", document(judge_score_chosen="nan")),
        ("DLM065", document(mined_at="yesterday")),
        ("DLM066", document(mined_run_id="0")),
        ("DLM062", document().replace("judge_name=", "colour=")),
    ],
)
def test_no_fix_is_offered_where_none_is_obvious(code: str, text: str) -> None:
    (found,) = [d for d in dlmlang.parse(text).diagnostics if d.code == code]
    assert found.fixes == ()
