"""Tiny stand-ins for the remote code of three hub reward models, on a one-layer body.

The tests copy this file into a checkpoint as the model's own code
(`modeling_internlm2.py`, `modeling_qwen2_rm.py`) and name a class in `auto_map`, so
loading goes through `trust_remote_code` as with the real models. Each class keeps
the real model's name, config keys, head and output shape; the body is a tiny Llama
or Qwen2 with random weights:

- `InternLM2ForRewardModel`: `v_head` (hidden -> 1), read at the last attended token,
  where the caller put `config.reward_token_id`; logits (rows, 1).
- `Qwen2ForRewardModel`: `score` MLP (hidden -> hidden -> 1), read at the last
  attended token; logits (rows, 1).
- `Qwen2ForProcessRewardModel`: `score` MLP (hidden -> hidden -> 2) at every token;
  logits (rows, tokens, 2).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from transformers import (
    LlamaConfig,
    LlamaModel,
    LlamaPreTrainedModel,
    Qwen2Config,
    Qwen2Model,
    Qwen2PreTrainedModel,
)
from transformers.modeling_outputs import SequenceClassifierOutputWithPast, TokenClassifierOutput


class InternLM2Config(LlamaConfig):
    """InternLM2's config (model_type `internlm2`, not known to transformers)."""

    model_type = "internlm2"


def _last(values: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """`values` (rows, tokens) at each row's last attended token: (rows, 1)."""
    ends = attention_mask.long().cumsum(dim=1).argmax(dim=1).view(-1, 1)
    return torch.gather(values, 1, ends)


def _mlp(hidden: int, labels: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, labels))


class InternLM2ForRewardModel(LlamaPreTrainedModel):
    """A reward model read at the reward token (`config.reward_token_id`)."""

    config_class = InternLM2Config

    def __init__(self, config: InternLM2Config) -> None:
        super().__init__(config)
        self.model = LlamaModel(config)
        self.v_head = nn.Linear(config.hidden_size, 1, bias=False)
        self.reward_token_id = config.reward_token_id
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any
    ) -> SequenceClassifierOutputWithPast:
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return SequenceClassifierOutputWithPast(logits=_last(self.v_head(hidden)[..., 0], mask))


class Qwen2ForRewardModel(Qwen2PreTrainedModel):
    """An outcome reward model: one score at the last token."""

    config_class = Qwen2Config

    def __init__(self, config: Qwen2Config) -> None:
        super().__init__(config)
        self.model = Qwen2Model(config)
        self.score = _mlp(config.hidden_size, 1)
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any
    ) -> SequenceClassifierOutputWithPast:
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return SequenceClassifierOutputWithPast(logits=_last(self.score(hidden)[..., 0], mask))


class Qwen2ForProcessRewardModel(Qwen2PreTrainedModel):
    """A process reward model: (incorrect, correct) logits at every token."""

    config_class = Qwen2Config

    def __init__(self, config: Qwen2Config) -> None:
        super().__init__(config)
        self.model = Qwen2Model(config)
        self.score = _mlp(config.hidden_size, 2)
        self.post_init()

    def forward(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None, **_: Any
    ) -> TokenClassifierOutput:
        mask = torch.ones_like(input_ids) if attention_mask is None else attention_mask
        hidden = self.model(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return TokenClassifierOutput(logits=self.score(hidden))
