"""Cleaning sampled candidates before judging (docs/self-improving-loop.md, "2. Mine")."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from trainer.generation.seeded_sampling import Candidate

NEAR_DUPLICATE_RATIO = 0.95


def clean_candidates(
    candidates: Sequence[Candidate], *, near_duplicate: float = NEAR_DUPLICATE_RATIO
) -> list[str]:
    """Stripped texts without empties, duplicates, near-duplicates (character similarity
    above `near_duplicate`) or truncated answers left inside an open code block."""
    kept: list[str] = []
    for candidate in candidates:
        text = candidate.text.strip()
        if not text or text in kept:
            continue
        if candidate.truncated and _open_code_block(text):
            continue
        if any(_similar(text, other) > near_duplicate for other in kept):
            continue
        kept.append(text)
    return kept


def _open_code_block(text: str) -> bool:
    toggles = sum(1 for line in text.split("\n") if line.startswith("```"))
    return toggles % 2 == 1


def _similar(left: str, right: str) -> float:
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()
