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

from trainer.logprobs import length_sorted_batches
from trainer.rewards.base import LOGITS, DetailedRM, Messages, RewardDetails, RewardError
from trainer.rewards.checkpoint import Checkpoint, LoadOptions, locate
from trainer.rewards.profiles import PROFILES, Profile, resolve_profile

log = logging.getLogger("dlm.rewards")

REWARD_DIR = "reward"
"""Where, in a document's store, `dlm reward train` saves its reward model (`--judge reward`)."""


class OutcomeRM(DetailedRM):
    """A local sequence-classification reward model; loads on `load()` or first use."""

    scale = LOGITS

    def __init__(
        self,
        reference: str,
        *,
        options: LoadOptions | None = None,
        home: Path | None = None,
        selector: str | None = None,
        profiles: tuple[Profile, ...] = PROFILES,
    ) -> None:
        self.reference = reference
        self.options = options or LoadOptions()
        self._home = home
        self._selector = selector or f"hf:{reference}"
        self._profiles = profiles
        self.checkpoint: Checkpoint | None = None

    @property
    def name(self) -> str:
        """The selector, without options."""
        return self._selector

    def load(self) -> None:
        """Locate and load the checkpoint; refuse heads that are not one logit."""
        if self.checkpoint is not None:
            return
        path = locate(self.reference, self._home)
        profile = resolve_profile(self.reference, path, kind="outcome", profiles=self._profiles)
        checkpoint = Checkpoint(self.reference, path, profile, self.options)
        labels = int(getattr(checkpoint.model.config, "num_labels", 0))
        if labels != 1:
            raise RewardError(
                f"{self.name} has {labels} outputs; a reward model gives one score per answer. "
                "Use a reward model (a sequence-classification model with num_labels=1)."
            )
        self.checkpoint = checkpoint

    def close(self) -> None:
        """Drop the model."""
        self.checkpoint = None

    def fingerprint(self) -> dict[str, str]:
        """The selector and what the checkpoint's scores depend on."""
        checkpoint = self._loaded()
        return {**super().fingerprint(), **checkpoint.fingerprint()}

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

    def _loaded(self) -> Checkpoint:
        if self.checkpoint is None:
            self.load()
        assert self.checkpoint is not None
        return self.checkpoint
