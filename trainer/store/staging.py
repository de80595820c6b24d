"""A staged plan: sections waiting to be written into a document, kept as JSON in the store.

Mining's plan (trainer/mining/plan.py) and synthesis's (trainer/synthesis/plan.py) are
both one. Each staged item carries the exact text of the section `apply` inserts and the
id that section reads back with; "staged" means in the plan and not in the document (by
id), so an editor undo of an apply stages the items again (docs/self-improving-loop.md,
"4. Apply"; docs/synth.md).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

import dlmlang
from dlmlang import Document, Section
from dlmlang.edits import TextEdit, insert_after
from trainer.store.atomic import write_atomically

PLAN_SCHEMA_VERSION = 1


class Staged(Protocol):
    """What every staged item has: the section's id and its exact text."""

    @property
    def section_id(self) -> str:
        """The id the section reads back with."""
        ...

    @property
    def section_text(self) -> str:
        """The section exactly as `apply` inserts it."""
        ...


T = TypeVar("T", bound=Staged)


@dataclass(frozen=True)  # not slots: a generic alias sets `__orig_class__` on instances
class StagedPlan(Generic[T]):
    """The staged items of one document."""

    document_sha256: str
    pairs: tuple[T, ...] = ()
    schema_version: int = PLAN_SCHEMA_VERSION


@dataclass(frozen=True, slots=True)
class PlanKind(Generic[T]):
    """Which plan: how its items are built, its error, and the words its messages use."""

    item: Callable[..., T]
    """Builds an item from its JSON fields."""
    error: Callable[[str], Exception]
    name: str
    """E.g. "mining plan"."""
    discard: str
    """The command that deletes the plan, e.g. "dlm preference discard"."""
    again: str
    """What to do to stage again, e.g. "mine again"."""


def load_staged(path: Path, kind: PlanKind[T]) -> StagedPlan[T] | None:
    """The plan at `path`, None when there is none; `kind.error` when it is unreadable."""
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        pairs = tuple(kind.item(**pair) for pair in raw["pairs"])
        return StagedPlan(raw["document_sha256"], pairs, raw["schema_version"])
    except (ValueError, KeyError, TypeError) as error:
        raise kind.error(
            f"{path} is not a readable {kind.name} ({error}); delete it (`{kind.discard}`) "
            f"and {kind.again}."
        ) from None


def save_staged(path: Path, plan: StagedPlan[Any]) -> None:
    """Write the plan atomically and durably (strict JSON: scores are finite)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "schema_version": plan.schema_version,
        "document_sha256": plan.document_sha256,
        "pairs": [asdict(pair) for pair in plan.pairs],
    }
    text = json.dumps(payload, indent=2, allow_nan=False) + "\n"
    write_atomically(path, text.encode("utf-8"))


def merge_staged(
    plan: StagedPlan[T] | None, new: Sequence[T], document_sha256: str
) -> StagedPlan[T]:
    """`new` added to `plan`, dropping items whose section id is already staged."""
    staged = list(plan.pairs) if plan else []
    known = {pair.section_id for pair in staged}
    staged.extend(pair for pair in new if pair.section_id not in known)
    return StagedPlan(document_sha256, tuple(staged))


def not_in_document(plan: StagedPlan[T] | None, document: Document) -> list[T]:
    """Items of the plan whose section is not in the document."""
    present = {section.section_id for section in document.sections}
    return [pair for pair in (plan.pairs if plan else ()) if pair.section_id not in present]


def insertion_edits(
    document: Document, by_anchor: dict[int, list[T]], at_end: Sequence[T], kind: PlanKind[T]
) -> tuple[list[TextEdit], list[T]]:
    """Edits inserting each group after the section at its index (and `at_end` at the
    end of the document), and the items inserted in that order."""
    edits: list[TextEdit] = []
    inserted: list[T] = []
    for anchor, items in sorted(by_anchor.items()):
        edits.append(insert_after(document, document.sections[anchor], _sections(items, kind)))
        inserted.extend(items)
    if at_end:
        edits.append(insert_after(document, None, _sections(at_end, kind)))
        inserted.extend(at_end)
    return edits, inserted


def _sections(items: Sequence[T], kind: PlanKind[T]) -> list[Section]:
    sections = []
    for item in items:
        section = dlmlang.parse_section_text(item.section_text)
        if section is None:
            first_line = item.section_text.splitlines()[0] if item.section_text else ""
            raise kind.error(
                f"A staged section of the {kind.name} ({first_line!r}, id {item.section_id}) "
                f"does not parse; {kind.again}."
            )
        sections.append(section)
    return sections
