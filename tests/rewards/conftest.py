"""Tiny reward models built from configs (no downloads), shared by the reward tests."""

from __future__ import annotations

from pathlib import Path

import pytest


def build_reward_model(
    directory: Path, tokenizer_dir: Path, *, head: str, labels: int, chat: bool = True
) -> Path:
    """A 1-layer Llama with a sequence- or token-classification head, saved to `directory`."""
    import torch
    from transformers import (
        AutoTokenizer,
        LlamaConfig,
        LlamaForSequenceClassification,
        LlamaForTokenClassification,
    )

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    if not chat:
        tokenizer.chat_template = None
    tokenizer.save_pretrained(str(directory))
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=1,
        num_attention_heads=2,
        num_key_value_heads=1,
        num_labels=labels,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(0)
    cls = LlamaForSequenceClassification if head == "sequence" else LlamaForTokenClassification
    cls(config).save_pretrained(str(directory))
    return directory


@pytest.fixture(scope="session")
def orm_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A one-logit sequence-classification model with a chat template."""
    directory = tmp_path_factory.mktemp("orm")
    return build_reward_model(directory, tiny_model_dir, head="sequence", labels=1)


@pytest.fixture(scope="session")
def token_prm_dir(tiny_model_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A two-label token-classification model: a process RM read at each step's end."""
    directory = tmp_path_factory.mktemp("token-prm")
    return build_reward_model(directory, tiny_model_dir, head="token", labels=2)
