"""One vLLM engine: the base model with the adapter as its one LoRA, and what it is given.

Used in this process by the vLLM backend (trainer/generation/backends/vllm.py) and in
each replica's process (trainer/generation/backends/replicas.py).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.generation.backends.base import BackendError
from trainer.generation.generate import Sampling

LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM accepts for `max_lora_rank`."""

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}

PROMPTS_PER_CALL = 256
"""Prompts per `generate` call: enough to keep vLLM's scheduler full, few enough that
progress is reported while a long run goes on."""


@dataclass(frozen=True, slots=True)
class VllmSettings:
    """Where the model and adapter are, and how many GPUs to use."""

    model_dir: Path
    adapter_dir: Path | None
    """A PEFT adapter version, or None for the base model alone."""
    precision: str = "bf16"
    tensor_parallel_size: int = 1
    """GPUs per engine."""
    data_parallel_size: int = 1
    """Engines (one process each), each sampling its share of the prompts."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.tensor_parallel_size < 1 or self.data_parallel_size < 1:
            raise BackendError("tensor_parallel_size and data_parallel_size must be at least 1.")
        if self.precision not in DTYPES:
            raise BackendError(f"Unknown precision {self.precision!r}: {', '.join(DTYPES)}.")


@dataclass(frozen=True, slots=True)
class Request:
    """One prompt, chat-templated into token ids, with its seed."""

    prompt: str
    token_ids: list[int]
    seed: int


class Engine:
    """One vLLM engine holding the base model, with the adapter as its one LoRA."""

    def __init__(self, settings: VllmSettings) -> None:
        from vllm import LLM
        from vllm.lora.request import LoRARequest

        options: dict[str, Any] = {
            "model": str(settings.model_dir),
            "dtype": DTYPES[settings.precision],
            "tensor_parallel_size": settings.tensor_parallel_size,
            "seed": settings.seed,
        }
        self._lora = None
        if settings.adapter_dir is not None:
            options.update(
                enable_lora=True,
                max_lora_rank=lora_rank_limit(settings.adapter_dir),
                max_loras=1,
            )
            self._lora = LoRARequest(
                lora_name=settings.adapter_dir.name,
                lora_int_id=1,  # vLLM ids start at 1
                lora_path=str(settings.adapter_dir),
            )
        self._llm = LLM(**options)

    def generate(
        self,
        requests: Sequence[Request],
        config: Sampling,
        stop_ids: list[int],
        advance: Callable[[int], None],
    ) -> list[list[tuple[str, bool]]]:
        """(text, truncated) of each sample of each request, in request order."""
        from vllm import SamplingParams

        drawn: list[list[tuple[str, bool]]] = []
        for start in range(0, len(requests), PROMPTS_PER_CALL):
            chunk = requests[start : start + PROMPTS_PER_CALL]
            params = [
                SamplingParams(
                    n=config.samples,
                    temperature=config.temperature,
                    top_p=config.top_p,
                    max_tokens=config.max_new_tokens,
                    seed=request.seed,
                    stop_token_ids=stop_ids,
                )
                for request in chunk
            ]
            outputs = self._llm.generate(
                [{"prompt_token_ids": request.token_ids} for request in chunk],
                params,
                use_tqdm=False,
                lora_request=self._lora,
            )
            for output in outputs:  # vLLM returns them in the order of the prompts
                drawn.append([(c.text, c.finish_reason == "length") for c in output.outputs])
            advance(len(chunk))
        return drawn


def lora_rank_limit(adapter_dir: Path | None) -> int:
    """The smallest `max_lora_rank` vLLM accepts that holds the adapter's rank."""
    if adapter_dir is None:
        return LORA_RANKS[0]
    config_path = adapter_dir / "adapter_config.json"
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise BackendError(
            f"{adapter_dir} is not a readable PEFT adapter ({error}); retrain with `dlm train`."
        ) from None
    pattern = config.get("rank_pattern") or {}
    rank = max([int(config.get("r", 8)), *(int(r) for r in pattern.values())])
    fitting = [limit for limit in LORA_RANKS if limit >= rank]
    if not fitting:
        raise BackendError(
            f"The adapter's LoRA rank is {rank}, above the {LORA_RANKS[-1]} vLLM supports. "
            "Use `--backend hf`, or train with a smaller `training.lora_r`."
        )
    return fitting[0]
