"""The staged synthesis plan: staged pairs are marked instruction sections inserted after
their prose source, and apply then revert restores the bytes, on arbitrary documents."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlmlang
from dlmlang import SectionKind
from dlmlang.edits import apply_edits
from dlmlang.serialize import instruction_section, render_section
from tests.dlmlang.strategies import body_text, field_text, newline
from trainer.errors import SynthesisError
from trainer.synthesis.plan import (
    SectionChoiceError,
    StagedSynth,
    SynthPlan,
    apply_plan,
    load_plan,
    merge,
    plan_path,
    prose_sections,
    revert_edits,
    save_plan,
    stage_pair,
    staged_pairs,
)

HEAD = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n"
WHEN = "2026-04-23T18:42:11Z"
TEXT = (
    HEAD
    + "The Tern leaves Gullmouth at 7:40.\n\n"
    + "::instruction::\n### Q\nWhen?\n### A\nAt 7:40.\n\n"
    + "::prose#tone::\nMorwenna keeps the light.\n"
)


def _doc(text: str) -> dlmlang.Document:
    return dlmlang.parse(text)


def _prose(document: dlmlang.Document) -> list[dlmlang.Section]:
    return [s for s in document.sections if s.kind is SectionKind.PROSE and not s.is_blank]


def _stage(question: str, answer: str, source: dlmlang.Section) -> StagedSynth:
    return stage_pair(
        question,
        answer,
        source=source,
        teacher="api:x",
        strategy="extraction",
        synth_at=WHEN,
        support=1.0,
    )


def test_apply_inserts_marked_sections_after_the_source_routed_like_it(tmp_path: Path) -> None:
    document = _doc(TEXT)
    first, second = _prose(document)
    pairs = [
        _stage("Who keeps it?", "Morwenna.", second),
        _stage("When does it leave?", "### A\n::instruction::", first),
        _stage("Where from?", "Gullmouth.", first),
    ]
    plan = merge(None, pairs, "sha")
    edited = apply_edits(TEXT, apply_plan(document, plan).edits)
    assert edited == (
        HEAD
        + "The Tern leaves Gullmouth at 7:40.\n\n"
        + "::instruction::\n"
        + '<!-- dlm-auto-synth: synth_teacher="api:x" synth_strategy="extraction" '
        + f'synth_at="{WHEN}" source_section_id="{first.section_id}" -->\n'
        + "### Q\nWhen does it leave?\n### A\n\\### A\n\\::instruction::\n\n"
        + "::instruction::\n"
        + '<!-- dlm-auto-synth: synth_teacher="api:x" synth_strategy="extraction" '
        + f'synth_at="{WHEN}" source_section_id="{first.section_id}" -->\n'
        + "### Q\nWhere from?\n### A\nGullmouth.\n\n"
        + "::instruction::\n### Q\nWhen?\n### A\nAt 7:40.\n\n"
        + "::prose#tone::\nMorwenna keeps the light.\n"
        + "::instruction#tone::\n"
        + '<!-- dlm-auto-synth: synth_teacher="api:x" synth_strategy="extraction" '
        + f'synth_at="{WHEN}" source_section_id="{second.section_id}" -->\n'
        + "### Q\nWho keeps it?\n### A\nMorwenna.\n\n"
    )
    after = _doc(edited)
    assert after.ok, after.diagnostics
    assert [s.section_id for s in _prose(after)] == [first.section_id, second.section_id]
    assert staged_pairs(plan, after) == []
    assert apply_plan(after, plan).edits == []  # everything present: nothing to do
    # A second apply of pairs staged later goes after the synthesized sections there.
    later = merge(plan, [_stage("Is it daily?", "Every morning at 7:40.", first)], "sha")
    again = apply_edits(edited, apply_plan(after, later).edits)
    synth_ids = [s.section_id for s in _doc(again).sections if s.synth is not None]
    assert synth_ids[:3] == [p.section_id for p in (pairs[1], pairs[2], later.pairs[-1])]
    # Revert: all of them, or those of one source, or one section.
    _, removed = revert_edits(_doc(again), [second.section_id])
    assert [s.section_id for s in removed] == [pairs[0].section_id]
    everything, removed = revert_edits(_doc(again))
    assert len(removed) == 4 and apply_edits(again, everything) == TEXT
    save_plan(plan_path(tmp_path), later)
    assert load_plan(plan_path(tmp_path)) == later
    assert load_plan(tmp_path / "nothing.json") is None


def test_a_source_that_changed_refuses_unless_forced() -> None:
    document = _doc(TEXT)
    plan = merge(None, [_stage("Who?", "Morwenna keeps it.", _prose(document)[1])], "sha")
    text = TEXT.replace("Morwenna keeps", "Morwenna Teague keeps")
    with pytest.raises(SynthesisError, match="no longer in the document"):
        apply_plan(_doc(text), plan)
    forced = apply_edits(text, apply_plan(_doc(text), plan, force=True).edits)
    assert _doc(forced).ok and forced.startswith(text)


def test_section_choice_is_prose_only() -> None:
    document = _doc(TEXT)
    instruction = next(s for s in document.sections if s.kind is SectionKind.INSTRUCTION)
    assert prose_sections(document) == _prose(document)
    with pytest.raises(SectionChoiceError, match="only the instruction section"):
        prose_sections(document, [instruction.section_id])
    with pytest.raises(SectionChoiceError, match="no section"):
        prose_sections(document, ["0123456789abcdef"])


def test_an_unreadable_plan_says_what_to_do(tmp_path: Path) -> None:
    path = plan_path(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json", encoding="utf-8")
    with pytest.raises(SynthesisError, match="dlm synth discard"):
        load_plan(path)
    assert SynthPlan("sha").pairs == ()


@st.composite
def document_with_prose(draw: st.DrawFn) -> str:
    parts = []
    if draw(st.booleans()):
        parts.append(draw(st.sampled_from(["Leading prose.\n", "Two\nlines\n\n"])))
    for _ in range(draw(st.integers(1, 4))):
        if draw(st.booleans()):
            question, answer = draw(field_text), draw(field_text)
            parts.append(render_section(instruction_section([dlmlang.QAPair(question, answer)])))
        else:
            parts.append("::prose::\n" + draw(body_text(max_lines=3)) + "\nWords here.\n")
    eol = draw(newline)
    text = (HEAD + "".join(parts)).replace("\n", eol)
    return text if draw(st.booleans()) else text.rstrip("\r\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document_with_prose(),
    st.lists(st.tuples(field_text, field_text), min_size=1, max_size=4),
    st.data(),
)
def test_apply_then_revert_restores_the_bytes(
    text: str, pairs: list[tuple[str, str]], data: st.DataObject
) -> None:
    document = _doc(text)
    sources = _prose(document)
    if not sources or not document.ok:
        return
    staged = [_stage(q, a, data.draw(st.sampled_from(sources))) for q, a in pairs]
    plan = merge(None, staged, "sha")
    existing = {s.section_id for s in document.sections}
    if existing & {p.section_id for p in plan.pairs}:
        return
    edited = apply_edits(text, apply_plan(document, plan).edits)
    after = _doc(edited)
    assert after.ok, after.diagnostics
    assert sum(1 for s in after.sections if s.synth is not None) == len(plan.pairs)
    assert [s.section_id for s in _prose(after)] == [s.section_id for s in sources]
    edits, _ = revert_edits(after)
    assert apply_edits(edited, edits) == text
