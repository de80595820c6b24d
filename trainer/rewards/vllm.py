"""`AutoRM.load(..., load_method="vllm")`: a reward model served by vLLM's pooling runner.

Inputs are rendered exactly as for transformers (same chat template, same BOS rule,
same truncation to `max_length`) and sent as token ids to `LLM.reward`. An outcome
model's score is the last pooled value; a process model (with a step tag) reads the
pooled per-token outputs at the tag. Needs vLLM and a CUDA GPU; without vLLM the
loader says how to get it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from trainer.rewards.base import (
    LOGITS,
    PROBABILITY,
    DetailedRM,
    JudgeError,
    Messages,
    RewardDetails,
    conversation,
)
from trainer.rewards.checkpoint import (
    LoadOptions,
    Renderer,
    check_remote_code,
    load_tokenizer,
    locate,
)
from trainer.rewards.process import DEFAULT_DELIMITER, aggregate, split_steps
from trainer.rewards.profiles import PROFILES, Kind, Profile, resolve_profile

INSTALL = (
    "load_method='vllm' needs vLLM, which is not installed here. On a Linux machine with an "
    "NVIDIA GPU: `uv pip install vllm --overrides overrides.txt` (the file holding "
    "`lark==1.3.1`), then run with `uv run --no-sync` (docs/scale-out.md). Elsewhere use "
    "load_method='transformers' (the default), which runs on the CPU."
)


def require_vllm() -> Any:
    """The `vllm` module, or a JudgeError saying how to install it."""
    try:
        import vllm
    except ImportError:
        raise JudgeError(INSTALL) from None
    return vllm


class VllmRM(DetailedRM):
    """An outcome or step-tagged process reward model run by `vllm.LLM(runner="pooling")`."""

    def __init__(
        self,
        reference: str,
        *,
        home: Path | None = None,
        kind: Kind | None = None,
        profiles: tuple[Profile, ...] = PROFILES,
        tensor_parallel_size: int = 1,
        gpu_memory_utilization: float = 0.9,
        max_length: int = 1024,
        torch_dtype: str = "auto",
        trust_remote_code: bool = False,
        aggregation: str = "min",
        step_delimiter: str = DEFAULT_DELIMITER,
    ) -> None:
        self.reference = reference
        self._home = home
        self._kind = kind
        self._profiles = profiles
        self.engine_options = {
            "tensor_parallel_size": int(tensor_parallel_size),
            "gpu_memory_utilization": float(gpu_memory_utilization),
            "dtype": torch_dtype,
            "max_model_len": int(max_length),
            "trust_remote_code": bool(trust_remote_code),
        }
        self.options = LoadOptions(
            torch_dtype=torch_dtype, max_length=int(max_length), trust_remote_code=trust_remote_code
        )
        self.aggregation = aggregation
        self.step_delimiter = step_delimiter
        self.renderer: Renderer | None = None
        self.llm: Any = None

    @property
    def name(self) -> str:
        """`vllm:` and the model."""
        return f"vllm:{self.reference}"

    def load(self) -> None:
        """Import vLLM (or explain), render with the model's tokenizer, start the engine."""
        vllm = require_vllm()
        path = locate(self.reference, self._home)
        profile = resolve_profile(self.reference, path, kind=self._kind, profiles=self._profiles)
        check_remote_code(self.reference, profile, self.options, vllm=True)
        if profile.kind == "process" and profile.step_tag is None:
            raise JudgeError(
                f"{self.reference}: with vLLM only step-tagged process models are supported; "
                "use load_method='transformers'."
            )
        self.scale = PROBABILITY if profile.kind == "process" else LOGITS
        tokenizer = load_tokenizer(self.reference, path, self.options)
        self.renderer = Renderer(self.reference, path, profile, self.options, tokenizer)
        self.llm = vllm.LLM(model=str(path), runner="pooling", **self.engine_options)

    def close(self) -> None:
        """Drop the engine."""
        self.llm = None

    def fingerprint(self) -> dict[str, str]:
        """Selector, renderer and engine dtype."""
        if self.renderer is None:
            self.load()
        assert self.renderer is not None
        return {**super().fingerprint(), **self.renderer.fingerprint(), "dtype": "vllm-auto"}

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        return self._details(batch, self.step_delimiter)

    def _loaded_renderer(self) -> Renderer:
        if self.llm is None or self.renderer is None:
            self.load()
        assert self.renderer is not None
        return self.renderer

    def _details(self, batch: Sequence[Messages], delimiter: str) -> list[RewardDetails]:
        """Score `batch` in one engine call, splitting process answers at `delimiter`."""
        self._loaded_renderer()
        assert self.renderer is not None
        process = self.renderer.profile.kind == "process"
        prompts, truncated = [], []
        for messages in batch:
            rendered = self.renderer.render(self._tagged(messages, process, delimiter))
            truncated.append(self.renderer.token_count(rendered) > self.options.max_length)
            prompts.append({"prompt_token_ids": self.renderer.token_ids(rendered)})
        outputs = self.llm.reward(prompts, use_tqdm=False)
        return [
            self._read(prompt["prompt_token_ids"], output, cut)
            for prompt, output, cut in zip(prompts, outputs, truncated, strict=True)
        ]

    def score_steps(
        self, prompt: str, response: str, step_delimiter: str = DEFAULT_DELIMITER
    ) -> list[float]:
        """One probability per step of `response`, in order (process models)."""
        self._loaded_renderer()
        assert self.renderer is not None
        if self.renderer.profile.kind != "process":
            raise JudgeError(f"{self.name} is an outcome model: it gives no step scores.")
        batch = [conversation(prompt, response)]
        return list(self._details(batch, step_delimiter)[0].step_scores)

    def _tagged(self, messages: Messages, process: bool, delimiter: str) -> Messages:
        """A process model's answer with the step tag after every step; others as they are."""
        if not process:
            return messages
        assert self.renderer is not None
        tag = self.renderer.profile.step_tag or ""
        steps = split_steps(messages[-1].get("content", ""), delimiter)
        if not steps:
            raise JudgeError("a process reward model cannot score an empty answer")
        content = "".join(step + tag for step in steps)
        return [*messages[:-1], {"role": "assistant", "content": content}]

    def _read(self, ids: list[int], output: Any, truncated: bool) -> RewardDetails:
        assert self.renderer is not None
        data = output.outputs.data
        values = data.float().tolist() if hasattr(data, "float") else data
        if self.renderer.profile.kind == "outcome":
            flat = _flatten(values)
            return RewardDetails(flat[-1], flat[-1], tuple(flat), len(ids), truncated)
        tag_id = self.renderer.tokenizer.convert_tokens_to_ids(self.renderer.profile.step_tag)
        positive = self.renderer.profile.positive_label
        steps = tuple(
            _softmax(values[t])[positive] for t, token in enumerate(ids) if token == tag_id
        )
        if not steps:
            raise JudgeError(f"{self.name}: no step survived truncation; raise max_length.")
        score = aggregate(steps, self.aggregation)
        return RewardDetails(
            score,
            PROBABILITY.to_common(score),
            tokens_scored=len(ids),
            truncated=truncated,
            step_scores=steps,
        )


def _flatten(values: Any) -> list[float]:
    if isinstance(values, list):
        return [x for v in values for x in _flatten(v)]
    return [float(values)]


def _softmax(row: Sequence[float]) -> list[float]:
    top = max(row)
    exps = [math.exp(v - top) for v in row]
    return [e / sum(exps) for e in exps]
