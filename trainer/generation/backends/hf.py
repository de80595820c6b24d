"""The default backend: transformers' `generate` on a model already loaded by the caller."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from trainer.generation.backends.base import SampleProgress
from trainer.generation.generate import Sampling, answer
from trainer.generation.seeded_sampling import ROWS_PER_CALL, Candidate, sample_candidates


class HFBackend:
    """Batched sampling with a per-row seeded sampler (`trainer.generation.seeded_sampling`)."""

    name = "hf"

    def __init__(self, model: Any, tokenizer: Any, *, rows_per_call: int = ROWS_PER_CALL) -> None:
        self._model = model
        self._tokenizer = tokenizer
        self._rows_per_call = rows_per_call

    def load(self) -> None:
        """Nothing to check: the caller loaded the model."""

    def sample(
        self,
        prompts: Sequence[str],
        config: Sampling,
        *,
        system_prompt: str | None,
        progress: SampleProgress | None = None,
    ) -> dict[str, list[Candidate]]:
        """`config.samples` candidates per prompt; prompts share `generate` calls."""
        return sample_candidates(
            self._model,
            self._tokenizer,
            prompts,
            system_prompt=system_prompt,
            config=config,
            progress=progress,
            rows_per_call=self._rows_per_call,
        )

    def answer(self, question: str, config: Sampling, *, system_prompt: str | None) -> str:
        """One answer with the chat template used in training."""
        return answer(self._model, self._tokenizer, question, system_prompt, config)

    def close(self) -> None:
        """The model belongs to the caller."""
