"""vLLM sampling: the document's adapter served through vLLM's LoRA support, on CUDA GPUs.

vLLM is optional and needs a CUDA GPU; it is imported only when this backend loads.
Every prompt is one request, `SamplingParams(n=samples)` with the prompt's own seed
(run seed + prompt text, as in the transformers backend), so a prompt's candidates
do not depend on the other prompts in the batch or on the replica that drew them.
With `data_parallel_size` > 1 the prompts are dealt out to that many independent
engines, one process each, pinned with CUDA_VISIBLE_DEVICES to their own
`tensor_parallel_size` GPUs: the layout of vLLM's offline data-parallel example.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from trainer.generation.backends.base import BackendError, SampleProgress
from trainer.generation.backends.vllm_engine import (
    Engine,
    Request,
    VllmSettings,
    lora_rank_limit,
)
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate, prompt_seed
from trainer.training.rows import chat_messages

INSTALL = (
    "Install vLLM next to dlm on a Linux machine with a CUDA GPU: "
    "`uv pip install vllm --overrides overrides.txt`, the file holding `lark==1.3.1`, "
    "then run dlm with `uv run --no-sync` (docs/scale-out.md). "
    "Without a GPU, use `--backend hf` (the default)."
)


class VllmBackend:
    """Sampling with `vllm.LLM(..., enable_lora=True)` and a `LoRARequest` for the adapter."""

    name = "vllm"

    def __init__(self, settings: VllmSettings) -> None:
        self._settings = settings
        self._tokenizer: Any = None
        self._stop_ids: list[int] = []
        self._devices: list[str] = []
        self._engine: Engine | None = None

    def load(self) -> None:
        """Check vLLM and the GPUs, read the adapter's rank; start the engine (one replica)."""
        _require_vllm()
        self._devices = _devices_for(self._settings, visible_gpus())
        lora_rank_limit(self._settings.adapter_dir)  # a bad adapter fails before the engine
        from transformers import AutoTokenizer

        self._tokenizer = AutoTokenizer.from_pretrained(str(self._settings.model_dir))
        self._stop_ids = end_token_ids(self._tokenizer)
        if self._settings.data_parallel_size == 1:
            self._engine = Engine(self._settings)

    def sample(
        self,
        prompts: Sequence[str],
        config: Sampling,
        *,
        system_prompt: str | None,
        progress: SampleProgress | None = None,
    ) -> dict[str, list[Candidate]]:
        """`config.samples` candidates per prompt, one seeded request per prompt."""
        requests = [
            Request(p, self._token_ids(p, system_prompt), prompt_seed(config.seed, p))
            for p in prompts
        ]
        results = self._generate(requests, config, progress)
        return {
            request.prompt: [Candidate(text, truncated) for text, truncated in drawn]
            for request, drawn in zip(requests, results, strict=True)
        }

    def answer(self, question: str, config: Sampling, *, system_prompt: str | None) -> str:
        """One answer drawn with `config.seed`; greedy when the temperature is 0."""
        request = Request(question, self._token_ids(question, system_prompt), config.seed)
        [[(text, _)]] = self._generate([request], replace(config, samples=1), None)
        return text.strip()

    def close(self) -> None:
        """Drop the engine; vLLM frees its GPU memory once the engine is collected."""
        self._engine = None

    def _token_ids(self, prompt: str, system_prompt: str | None) -> list[int]:
        if self._tokenizer is None:
            raise BackendError("The vLLM backend was used before `load()`.")
        text = self._tokenizer.apply_chat_template(
            chat_messages(prompt, system_prompt), tokenize=False, add_generation_prompt=True
        )
        return list(self._tokenizer(text, add_special_tokens=False)["input_ids"])

    def _generate(
        self, requests: list[Request], config: Sampling, progress: SampleProgress | None
    ) -> list[list[tuple[str, bool]]]:
        total = len(requests)
        done = 0

        def advance(count: int) -> None:
            nonlocal done
            done += count
            if progress is not None:
                progress(done, total)

        if self._engine is not None:
            return self._engine.generate(requests, config, self._stop_ids, advance)
        from trainer.generation.backends.replicas import run_replicas

        return run_replicas(
            self._settings, self._devices, requests, config, self._stop_ids, advance
        )


def end_token_ids(tokenizer: Any) -> list[int]:
    """The tokens that end an answer: EOS and, where the vocabulary has it, `<|im_end|>`."""
    ids = {tokenizer.eos_token_id, tokenizer.get_vocab().get("<|im_end|>")}
    return sorted(i for i in ids if i is not None)


def visible_gpus() -> list[str]:
    """The CUDA devices this process may use, as CUDA_VISIBLE_DEVICES names them."""
    import torch

    if not torch.cuda.is_available():
        return []
    count = torch.cuda.device_count()
    listed = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    names = [name.strip() for name in listed.split(",") if name.strip()]
    return names[:count] if names else [str(index) for index in range(count)]


def _require_vllm() -> None:
    try:
        import vllm  # noqa: F401
    except ImportError as error:
        raise BackendError(
            f"`--backend vllm` needs vLLM, which cannot be imported ({error}). {INSTALL}"
        ) from None


def _devices_for(settings: VllmSettings, gpus: list[str]) -> list[str]:
    if not gpus:
        raise BackendError(
            "`--backend vllm` needs a CUDA GPU, and torch sees none here "
            "(torch.cuda.is_available() is False). Run on a machine with an NVIDIA GPU and a "
            "CUDA build of torch, or use `--backend hf` (the default), which runs on the CPU."
        )
    needed = settings.tensor_parallel_size * settings.data_parallel_size
    if needed > len(gpus):
        raise BackendError(
            f"--data-parallel-size {settings.data_parallel_size} x --tensor-parallel-size "
            f"{settings.tensor_parallel_size} needs {needed} GPUs; {len(gpus)} visible "
            f"({', '.join(gpus)}). Lower one of them."
        )
    return gpus[:needed]
