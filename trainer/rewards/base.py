"""The one scoring protocol: `BaseRM`, its score scales, details and errors (docs/judges.md).

A judge scores a conversation (a list of `{"role", "content"}` messages whose last
message is the assistant's answer) with one finite float on its declared `Scale`.
Every judge `--judge` names is a `BaseRM`: `sway`, `cli:`, `hf:`, `prm:`, `reward`,
`ensemble:`, `py:` and `api:`, and the wrappers around them (the cache, the bounds,
the document's system prompt) are too. Mining, best-of-N and evaluation score through
this protocol only.

To write your own, subclass `BaseRM` and implement `score`; override `score_batch`
when you can do better than one call per conversation.
"""

from __future__ import annotations

import logging
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, overload

from trainer.errors import TrainerError
from trainer.rewards.scale import (
    LOGITS,
    NATS_PER_TOKEN,
    PROBABILITY,
    RUBRIC_0_10,
    SCALES,
    Z_SCORE,
    Scale,
    scale_named,
)

Message = Mapping[str, str]
"""One chat message: `{"role": "system"|"user"|"assistant", "content": str}`."""

Messages = Sequence[Message]
"""A conversation; the last message is the answer being scored."""

DEFAULT_BATCH_SIZE = 8
DEFAULT_MAX_OUTPUT = 1 << 20
"""Bytes a judge may answer with: a `cli:` judge's stdout, an `api:` judge's HTTP body."""
DEFAULT_MAX_REASONING = 16384
"""Characters of `reasoning` a judge may give per answer."""

log = logging.getLogger("dlm.rewards")


class JudgeError(TrainerError):
    """A judge cannot load or score: the run stops and nothing is staged or written."""


__all__ = [
    "LOGITS",
    "NATS_PER_TOKEN",
    "PROBABILITY",
    "RUBRIC_0_10",
    "SCALES",
    "Z_SCORE",
    "BaseRM",
    "DetailedRM",
    "JudgeError",
    "MemberScore",
    "Message",
    "Messages",
    "RewardDetails",
    "Scale",
    "conversation",
    "messages_of",
    "question_and_answer",
    "scale_named",
    "split_answer",
]


@dataclass(frozen=True, slots=True)
class MemberScore:
    """One ensemble member's part in a score."""

    name: str
    weight: float
    raw: float  # on the member's own scale
    common: float  # after the scale mapping or the group z-score


@dataclass(frozen=True, slots=True)
class RewardDetails:
    """Everything known about one score; fields a model cannot fill stay at their default."""

    score: float
    """The score on the model's own scale (what `score()` returns)."""
    normalized_score: float
    """The score on the common scale (`Scale.to_common`)."""
    raw_logits: tuple[float, ...] = ()
    """The model head's outputs for this conversation, before any reduction."""
    tokens_scored: int = 0
    """Tokens the model read for this conversation (after truncation)."""
    truncated: bool = False
    """Whether the input was cut at the model's max length."""
    step_scores: tuple[float, ...] = ()
    """Process models: one score per step, before aggregation."""
    members: tuple[MemberScore, ...] = ()
    """Ensembles: each member's raw and mapped score."""
    cache_hit: bool | None = None
    """Cached models: whether this score came from the cache (None when not cached)."""
    cache_hits: int = 0
    """Cached models: hits in the `score_batch` call that produced this score."""
    cache_misses: int = 0
    """Cached models: misses in the `score_batch` call that produced this score."""
    reasoning: str | None = None
    """Why, when the model says (LLM judges)."""
    extra: Mapping[str, object] = field(default_factory=dict)
    """Model-specific detail, JSON-serialisable."""

    def __post_init__(self) -> None:
        if not math.isfinite(self.score):
            raise JudgeError(f"a reward model returned a non-finite score ({self.score})")


class BaseRM(ABC):
    """A reward model: `score(messages) -> float` on `scale`; batches and details derive."""

    scale: Scale = LOGITS

    @property
    def name(self) -> str:
        """The canonical selector (recorded as `judge_name`); plug-ins default to their class."""
        cls = type(self)
        return f"py:{cls.__module__}:{cls.__qualname__}"

    def load(self) -> None:
        """Check the model can work (and load it) before any sampling; raise JudgeError if not."""
        return None

    def close(self) -> None:
        """Release what `load` took."""
        return None

    @abstractmethod
    def score(self, messages: Messages) -> float:
        """One finite score for the conversation's last (assistant) message."""

    def score_batch(
        self, batch: Sequence[Messages], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[float]:
        """One score per conversation, in input order."""
        return [self.score(messages) for messages in batch]

    def score_details(self, messages: Messages) -> RewardDetails:
        """`score` with everything the model knows about it."""
        return self.score_batch_details([messages], batch_size=1)[0]

    def score_batch_details(
        self, batch: Sequence[Messages], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[RewardDetails]:
        """`score_batch` with details, in input order."""
        scores = self.score_batch(batch, batch_size=batch_size)
        return [RewardDetails(s, self.scale.to_common(s)) for s in scores]

    def fingerprint(self) -> dict[str, str]:
        """What identifies this model's scores, for the cache: change any of it and scores may."""
        cls = type(self)
        return {"selector": self.name, "class": f"{cls.__module__}.{cls.__qualname__}"}


class DetailedRM(BaseRM):
    """A `BaseRM` whose natural output is details: implement `_details_batch` only.

    Adds `return_details=True` to `score` and `score_batch`, and lets `score` take
    `prompt=..., response=...` in place of the conversation.
    """

    @abstractmethod
    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        """Details for every conversation, in input order."""

    @overload
    def score(
        self,
        messages: Messages | None = None,
        *,
        prompt: str | None = None,
        response: str | None = None,
    ) -> float: ...
    @overload
    def score(
        self,
        messages: Messages | None = None,
        *,
        prompt: str | None = None,
        response: str | None = None,
        return_details: Literal[False],
    ) -> float: ...
    @overload
    def score(
        self,
        messages: Messages | None = None,
        *,
        prompt: str | None = None,
        response: str | None = None,
        return_details: Literal[True],
    ) -> tuple[float, RewardDetails]: ...
    def score(
        self,
        messages: Messages | None = None,
        *,
        prompt: str | None = None,
        response: str | None = None,
        return_details: bool = False,
    ) -> float | tuple[float, RewardDetails]:
        """One score for `messages` (or `prompt=..., response=...`); with
        `return_details=True`, `(score, RewardDetails)`."""
        details = self._details_batch([messages_of(messages, prompt, response)], 1)[0]
        return (details.score, details) if return_details else details.score

    @overload
    def score_batch(
        self, batch: Sequence[Messages], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[float]: ...
    @overload
    def score_batch(
        self, batch: Sequence[Messages], batch_size: int, return_details: Literal[True]
    ) -> list[tuple[float, RewardDetails]]: ...
    @overload
    def score_batch(
        self, batch: Sequence[Messages], *, return_details: Literal[True]
    ) -> list[tuple[float, RewardDetails]]: ...
    def score_batch(
        self,
        batch: Sequence[Messages],
        batch_size: int = DEFAULT_BATCH_SIZE,
        return_details: bool = False,
    ) -> list[float] | list[tuple[float, RewardDetails]]:
        """One score per conversation in input order; with details as `(score, details)` pairs."""
        details = self._details_batch(batch, batch_size)
        if return_details:
            return [(d.score, d) for d in details]
        return [d.score for d in details]

    def score_batch_details(
        self, batch: Sequence[Messages], batch_size: int = DEFAULT_BATCH_SIZE
    ) -> list[RewardDetails]:
        """`score_batch` with details, in input order."""
        return self._details_batch(batch, batch_size)


def conversation(prompt: str, candidate: str, system_prompt: str | None = None) -> list[Message]:
    """The messages for one (prompt, candidate) item."""
    messages: list[Message] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": prompt})
    messages.append({"role": "assistant", "content": candidate})
    return messages


def messages_of(
    messages: Messages | None, prompt: str | None = None, response: str | None = None
) -> Messages:
    """`messages`, or the one-turn conversation of `prompt` and `response` (never both)."""
    if messages is not None and prompt is None and response is None:
        return messages
    if messages is None and prompt is not None and response is not None:
        return conversation(prompt, response)
    raise JudgeError(
        "score takes a conversation (`score(messages)`) or a question and an answer "
        "(`score(prompt=..., response=...)`), not both and not half of one."
    )


def split_answer(messages: Messages) -> tuple[list[Message], str]:
    """(the conversation before the answer, the answer); the answer must be the assistant's."""
    if not messages or messages[-1].get("role") != "assistant":
        raise JudgeError("a reward model scores the last message, which must be the assistant's")
    return list(messages[:-1]), messages[-1].get("content", "")


def question_and_answer(messages: Messages) -> tuple[str, str]:
    """(the last user message, the answer): what a judge that reads no chat is given."""
    context, answer = split_answer(messages)
    users = [m.get("content", "") for m in context if m.get("role") == "user"]
    if not users:
        raise JudgeError("a judge needs a user message before the answer")
    return users[-1], answer
