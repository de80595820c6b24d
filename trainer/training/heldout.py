"""The held-out preference check: does the adapter prefer the author's chosen answers?

For each held-out pair, the implicit reward of an answer is
beta * (log p_adapter(answer | prompt) - log p_base(answer | prompt)), summed over
the answer's tokens (with the chat template's end of turn). The margin is
reward(chosen) - reward(rejected); accuracy is the share of pairs with a positive
margin. The base model is the fixed yardstick, so "before" and "after" a run are
comparable whatever the run's DPO reference was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trainer.generation.logprobs import Encoded, completion_logprobs, length_sorted_batches
from trainer.training.preference_rows import PreferenceRow
from trainer.training.rows import chat_parts


@dataclass(frozen=True, slots=True)
class PreferenceCheck:
    """Accuracy and mean margin over the held-out pairs."""

    pairs: int
    accuracy: float
    margin: float


def preference_check(
    model: Any,
    tokenizer: Any,
    rows: Sequence[PreferenceRow],
    *,
    system_prompt: str | None,
    beta: float,
    batch_size: int = 8,
) -> PreferenceCheck | None:
    """Measure a PEFT model (adapter on vs off) on held-out pairs; None without pairs."""
    if not rows:
        return None
    encoded: list[Encoded] = []
    for row in rows:
        encoded.append(_encode(tokenizer, row.prompt, row.chosen, system_prompt))
        encoded.append(_encode(tokenizer, row.prompt, row.rejected, system_prompt))
    adapter = _totals(model, tokenizer, encoded, batch_size)
    with model.disable_adapter():
        base = _totals(model, tokenizer, encoded, batch_size)
    margins = []
    for index in range(len(rows)):
        chosen, rejected = 2 * index, 2 * index + 1
        reward_chosen = beta * (adapter[chosen] - base[chosen])
        reward_rejected = beta * (adapter[rejected] - base[rejected])
        margins.append(reward_chosen - reward_rejected)
    return PreferenceCheck(
        pairs=len(rows),
        accuracy=sum(m > 0 for m in margins) / len(margins),
        margin=sum(margins) / len(margins),
    )


def _encode(tokenizer: Any, prompt: str, answer: str, system_prompt: str | None) -> Encoded:
    prompt_text, completion = chat_parts(tokenizer, prompt, answer, system_prompt)
    prompt_ids = list(tokenizer(prompt_text, add_special_tokens=False)["input_ids"])
    completion_ids = list(tokenizer(completion, add_special_tokens=False)["input_ids"])
    return prompt_ids, completion_ids


def _totals(model: Any, tokenizer: Any, encoded: list[Encoded], batch_size: int) -> list[float]:
    import torch

    pad = tokenizer.pad_token_id or 0
    totals: dict[int, float] = {}
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            sizes = [len(p) + len(c) for p, c in encoded]
            for batch in length_sorted_batches(sizes, batch_size):
                values = completion_logprobs(model, [encoded[i] for i in batch], pad_token_id=pad)
                totals.update((i, v.total) for i, v in zip(batch, values, strict=True))
    finally:
        model.train(was_training)
    return [totals[i] for i in range(len(encoded))]
