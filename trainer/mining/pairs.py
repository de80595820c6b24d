"""From judged candidates to preference pairs (docs/judges.md, thresholds and pairing)."""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from trainer.rewards.base import RewardDetails

DIFFERENT_ENOUGH = 0.95
"""A rejected answer must be at most this similar to the chosen one (character ratio)."""


class SkipReason(StrEnum):
    """Why a prompt gave no pair."""

    INSUFFICIENT_VARIETY = "insufficient_variety"
    BELOW_THRESHOLD = "below_threshold"
    ALREADY_PRESENT = "already_present"
    MALFORMED = "malformed"


@dataclass(frozen=True, slots=True)
class MinedPair:
    """A chosen and a rejected answer to one prompt, with their scores."""

    prompt: str
    chosen: str
    rejected: str
    score_chosen: float
    score_rejected: float
    chosen_reasoning: str | None = None
    rejected_reasoning: str | None = None

    @property
    def margin(self) -> float:
        """Chosen minus rejected score."""
        return self.score_chosen - self.score_rejected


@dataclass(frozen=True, slots=True)
class PairingResult:
    """Pairs kept, prompts skipped by reason, and the margins of those below threshold."""

    pairs: list[MinedPair]
    skipped: Counter[str] = field(default_factory=Counter)
    margins_below: list[float] = field(default_factory=list)


def pair_prompt(
    prompt: str, candidates: Sequence[str], judgements: Sequence[RewardDetails]
) -> MinedPair | None:
    """The best candidate against the worst one different enough from it, if any."""
    if len(candidates) < 2:
        return None
    ranked = sorted(range(len(candidates)), key=lambda i: judgements[i].score, reverse=True)
    best = ranked[0]
    for worst in reversed(ranked[1:]):
        if _similarity(candidates[best], candidates[worst]) <= DIFFERENT_ENOUGH:
            return MinedPair(
                prompt,
                candidates[best],
                candidates[worst],
                judgements[best].score,
                judgements[worst].score,
                judgements[best].reasoning,
                judgements[worst].reasoning,
            )
    return None


def select_pairs(
    judged: Mapping[str, tuple[Sequence[str], Sequence[RewardDetails]]],
    *,
    threshold: float,
    max_pairs: int | None,
) -> PairingResult:
    """Pairs with margin >= threshold, the `max_pairs` largest margins across all prompts."""
    result = PairingResult(pairs=[])
    for prompt, (candidates, judgements) in judged.items():
        pair = pair_prompt(prompt, candidates, judgements)
        if pair is None:
            result.skipped[SkipReason.INSUFFICIENT_VARIETY] += 1
        elif pair.margin < threshold:
            result.skipped[SkipReason.BELOW_THRESHOLD] += 1
            result.margins_below.append(pair.margin)
        else:
            result.pairs.append(pair)
    result.pairs.sort(key=lambda p: p.margin, reverse=True)
    if max_pairs is not None:
        del result.pairs[max_pairs:]
    return result


def _similarity(left: str, right: str) -> float:
    return difflib.SequenceMatcher(None, left, right, autojunk=False).ratio()
