"""Sampling backends: what generates candidates for mining and answers for `dlm prompt`.

The names below are imported on first use: `dlm check` and the other commands that
never sample import `choice` (the `--backend` option) without the backends.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trainer.generation.backends.base import BackendError, SamplingBackend
    from trainer.generation.backends.hf import HFBackend

BACKENDS = (
    ("hf", "transformers on this machine, CPU included (the default)"),
    ("vllm", "vLLM with the adapter as a LoRA request, on CUDA GPUs (docs/scale-out.md)"),
)

_LAZY = {
    "BackendError": "trainer.generation.backends.base",
    "SamplingBackend": "trainer.generation.backends.base",
    "HFBackend": "trainer.generation.backends.hf",
}

__all__ = ["BACKENDS", "BackendError", "HFBackend", "SamplingBackend"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
