"""Test hooks for multi-process runs, switched on by environment variables (off by default).

- `DLM_DEBUG_CHECKSUM_DIR=DIR`: after training, every rank writes
  `DIR/<phase>-rank<R>.json` with a checksum of its LoRA weights, so a test can check
  that DDP kept the ranks identical (and equal to the saved adapter).
- `DLM_DEBUG_FAIL_RANK=R`: rank R raises after its first optimizer step, so a test
  can check that one failing process fails the run and leaves the store unchanged.

They live among the product modules because the processes they act in are started by
torchrun from a real `dlm train` command line: a test cannot reach into those processes
to patch them, and an environment variable is what crosses the process boundary. With
neither variable set they add no callback and change nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from trainer.runtime.distributed import World

CHECKSUM_DIR = "DLM_DEBUG_CHECKSUM_DIR"
FAIL_RANK = "DLM_DEBUG_FAIL_RANK"


def weights_checksum(tensors: Mapping[str, Any]) -> str:
    """sha256 over names, dtypes, shapes and bytes of `tensors`, in name order."""
    digest = hashlib.sha256()
    for name in sorted(tensors):
        tensor = tensors[name].detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(dtype=_bytes_dtype()).numpy().tobytes())
    return digest.hexdigest()


def adapter_checksum(model: Any, adapter: str = "default") -> str:
    """The checksum of the LoRA weights exactly as `save_pretrained` writes them."""
    from peft import get_peft_model_state_dict

    return weights_checksum(get_peft_model_state_dict(model, adapter_name=adapter))


def record_checksum(model: Any, world: World, phase: str, steps: int) -> None:
    """With DLM_DEBUG_CHECKSUM_DIR set, write this rank's adapter checksum there."""
    directory = os.environ.get(CHECKSUM_DIR)
    if not directory:
        return
    path = Path(directory) / f"{phase}-rank{world.rank}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "phase": phase,
        "rank": world.rank,
        "world_size": world.size,
        "steps": steps,
        "checksum": adapter_checksum(model),
    }
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")


def debug_callbacks(world: World) -> list[Any]:
    """The trainer callbacks the environment asks for (usually none)."""
    wanted = os.environ.get(FAIL_RANK)
    if wanted is None or wanted.strip() != str(world.rank):
        return []
    from transformers import TrainerCallback

    class FailAfterFirstStep(TrainerCallback):
        """Raise on this rank once one optimizer step is done."""

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> None:
            """Fail the way a crashing process would."""
            raise RuntimeError(
                f"{FAIL_RANK}={world.rank}: rank {world.rank} fails after step {state.global_step}"
            )

    return [FailAfterFirstStep()]


def _bytes_dtype() -> Any:
    import torch

    return torch.uint8
