"""Completion logic on parsed snapshots (no client needed), plus one request over stdio."""

from __future__ import annotations

from dlmlang import Position
from lsp.features.completion import completions
from lsp.state import OpenDocument

HEAD = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: smollm2-135m\n"


def labels(text: str, line: int, character: int | None = None) -> list[str]:
    snapshot = OpenDocument(text, 1).snapshot()
    column = len(snapshot.lines[line]) if character is None else character
    return [item.label for item in completions(snapshot, Position(line, column))]


def test_top_level_keys_leave_out_the_ones_present() -> None:
    found = labels(HEAD + "sys\n---\n", 3)
    assert "system_prompt" in found and "training" in found
    assert "dlm_id" not in found and "base_model" not in found


def test_nested_keys_follow_indentation() -> None:
    text = HEAD + "training:\n  lora_r: 8\n  \n---\n"
    found = labels(text, 5)
    assert "lora_alpha" in found and "preference" in found and "lora_r" not in found
    deeper = HEAD + "training:\n  preference:\n    \n---\n"
    assert set(labels(deeper, 5)) >= {"method", "reference", "hyperparams", "loss_type"}


def test_values_come_from_the_schema() -> None:
    assert labels(HEAD + "training:\n  preference:\n    method: \n---\n", 5) == ["dpo", "orpo"]
    assert "auto" in labels(HEAD + "training:\n  precision: \n---\n", 4)
    assert labels(HEAD + "training:\n  replay: \n---\n", 4) == ["true", "false"]


def test_fences_at_the_start_of_a_body_line() -> None:
    text = HEAD + "---\n\n::\n"
    assert labels(text, 5) == ["::prose::", "::instruction::", "::preference::"]


def test_the_next_header_of_the_section() -> None:
    body = HEAD + "---\n::instruction::\n### Q\nWhen?\n#\n"
    assert labels(body, 7) == ["### A"]
    triple = HEAD + "---\n::preference::\n### Prompt\np\n### Chosen\nc\n#\n"
    assert labels(triple, 9) == ["### Rejected"]
    in_code = HEAD + "---\n::instruction::\n### Q\n```\n### A\n```\n#\n"
    assert labels(in_code, 9) == ["### A"]  # a header inside a code block does not count


def test_marker_attributes_not_yet_written() -> None:
    text = HEAD + '---\n::preference::\n<!-- dlm-auto-mined: judge_name="sway" \n'
    found = labels(text, 5)
    assert "judge_name" not in found and "mined_run_id" in found and len(found) == 4


def test_nothing_in_the_middle_of_prose() -> None:
    assert labels(HEAD + "---\nSome prose here\n", 4) == []
