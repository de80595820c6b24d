"""The custom reward model of the reward-model source document, its class body verbatim
(only the import names dlm's module instead of `reward_hub`)."""

from trainer.rewards.base import BaseRM


class CustomRM(BaseRM):
    """Custom reward model implementation."""

    def __init__(self, **config):
        super().__init__()
        self.config = config

    def score(self, messages: list[dict]) -> float:
        response = messages[-1]["content"]
        # Custom scoring logic
        score = 0.0
        if "step by step" in response.lower():
            score += 0.2
        if len(response) > 100:
            score += 0.3
        # Add more criteria...
        return min(score, 1.0)

    def score_batch(self, batch: list, **kwargs) -> list[float]:
        return [self.score(msgs) for msgs in batch]
