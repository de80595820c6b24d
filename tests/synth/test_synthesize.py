"""The use case with an in-process teacher: questions per section, answers, filters, staging."""

from __future__ import annotations

import dlmlang
from dlmlang import SectionKind
from tests.synth.conftest import DOCUMENT
from tests.synth.teacher import ScriptedTeacher
from trainer.generation.generate import Sampling
from trainer.synthesis.document import SynthesisRequest, synthesize_with


def test_pairs_are_kept_when_new_and_supported_and_staged_marked() -> None:
    document = dlmlang.parse(DOCUMENT)
    teacher = ScriptedTeacher()
    events: list[tuple[str, str, int, int]] = []
    request = SynthesisRequest(document, per_section=2, sampling=Sampling(temperature=0))
    result = synthesize_with(teacher, request, lambda e, s, d, t, m: events.append((e, s, d, t)))
    questions = [p.question for p in result.pairs]
    # "When does the Tern leave Gullmouth pier?" duplicates the document's question; the
    # colour answer ("purple over the volcano") is not in the prose.
    assert questions == ["How much is a ticket on the Tern?", "Who keeps Black Rock Light?"]
    assert result.filtered.counts() == {"duplicate": 1, "unsupported": 1}
    assert (result.sections_seen, result.candidates, result.unparsed) == (2, 4, 0)
    assert result.pairs[0].answer == "A ticket costs four pounds, sold on board."
    prose = [s for s in document.sections if s.kind is SectionKind.PROSE and not s.is_blank]
    assert [p.source_section_id for p in result.pairs] == [s.section_id for s in prose]
    section = dlmlang.parse_section_text(result.pairs[1].section_text)
    assert section is not None and section.synth is not None
    assert section.synth.synth_teacher == "api:scripted"
    assert section.synth.synth_strategy == "extraction"
    assert events[0][:2] == ("start", "synthesize") and events[-1] == ("done", "synthesize", 2, 2)
    assert len(teacher.chats) == 2 + 4  # one listing per section, one answer per question


def test_known_questions_and_one_section_only() -> None:
    document = dlmlang.parse(DOCUMENT)
    prose = [s for s in document.sections if s.kind is SectionKind.PROSE and not s.is_blank]
    request = SynthesisRequest(
        document,
        sections=(prose[1].section_id,),
        per_section=2,
        known_questions=("Who keeps the Black Rock Light?",),
        min_support=0.0,
    )
    result = synthesize_with(ScriptedTeacher(), request)
    assert [p.question for p in result.pairs] == ["What colour does the light flash?"]
    assert result.sections_seen == 1
