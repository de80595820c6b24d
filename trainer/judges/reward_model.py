"""`hf:<model>`: a sequence-classification reward model scores each candidate (docs/judges.md).

A thin wrapper: the model is `trainer.rewards.outcome.OutcomeRM`, turned into a judge
by `RewardJudge`. Options after `?` (URL-encoded): `trust_remote_code=1`,
`max_length=N`, `dtype=float32|bfloat16|float16`, `device=cpu|cuda`, `input_mode=chat|pair`.
"""

from __future__ import annotations

from pathlib import Path

from trainer.rewards.auto import loader_options, split_selector
from trainer.rewards.base import DEFAULT_BATCH_SIZE, RewardJudge
from trainer.rewards.checkpoint import DEFAULT_MAX_LENGTH
from trainer.rewards.outcome import OutcomeRM

__all__ = ["DEFAULT_MAX_LENGTH", "RewardModelJudge"]


class RewardModelJudge(RewardJudge):
    """The `hf:` judge: an `OutcomeRM` loaded in `load()`."""

    def __init__(
        self,
        selector: str,
        *,
        home: Path,
        batch_size: int = DEFAULT_BATCH_SIZE,
        max_length: int | None = None,
    ) -> None:
        reference, options = split_selector(selector)
        if max_length is not None:
            options.setdefault("max_length", str(max_length))
        rm = OutcomeRM(reference, options=loader_options(options), home=home)
        super().__init__(rm, batch_size=batch_size)
