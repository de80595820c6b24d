"""Which engine samples (transformers or vLLM) and on how many GPUs, and loading it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dlmlang.errors import UsageError

if TYPE_CHECKING:
    from trainer.generation.backends import SamplingBackend
    from trainer.runtime.devices import Placement


class Backend(StrEnum):
    """The engine that generates text."""

    HF = "hf"
    VLLM = "vllm"


@dataclass(frozen=True, slots=True)
class BackendChoice:
    """The backend flags of one command; GPU sizes other than 1 need `--backend vllm`."""

    backend: Backend = Backend.HF
    tensor_parallel_size: int = 1
    data_parallel_size: int = 1

    def __post_init__(self) -> None:
        sizes = (self.tensor_parallel_size, self.data_parallel_size)
        if self.backend is not Backend.VLLM and sizes != (1, 1):
            raise UsageError(
                "--tensor-parallel-size and --data-parallel-size apply to vLLM engines; "
                "add `--backend vllm`, or leave them out.",
            )


def load_backend(
    choice: BackendChoice,
    model_dir: Path,
    adapter_dir: Path | None,
    placement: Placement,
    *,
    seed: int,
    need_model: bool,
) -> tuple[SamplingBackend, Any, Any]:
    """(backend, model, tokenizer), the backend loaded; the transformers model is loaded
    for the hf backend or when `need_model` (the sway judges), else both are None."""
    from trainer.generation.backends import HFBackend
    from trainer.generation.generate import load_for_generation

    backend: SamplingBackend | None = None
    if choice.backend is Backend.VLLM:
        from trainer.generation.backends.vllm import VllmBackend
        from trainer.generation.backends.vllm_engine import VllmSettings

        backend = VllmBackend(
            VllmSettings(
                model_dir=model_dir,
                adapter_dir=adapter_dir,
                precision=placement.precision,
                tensor_parallel_size=choice.tensor_parallel_size,
                data_parallel_size=choice.data_parallel_size,
                seed=seed,
            )
        )
        backend.load()  # no vLLM or no GPU fails here, before the slower loads
    model = tokenizer = None
    if backend is None or need_model:
        model, tokenizer = load_for_generation(model_dir, adapter_dir, placement)
    if backend is None:
        backend = HFBackend(model, tokenizer)
    return backend, model, tokenizer
