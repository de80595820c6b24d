"""Synthesizing a document: the use case behind `dlm synth instructions` (the CLI adds
the store lock, progress output, staging and writing); tests call it too.

For each chosen prose section the teacher lists questions the section answers, then
answers each from the section alone; the filters drop duplicates and unsupported
answers; what is left becomes staged pairs (marked instruction sections).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from dlmlang import Document, SectionKind
from trainer.generation.generate import Sampling
from trainer.rewards.base import BaseRM
from trainer.rewards.settings import JudgeSettings
from trainer.runtime.devices import Placement
from trainer.store import Store
from trainer.synthesis.filters import (
    DEFAULT_DUPLICATE_F1,
    DEFAULT_MIN_SUPPORT,
    Candidate,
    Filtered,
    filter_candidates,
)
from trainer.synthesis.judged import judge_filter
from trainer.synthesis.parse import clean_answer, parse_questions
from trainer.synthesis.plan import StagedSynth, prose_sections, stage_pair
from trainer.synthesis.prompts import STRATEGY, answer_messages, question_messages
from trainer.synthesis.teachers import ModelTeacher, Teacher, TeacherSpec, load_teacher

Progress = Callable[[str, str, int, int, str], None]
"""(event, stage, done, total, message), as mining reports it."""


@dataclass(frozen=True, slots=True)
class SynthesisRequest:
    """What to synthesize from, and how: sections, pairs per section, sampling, filters."""

    document: Document
    sections: tuple[str, ...] = ()
    """Prose section ids; empty: every prose section with words in it."""
    per_section: int = 3
    sampling: Sampling = field(default_factory=lambda: Sampling(max_new_tokens=128, temperature=0))
    min_support: float = DEFAULT_MIN_SUPPORT
    duplicate_f1: float = DEFAULT_DUPLICATE_F1
    known_questions: tuple[str, ...] = ()
    """Questions staged already (those in the document are added to them)."""
    judge: JudgeSettings | None = None
    """Also keep only answers this judge prefers to "I don't know." (None: no judge)."""
    judge_threshold: float | None = None
    """The margin the judge must give (None: the judge's default)."""


@dataclass(frozen=True, slots=True)
class SynthesisResult:
    """What a run wrote and kept: the staged pairs and the filters' verdicts."""

    teacher: str
    pairs: list[StagedSynth]
    filtered: Filtered
    sections_seen: int
    candidates: int
    unparsed: int
    """Questions the teacher listed that got no usable answer, and sections with none."""
    seconds: float


@dataclass(frozen=True, slots=True)
class DocumentSynthesis:
    """Where the teacher runs: the document's base model and adapter, and the device."""

    request: SynthesisRequest
    teacher: TeacherSpec
    base_model_dir: Path | None
    """The document's base model (the `self` teacher's, and a sway judge's; else None)."""
    placement: Placement | None
    """Where a model teacher runs (None for an `api:` teacher)."""
    home: Path


def _no_progress(event: str, stage: str, done: int, total: int, message: str) -> None:
    """Progress nobody asked for."""


def synthesize_with(
    teacher: Teacher,
    request: SynthesisRequest,
    progress: Progress = _no_progress,
    judge: BaseRM | None = None,
) -> SynthesisResult:
    """Ask `teacher` for pairs from each chosen prose section, filter them (with `judge`
    too, if given), stage the rest."""
    started = time.monotonic()
    document = request.document
    sources = prose_sections(document, request.sections)
    asked = [
        pair.question
        for section in document.sections
        if section.kind is SectionKind.INSTRUCTION
        for pair in section.pairs
    ]
    asked += request.known_questions
    candidates: list[Candidate] = []
    unparsed = 0
    progress("start", "synthesize", 0, len(sources), f"{teacher.name} on {len(sources)} section(s)")
    for index, source in enumerate(sources):
        sampling = replace(request.sampling, seed=request.sampling.seed + index)
        listing = teacher.reply(question_messages(source.content, request.per_section), sampling)
        questions = parse_questions(listing, request.per_section)
        if not questions:
            unparsed += 1
        for question in questions:
            reply = teacher.reply(answer_messages(source.content, question), sampling)
            answer = clean_answer(reply)
            if answer is None:
                unparsed += 1
                continue
            candidates.append(Candidate(question, answer, source.section_id))
        progress("progress", "synthesize", index + 1, len(sources), "")
    progress("done", "synthesize", len(sources), len(sources), "")
    prose_of = {s.section_id: s.content for s in sources}
    filtered = filter_candidates(
        candidates,
        prose_of,
        asked,
        min_support=request.min_support,
        duplicate_f1=request.duplicate_f1,
    )
    if judge is not None:
        total = len(filtered.kept)
        progress("start", "judge", 0, total, f"{judge.name} on {total} pair(s)")
        frontmatter = document.frontmatter
        filtered = judge_filter(
            judge,
            filtered,
            system_prompt=frontmatter.system_prompt if frontmatter is not None else None,
            threshold=request.judge_threshold,
        )
        progress("done", "judge", total, total, "")
    by_id = {s.section_id: s for s in sources}
    synth_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    pairs = [
        stage_pair(
            kept.candidate.question,
            kept.candidate.answer,
            source=by_id[kept.candidate.source_section_id],
            teacher=teacher.name,
            strategy=STRATEGY,
            synth_at=synth_at,
            support=round(kept.support, 4),
        )
        for kept in filtered.kept
    ]
    return SynthesisResult(
        teacher=teacher.name,
        pairs=_distinct(pairs),
        filtered=filtered,
        sections_seen=len(sources),
        candidates=len(candidates),
        unparsed=unparsed,
        seconds=time.monotonic() - started,
    )


def synthesize_document(
    synthesis: DocumentSynthesis, store: Store, progress: Progress = _no_progress
) -> SynthesisResult:
    """Load the teacher (`self`: the current adapter, or the base model before any
    training), synthesize, and release it."""
    prose_sections(synthesis.request.document, synthesis.request.sections)  # before loading
    version = store.current_version()
    adapter = store.version_path(version) if version is not None else None
    described = synthesis.teacher.name
    if synthesis.teacher.kind == "self":
        described = f"self (adapter {version})" if version else "self (the base model)"
    progress("start", "load", 0, 1, f"loading teacher {described}")
    teacher = load_teacher(
        synthesis.teacher,
        base_model_dir=synthesis.base_model_dir,
        adapter_dir=adapter,
        placement=synthesis.placement,
        home=synthesis.home,
    )
    judge = None
    try:
        if synthesis.request.judge is not None:
            judge = _load_judge(synthesis, synthesis.request.judge, teacher, adapter, store)
        progress("done", "load", 1, 1, "")
        return synthesize_with(teacher, synthesis.request, progress, judge)
    finally:
        teacher.close()
        if judge is not None:
            judge.close()


def _load_judge(
    synthesis: DocumentSynthesis,
    settings: JudgeSettings,
    teacher: Teacher,
    adapter: Path | None,
    store: Store,
) -> BaseRM:
    """The judge, loaded; a sway judge scores with the document's adapter (the `self`
    teacher's model when that is the teacher)."""
    from trainer.rewards.settings import load_judge

    model = tokenizer = None
    if settings.needs_sampling_model:
        if isinstance(teacher, ModelTeacher) and synthesis.teacher.kind == "self":
            model, tokenizer = teacher.model, teacher.tokenizer
        else:
            from trainer.generation.generate import load_for_generation

            assert synthesis.base_model_dir is not None and synthesis.placement is not None
            model, tokenizer = load_for_generation(
                synthesis.base_model_dir, adapter, synthesis.placement
            )
    frontmatter = synthesis.request.document.frontmatter
    return load_judge(
        settings,
        model=model,
        tokenizer=tokenizer,
        system_prompt=frontmatter.system_prompt if frontmatter is not None else None,
        store_root=store.root,
    )


def _distinct(pairs: Sequence[StagedSynth]) -> list[StagedSynth]:
    """Pairs with distinct section ids (the same question and answer twice is one)."""
    seen: set[str] = set()
    out = []
    for pair in pairs:
        if pair.section_id not in seen:
            seen.add(pair.section_id)
            out.append(pair)
    return out
