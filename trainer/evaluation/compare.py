"""Two versions compared prompt by prompt: win rate with a bootstrap interval, mean delta."""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True, slots=True)
class Comparison:
    """How often the first version beat the second (ties count half), with a 95% interval."""

    prompts: int
    wins: int
    ties: int
    losses: int
    win_rate: float
    low: float
    high: float
    mean_delta: float
    """Mean of (first - second) over the prompts."""


def compare(first: Sequence[float], second: Sequence[float]) -> Comparison:
    """The paired comparison of two score lists over the same prompts, in the same order."""
    if len(first) != len(second) or not first:
        raise ValueError("compare needs two equally long, non-empty score lists")
    outcomes = [_outcome(a, b) for a, b in zip(first, second, strict=True)]
    low, high = _bootstrap_interval(outcomes)
    deltas = [a - b for a, b in zip(first, second, strict=True)]
    return Comparison(
        prompts=len(outcomes),
        wins=outcomes.count(1.0),
        ties=outcomes.count(0.5),
        losses=outcomes.count(0.0),
        win_rate=sum(outcomes) / len(outcomes),
        low=low,
        high=high,
        mean_delta=sum(deltas) / len(deltas),
    )


def _outcome(first: float, second: float, tolerance: float = 1e-9) -> float:
    if abs(first - second) <= tolerance:
        return 0.5
    return 1.0 if first > second else 0.0


def _bootstrap_interval(outcomes: list[float]) -> tuple[float, float]:
    """The 2.5th and 97.5th percentiles of the win rate over prompts resampled with
    replacement; seeded, so the same eval prints the same interval."""
    rng = random.Random(BOOTSTRAP_SEED)
    n = len(outcomes)
    rates = sorted(sum(rng.choices(outcomes, k=n)) / n for _ in range(BOOTSTRAP_RESAMPLES))
    return rates[int(0.025 * (BOOTSTRAP_RESAMPLES - 1))], rates[
        int(0.975 * (BOOTSTRAP_RESAMPLES - 1))
    ]
