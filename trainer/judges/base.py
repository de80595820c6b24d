"""The judge protocol: batch-first, pointwise, with a preflight that fails early."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from trainer.errors import TrainerError

DEFAULT_MAX_OUTPUT = 1 << 20
"""Bytes a judge may answer with: a `cli:` judge's stdout, an `api:` judge's HTTP body."""
DEFAULT_MAX_REASONING = 16384
"""Characters of `reasoning` a judge may give per item."""


class JudgeError(TrainerError):
    """A judge cannot score: the run stops and nothing is staged or written."""


@dataclass(frozen=True, slots=True)
class JudgeItem:
    """One candidate answer to one prompt."""

    prompt: str
    candidate: str


@dataclass(frozen=True, slots=True)
class Judgement:
    """A judge's verdict on one item: a finite score, and why if the judge says."""

    score: float
    reasoning: str | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.score):
            raise JudgeError(f"a judge returned a non-finite score ({self.score})")


class Judge(Protocol):
    """What the miner needs from a judge."""

    @property
    def name(self) -> str:
        """The canonical selector (what goes into `judge_name`): defaults explicit, no secrets."""

    @property
    def default_threshold(self) -> float:
        """The smallest chosen-minus-rejected margin worth a pair, on this judge's scale."""

    def load(self) -> None:
        """Check the judge can work, before any sampling; raise JudgeError if not."""

    def score(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """One judgement per item, in order."""

    def close(self) -> None:
        """Release what `load` took."""


class BoundedJudge:
    """A judge whose every answer is checked: one judgement per item, reasoning within bounds.

    The miner and best-of score through this, so a plug-in, an API or an ensemble can
    no more flood the plan than a `cli:` program can.
    """

    def __init__(self, judge: Judge, max_reasoning: int = DEFAULT_MAX_REASONING) -> None:
        self.judge = judge
        self.max_reasoning = max_reasoning

    @property
    def name(self) -> str:
        """The judge's name."""
        return self.judge.name

    @property
    def default_threshold(self) -> float:
        """The judge's default threshold."""
        return self.judge.default_threshold

    def load(self) -> None:
        """The judge's preflight."""
        self.judge.load()

    def score(self, items: Sequence[JudgeItem]) -> list[Judgement]:
        """The judge's judgements, or JudgeError when they are too many, too few or too long."""
        judgements = self.judge.score(items)
        if len(judgements) != len(items):
            raise JudgeError(
                f"{self.name}: returned {len(judgements)} judgements for {len(items)} "
                "answer(s); a judge gives exactly one per answer, in order."
            )
        for judgement in judgements:
            _check_reasoning(self.name, judgement, self.max_reasoning)
        return judgements

    def close(self) -> None:
        """Close the judge."""
        self.judge.close()


def _check_reasoning(name: str, judgement: Judgement, max_reasoning: int) -> None:
    """Raise JudgeError when the judgement's reasoning is longer than `max_reasoning`."""
    reasoning = judgement.reasoning
    if reasoning is not None and len(reasoning) > max_reasoning:
        raise JudgeError(
            f"{name}: gave a reasoning of {len(reasoning)} characters, more than the "
            f"{max_reasoning} allowed. Make the judge more concise, or raise the limit with "
            f"--judge-max-reasoning {len(reasoning)}."
        )
