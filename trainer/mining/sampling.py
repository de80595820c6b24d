"""Batched, seeded sampling: the N candidates of a prompt come from one `generate` call.

Each prompt has its own seed (the run seed and a hash of the prompt), so a
prompt's candidates do not depend on which other prompts run, or in what order.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.data import chat_messages
from trainer.generate import Sampling


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sampled answer; `truncated` when it hit max_new_tokens before ending."""

    text: str
    truncated: bool


def prompt_seed(seed: int, prompt: str) -> int:
    """The seed of one prompt's sampling: the run seed mixed with the prompt's text."""
    digest = hashlib.sha256(f"{seed}\n{prompt}".encode()).hexdigest()
    return int(digest[:8], 16)


def sample_candidates(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    system_prompt: str | None,
    config: Sampling,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, list[Candidate]]:
    """`config.samples` candidates per prompt, in one batched generate call per prompt."""
    import torch

    out: dict[str, list[Candidate]] = {}
    end_ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
    end_ids.discard(None)
    for index, prompt in enumerate(prompts):
        text = tokenizer.apply_chat_template(
            chat_messages(prompt, system_prompt), tokenize=False, add_generation_prompt=True
        )
        encoded = tokenizer(text, return_tensors="pt", add_special_tokens=False)
        torch.manual_seed(prompt_seed(config.seed, prompt))
        with torch.no_grad():
            generated = model.generate(
                **encoded,
                do_sample=True,
                temperature=config.temperature,
                top_p=config.top_p,
                max_new_tokens=config.max_new_tokens,
                num_return_sequences=config.samples,
                pad_token_id=tokenizer.pad_token_id or tokenizer.eos_token_id,
            )
        start = encoded["input_ids"].shape[1]
        candidates = []
        for row in generated[:, start:].tolist():
            ended = any(token in end_ids for token in row)
            candidates.append(
                Candidate(tokenizer.decode(row, skip_special_tokens=True), truncated=not ended)
            )
        out[prompt] = candidates
        if progress is not None:
            progress(index + 1, len(prompts))
    return out
