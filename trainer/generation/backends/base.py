"""The sampling backend protocol: seeded, chat-templated generation with the adapter."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from trainer.errors import TrainerError
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate

SampleProgress = Callable[[int, int], None]
"""(prompts done, prompts in all)."""


class BackendError(TrainerError):
    """A sampling backend cannot run here; the message names what is missing and the fix."""


class SamplingBackend(Protocol):
    """What mining and `dlm prompt` need from the engine that generates text."""

    @property
    def name(self) -> str:
        """`hf` or `vllm`."""

    def load(self) -> None:
        """Check the backend can work here and get it ready; raise BackendError if not."""

    def sample(
        self,
        prompts: Sequence[str],
        config: Sampling,
        *,
        system_prompt: str | None,
        progress: SampleProgress | None = None,
    ) -> dict[str, list[Candidate]]:
        """`config.samples` candidates per prompt, each prompt seeded from the run seed and
        its own text, so grouping and sharding never change a prompt's candidates."""

    def answer(self, question: str, config: Sampling, *, system_prompt: str | None) -> str:
        """One answer, stripped; greedy when `config.temperature` is 0."""

    def close(self) -> None:
        """Release what `load` took."""
