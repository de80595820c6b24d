"""The judge protocol: batch-first, pointwise, with a preflight that fails early."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from trainer.errors import TrainerError


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
