"""Judges: score (prompt, candidate) items, one finite float each (docs/judges.md).

Reward-model judges live in `trainer.judges.reward_model` and `trainer.rewards`, imported
where used (they import this package's `base`).
"""

from trainer.judges.base import Judge, JudgeError, JudgeItem, Judgement
from trainer.judges.command import CliJudge
from trainer.judges.sway import SwayJudge

__all__ = [
    "CliJudge",
    "Judge",
    "JudgeError",
    "JudgeItem",
    "Judgement",
    "SwayJudge",
]
