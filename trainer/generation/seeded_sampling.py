"""Batched, seeded sampling: many prompts' candidates come from one `generate` call.

Every candidate row has its own random stream, seeded from the run seed, a hash of
its prompt and its index, and drawn by our own sampler (temperature, top-p), so a
prompt's candidates do not depend on which other prompts share the batch, or in what
order: the same seed gives the same candidates however prompts are grouped or sharded.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from trainer.generation.generate import Sampling
from trainer.training.rows import chat_messages


@dataclass(frozen=True, slots=True)
class Candidate:
    """One sampled answer; `truncated` when it hit max_new_tokens before ending."""

    text: str
    truncated: bool


def prompt_seed(seed: int, prompt: str) -> int:
    """The seed of one prompt's sampling: the run seed mixed with the prompt's text."""
    digest = hashlib.sha256(f"{seed}\n{prompt}".encode()).hexdigest()
    return int(digest[:8], 16)


ROWS_PER_CALL = 16
"""Candidate rows per `generate` call: decoding on a CPU is bound by reading the
weights, so one call for 16 rows costs far less than four calls for 4."""


def row_seed(prompt_seed_value: int, index: int) -> int:
    """The seed of one candidate row of a prompt."""
    digest = hashlib.sha256(f"{prompt_seed_value}:{index}".encode()).hexdigest()
    return int(digest[:12], 16)


def sample_candidates(
    model: Any,
    tokenizer: Any,
    prompts: Sequence[str],
    *,
    system_prompt: str | None,
    config: Sampling,
    progress: Callable[[int, int], None] | None = None,
    rows_per_call: int = ROWS_PER_CALL,
) -> dict[str, list[Candidate]]:
    """`config.samples` candidates per prompt; all samples of a prompt share one call,
    and as many prompts as fit in `rows_per_call` rows share it too."""
    per_call = max(1, rows_per_call // max(1, config.samples))
    end_ids = {tokenizer.eos_token_id, tokenizer.convert_tokens_to_ids("<|im_end|>")}
    end_ids.discard(None)
    out: dict[str, list[Candidate]] = {}
    for start in range(0, len(prompts), per_call):
        chunk = list(prompts[start : start + per_call])
        rows = _generate(model, tokenizer, chunk, system_prompt, config)
        for index, prompt in enumerate(chunk):
            candidates = []
            for row in rows[index * config.samples : (index + 1) * config.samples]:
                ended = any(token in end_ids for token in row)
                text = tokenizer.decode(row, skip_special_tokens=True)
                candidates.append(Candidate(text, truncated=not ended))
            out[prompt] = candidates
        if progress is not None:
            progress(min(start + per_call, len(prompts)), len(prompts))
    return out


def _generate(
    model: Any, tokenizer: Any, prompts: list[str], system_prompt: str | None, config: Sampling
) -> list[list[int]]:
    """New tokens of `config.samples` rows per prompt, from one left-padded batch."""
    import torch
    from transformers import LogitsProcessorList

    texts = [
        tokenizer.apply_chat_template(
            chat_messages(prompt, system_prompt), tokenize=False, add_generation_prompt=True
        )
        for prompt in prompts
    ]
    pad_id = (
        tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
    )
    side = tokenizer.padding_side
    tokenizer.padding_side = "left"  # new tokens must follow every prompt directly
    try:
        encoded = tokenizer(texts, return_tensors="pt", add_special_tokens=False, padding=True)
    finally:
        tokenizer.padding_side = side
    device = model.device
    input_ids = encoded["input_ids"].to(device).repeat_interleave(config.samples, dim=0)
    attention = encoded["attention_mask"].to(device).repeat_interleave(config.samples, dim=0)
    # One stream per row on the model's device: a GPU draws a different stream than a
    # CPU from the same seed, but always the same one on the same device.
    generators = [
        torch.Generator(device=device).manual_seed(
            row_seed(prompt_seed(config.seed, prompt), index)
        )
        for prompt in prompts
        for index in range(config.samples)
    ]
    sampler = SeededSampler(generators, temperature=config.temperature, top_p=config.top_p)
    with torch.no_grad():
        generated = model.generate(
            input_ids=input_ids,
            attention_mask=attention,
            do_sample=False,  # the sampler has already drawn: greedy takes its token
            temperature=None,
            top_p=None,
            top_k=None,
            logits_processor=LogitsProcessorList([sampler]),
            max_new_tokens=config.max_new_tokens,
            pad_token_id=pad_id,
        )
    return [list(row) for row in generated[:, input_ids.shape[1] :].tolist()]


class SeededSampler:
    """A logits processor that samples each row with its own generator (temperature,
    then top-p) and leaves only the drawn token possible."""

    def __init__(self, generators: list[Any], *, temperature: float, top_p: float) -> None:
        self._generators = generators
        self._temperature = temperature
        self._top_p = top_p

    def __call__(self, input_ids: Any, scores: Any) -> Any:
        """Draw one token per row; return logits that are 0 there and -inf elsewhere."""
        import torch

        probs = torch.softmax(scores.float() / self._temperature, dim=-1)
        if self._top_p < 1.0:
            ordered, order = probs.sort(dim=-1, descending=True)
            before = ordered.cumsum(dim=-1) - ordered
            ordered = ordered.masked_fill(before > self._top_p, 0.0)  # keeps the first token
            probs = torch.zeros_like(probs).scatter(-1, order, ordered)
        tokens = torch.stack(
            [
                torch.multinomial(probs[row], 1, generator=generator)
                for row, generator in enumerate(self._generators)
            ]
        )
        chosen = torch.full_like(scores, float("-inf"))
        return chosen.scatter(-1, tokens, 0.0)
