"""Best-of-N answering: sample N answers, score each distinct one once, keep the highest."""

from __future__ import annotations

from dataclasses import dataclass

from trainer.generation.backends.base import SamplingBackend
from trainer.generation.generate import Sampling
from trainer.rewards.base import BaseRM, conversation


@dataclass(frozen=True, slots=True)
class ScoredAnswer:
    """One sampled answer with the judge's score (and reasoning if the judge gives one)."""

    text: str
    truncated: bool
    score: float
    reasoning: str | None


@dataclass(frozen=True, slots=True)
class BestOf:
    """All sampled answers in sampling order, and the index of the one kept."""

    answers: list[ScoredAnswer]
    best: int

    @property
    def answer(self) -> ScoredAnswer:
        """The highest-scoring answer (the earliest sampled among equals)."""
        return self.answers[self.best]


def best_of(
    backend: SamplingBackend,
    judge: BaseRM,
    question: str,
    sampling: Sampling,
    *,
    system_prompt: str | None,
) -> BestOf:
    """Sample `sampling.samples` answers to `question` and keep the one `judge` scores highest.

    Identical answers (after stripping) are scored once, so a judge never sees the same
    candidate twice; each keeps its own place in `answers`.
    """
    sampled = backend.sample([question], sampling, system_prompt=system_prompt)[question]
    texts = [candidate.text.strip() for candidate in sampled]
    distinct = list(dict.fromkeys(texts))
    details = judge.score_batch_details([conversation(question, text) for text in distinct])
    by_text = dict(zip(distinct, details, strict=True))
    answers = [
        ScoredAnswer(text, c.truncated, by_text[text].score, by_text[text].reasoning)
        for text, c in zip(texts, sampled, strict=True)
    ]
    best = max(range(len(answers)), key=lambda i: (answers[i].score, -i))
    return BestOf(answers, best)
