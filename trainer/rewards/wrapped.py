"""A `Judge` as a `BaseRM`, so `sway` and `cli:` can join ensembles and the cache."""

from __future__ import annotations

from collections.abc import Sequence

from trainer.judges.base import Judge, JudgeItem
from trainer.rewards.base import (
    DEFAULT_BATCH_SIZE,
    BaseRM,
    Messages,
    RewardDetails,
    RewardError,
    Scale,
    split_answer,
)


def judge_scale(judge: Judge) -> Scale:
    """The scale a judge declares, else a linear one at its default threshold."""
    declared = getattr(judge, "scale", None)
    if isinstance(declared, Scale):
        return declared
    return Scale(judge.name, judge.default_threshold)


class JudgeRM(BaseRM):
    """Scores conversations with a judge: the prompt is the last user message."""

    def __init__(self, judge: Judge) -> None:
        self.judge = judge
        self.scale = judge_scale(judge)

    @property
    def name(self) -> str:
        """The judge's name."""
        return self.judge.name

    def load(self) -> None:
        """The judge's preflight."""
        self.judge.load()

    def close(self) -> None:
        """Close the judge."""
        self.judge.close()

    def score(self, messages: Messages) -> float:
        """One score from the judge."""
        return self.score_batch([messages])[0]

    def score_batch(
        self, batch: Sequence[Messages], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[float]:
        """The judge's scores, in one `Judge.score` call."""
        return [d.score for d in self.score_batch_details(batch, batch_size=batch_size)]

    def score_batch_details(
        self, batch: Sequence[Messages], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[RewardDetails]:
        """The judge's scores and reasoning."""
        judgements = self.judge.score([_item(messages) for messages in batch])
        if len(judgements) != len(batch):
            raise RewardError(f"{self.name} returned {len(judgements)} scores for {len(batch)}.")
        return [
            RewardDetails(j.score, self.scale.to_common(j.score), reasoning=j.reasoning)
            for j in judgements
        ]

    def fingerprint(self) -> dict[str, str]:
        """The judge's own fingerprint when it has one (e.g. sway's adapter hash)."""
        own = getattr(self.judge, "fingerprint", None)
        extra = own() if callable(own) else {}
        return {"selector": self.name, "scale": self.scale.name, **extra}


def _item(messages: Messages) -> JudgeItem:
    context, answer = split_answer(messages)
    users = [m.get("content", "") for m in context if m.get("role") == "user"]
    if not users:
        raise RewardError("a judge needs a user message before the answer")
    return JudgeItem(users[-1], answer)
