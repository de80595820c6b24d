"""Reward-model training settings: dlm's measured defaults, command-line values on top."""

from __future__ import annotations

import math
from dataclasses import dataclass

from dlmlang import TrainingConfig

# Measured on SmolLM2-135M on CPU with examples/notes.dlm's six pairs (docs/judges.md):
# LoRA on every linear layer plus a fully trained score head, lr 1e-3, 10 steps of 2
# pairs ranked every training and held-out pair right; a full fine-tune at 1e-5 fit the
# training pairs but not the held-out one, and costs a 135M-parameter optimizer step.
DEFAULT_REWARD_LEARNING_RATE = 1e-3
MIN_REWARD_STEPS = 10
REWARD_MICRO_BATCH = 2
REWARD_LORA_R = 8
REWARD_LORA_ALPHA = 16


@dataclass(frozen=True, slots=True)
class RewardSettings:
    """Everything a reward-model run needs, with no "auto" left but the step count."""

    learning_rate: float
    steps: int | None
    """None: at least MIN_REWARD_STEPS and at least one pass over the pairs."""
    max_length: int
    """Pairs whose chosen or rejected conversation is longer (in tokens) are left out."""
    precision: str
    seed: int
    micro_batch_size: int = REWARD_MICRO_BATCH
    lora_r: int = REWARD_LORA_R
    lora_alpha: int = REWARD_LORA_ALPHA
    device: str = "cpu"
    """"cpu" or "cuda": where the trainer runs (the GPU of each process is its local rank)."""

    def __post_init__(self) -> None:
        if self.steps is not None and self.steps < 1:
            raise ValueError("steps must be at least 1")
        if not self.learning_rate > 0:
            raise ValueError("learning_rate must be positive")
        if self.max_length < 8:
            raise ValueError("max_length must be at least 8 tokens")

    def total_steps(self, pairs: int) -> int:
        """Optimizer steps for `pairs` training pairs."""
        if self.steps is not None:
            return self.steps
        return max(MIN_REWARD_STEPS, math.ceil(pairs / self.micro_batch_size))

    @classmethod
    def from_training(
        cls,
        training: TrainingConfig,
        *,
        precision: str,
        device: str = "cpu",
        steps: int | None = None,
        learning_rate: float | None = None,
        seed: int | None = None,
    ) -> RewardSettings:
        """The document's `sequence_len` and `seed`; command-line values win."""
        return cls(
            learning_rate=learning_rate or DEFAULT_REWARD_LEARNING_RATE,
            steps=steps,
            max_length=training.sequence_len,
            precision=precision,
            device=device,
            seed=seed if seed is not None else training.seed,
        )
