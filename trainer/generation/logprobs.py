"""Log-probabilities of completions after their prompts, batched: shared by judges and evals."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

Encoded = tuple[list[int], list[int]]
"""(prompt token ids, completion token ids)."""


@dataclass(frozen=True, slots=True)
class CompletionLogprob:
    """Sum of a completion's token log-probabilities and how many tokens it has."""

    total: float
    tokens: int

    @property
    def mean(self) -> float:
        """Mean log-probability per completion token."""
        return self.total / self.tokens if self.tokens else 0.0


def completion_logprobs(
    model: Any, batch: Sequence[Encoded], *, pad_token_id: int
) -> list[CompletionLogprob]:
    """One forward pass over right-padded rows; each completion's log-probability."""
    import torch

    width = max(len(prompt) + len(completion) for prompt, completion in batch)
    rows = [prompt + completion for prompt, completion in batch]
    padded = [row + [pad_token_id] * (width - len(row)) for row in rows]
    mask = [[1] * len(row) + [0] * (width - len(row)) for row in rows]
    device = model.device
    ids = torch.tensor(padded, dtype=torch.long, device=device)
    attention = torch.tensor(mask, dtype=torch.long, device=device)
    with torch.no_grad():
        logits = model(input_ids=ids, attention_mask=attention).logits.float()
    logprobs = torch.log_softmax(logits[:, :-1], dim=-1)
    targets = logprobs.gather(-1, ids[:, 1:].unsqueeze(-1)).squeeze(-1)
    results = []
    for row, (prompt, completion) in enumerate(batch):
        first = len(prompt) - 1  # token t is predicted at position t - 1
        span = targets[row, first : first + len(completion)]
        results.append(CompletionLogprob(float(span.sum().item()), len(completion)))
    return results


def length_sorted_batches(sizes: Sequence[int], batch_size: int) -> list[list[int]]:
    """Indices grouped into batches of similar length, so padding stays small."""
    order = sorted(range(len(sizes)), key=lambda i: sizes[i])
    return [order[start : start + batch_size] for start in range(0, len(order), batch_size)]
