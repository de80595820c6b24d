"""The staged synthesis plan, `synth/pending.json` in the store, and what applies it.

A staged pair is the exact text of the marked `::instruction::` section that `apply`
inserts, with the id that section reads back with and the id of the prose section it
was drawn from. "Staged" means in the plan and not in the document (by id), as for
mined pairs (trainer/mining/plan.py), so an editor undo of an apply stages them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import dlmlang
from dlmlang import Document, QAPair, Section, SectionKind, SynthMarker
from dlmlang.edits import TextEdit, remove_sections
from dlmlang.errors import UsageError
from dlmlang.serialize import instruction_section, render_section
from trainer.errors import SynthesisError
from trainer.store.staging import (
    PlanKind,
    StagedPlan,
    insertion_edits,
    load_staged,
    merge_staged,
    not_in_document,
    save_staged,
)


class SectionChoiceError(SynthesisError, UsageError):
    """A --section id that is not a prose section of the document."""


@dataclass(frozen=True, slots=True)
class StagedSynth:
    """One synthesized pair waiting to be written into the document."""

    section_id: str
    section_text: str
    source_section_id: str
    question: str
    answer: str
    teacher: str
    strategy: str
    synth_at: str
    support: float
    """The filter's support score (docs/synth.md)."""


SynthPlan = StagedPlan[StagedSynth]
"""The staged synthesized pairs of one document."""
SYNTH_PLAN = PlanKind(
    StagedSynth, SynthesisError, "synthesis plan", "dlm synth discard", "synthesize again"
)


@dataclass(frozen=True, slots=True)
class SynthApply:
    """What `apply` would do: the edits, and which pairs they insert."""

    edits: list[TextEdit]
    inserted: list[StagedSynth] = field(default_factory=list)
    already_present: list[StagedSynth] = field(default_factory=list)


def plan_path(store_root: Path) -> Path:
    """Where a store keeps its staged synthesis plan."""
    return store_root / "synth" / "pending.json"


def load_plan(path: Path) -> SynthPlan | None:
    """The plan at `path`, None when there is none."""
    return load_staged(path, SYNTH_PLAN)


def save_plan(path: Path, plan: SynthPlan) -> None:
    """Write the plan atomically (strict JSON)."""
    save_staged(path, plan)


def merge(plan: SynthPlan | None, new: Sequence[StagedSynth], document_sha256: str) -> SynthPlan:
    """`new` added to `plan`, dropping pairs whose section id is already staged."""
    return merge_staged(plan, new, document_sha256)


def staged_pairs(plan: SynthPlan | None, document: Document) -> list[StagedSynth]:
    """Pairs of the plan not present in the document."""
    return not_in_document(plan, document)


def stage_pair(
    question: str,
    answer: str,
    *,
    source: Section,
    teacher: str,
    strategy: str,
    synth_at: str,
    support: float,
) -> StagedSynth:
    """A staged pair whose text is the escaped, marked section `apply` will insert
    (routed to the adapter of its source section)."""
    marker = SynthMarker(teacher, strategy, synth_at, source.section_id)
    section = instruction_section([QAPair(question, answer)], adapter=source.adapter, synth=marker)
    text = render_section(section)
    read_back = dlmlang.parse_section_text(text)
    if read_back is None or read_back.synth != marker or read_back.pairs != section.pairs:
        raise SynthesisError(f"The pair for {question!r} does not read back as written.")
    return StagedSynth(
        section_id=read_back.section_id,
        section_text=text,
        source_section_id=source.section_id,
        question=read_back.pairs[0].question,
        answer=read_back.pairs[0].answer,
        teacher=teacher,
        strategy=strategy,
        synth_at=synth_at,
        support=support,
    )


def apply_plan(document: Document, plan: SynthPlan, *, force: bool = False) -> SynthApply:
    """Edits inserting every staged pair after its source prose section (after the
    synthesized sections already there); pairs already present are skipped. A pair whose
    source is gone stops everything, unless `force`, which appends it at the end."""
    present = {section.section_id for section in document.sections}
    result = SynthApply(edits=[])
    by_anchor: dict[int, list[StagedSynth]] = {}
    at_end: list[StagedSynth] = []
    for pair in plan.pairs:
        if pair.section_id in present:
            result.already_present.append(pair)
            continue
        anchor = _anchor(document, pair.source_section_id)
        if anchor is not None:
            by_anchor.setdefault(anchor, []).append(pair)
        elif force:
            at_end.append(pair)
        else:
            raise SynthesisError(
                f"The prose section that {pair.question!r} was drawn from "
                f"({pair.source_section_id}) is no longer in the document (edited or "
                "removed), so there is no place to put it. Run with --force to append such "
                "pairs at the end, or discard the plan."
            )
    edits, inserted = insertion_edits(document, by_anchor, at_end, SYNTH_PLAN)
    result.edits.extend(edits)
    result.inserted.extend(inserted)
    return result


def revert_edits(
    document: Document, section_ids: Iterable[str] = ()
) -> tuple[list[TextEdit], list[Section]]:
    """Edits removing synthesized sections: all, or those whose own id or source prose
    section id is in `section_ids`."""
    wanted = set(section_ids)
    chosen = [
        section
        for section in document.sections
        if section.synth is not None
        and (
            not wanted or section.section_id in wanted or section.synth.source_section_id in wanted
        )
    ]
    return remove_sections(document, [s.section_id for s in chosen]), chosen


def prose_sections(document: Document, section_ids: Sequence[str] = ()) -> list[Section]:
    """The prose sections with words in them, or those of `section_ids` (each must be a
    prose section of the document: SynthesisError naming the first that is not)."""
    prose = [s for s in document.sections if s.kind is SectionKind.PROSE and not s.is_blank]
    if not section_ids:
        return prose
    by_id = {s.section_id: s for s in document.sections}
    chosen = []
    for wanted in dict.fromkeys(section_ids):
        section = by_id.get(wanted)
        if section is None or section.kind is not SectionKind.PROSE:
            what = "no section" if section is None else f"only the {section.kind.value} section"
            raise SectionChoiceError(
                f"--section {wanted}: the document has {what} with that id; synthesis draws "
                "from prose sections (`dlm show --json` lists the ids)."
            )
        if not section.is_blank:
            chosen.append(section)
    return chosen


def _anchor(document: Document, source_id: str) -> int | None:
    """Index after which to insert: the source, or the synthesized sections right after it."""
    sections = document.sections
    found = next(
        (
            i
            for i, s in enumerate(sections)
            if s.kind is SectionKind.PROSE and s.section_id == source_id
        ),
        None,
    )
    if found is None:
        return None
    while found + 1 < len(sections) and sections[found + 1].synth is not None:
        found += 1
    return found
