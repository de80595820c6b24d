"""Rows per forward pass when the document says `auto`: fixed on a CPU, sized on a GPU.

On a CPU `auto` is the measured default of 4 rows. On a GPU a small batch leaves the
device idle (docs/hardware.md), so `auto` grows with the document: as many rows as keep
at least `MIN_STEPS_PER_EPOCH` optimizer steps in each epoch (a bigger batch on a small
document would mean fewer updates, and less learning, than on a CPU), never more than
an estimate of the activations says fits in half of the GPU's free memory. SFT also
packs short rows into full-length ones (trl's best-fit packing; the attention of each
original row stays its own) once the document is large enough that packed rows still
give that many steps. A number written in the document is always used as is.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

CPU_MICRO_BATCH = 4
MIN_STEPS_PER_EPOCH = 16
MAX_MICRO_BATCH = 256
MEMORY_SHARE = 0.5
"""The share of the GPU's free memory (after loading the model) a batch may fill."""


@dataclass(frozen=True, slots=True)
class ModelShape:
    """The sizes of a decoder that decide its activation memory per token."""

    layers: int
    hidden: int
    intermediate: int
    vocab: int

    @classmethod
    def of(cls, model: Any) -> ModelShape:
        """The shape of a transformers causal LM (a PEFT wrapper included)."""
        config = model.config
        hidden = int(config.hidden_size)
        return cls(
            layers=int(config.num_hidden_layers),
            hidden=hidden,
            intermediate=int(getattr(config, "intermediate_size", None) or 4 * hidden),
            vocab=int(config.vocab_size),
        )

    def bytes_per_token(self, precision: str) -> int:
        """Activation memory one training token keeps for the backward pass, roughly.

        Calibrated on SmolLM2-135M with LoRA on every linear layer, where one forward
        pass kept 1.9 MB per token under bf16 autocast and 2.7 MB in fp32 (RSS growth
        on a CPU, docs/hardware.md): per layer 16 hidden-sized and 8 intermediate-sized
        values, and the logits in the compute dtype plus fp32 copies for the loss.
        """
        element = 4 if precision == "fp32" else 2
        per_layer = (16 * self.hidden + 8 * self.intermediate) * element
        return self.layers * per_layer + self.vocab * (element + 10)


@dataclass(frozen=True, slots=True)
class BatchPlan:
    """The rows per forward pass, whether SFT packs rows, and why."""

    micro_batch_size: int
    packing: bool
    reason: str


@dataclass(frozen=True, slots=True)
class BatchInputs:
    """What the plan depends on: the training rows and the device's room."""

    lengths: Sequence[int]
    """Token count of every training row (for preference pairs: the longer side)."""
    sequence_len: int
    on_gpu: bool
    free_bytes: int = 0
    """Free GPU memory after the model was loaded (0 on a CPU)."""
    bytes_per_token: int = 1
    sequences_per_row: int = 1
    """2 for preference pairs: chosen and rejected go through the model together."""
    can_pack: bool = False


def plan_batch(inputs: BatchInputs) -> BatchPlan:
    """The batch for `auto`: 4 rows on a CPU, sized by the document and memory on a GPU."""
    rows = len(inputs.lengths)
    if not inputs.on_gpu:
        return BatchPlan(CPU_MICRO_BATCH, False, f"{CPU_MICRO_BATCH} rows per step on the CPU")
    longest = min(max(inputs.lengths, default=1), inputs.sequence_len)
    packed_rows = math.ceil(sum(inputs.lengths) / inputs.sequence_len)
    if inputs.can_pack and packed_rows >= MIN_STEPS_PER_EPOCH and longest < inputs.sequence_len:
        fit = _fit(inputs, inputs.sequence_len)
        size = max(1, min(packed_rows // MIN_STEPS_PER_EPOCH, fit, MAX_MICRO_BATCH))
        return BatchPlan(
            size,
            True,
            f"{rows} rows packed into about {packed_rows} rows of {inputs.sequence_len} "
            f"tokens, {size} per step (memory fits {fit})",
        )
    fit = _fit(inputs, longest)
    wanted = max(CPU_MICRO_BATCH, rows // MIN_STEPS_PER_EPOCH)
    size = max(1, min(wanted, fit, MAX_MICRO_BATCH))
    limit = "what fits in memory" if fit < wanted else f"{MIN_STEPS_PER_EPOCH} steps per epoch"
    return BatchPlan(
        size,
        False,
        f"{size} rows per step on the GPU, to keep {limit} "
        f"({rows} rows; memory fits {fit} rows of {longest} tokens)",
    )


def _fit(inputs: BatchInputs, row_tokens: int) -> int:
    """Rows of `row_tokens` whose activations fit in the allowed share of free memory."""
    per_row = inputs.bytes_per_token * row_tokens * inputs.sequences_per_row
    return max(1, int(inputs.free_bytes * MEMORY_SHARE) // max(1, per_row))


def free_gpu_bytes(device: str) -> int:
    """Free memory of a CUDA device, as the driver reports it."""
    import torch

    free, _total = torch.cuda.mem_get_info(torch.device(device))
    return int(free)


def plan_for_model(
    model: Any,
    lengths: Sequence[int],
    *,
    sequence_len: int,
    device: str,
    precision: str,
    can_pack: bool,
    sequences_per_row: int = 1,
) -> BatchPlan:
    """`plan_batch` for a model already loaded on `device` ("cpu" or "cuda:N")."""
    on_gpu = device.startswith("cuda")
    return plan_batch(
        BatchInputs(
            lengths=lengths,
            sequence_len=sequence_len,
            on_gpu=on_gpu,
            free_bytes=free_gpu_bytes(device) if on_gpu else 0,
            bytes_per_token=ModelShape.of(model).bytes_per_token(precision),
            sequences_per_row=sequences_per_row,
            can_pack=can_pack,
        )
    )
