"""Cleaning sampled candidates before judging (docs/self-improving-loop.md, "2. Mine")."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

from trainer.generation.seeded_sampling import Candidate
from trainer.mining.pairs import SkipReason

NEAR_DUPLICATE_RATIO = 0.95


@dataclass(frozen=True, slots=True)
class Cleaned:
    """The candidates worth judging, and how many were dropped as malformed."""

    kept: list[str]
    malformed: int
    """Empty answers and truncated ones left inside an open code block."""


def cleaned_candidates(
    candidates: Sequence[Candidate], *, near_duplicate: float = NEAR_DUPLICATE_RATIO
) -> Cleaned:
    """Stripped texts without empties, duplicates, near-duplicates (character similarity
    above `near_duplicate`) or truncated answers left inside an open code block; the
    empty and cut-off ones are counted as malformed."""
    kept: list[str] = []
    malformed = 0
    for candidate in candidates:
        if malformed_candidate(candidate):
            malformed += 1
            continue
        text = candidate.text.strip()
        if text in kept or any(_similar(text, other) > near_duplicate for other in kept):
            continue
        kept.append(text)
    return Cleaned(kept, malformed)


def malformed_candidate(candidate: Candidate) -> bool:
    """Empty, or cut off (max_new_tokens) inside an open code block."""
    text = candidate.text.strip()
    return not text or (candidate.truncated and _open_code_block(text))


def _open_code_block(text: str) -> bool:
    toggles = sum(1 for line in text.split("\n") if line.startswith("```"))
    return toggles % 2 == 1


def _similar(left: str, right: str) -> float:
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()


def judgeable_candidates(
    sampled: dict[str, list[Candidate]],
) -> tuple[dict[str, list[str]], Counter[str]]:
    """Each prompt's candidates worth judging; prompts left with fewer than two are
    skipped before judging: `malformed` when malformed answers (empty, or cut off inside
    a code block) were among the dropped, else `insufficient_variety`."""
    cleaned: dict[str, list[str]] = {}
    skipped: Counter[str] = Counter()
    for prompt, candidates in sampled.items():
        result = cleaned_candidates(candidates)
        reason = _skip_reason(result)
        if reason is None:
            cleaned[prompt] = result.kept
        else:
            skipped[reason] += 1
    return cleaned, skipped


def lacking_variety(sampled: dict[str, list[Candidate]]) -> list[str]:
    """The prompts `judgeable_candidates` would skip as `insufficient_variety`, in order."""
    return [
        prompt
        for prompt, candidates in sampled.items()
        if _skip_reason(cleaned_candidates(candidates)) is SkipReason.INSUFFICIENT_VARIETY
    ]


def _skip_reason(result: Cleaned) -> SkipReason | None:
    """Why a prompt with these cleaned candidates is not judged; None when it is."""
    if len(result.kept) >= 2:
        return None
    return SkipReason.MALFORMED if result.malformed else SkipReason.INSUFFICIENT_VARIETY
