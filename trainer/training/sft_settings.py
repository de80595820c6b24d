"""SFT settings: the document's `training` keys with dlm's measured defaults filled in."""

from __future__ import annotations

from dataclasses import dataclass

from dlmlang import TrainingConfig
from trainer.training.batching import CPU_MICRO_BATCH

# Measured on SmolLM2-135M on CPU (docs/hardware.md): LoRA on every linear layer at 1e-3
# learned facts in 40 steps, where q/v at 2e-4 learned nothing in 20.
DEFAULT_LEARNING_RATE = 1e-3
DEFAULT_MICRO_BATCH = CPU_MICRO_BATCH
DEFAULT_GRAD_ACCUM = 1


@dataclass(frozen=True, slots=True)
class SFTSettings:
    """Everything the SFT phase needs, with no "auto" left."""

    lora_r: int
    lora_alpha: int
    lora_dropout: float
    target_modules: str | list[str]
    sequence_len: int
    micro_batch_size: int
    grad_accum: int
    learning_rate: float
    num_epochs: int
    max_steps: int | None
    lr_scheduler: str
    warmup_ratio: float
    precision: str
    seed: int
    replay: bool
    device: str = "cpu"
    """"cpu" or "cuda": where the trainer runs (the GPU of each process is its local rank)."""
    auto_batch: bool = False
    """The document left `micro_batch_size` to dlm: sized for the device (docs/hardware.md)."""
    packing: bool = False
    """Pack short rows into full-length ones (chosen with an `auto` batch on a GPU)."""

    def __post_init__(self) -> None:
        if self.precision not in ("bf16", "fp32", "fp16"):
            raise ValueError(
                f"precision must be resolved to bf16, fp32 or fp16, not {self.precision}"
            )
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")

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
            sequence_len=training.sequence_len,
            micro_batch_size=training.micro_batch_size or DEFAULT_MICRO_BATCH,
            auto_batch=training.micro_batch_size is None,
            grad_accum=training.grad_accum or DEFAULT_GRAD_ACCUM,
            learning_rate=training.learning_rate or DEFAULT_LEARNING_RATE,
            num_epochs=training.num_epochs,
            max_steps=max_steps if max_steps is not None else training.max_steps,
            lr_scheduler=training.lr_scheduler,
            warmup_ratio=training.warmup_ratio,
            precision=precision,
            device=device,
            seed=seed if seed is not None else training.seed,
            replay=training.replay,
        )
