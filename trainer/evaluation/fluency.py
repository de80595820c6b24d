"""Fluency: how likely the base model finds an answer, per token: the garbage detector.

A judge can be won by answers no reader would accept ("Triedis CustomSearch system.");
the base model, which never saw the judge, finds such text unlikely. The score is the
mean log-probability per answer token under the base model alone, given the chat-
templated question (nats per token; higher is more fluent; an empty answer scores
`EMPTY_ANSWER`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from trainer.rewards.base import conversation
from trainer.runtime.devices import Placement

EMPTY_ANSWER = -20.0
"""The fluency of an empty answer: below anything a model gives real text."""


def base_fluency(
    model_dir: Path,
    placement: Placement,
    system_prompt: str | None,
    pairs: Sequence[tuple[str, str]],
) -> list[float]:
    """The base model's mean log-probability per token of each (question, answer)'s answer."""
    from trainer.generation.generate import load_for_generation
    from trainer.rewards.sway import SwayRM
    from trainer.rewards.wrappers import with_system_prompt

    model, tokenizer = load_for_generation(model_dir, None, placement)
    scorer = with_system_prompt(SwayRM(model, tokenizer, logprob=True), system_prompt)
    spoken = [i for i, (_, answer) in enumerate(pairs) if answer.strip()]
    scores = scorer.score_batch([conversation(*pairs[i]) for i in spoken]) if spoken else []
    fluency = [EMPTY_ANSWER] * len(pairs)
    for index, score in zip(spoken, scores, strict=True):
        fluency[index] = score
    return fluency
