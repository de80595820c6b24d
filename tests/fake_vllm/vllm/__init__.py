"""A stand-in for vLLM in the tests: the classes dlm calls, recording every call.

Each call is appended as one JSON line to the file named by $FAKE_VLLM_LOG, so a test
reads what a spawned replica did as well. Samples are fixed texts drawn from the
request's seed and the sample's index; the last of several samples ends with
finish_reason "length". $FAKE_VLLM_FAIL makes `LLM(...)` raise.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from typing import Any

LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
WORDS = ("harbour", "ferry", "lighthouse", "keeper", "island", "morning", "pier", "green")
SAMPLING_FIELDS = ("n", "temperature", "top_p", "max_tokens", "seed", "stop_token_ids")


def record(call: str, **fields: Any) -> None:
    """Append one call to the log."""
    path = os.environ.get("FAKE_VLLM_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as log:
            log.write(json.dumps({"call": call, **fields}) + "\n")


class SamplingParams:
    """Only the fields dlm passes; any other keyword is a TypeError, as in vLLM."""

    def __init__(self, **kwargs: Any) -> None:
        unknown = sorted(set(kwargs) - set(SAMPLING_FIELDS))
        if unknown:
            raise TypeError(f"SamplingParams got unexpected keyword arguments {unknown}")
        self.kwargs = kwargs
        self.n = kwargs.get("n", 1)
        self.temperature = kwargs.get("temperature", 1.0)
        self.seed = kwargs.get("seed")
        record("SamplingParams", kwargs=kwargs)


@dataclass
class CompletionOutput:
    index: int
    text: str
    finish_reason: str | None


@dataclass
class RequestOutput:
    prompt_token_ids: list[int]
    outputs: list[CompletionOutput]


class LLM:
    """Records its constructor and every `generate`; returns seeded fixed texts."""

    def __init__(self, model: str, **kwargs: Any) -> None:
        if os.environ.get("FAKE_VLLM_FAIL"):
            raise RuntimeError("CUDA out of memory (fake)")
        if kwargs.get("enable_lora") and kwargs.get("max_lora_rank", 16) not in LORA_RANKS:
            raise ValueError(f"max_lora_rank must be one of {LORA_RANKS}")
        self.lora = kwargs.get("enable_lora", False)
        devices = os.environ.get("CUDA_VISIBLE_DEVICES")
        record("LLM", model=model, kwargs=kwargs, cuda_visible_devices=devices)

    def generate(
        self,
        prompts: list[dict[str, list[int]]],
        sampling_params: SamplingParams | list[SamplingParams] | None = None,
        *,
        use_tqdm: bool = True,
        lora_request: Any = None,
    ) -> list[RequestOutput]:
        """One RequestOutput per prompt, in order, with `n` samples each."""
        if lora_request is not None and not self.lora:
            raise ValueError("LoRA is not enabled")
        params = sampling_params if isinstance(sampling_params, list) else None
        if params is None:
            params = [sampling_params or SamplingParams()] * len(prompts)
        record(
            "generate",
            prompts=prompts,
            seeds=[p.seed for p in params],
            use_tqdm=use_tqdm,
            lora_request=None if lora_request is None else vars(lora_request),
        )
        return [
            RequestOutput(prompt["prompt_token_ids"], _samples(p))
            for prompt, p in zip(prompts, params, strict=True)
        ]


def _samples(params: SamplingParams) -> list[CompletionOutput]:
    outputs = []
    for index in range(params.n):
        draw = random.Random(f"{params.seed}:{0 if params.temperature == 0 else index}")
        words = " ".join(draw.choice(WORDS) for _ in range(draw.randint(2, 6)))
        truncated = params.n > 1 and index == params.n - 1
        outputs.append(
            CompletionOutput(
                index,
                f" The {words} at {draw.randint(1, 12)}:40. ",
                "length" if truncated else "stop",
            )
        )
    return outputs
