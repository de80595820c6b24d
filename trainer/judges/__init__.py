"""Judges: score (prompt, candidate) items, one finite float each (spec §8)."""

from trainer.judges.base import Judge, JudgeError, JudgeItem, Judgement
from trainer.judges.cli import CliJudge
from trainer.judges.reward_model import RewardModelJudge
from trainer.judges.sway import SwayJudge

__all__ = [
    "CliJudge",
    "Judge",
    "JudgeError",
    "JudgeItem",
    "Judgement",
    "RewardModelJudge",
    "SwayJudge",
]
