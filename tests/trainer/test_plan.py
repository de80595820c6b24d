"""The staged plan: apply inserts after the source, skips present pairs, and apply then
revert restores the bytes, on arbitrary documents and plans."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dlmlang
from dlmlang.edits import apply_edits
from dlmlang.serialize import instruction_section, render_section
from tests.dlmlang.strategies import body_text, field_text, newline
from trainer.errors import TrainerError
from trainer.mining.plan import (
    Plan,
    StagedPair,
    apply_plan,
    load_plan,
    merge,
    revert_edits,
    save_plan,
    stage_pair,
    staged_pairs,
)

HEAD = "---\ndlm_id: 01JQ7Z0000000000000000000A\nbase_model: x\n---\n\n"
WHEN = datetime(2026, 4, 23, 18, 42, 11, tzinfo=UTC)


def _doc(text: str) -> dlmlang.Document:
    return dlmlang.parse(text)


def _stage(prompt: str, chosen: str, rejected: str, source: str, run_id: int = 1) -> StagedPair:
    return stage_pair(
        prompt,
        chosen,
        rejected,
        score_chosen=0.8,
        score_rejected=0.1,
        source_section_id=source,
        judge="sway",
        run_id=run_id,
        mined_at=WHEN,
    )


TEXT = (
    HEAD
    + "::instruction::\n### Q\nWhen?\n### A\nAt 7:40.\n\n"
    + "::instruction::\n### Q\nWho?\n### A\nMorwenna.\n\n"
    + "::prose::\nClosing prose.\n"
)


def test_apply_inserts_after_the_source_and_escapes_generated_text() -> None:
    document = _doc(TEXT)
    when, who = (s.section_id for s in document.sections if s.kind.value == "instruction")
    pair = _stage("When?", "At 7:40.\n::instruction::\n```", "### Chosen\nNo idea.", when)
    plan = merge(None, [pair], "sha")
    result = apply_plan(document, plan)
    edited = apply_edits(TEXT, result.edits)
    after = _doc(edited)
    assert after.ok, after.diagnostics
    kinds = [s.kind.value for s in after.sections]
    assert kinds == ["instruction", "preference", "instruction", "prose"]
    mined = after.sections[1]
    assert mined.auto_mined and mined.section_id == pair.section_id
    assert mined.triples[0].chosen == "At 7:40.\n::instruction::\n```"
    assert staged_pairs(plan, after) == []
    assert apply_plan(after, plan).edits == [] and apply_plan(after, plan).already_present == [pair]
    second = _stage("When?", "Seven forty.", "Noon.", when)
    again = _doc(apply_edits(edited, apply_plan(after, merge(plan, [second], "sha")).edits))
    assert [s.section_id for s in again.sections[1:3]] == [pair.section_id, second.section_id]
    del who


def test_missing_source_refuses_unless_forced() -> None:
    document = _doc(TEXT)
    plan = merge(None, [_stage("Gone?", "a", "b", "0" * 16)], "sha")
    with pytest.raises(TrainerError, match="no longer in the document"):
        apply_plan(document, plan)
    forced = apply_plan(document, plan, force=True)
    assert len(forced.appended_without_source) == 1
    assert _doc(apply_edits(TEXT, forced.edits)).sections[-1].auto_mined


def test_revert_by_run_and_all(tmp_path: Path) -> None:
    document = _doc(TEXT)
    when = next(s.section_id for s in document.sections if s.kind.value == "instruction")
    plan = merge(
        None, [_stage("When?", "a", "b", when, 1), _stage("When?", "c", "d", when, 2)], "x"
    )
    edited = apply_edits(TEXT, apply_plan(document, plan).edits)
    _, removed = revert_edits(_doc(edited), run_id=2)
    assert [s.marker.mined_run_id for s in removed if s.marker] == [2]
    all_edits, _ = revert_edits(_doc(edited))
    assert apply_edits(edited, all_edits) == TEXT
    save_plan(tmp_path / "pending.json", plan)
    assert load_plan(tmp_path / "pending.json") == plan


@st.composite
def document_with_sources(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        question, answer = draw(field_text), draw(field_text)
        block = render_section(instruction_section([dlmlang.QAPair(question, answer)]))
        parts.append(block)
        if draw(st.booleans()):
            parts.append(draw(body_text(max_lines=3)) + "\n")
    eol = draw(newline)
    text = (HEAD + "".join(parts)).replace("\n", eol)
    return text if draw(st.booleans()) else text.rstrip("\r\n")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    document_with_sources(),
    st.lists(st.tuples(field_text, field_text, field_text), min_size=1, max_size=4),
    st.data(),
)
def test_apply_then_revert_restores_the_bytes(
    text: str, triples: list[tuple[str, str, str]], data: st.DataObject
) -> None:
    document = _doc(text)
    sources = [s.section_id for s in document.sections if s.kind.value == "instruction" and s.pairs]
    if not sources or not document.ok:
        return
    pairs = [_stage(p, c, r, data.draw(st.sampled_from(sources)), run_id=7) for p, c, r in triples]
    plan = merge(None, pairs, "sha")
    existing = {s.section_id for s in document.sections}
    if existing & {p.section_id for p in plan.pairs}:
        return
    edited = apply_edits(text, apply_plan(document, plan).edits)
    after = _doc(edited)
    assert after.ok, after.diagnostics
    assert sum(1 for s in after.sections if s.auto_mined) == len(plan.pairs)
    edits, _ = revert_edits(after, run_id=7)
    assert apply_edits(edited, edits) == text


def test_plan_type() -> None:
    assert Plan("sha").pairs == ()
