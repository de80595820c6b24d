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

import json
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from trainer.generation.backends.base import BackendError, SampleProgress
from trainer.generation.generate import Sampling
from trainer.generation.seeded_sampling import Candidate, prompt_seed
from trainer.training.rows import chat_messages

LORA_RANKS = (1, 8, 16, 32, 64, 128, 256, 320, 512)
"""The values vLLM accepts for `max_lora_rank`."""

DTYPES = {"bf16": "bfloat16", "fp16": "float16", "fp32": "float32"}

PROMPTS_PER_CALL = 256
"""Prompts per `generate` call: enough to keep vLLM's scheduler full, few enough that
progress is reported while a long run goes on."""

INSTALL = (
    "Install vLLM next to dlm on a Linux machine with a CUDA GPU: "
    "`uv pip install vllm --overrides overrides.txt`, the file holding `lark==1.3.1`, "
    "then run dlm with `uv run --no-sync` (docs/scale-out.md). "
    "Without a GPU, use `--backend hf` (the default)."
)


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
