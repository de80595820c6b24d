"""Outcome reward models: one sequence-classification logit per answer (`hf:`, `reward`).

Candidates are rendered once, sorted by token length and scored in micro-batches of
`batch_size`: one forward row per candidate, results back in input order. The score
is the head's single logit (Bradley-Terry scale); a head with another shape is
refused with a message naming what to use instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path

from trainer.generation.logprobs import length_sorted_batches
from trainer.rewards.base import LOGITS, JudgeError, Messages, RewardDetails
from trainer.rewards.checkpoint import Checkpoint, LoadOptions
from trainer.rewards.local import LocalRM
from trainer.rewards.profiles import PROFILES, Profile

log = logging.getLogger("dlm.rewards")

REWARD_DIR = "reward"
"""Where, in a document's store, `dlm reward train` saves its reward model (`--judge reward`)."""


class OutcomeRM(LocalRM):
    """A local sequence-classification reward model; loads on `load()` or first use."""

    scale = LOGITS
    kind = "outcome"

    def __init__(
        self,
        reference: str,
        *,
        options: LoadOptions | None = None,
        home: Path | None = None,
        selector: str | None = None,
        profiles: tuple[Profile, ...] = PROFILES,
    ) -> None:
        super().__init__(
            reference,
            options=options,
            home=home,
            selector=selector or f"hf:{reference}",
            profiles=profiles,
        )

    @property
    def name(self) -> str:
        """The selector, without options."""
        return self._selector

    def _check(self, checkpoint: Checkpoint) -> None:
        labels = checkpoint.labels()
        if labels != 1:
            raise JudgeError(
                f"{self.name} has {labels} outputs; a reward model gives one score per answer. "
                "Use a reward model (a sequence-classification model with num_labels=1)."
            )

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        checkpoint = self._loaded()
        rendered = [checkpoint.render(messages) for messages in batch]
        counts = [checkpoint.token_count(r) for r in rendered]
        results: dict[int, RewardDetails] = {}
        batches = length_sorted_batches(counts, max(1, batch_size))
        for number, rows in enumerate(batches, 1):
            started = time.perf_counter()
            encoded = checkpoint.encode([rendered[i] for i in rows], [counts[i] for i in rows])
            logits = checkpoint.forward(encoded)
            for row, index in enumerate(rows):
                raw = tuple(float(v) for v in logits[row].tolist())
                results[index] = RewardDetails(
                    score=raw[0],
                    normalized_score=self.scale.to_common(raw[0]),
                    raw_logits=raw,
                    tokens_scored=int(encoded.lengths[row]),
                    truncated=encoded.truncated[row],
                )
            log.debug(
                "%s: batch %d/%d, %d rows, %d tokens max, %d truncated, %.3f s",
                self.name,
                number,
                len(batches),
                len(rows),
                max(encoded.lengths),
                sum(encoded.truncated),
                time.perf_counter() - started,
            )
        return [results[i] for i in range(len(batch))]
