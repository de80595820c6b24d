"""What is at a position and what may come next: the language's answers for editors."""

from __future__ import annotations

import dlmlang
from dlmlang import Position
from dlmlang.context import (
    ATTRIBUTE_EXAMPLES,
    KeyContext,
    LineStartContext,
    MarkerContext,
    ValueContext,
    context_at,
    key_path_at,
    spec_at,
)
from dlmlang.marker import ATTRIBUTES, MARKER_PREFIX

LINES = [
    "---",
    "dlm_id: 01JQ7Z0000000000000000000A",
    "base_model: smollm2-135m",
    "training:",
    "  lora_r: 8",
    "  preference:",
    "    method: ",  # 6: the cursor after "method: "
    "  ",  # 7: a key of `training` goes here
    "---",
    "",
    "::instruction::",
    "### Q",
    "When?",
    "### A",
    "At 7:40.",
    "",
    "```",
    "### Q",
    "```",
    "",  # 19: the next header, the one inside the code block not counted
    "::preference::",
    '<!-- dlm-auto-mined: judge_name="sway" ',  # 21
    "",
]
TEXT = "\n".join(LINES)


def at(line: int, character: int | None = None) -> object:
    document = dlmlang.parse(TEXT)
    column = len(LINES[line]) if character is None else character
    return context_at(document, LINES, Position(line, column))


def test_a_value_is_completed_against_its_key_path() -> None:
    context = at(6)
    assert isinstance(context, ValueContext) and context.name == "method"
    assert context.spec.choices == ("dpo", "orpo")


def test_a_key_is_one_of_its_mappings_keys_not_yet_written() -> None:
    context = at(7)
    assert isinstance(context, KeyContext)
    assert context.parent is spec_at(("training",))
    assert {"lora_r", "preference"} <= context.present
    assert key_path_at(LINES, 6, 4) == ("training", "preference")


def test_a_section_expects_its_next_header_and_code_blocks_do_not_count() -> None:
    context = at(19)
    assert isinstance(context, LineStartContext) and context.fences
    assert context.header == "### Q" and context.kind is dlmlang.SectionKind.INSTRUCTION


def test_a_marker_offers_the_attributes_not_yet_written() -> None:
    context = at(21)
    assert isinstance(context, MarkerContext)
    assert context.remaining == ATTRIBUTES[1:]


def test_every_attribute_example_makes_a_valid_marker() -> None:
    assert set(ATTRIBUTE_EXAMPLES) == set(ATTRIBUTES)
    marker = " ".join(f"{name}={ATTRIBUTE_EXAMPLES[name]}" for name in ATTRIBUTES)
    text = (
        "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n::preference::\n"
        f"{MARKER_PREFIX} {marker} -->\n### Prompt\nP\n### Chosen\nC\n### Rejected\nR\n"
    )
    document = dlmlang.parse(text)
    assert document.ok, document.diagnostics
    assert document.sections[0].auto_mined
