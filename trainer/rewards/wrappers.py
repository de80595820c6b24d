"""Judges around a judge, each still a `BaseRM`: bounded answers, the document's system prompt."""

from __future__ import annotations

from collections.abc import Sequence

from trainer.rewards.base import (
    DEFAULT_MAX_REASONING,
    BaseRM,
    DetailedRM,
    JudgeError,
    Message,
    Messages,
    RewardDetails,
)


class _Around(DetailedRM):
    """A judge that delegates its name, scale, preflight and release to the one it wraps."""

    def __init__(self, inner: BaseRM) -> None:
        self.inner = inner
        self.scale = inner.scale

    @property
    def name(self) -> str:
        """The wrapped judge's name."""
        return self.inner.name

    def load(self) -> None:
        """The wrapped judge's preflight."""
        self.inner.load()

    def close(self) -> None:
        """Close the wrapped judge."""
        self.inner.close()

    def fingerprint(self) -> dict[str, str]:
        """The wrapped judge's fingerprint."""
        return self.inner.fingerprint()


class BoundedRM(_Around):
    """A judge whose every answer is checked: one score per conversation, reasoning in bounds.

    Mining and best-of-N score through this, so a plug-in, an API or an ensemble can no
    more flood the plan than a `cli:` program can.
    """

    def __init__(self, inner: BaseRM, max_reasoning: int = DEFAULT_MAX_REASONING) -> None:
        super().__init__(inner)
        self.max_reasoning = max_reasoning

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        details = self.inner.score_batch_details(batch, batch_size=batch_size)
        if len(details) != len(batch):
            raise JudgeError(
                f"{self.name}: returned {len(details)} scores for {len(batch)} answer(s); "
                "a judge gives exactly one per answer, in order."
            )
        for detail in details:
            self._check_reasoning(detail.reasoning)
        return details

    def _check_reasoning(self, reasoning: str | None) -> None:
        if reasoning is not None and len(reasoning) > self.max_reasoning:
            raise JudgeError(
                f"{self.name}: gave a reasoning of {len(reasoning)} characters, more than the "
                f"{self.max_reasoning} allowed. Make the judge more concise, or raise the limit "
                f"with --judge-max-reasoning {len(reasoning)}."
            )


class WithSystemPrompt(_Around):
    """A judge that reads each conversation as the document's model had it: with its system prompt.

    For the judges that score in the document's own voice (`sway`, `reward`, `api:`);
    a conversation that already has a system message is left as it is.
    """

    def __init__(self, inner: BaseRM, system_prompt: str) -> None:
        super().__init__(inner)
        self.system_prompt = system_prompt

    def fingerprint(self) -> dict[str, str]:
        """The wrapped judge's fingerprint and the system prompt."""
        return {**self.inner.fingerprint(), "system_prompt": self.system_prompt}

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        prompted = [self._prompted(messages) for messages in batch]
        return self.inner.score_batch_details(prompted, batch_size=batch_size)

    def _prompted(self, messages: Messages) -> list[Message]:
        if any(m.get("role") == "system" for m in messages):
            return list(messages)
        return [{"role": "system", "content": self.system_prompt}, *messages]


def with_system_prompt(judge: BaseRM, system_prompt: str | None) -> BaseRM:
    """`judge` reading conversations with `system_prompt`, or `judge` itself when there is none."""
    return WithSystemPrompt(judge, system_prompt) if system_prompt else judge
