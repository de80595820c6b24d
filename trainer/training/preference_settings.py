"""Preference-phase settings: `training.preference` with dlm's defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass

from dlmlang import TrainingConfig
from trainer.training.phase_settings import PhaseSettings, shared_settings

# Measured on SmolLM2-135M on CPU, DPO from an SFT adapter (docs/dpo-vs-orpo.md):
# 1e-4 raised the held-out margin; 3e-4 and 1e-3 fit the training pairs better but
# lowered held-out accuracy (1.0 -> 0.67) and the adapter stopped ending its turn.
DEFAULT_PREFERENCE_LEARNING_RATE = 1e-4
METHODS = ("dpo", "orpo")
REFERENCES = ("pre_adapter", "base")


@dataclass(frozen=True, slots=True, kw_only=True)
class PreferenceSettings(PhaseSettings):
    """Everything the preference phase needs, with no "auto" left."""

    method: str
    beta: float
    alpha: float
    loss_type: str
    reference: str
    learning_rate: float

    def __post_init__(self) -> None:
        PhaseSettings.__post_init__(self)
        if self.method not in METHODS:
            raise ValueError(f"method must be one of {METHODS}, not {self.method}")
        if self.reference not in REFERENCES:
            raise ValueError(f"reference must be one of {REFERENCES}, not {self.reference}")

    @property
    def phase(self) -> str:
        """The run's phase name: `dpo` or `orpo`."""
        return self.method

    @classmethod
    def from_training(
        cls,
        training: TrainingConfig,
        *,
        precision: str,
        device: str = "cpu",
        max_steps: int | None = None,
        seed: int | None = None,
    ) -> PreferenceSettings:
        """Fill `training.preference`; command-line values win.

        `training.max_steps` caps SFT only; the preference phase runs
        `hyperparams.num_epochs` unless `max_steps` is given here.
        """
        preference = training.preference
        hyper = preference.hyperparams
        return cls(
            method=preference.method,
            beta=hyper.beta,
            alpha=hyper.alpha,
            loss_type=preference.loss_type,
            reference=preference.reference,
            learning_rate=hyper.learning_rate or DEFAULT_PREFERENCE_LEARNING_RATE,
            num_epochs=hyper.num_epochs,
            max_steps=max_steps,
            **shared_settings(training, precision=precision, device=device, seed=seed),
        )
