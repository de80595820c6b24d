"""Score scales: what a judge's numbers mean, its default threshold, and the common scale.

Imports nothing of ours, so judges and reward models can both declare one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Scale:
    """What a score means: its unit, the smallest margin worth a pair, and its common mapping.

    The common scale is Bradley-Terry logits, where 1.0 is a clear preference.
    `mapping="linear"` divides by `default_threshold` (so one default threshold is one
    common unit); `mapping="logit"` is for probabilities, mapped by log(p / (1 - p)).
    """

    name: str
    default_threshold: float
    mapping: Literal["linear", "logit"] = "linear"

    def to_common(self, score: float) -> float:
        """`score` on the common scale (BT logits, threshold 1.0)."""
        if self.mapping == "logit":
            p = min(max(score, _PROB_EPS), 1.0 - _PROB_EPS)
            return math.log(p / (1.0 - p))
        return score / self.default_threshold


_PROB_EPS = 1e-6

LOGITS = Scale("bt-logits", 1.0)
"""Bradley-Terry reward-model logits (`hf:`, `reward`, most outcome RMs)."""
PROBABILITY = Scale("probability", 0.2, "logit")
"""A probability in [0, 1] (process RMs, classifier heads with a sigmoid/softmax)."""
NATS_PER_TOKEN = Scale("nats-per-token", 0.1)
"""Mean log-probability (ratio) per token (`sway`, `sway:logprob`)."""
RUBRIC_0_10 = Scale("rubric-0-10", 2.0)
"""A 0-10 rubric grade (LLM-as-judge)."""
Z_SCORE = Scale("z-score", 1.0)
"""Standardised within a candidate group (ensembles with `normalize="group"`)."""

SCALES: tuple[Scale, ...] = (LOGITS, PROBABILITY, NATS_PER_TOKEN, RUBRIC_0_10, Z_SCORE)


def scale_named(name: str) -> Scale:
    """The built-in scale called `name`; an unknown name lists the valid ones."""
    for scale in SCALES:
        if scale.name == name:
            return scale
    known = ", ".join(s.name for s in SCALES)
    raise ValueError(f"Unknown score scale {name!r}. Scales: {known}.")
