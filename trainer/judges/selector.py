"""`--judge` selectors -> judges: one table, read top to bottom (spec §8)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from trainer.judges.base import Judge, JudgeError
from trainer.judges.cli import DEFAULT_TIMEOUT_S, CliJudge
from trainer.judges.reward_model import RewardModelJudge
from trainer.judges.sway import SwayJudge

SELECTORS = (
    ("sway", "the adapter against the base model, mean log-ratio per token (default)"),
    ("sway:logprob", "mean token log-probability under the adapter"),
    ("hf:<model>", "a sequence-classification reward model, local directory or HF cache"),
    ("cli:<command>", "an external program, JSON on stdin/stdout"),
)


def uses_sampling_model(selector: str) -> bool:
    """Whether the judge scores with the document's own model (and so needs it loaded)."""
    return selector in ("sway", "sway:logprob")


def make_judge(
    selector: str,
    *,
    model: Any,
    tokenizer: Any,
    system_prompt: str | None,
    home: Path,
    timeout: float = DEFAULT_TIMEOUT_S,
) -> Judge:
    """The judge for `selector`; an unknown selector lists the valid ones."""
    if selector == "sway":
        return SwayJudge(model, tokenizer, system_prompt=system_prompt)
    if selector == "sway:logprob":
        return SwayJudge(model, tokenizer, system_prompt=system_prompt, logprob=True)
    if selector.startswith("hf:"):
        return RewardModelJudge(selector[3:], home=home)
    if selector.startswith("cli:"):
        return CliJudge(selector[4:], timeout=timeout)
    known = "; ".join(f"{name} ({what})" for name, what in SELECTORS)
    raise JudgeError(f"Unknown judge {selector!r}. Judges: {known}.")
