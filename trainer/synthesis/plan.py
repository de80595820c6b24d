"""The staged synthesis plan, `synth/pending.json` in the store, and what applies it.

A staged pair is the exact text of the marked `::instruction::` section that `apply`
inserts, with the id that section reads back with and the id of the prose section it
was drawn from. "Staged" means in the plan and not in the document (by id), as for
mined pairs (trainer/mining/plan.py), so an editor undo of an apply stages them again.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import dlmlang
from dlmlang import Document, QAPair, Section, SectionKind, SynthMarker
from dlmlang.edits import TextEdit, insert_after, remove_sections
from dlmlang.errors import UsageError
from dlmlang.serialize import instruction_section, render_section
from trainer.errors import SynthesisError
from trainer.store.atomic import write_atomically

PLAN_SCHEMA_VERSION = 1


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


@dataclass(frozen=True, slots=True)
class SynthPlan:
    """The staged synthesized pairs of one document."""

    document_sha256: str
    pairs: tuple[StagedSynth, ...] = ()
    schema_version: int = PLAN_SCHEMA_VERSION


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
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        pairs = tuple(StagedSynth(**pair) for pair in raw["pairs"])
        return SynthPlan(raw["document_sha256"], pairs, raw["schema_version"])
    except (ValueError, KeyError, TypeError) as error:
        raise SynthesisError(
            f"{path} is not a readable synthesis plan ({error}); delete it (`dlm synth "
            "discard`) and synthesize again."
        ) from None


def save_plan(path: Path, plan: SynthPlan) -> None:
    """Write the plan atomically (strict JSON)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "schema_version": plan.schema_version,
        "document_sha256": plan.document_sha256,
        "pairs": [asdict(pair) for pair in plan.pairs],
    }
    write_atomically(path, (json.dumps(payload, indent=2, allow_nan=False) + "\n").encode())


def merge(plan: SynthPlan | None, new: Sequence[StagedSynth], document_sha256: str) -> SynthPlan:
    """`new` added to `plan`, dropping pairs whose section id is already staged."""
    staged = list(plan.pairs) if plan else []
    known = {pair.section_id for pair in staged}
    staged.extend(pair for pair in new if pair.section_id not in known)
    return SynthPlan(document_sha256, tuple(staged))


def staged_pairs(plan: SynthPlan | None, document: Document) -> list[StagedSynth]:
    """Pairs of the plan not present in the document."""
    present = {section.section_id for section in document.sections}
    return [pair for pair in (plan.pairs if plan else ()) if pair.section_id not in present]


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
    for anchor, pairs in sorted(by_anchor.items()):
        result.edits.append(insert_after(document, document.sections[anchor], _sections(pairs)))
        result.inserted.extend(pairs)
    if at_end:
        result.edits.append(insert_after(document, None, _sections(at_end)))
        result.inserted.extend(at_end)
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


def _sections(pairs: Sequence[StagedSynth]) -> list[Section]:
    sections = []
    for pair in pairs:
        section = dlmlang.parse_section_text(pair.section_text)
        if section is None:
            raise SynthesisError(
                f"The staged section for {pair.question!r} does not parse; synthesize again."
            )
        sections.append(section)
    return sections
