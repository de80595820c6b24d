"""Tiny reward models built from configs (no downloads), shared by the reward tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


REMOTE_HEADS = Path(__file__).with_name("remote_heads.py")
SNAPSHOT = "0123456789abcdef0123456789abcdef01234567"
HUB_MODELS = {
    "internlm/internlm2-7b-reward": "InternLM2ForRewardModel",
    "Qwen/Qwen2.5-Math-RM-72B": "Qwen2ForRewardModel",
    "Qwen/Qwen2.5-Math-PRM-7B": "Qwen2ForProcessRewardModel",
}
"""Hub reward models the tests build tiny copies of: their name and architecture."""


def build_remote_reward_model(directory: Path, tokenizer_dir: Path, architecture: str) -> Path:
    """A tiny checkpoint of `architecture` whose model code is its own (`trust_remote_code`)."""
    import shutil

    import torch
    from transformers import AutoTokenizer, Qwen2Config

    from tests.rewards import remote_heads

    tokenizer = AutoTokenizer.from_pretrained(str(tokenizer_dir))
    extra = "[UNUSED_TOKEN_130]" if architecture.startswith("InternLM2") else "<extra_0>"
    tokenizer.add_special_tokens({"additional_special_tokens": [extra]})
    tokenizer.save_pretrained(str(directory))
    module = "modeling_internlm2" if architecture.startswith("InternLM2") else "modeling_qwen2_rm"
    shape: dict[str, Any] = {
        "vocab_size": len(tokenizer),
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "num_key_value_heads": 1,
        "pad_token_id": tokenizer.pad_token_id,
        "architectures": [architecture],
        "auto_map": {"AutoModel": f"{module}.{architecture}"},
    }
    if architecture.startswith("InternLM2"):
        shape["auto_map"]["AutoConfig"] = f"{module}.InternLM2Config"
        config: Any = remote_heads.InternLM2Config(
            reward_token_id=tokenizer.convert_tokens_to_ids(extra), **shape
        )
    else:
        config = Qwen2Config(**shape)
    torch.manual_seed(0)
    getattr(remote_heads, architecture)(config).save_pretrained(str(directory))
    shutil.copy(REMOTE_HEADS, directory / f"{module}.py")
    return directory


@pytest.fixture(scope="session")
def hub_cache(
    tiny_model_dir: Path, orm_dir: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """A Hugging Face hub cache holding tiny models under the hub names of `HUB_MODELS`,
    plus `model1` and `model2` (one-logit outcome models)."""
    import shutil

    root = tmp_path_factory.mktemp("hub")
    for name, architecture in HUB_MODELS.items():
        build_remote_reward_model(_snapshot(root, name), tiny_model_dir, architecture)
    for name in ("model1", "model2"):
        shutil.copytree(orm_dir, _snapshot(root, name), dirs_exist_ok=True)
    return root


@pytest.fixture
def offline_hub(hub_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`hub_cache` as the Hugging Face cache dlm reads (nothing is downloaded)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(hub_cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return hub_cache


def _snapshot(root: Path, name: str) -> Path:
    repo = root / f"models--{name.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text(SNAPSHOT)
    snapshot = repo / "snapshots" / SNAPSHOT
    snapshot.mkdir(parents=True)
    return snapshot
