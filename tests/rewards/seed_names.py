"""The names the reward-model source document imports from its package, as dlm's classes.

The seed-example tests run the document's code with `from reward_hub import X` read
as `from tests.rewards.seed_names import X`.
"""

from trainer.rewards.auto import AutoRM
from trainer.rewards.base import BaseRM
from trainer.rewards.cache import CachedRM
from trainer.rewards.ensemble import EnsembleRM
from trainer.rewards.llm_judge import LLMJudge

__all__ = ["AutoRM", "BaseRM", "CachedRM", "EnsembleRM", "LLMJudge"]
