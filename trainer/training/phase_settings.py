"""What every training phase shares: rows per step, schedule, precision, device, seed."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dlmlang import TrainingConfig
from trainer.runtime.distributed import World, training_arguments
from trainer.training.batching import CPU_MICRO_BATCH

DEFAULT_MICRO_BATCH = CPU_MICRO_BATCH
DEFAULT_GRAD_ACCUM = 1
PRECISIONS = ("bf16", "fp32", "fp16")
TRL_RUN_ARGUMENTS: dict[str, Any] = {
    "gradient_checkpointing": False,  # trl's default; costs time on CPU for little memory
    "logging_steps": 1,
    "save_strategy": "no",
    "eval_strategy": "no",
    "report_to": "none",
    "disable_tqdm": True,
    "dataloader_num_workers": 0,
}
"""How every phase runs its trl trainer: a log row each step (for dlm's callbacks), no
checkpoints, evaluation, reports or progress bars from trl, data loaded in-process."""


@dataclass(frozen=True, slots=True, kw_only=True)
class PhaseSettings:
    """The document's shared `training` keys, resolved; a phase's settings add their own."""

    sequence_len: int
    micro_batch_size: int
    grad_accum: int
    lr_scheduler: str
    warmup_ratio: float
    precision: str
    seed: int
    replay: bool
    num_epochs: int
    max_steps: int | None
    device: str = "cpu"
    """"cpu" or "cuda": where the trainer runs (the GPU of each process is its local rank)."""
    auto_batch: bool = False
    """The document left `micro_batch_size` to dlm: sized for the device (docs/hardware.md)."""

    def __post_init__(self) -> None:
        if self.precision not in PRECISIONS:
            raise ValueError(
                f"precision must be resolved to bf16, fp32 or fp16, not {self.precision}"
            )
        if self.max_steps is not None and self.max_steps < 1:
            raise ValueError("max_steps must be at least 1")


def shared_settings(
    training: TrainingConfig, *, precision: str, device: str, seed: int | None
) -> dict[str, Any]:
    """The `PhaseSettings` fields from the document's `training` keys (keyword arguments
    for a phase's settings); command-line values win."""
    return {
        "sequence_len": training.sequence_len,
        "micro_batch_size": training.micro_batch_size or DEFAULT_MICRO_BATCH,
        "auto_batch": training.micro_batch_size is None,
        "grad_accum": training.grad_accum or DEFAULT_GRAD_ACCUM,
        "lr_scheduler": training.lr_scheduler,
        "warmup_ratio": training.warmup_ratio,
        "precision": precision,
        "device": device,
        "seed": seed if seed is not None else training.seed,
        "replay": training.replay,
    }


def trl_arguments(
    settings: PhaseSettings, *, learning_rate: float, scratch: Path, world: World
) -> dict[str, Any]:
    """A phase's trl config arguments: its schedule, batch, seed, device and precision,
    output to `scratch`, and `TRL_RUN_ARGUMENTS`."""
    return {
        **training_arguments(world, device=settings.device, precision=settings.precision),
        "output_dir": str(scratch),
        "per_device_train_batch_size": settings.micro_batch_size,
        "gradient_accumulation_steps": settings.grad_accum,
        "learning_rate": learning_rate,
        "num_train_epochs": settings.num_epochs,
        "max_steps": settings.max_steps or -1,
        "lr_scheduler_type": settings.lr_scheduler,
        "warmup_steps": settings.warmup_ratio,
        "seed": settings.seed,
        "data_seed": settings.seed,
        "max_length": settings.sequence_len,
        **TRL_RUN_ARGUMENTS,
    }
