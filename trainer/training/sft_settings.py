"""SFT settings: the document's `training` keys with dlm's measured defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass

from dlmlang import TrainingConfig
from trainer.training.phase_settings import PhaseSettings, shared_settings

# Measured on SmolLM2-135M on CPU (docs/hardware.md): LoRA on every linear layer at 1e-3
# learned facts in 40 steps, where q/v at 2e-4 learned nothing in 20.
DEFAULT_LEARNING_RATE = 1e-3


@dataclass(frozen=True, slots=True, kw_only=True)
class SFTSettings(PhaseSettings):
    """Everything the SFT phase needs, with no "auto" left."""

    lora_r: int
    lora_alpha: int
    lora_dropout: float
    target_modules: str | list[str]
    learning_rate: float
    packing: bool = False
    """Pack short rows into full-length ones (chosen with an `auto` batch on a GPU)."""

    @classmethod
    def from_training(
        cls,
        training: TrainingConfig,
        *,
        precision: str,
        device: str = "cpu",
        max_steps: int | None = None,
        seed: int | None = None,
    ) -> SFTSettings:
        """Fill the document's `training` keys; command-line values win."""
        return cls(
            lora_r=training.lora_r,
            lora_alpha=training.lora_alpha,
            lora_dropout=training.lora_dropout,
            target_modules=list(training.target_modules)
            if training.target_modules
            else "all-linear",
            learning_rate=training.learning_rate or DEFAULT_LEARNING_RATE,
            num_epochs=training.num_epochs,
            max_steps=max_steps if max_steps is not None else training.max_steps,
            **shared_settings(training, precision=precision, device=device, seed=seed),
        )
