"""The staged mining plan, `preference/pending.json`, and what applies it.

The user's view is docs/self-improving-loop.md, "4. Apply".

A staged pair is the exact section text that `apply` inserts, with the id the
section will read back with, the instruction section its prompt came from, and
the judge's scores and reasoning. "Staged" means in the plan and not in the
document (by id), so an editor undo of an apply makes pairs staged again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import dlmlang
from dlmlang import Document, Marker, PreferenceTriple, Section, SectionKind
from dlmlang.edits import TextEdit, remove_sections
from dlmlang.serialize import preference_section, render_section
from trainer.errors import TrainerError
from trainer.store.staging import (
    PlanKind,
    StagedPlan,
    insertion_edits,
    load_staged,
    merge_staged,
    not_in_document,
    save_staged,
)


@dataclass(frozen=True, slots=True)
class StagedPair:
    """One mined pair waiting to be written into the document."""

    section_id: str
    section_text: str
    source_section_id: str
    prompt: str
    chosen: str
    rejected: str
    score_chosen: float
    score_rejected: float
    judge: str
    run_id: int
    mined_at: str
    reasoning_chosen: str | None = None
    reasoning_rejected: str | None = None
    threshold: float | None = None
    """The smallest margin the mining run kept (None in plans staged before it was recorded)."""

    @property
    def margin(self) -> float:
        """Chosen minus rejected score."""
        return self.score_chosen - self.score_rejected


Plan = StagedPlan[StagedPair]
"""The staged pairs of one document."""
MINING_PLAN = PlanKind(
    StagedPair, TrainerError, "mining plan", "dlm preference discard", "mine again"
)


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What `apply` would do: the edits, and which pairs were inserted or skipped."""

    edits: list[TextEdit]
    inserted: list[StagedPair] = field(default_factory=list)
    already_present: list[StagedPair] = field(default_factory=list)
    appended_without_source: list[StagedPair] = field(default_factory=list)


def load_plan(path: Path) -> Plan | None:
    """The plan at `path`, None when there is none."""
    return load_staged(path, MINING_PLAN)


def save_plan(path: Path, plan: Plan) -> None:
    """Write the plan atomically and durably (strict JSON: scores are finite)."""
    save_staged(path, plan)


def merge(plan: Plan | None, new: Sequence[StagedPair], document_sha256: str) -> Plan:
    """`new` added to `plan`, dropping pairs whose section id is already staged."""
    return merge_staged(plan, new, document_sha256)


def staged_pairs(plan: Plan | None, document: Document) -> list[StagedPair]:
    """Pairs of the plan not present in the document."""
    return not_in_document(plan, document)


def apply_plan(document: Document, plan: Plan, *, force: bool = False) -> ApplyResult:
    """Edits inserting every staged pair after its source section (after earlier mined
    sections for it); pairs already present are skipped. A pair whose source is gone
    stops everything, unless `force`, which appends it at the end."""
    present = {section.section_id for section in document.sections}
    result = ApplyResult(edits=[])
    by_anchor: dict[int, list[StagedPair]] = {}
    at_end: list[StagedPair] = []
    for pair in plan.pairs:
        if pair.section_id in present:
            result.already_present.append(pair)
            continue
        anchor = _anchor(document, pair)
        if anchor is None:
            if not force:
                raise TrainerError(
                    f"The instruction section that the pair for {pair.prompt!r} was mined from "
                    "is no longer in the document (nor any asking that question), so there is "
                    "no place to put it. Run with "
                    "--force to append such pairs at the end, or discard the plan."
                )
            result.appended_without_source.append(pair)
            at_end.append(pair)
        else:
            by_anchor.setdefault(anchor, []).append(pair)
    edits, inserted = insertion_edits(document, by_anchor, at_end, MINING_PLAN)
    result.edits.extend(edits)
    result.inserted.extend(inserted)
    return result


def revert_edits(
    document: Document, *, run_id: int | None = None, section_ids: Iterable[str] = ()
) -> tuple[list[TextEdit], list[Section]]:
    """Edits removing auto-mined sections: all, or those of one run, or the given ids."""
    wanted = set(section_ids)
    chosen = [
        section
        for section in document.sections
        if section.marker is not None
        and (run_id is None or section.marker.mined_run_id == run_id)
        and (not wanted or section.section_id in wanted)
    ]
    return remove_sections(document, [s.section_id for s in chosen]), chosen


def _anchor(document: Document, pair: StagedPair) -> int | None:
    """Index after which to insert: the source, or the mined sections right after it.

    The source is found by id; when its text changed (an answer edited, or a blank line
    added after it, which is part of its content), by the question the pair was mined for.
    """
    sections = document.sections
    instructions = [i for i, s in enumerate(sections) if s.kind is SectionKind.INSTRUCTION]
    found = next(
        (i for i in instructions if sections[i].section_id == pair.source_section_id), None
    )
    if found is None:
        asks = (
            i for i in instructions if any(q.question == pair.prompt for q in sections[i].pairs)
        )
        found = next(asks, None)
    if found is None:
        return None
    while found + 1 < len(sections) and sections[found + 1].auto_mined:
        found += 1
    return found


def stage_pair(
    pair_prompt: str,
    chosen: str,
    rejected: str,
    *,
    score_chosen: float,
    score_rejected: float,
    source_section_id: str,
    judge: str,
    run_id: int,
    mined_at: datetime,
    reasoning: tuple[str | None, str | None] = (None, None),
    threshold: float | None = None,
) -> StagedPair:
    """A staged pair whose text is the escaped, marked section `apply` will insert."""
    marker = Marker(judge, score_chosen, score_rejected, mined_at, run_id)
    section = preference_section([PreferenceTriple(pair_prompt, chosen, rejected)], marker=marker)
    text = render_section(section)
    read_back = dlmlang.parse_section_text(text)
    assert read_back is not None and read_back == section
    return StagedPair(
        section_id=read_back.section_id,
        section_text=text,
        source_section_id=source_section_id,
        prompt=pair_prompt,
        chosen=chosen,
        rejected=rejected,
        score_chosen=score_chosen,
        score_rejected=score_rejected,
        judge=judge,
        run_id=run_id,
        mined_at=marker.mined_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        reasoning_chosen=reasoning[0],
        reasoning_rejected=reasoning[1],
        threshold=threshold,
    )
