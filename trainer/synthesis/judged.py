"""The judge filter of `dlm synth instructions --judge SEL`: a pair the word filters kept
stays only if the judge prefers its answer to a non-answer ("I don't know.") by at least
the threshold, the judge's own default unless given (docs/synth.md, "Filters")."""

from __future__ import annotations

from trainer.rewards.base import BaseRM, conversation
from trainer.synthesis.filters import Filtered, Kept, Rejected

NON_ANSWER = "I don't know."
DISFAVOURED = "disfavoured"


def judge_filter(
    judge: BaseRM,
    filtered: Filtered,
    *,
    system_prompt: str | None,
    threshold: float | None = None,
) -> Filtered:
    """`filtered` with the kept pairs whose answer the judge does not prefer to
    `NON_ANSWER` by `threshold` moved to the rejected ones (reason `disfavoured`)."""
    if not filtered.kept:
        return filtered
    needed = judge.scale.default_threshold if threshold is None else threshold
    batch = []
    for item in filtered.kept:
        question, answer = item.candidate.question, item.candidate.answer
        batch.append(conversation(question, answer, system_prompt))
        batch.append(conversation(question, NON_ANSWER, system_prompt))
    scores = judge.score_batch(batch)
    kept: list[Kept] = []
    rejected = list(filtered.rejected)
    for index, item in enumerate(filtered.kept):
        margin = scores[2 * index] - scores[2 * index + 1]
        if margin >= needed:
            kept.append(item)
        else:
            rejected.append(Rejected(item.candidate, DISFAVOURED, item.support))
    return Filtered(kept, rejected)
