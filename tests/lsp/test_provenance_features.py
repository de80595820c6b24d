"""Hover and outline on the synthesis and harvest markers and on probe questions."""

from __future__ import annotations

from dlmlang import Position
from lsp.features.hover import hover_text
from lsp.features.outline import document_symbols
from lsp.state import OpenDocument

SYNTH = (
    '<!-- dlm-auto-synth: synth_teacher="self" synth_strategy="extraction" '
    'synth_at="2026-04-23T18:42:11Z" source_section_id="0123456789abcdef" -->'
)
HARVEST = '<!-- dlm-auto-harvest: source="run_12_sway" -->'
TEXT = (
    "---\ndlm_id: 01HZ4X7TGZM3J1A2B3C4D5E6F7\nbase_model: smollm2-135m\n---\n"
    f"::instruction::\n{HARVEST}\n{SYNTH}\n### Q !probe\nHow long is the Rhine?\n"
    "### A\nAbout 1,230 km.\n"
)


def _hover(line: int) -> str | None:
    found = hover_text(OpenDocument(TEXT, 1).snapshot(), Position(line, 3))
    return None if found is None else found[0]


def test_hover_says_what_each_marker_says() -> None:
    harvest = _hover(5)
    assert harvest is not None and harvest.startswith("**Harvested** from `run_12_sway`")
    synth = _hover(6)
    assert synth is not None
    assert synth.startswith("**Synthesized** by teacher `self` (strategy `extraction`)")
    assert "section `0123456789abcdef`" in synth


def test_hover_on_a_probe_question_names_its_pair() -> None:
    question = _hover(7)
    assert question is not None and question.startswith("question/answer pair 1 of 1")


def test_outline_marks_a_synthesized_section_and_its_probe() -> None:
    *_, section = document_symbols(OpenDocument(TEXT, 1).snapshot())  # after the frontmatter
    assert section.detail is not None
    assert section.detail.endswith("(synthesized) (harvested)")
    assert section.children is not None
    assert [child.detail for child in section.children] == ["Q !probe"]


def test_hover_on_a_held_out_question_says_so() -> None:
    from dlmlang import parse
    from dlmlang.heldout import heldout_pairs

    questions = [f"Question {i}?" for i in range(12)]
    body = "".join(f"::instruction::\n### Q\n{q}\n### A\nAnswer.\n" for q in questions)
    text = (
        "---\ndlm_id: 01HZ4X7TGZM3J1A2B3C4D5E6F7\nbase_model: m\ntraining:\n  heldout: 0.5\n"
        f"---\n{body}"
    )
    held = {h.pair.question for h in heldout_pairs(parse(text))}
    assert 0 < len(held) < len(questions)
    lines = text.splitlines()
    snapshot = OpenDocument(text, 1).snapshot()
    for number, line in enumerate(lines):
        if line != "### Q":
            continue
        found = hover_text(snapshot, Position(number, 2))
        assert found is not None
        assert ("**held out**" in found[0]) == (lines[number + 1] in held)
