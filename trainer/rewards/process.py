"""Process reward models: one probability per reasoning step, aggregated into the score.

The answer is split at `step_delimiter` (empty steps dropped) and each step gets a
probability that it is correct. Two ways to read them, chosen by the profile:

- `token` (token-classification heads, e.g. Qwen2.5-Math-PRM): one forward per answer;
  the head is read at the `step_tag` token the model expects after every step, or,
  without a tag, at each step's last token.
- `prefix` (a sequence-classification model used as a PRM): every prefix
  "step 1 .. step k" is scored as an answer; one forward row per step.

A one-logit head gives sigmoid(logit); a two-label head the softmax probability of
`positive_label`. The candidate's score is `aggregation` over its steps: `min`
(default: a chain is as good as its worst step), `prod`, `mean` or `last`.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from trainer.generation.logprobs import length_sorted_batches
from trainer.rewards.base import (
    PROBABILITY,
    JudgeError,
    Message,
    Messages,
    RewardDetails,
    conversation,
    split_answer,
)
from trainer.rewards.checkpoint import Checkpoint, LoadOptions
from trainer.rewards.local import LocalRM
from trainer.rewards.profiles import PROFILES, Profile

Aggregation = Literal["min", "prod", "mean", "last"]
AGGREGATIONS: dict[str, Callable[[Sequence[float]], float]] = {
    "min": min,
    "prod": math.prod,
    "mean": lambda scores: sum(scores) / len(scores),
    "last": lambda scores: scores[-1],
}
DEFAULT_DELIMITER = "\n\n"

log = logging.getLogger("dlm.rewards")


def aggregate(step_scores: Sequence[float], aggregation: str) -> float:
    """The candidate's score from its step scores."""
    if aggregation not in AGGREGATIONS:
        raise JudgeError(f"Unknown aggregation {aggregation!r}; use min, prod, mean or last.")
    if not step_scores:
        raise JudgeError("no step to aggregate")
    return float(AGGREGATIONS[aggregation](step_scores))


def split_steps(answer: str, delimiter: str) -> list[str]:
    """The non-empty steps of `answer`."""
    if not delimiter:
        raise JudgeError("the step delimiter must not be empty")
    return [step for step in answer.split(delimiter) if step.strip()]


def process_options(opts: Mapping[str, Any]) -> tuple[Aggregation, str]:
    """(aggregation, step delimiter) from loader options, with their defaults."""
    aggregation = str(opts.get("aggregation", "min"))
    if aggregation not in AGGREGATIONS:
        raise JudgeError(f"Unknown aggregation {aggregation!r}; use min, prod, mean or last.")
    delimiter = str(opts.get("step_delimiter", DEFAULT_DELIMITER))
    if not delimiter:
        raise JudgeError("the step delimiter must not be empty")
    return aggregation, delimiter  # type: ignore[return-value]


class ProcessRM(LocalRM):
    """A local process reward model; `score` aggregates `score_steps`."""

    scale = PROBABILITY
    kind = "process"

    def __init__(
        self,
        reference: str,
        *,
        options: LoadOptions | None = None,
        home: Path | None = None,
        selector: str | None = None,
        profiles: tuple[Profile, ...] = PROFILES,
        aggregation: Aggregation = "min",
        step_delimiter: str = DEFAULT_DELIMITER,
    ) -> None:
        aggregate([1.0], aggregation)  # fail on a bad name now
        split_steps("", step_delimiter)
        super().__init__(
            reference,
            options=options,
            home=home,
            selector=selector or f"prm:{reference}",
            profiles=profiles,
        )
        self.aggregation = aggregation
        self.step_delimiter = step_delimiter

    @property
    def name(self) -> str:
        """`prm:<model>` with the aggregation and delimiter made explicit."""
        return f"{self._selector}?agg={self.aggregation}&sep={quote(self.step_delimiter, safe='')}"

    def _check(self, checkpoint: Checkpoint) -> None:
        labels = checkpoint.labels()
        if labels not in (1, 2):
            raise JudgeError(
                f"{self.name} has {labels} outputs; a process reward model gives one (a logit) "
                "or two (incorrect/correct) per step."
            )
        if checkpoint.profile.step_method == "token" and checkpoint.input_mode != "chat":
            raise JudgeError(f"{self.name}: a token-level process model needs a chat template.")

    def score_steps(
        self, prompt: str, response: str, step_delimiter: str = DEFAULT_DELIMITER
    ) -> list[float]:
        """One probability per step of `response`, in order."""
        details = self._steps([conversation(prompt, response)], step_delimiter, 1)
        return list(details[0][0])

    def _details_batch(self, batch: Sequence[Messages], batch_size: int) -> list[RewardDetails]:
        results = []
        for steps, raw, tokens, truncated in self._steps(batch, self.step_delimiter, batch_size):
            score = aggregate(steps, self.aggregation)
            results.append(
                RewardDetails(
                    score=score,
                    normalized_score=self.scale.to_common(score),
                    raw_logits=raw,
                    tokens_scored=tokens,
                    truncated=truncated,
                    step_scores=steps,
                    extra={"aggregation": self.aggregation},
                )
            )
        return results

    def _steps(
        self, batch: Sequence[Messages], delimiter: str, batch_size: int
    ) -> list[tuple[tuple[float, ...], tuple[float, ...], int, bool]]:
        """(step scores, raw logits at the steps, tokens read, truncated) per conversation."""
        checkpoint = self._loaded()
        split = [_split(messages, delimiter) for messages in batch]
        if checkpoint.profile.step_method == "prefix":
            return _by_prefix(checkpoint, split, delimiter, batch_size)
        return _by_token(checkpoint, split, delimiter, batch_size)


_StepResult = tuple[tuple[float, ...], tuple[float, ...], int, bool]


def _split(messages: Messages, delimiter: str) -> tuple[list[Message], list[str]]:
    context, answer = split_answer(messages)
    steps = split_steps(answer, delimiter)
    if not steps:
        raise JudgeError("a process reward model cannot score an empty answer")
    return context, steps


def _probabilities(checkpoint: Checkpoint, logits: Any) -> Any:
    """Per-row (or per-token) probability of "correct" from a one- or two-label head."""
    import torch

    if logits.shape[-1] == 1:
        return torch.sigmoid(logits[..., 0])
    return torch.softmax(logits, dim=-1)[..., checkpoint.profile.positive_label]


def _by_prefix(
    checkpoint: Checkpoint,
    split: list[tuple[list[Message], list[str]]],
    delimiter: str,
    batch_size: int,
) -> list[_StepResult]:
    rows: list[tuple[int, tuple[str, str | None]]] = []
    for index, (context, steps) in enumerate(split):
        for k in range(1, len(steps) + 1):
            answer = {"role": "assistant", "content": delimiter.join(steps[:k])}
            rows.append((index, checkpoint.render([*context, answer])))
    counts = [checkpoint.token_count(rendered) for _, rendered in rows]
    probs: dict[int, tuple[float, float, int, bool]] = {}
    for chunk in length_sorted_batches(counts, max(1, batch_size)):
        encoded = checkpoint.encode([rows[i][1] for i in chunk], [counts[i] for i in chunk])
        logits = checkpoint.forward(encoded)
        p = _probabilities(checkpoint, logits).tolist()
        for row, i in enumerate(chunk):
            raw = float(logits[row, -1] if logits.shape[-1] == 2 else logits[row, 0])
            probs[i] = (p[row], raw, encoded.lengths[row], encoded.truncated[row])
        log.debug("prefix PRM: %d prefix rows, %d tokens max", len(chunk), max(encoded.lengths))
    results: list[_StepResult] = []
    start = 0
    for _, steps in split:
        mine = [probs[i] for i in range(start, start + len(steps))]
        start += len(steps)
        results.append(
            (
                tuple(m[0] for m in mine),
                tuple(m[1] for m in mine),
                mine[-1][2],
                any(m[3] for m in mine),
            )
        )
    return results


def _by_token(
    checkpoint: Checkpoint,
    split: list[tuple[list[Message], list[str]]],
    delimiter: str,
    batch_size: int,
) -> list[_StepResult]:
    tag = checkpoint.profile.step_tag
    rendered = []
    for context, steps in split:
        content = "".join(s + tag for s in steps) if tag else delimiter.join(steps)
        rendered.append(checkpoint.render([*context, {"role": "assistant", "content": content}]))
    counts = [checkpoint.token_count(r) for r in rendered]
    results: dict[int, _StepResult] = {}
    for chunk in length_sorted_batches(counts, max(1, batch_size)):
        encoded = checkpoint.encode(
            [rendered[i] for i in chunk], [counts[i] for i in chunk], offsets=tag is None
        )
        logits = checkpoint.forward(encoded)
        probs = _probabilities(checkpoint, logits)
        for row, i in enumerate(chunk):
            text = rendered[i][0]
            positions = _step_positions(checkpoint, encoded, row, text, split[i][1], delimiter)
            if not positions:
                raise JudgeError(
                    f"{checkpoint.reference}: the answer was cut at max_length="
                    f"{checkpoint.options.max_length} before its first step ended; raise it."
                )
            scores = tuple(float(probs[row, t]) for t in positions)
            raw = tuple(float(v) for t in positions for v in logits[row, t].tolist())
            results[i] = (scores, raw, encoded.lengths[row], encoded.truncated[row])
        log.debug("token PRM: %d rows, %d tokens max", len(chunk), max(encoded.lengths))
    return [results[i] for i in range(len(split))]


def _step_positions(
    checkpoint: Checkpoint,
    encoded: Any,
    row: int,
    text: str,
    steps: list[str],
    delimiter: str,
) -> list[int]:
    """Token positions to read, one per step that survived truncation."""
    length = encoded.lengths[row]
    tag = checkpoint.profile.step_tag
    if tag is not None:
        tag_id = checkpoint.tokenizer.convert_tokens_to_ids(tag)
        ids = encoded.inputs["input_ids"][row, :length].tolist()
        return [t for t, token in enumerate(ids) if token == tag_id]
    start = text.rfind(delimiter.join(steps))
    offsets = [tuple(pair) for pair in encoded.offsets[row][:length].tolist()]
    positions = []
    for k in range(1, len(steps) + 1):
        end = start + len(delimiter.join(steps[:k]))  # one past the step's last character
        covering = next((t for t, (a, b) in enumerate(offsets) if a < end <= b), None)
        if covering is None:  # cut off by truncation
            break
        positions.append(covering)
    return positions
