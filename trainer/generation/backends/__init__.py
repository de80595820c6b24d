"""Sampling backends: what generates candidates for mining and answers for `dlm prompt`."""

from trainer.generation.backends.base import BackendError, SamplingBackend
from trainer.generation.backends.hf import HFBackend

BACKENDS = (
    ("hf", "transformers on this machine, CPU included (the default)"),
    ("vllm", "vLLM with the adapter as a LoRA request, on CUDA GPUs (docs/scale-out.md)"),
)

__all__ = ["BACKENDS", "BackendError", "HFBackend", "SamplingBackend"]
