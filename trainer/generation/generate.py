"""Answering prompts with the base model or an adapter version, chat-templated."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from trainer.runtime.devices import Placement
from trainer.training.rows import chat_messages


@dataclass(frozen=True, slots=True)
class Sampling:
    """Generation settings, for `dlm prompt` and mining; temperature 0 means greedy."""

    max_new_tokens: int = 128
    temperature: float = 0.7
    top_p: float = 0.95
    seed: int = 0
    samples: int = 1
    """Answers per prompt (mining draws several in one generate call)."""


def load_for_generation(
    model_dir: Path, adapter_dir: Path | None, placement: Placement
) -> tuple[Any, Any]:
    """The base model on the placement's device and in its precision, with the adapter
    applied, in eval mode."""
    from trainer.models import load_causal_lm

    model, tokenizer = load_causal_lm(
        model_dir, dtype=placement.weights_dtype(), device=placement.device
    )
    if adapter_dir is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter_dir))
    model.eval()
    return model, tokenizer


def answer(
    model: Any, tokenizer: Any, question: str, system_prompt: str | None, sampling: Sampling
) -> str:
    """One answer to `question`, the chat template applied as in training."""
    return answer_messages(model, tokenizer, chat_messages(question, system_prompt), sampling)


def answer_messages(
    model: Any, tokenizer: Any, messages: list[dict[str, str]], sampling: Sampling
) -> str:
    """The assistant's next turn after `messages` (a chat, system prompt first if any)."""
    import torch

    prompt = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    encoded = tokenizer(prompt, return_tensors="pt", add_special_tokens=False).to(model.device)
    torch.manual_seed(sampling.seed)  # every device's generator, the GPU's included
    greedy = sampling.temperature <= 0
    options: dict[str, Any] = {"max_new_tokens": sampling.max_new_tokens, "do_sample": not greedy}
    if not greedy:
        options.update(temperature=sampling.temperature, top_p=sampling.top_p)
    with torch.no_grad():
        output = model.generate(
            **encoded, pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id, **options
        )
    new_tokens = output[0, encoded["input_ids"].shape[1] :]
    return str(tokenizer.decode(new_tokens, skip_special_tokens=True)).strip()
