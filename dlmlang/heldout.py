"""The held-out split: Q/A pairs never trained on, kept to evaluate answers (docs/format.md).

`training.heldout` is the share. A pair is in or out by a hash of the document's
`dlm_id` and its question alone, so the split is the same every run, editing or
adding other pairs never moves one in or out, and a copy of the document with its
own id (`dlm new-id`) gets its own split.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dlmlang.document import Document
from dlmlang.sections import QAPair, SectionKind

_SCALE = float(1 << 64)


def is_held_out(dlm_id: str, question: str, share: float) -> bool:
    """Whether the pair asking `question` is held out of training at `share`."""
    if share <= 0.0:
        return False
    digest = hashlib.sha256(f"{dlm_id}\0{question.strip()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / _SCALE < share


@dataclass(frozen=True, slots=True)
class HeldOutPair:
    """One held-out pair and the instruction section it is in."""

    section_id: str
    pair: QAPair


def heldout_pairs(document: Document) -> list[HeldOutPair]:
    """The document's held-out pairs in document order (none when `training.heldout` is 0)."""
    frontmatter = document.frontmatter
    if frontmatter is None or frontmatter.training.heldout <= 0.0:
        return []
    share, dlm_id = frontmatter.training.heldout, frontmatter.dlm_id
    return [
        HeldOutPair(section.section_id, pair)
        for section in document.content_sections()
        if section.kind is SectionKind.INSTRUCTION
        for pair in section.pairs
        if is_held_out(dlm_id, pair.question, share)
    ]
